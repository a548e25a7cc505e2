import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'

import {repoRoot} from './cli.js'

/**
 * A small internet in Linux network namespaces, made and removed by the test itself:
 *
 *   pub:  the "internet" (a bridge, 198.18.0.1/24) where the relay runs
 *   ra:   NAT router of site A (wan 198.18.0.2, lan 10.0.0.1/24, nftables masquerade)
 *   a:    a host of site A (10.0.0.2/24, default route via ra)
 *   rb/b: the same for site B (wan 198.18.0.3); both sites use 10.0.0.0/24, as real sites do
 *
 * Only reserved ranges are used (198.18.0.0/15 is set aside for network test labs, 10/8 for private
 * networks), and nothing is connected to the host's own network, so no packet can leave the lab.
 */
export interface NatLab {
  /** Namespace names by role. */
  ns: {pub: string; ra: string; rb: string; a: string; b: string}
  relayIp: string
  /** Prefix for a command to run inside a namespace: ['ip', 'netns', 'exec', ns]. */
  execPrefix(ns: string): string[]
  run(ns: string, command: string[]): string
  destroy(): void
}

/** Why namespaces cannot be made here, or undefined if they can (root, `ip`, `nft`). */
export function natLabUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'network namespaces need root'
  if (spawnSync('ip', ['-V']).status !== 0) return 'the `ip` command (iproute2) is not installed'
  if (spawnSync('nft', ['--version']).status !== 0) {
    // The Debian package is installed by the test setup where apt-get can (scripts/netns-deps.sh).
    const script = path.join(repoRoot, 'scripts/netns-deps.sh')
    if (existsSync(script)) spawnSync('bash', [script], {stdio: 'ignore', timeout: 240_000})
    if (spawnSync('nft', ['--version']).status !== 0) return 'nftables (`nft`) is not installed and could not be installed'
  }
  const probe = `qisprobe${process.pid}`
  const made = spawnSync('ip', ['netns', 'add', probe])
  spawnSync('ip', ['netns', 'del', probe])
  if (made.status !== 0) return `cannot create a network namespace: ${String(made.stderr).trim()}`
  return undefined
}

const sh = (args: string[]) => execFileSync(args[0], args.slice(1), {stdio: ['ignore', 'pipe', 'pipe']}).toString()

/** Namespaces left by a run that was killed outright (no exit handler ran): their creator is gone. */
function removeStaleLabs(): void {
  const listed = spawnSync('ip', ['netns', 'list'], {encoding: 'utf8'}).stdout ?? ''
  for (const line of listed.split('\n')) {
    const m = /^qis(\d+)(pub|ra|rb|a|b)\b/.exec(line)
    if (!m) continue
    let alive = true
    try {
      process.kill(Number(m[1]), 0)
    } catch {
      alive = false
    }
    if (!alive) spawnSync('ip', ['netns', 'del', `qis${m[1]}${m[2]}`])
  }
}

export function createNatLab(): NatLab {
  removeStaleLabs()
  const id = `${process.pid}`
  const ns = {pub: `qis${id}pub`, ra: `qis${id}ra`, rb: `qis${id}rb`, a: `qis${id}a`, b: `qis${id}b`}
  const made: string[] = []
  const destroy = () => {
    for (const n of made.reverse()) spawnSync('ip', ['netns', 'del', n])
    made.length = 0
  }
  const inNs = (n: string, ...args: string[]) => sh(['ip', 'netns', 'exec', n, ...args])
  try {
    for (const n of Object.values(ns)) {
      sh(['ip', 'netns', 'add', n])
      made.push(n)
      inNs(n, 'ip', 'link', 'set', 'lo', 'up')
    }
    inNs(ns.pub, 'ip', 'link', 'add', 'br0', 'type', 'bridge')
    inNs(ns.pub, 'ip', 'addr', 'add', '198.18.0.1/24', 'dev', 'br0')
    inNs(ns.pub, 'ip', 'link', 'set', 'br0', 'up')
    const site = (router: string, host: string, wanIp: string, tag: string) => {
      // veth pairs are created inside the namespaces, so their names never meet the host's.
      inNs(ns.pub, 'ip', 'link', 'add', `up${tag}`, 'type', 'veth', 'peer', 'name', 'wan', 'netns', router)
      inNs(ns.pub, 'ip', 'link', 'set', `up${tag}`, 'master', 'br0')
      inNs(ns.pub, 'ip', 'link', 'set', `up${tag}`, 'up')
      inNs(router, 'ip', 'addr', 'add', `${wanIp}/24`, 'dev', 'wan')
      inNs(router, 'ip', 'link', 'set', 'wan', 'up')
      inNs(router, 'ip', 'link', 'add', 'lan', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host)
      inNs(router, 'ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'lan')
      inNs(router, 'ip', 'link', 'set', 'lan', 'up')
      inNs(router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
      // Masquerade outbound; forward inbound only for connections the site opened (a home or office NAT).
      execFileSync('ip', ['netns', 'exec', router, 'nft', '-f', '-'], {
        input: `table ip nat {
  chain sitenat { type nat hook postrouting priority 100; oifname "wan" masquerade; }
}
table ip filter {
  chain sitefwd { type filter hook forward priority 0; policy drop; iifname "lan" oifname "wan" accept; ct state established,related accept; }
}
`,
      })
      inNs(host, 'ip', 'addr', 'add', '10.0.0.2/24', 'dev', 'eth0')
      inNs(host, 'ip', 'link', 'set', 'eth0', 'up')
      inNs(host, 'ip', 'route', 'add', 'default', 'via', '10.0.0.1')
    }
    site(ns.ra, ns.a, '198.18.0.2', 'a')
    site(ns.rb, ns.b, '198.18.0.3', 'b')
  } catch (err) {
    destroy()
    throw err
  }
  const exit = () => destroy()
  process.once('exit', exit)
  return {
    ns,
    relayIp: '198.18.0.1',
    execPrefix: (n) => ['ip', 'netns', 'exec', n],
    run: (n, command) => inNs(n, ...command),
    destroy() {
      process.off('exit', exit)
      destroy()
    },
  }
}
