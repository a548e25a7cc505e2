import {spawn} from 'node:child_process'
import {existsSync, promises as fs} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {makePackets, signerFor, type TestPacket, writeStore} from '../swarm/fixtures.js'
import {repoRoot, runCli, runJs, tempDir} from '../helpers/cli.js'
import {runCommand} from '../helpers/command.js'
import {startSwarm, stopAll} from '../helpers/swarm.js'

// `qis publish` paths that need no swarm run in-process (runCommand); the swarm paths are here
// and in test/swarm/swarm.test.ts, against real node processes (needs `npm run build`).

async function publisherHome(name: string, packets: TestPacket[]): Promise<string> {
  const home = tempDir(`qis-pub-${name}-`)
  await fs.mkdir(path.join(home, 'packets'), {recursive: true})
  await writeStore(path.join(home, 'packets', `${name}.qisp`), packets)
  return home
}

describe('qis publish without a swarm', () => {
  it('--dry-run counts what would be sent and contacts nobody', async () => {
    const home = await publisherHome('dry', makePackets(signerFor('dry'), 12, {keyCount: 4}))
    const r = await runCommand(['publish', '--dry-run', '--json', '--home', home], {env: {QIS_BOOTSTRAP: ''}})
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({dryRun: true, pending: 12, keys: 4, published: 0})
    const text = await runCommand(['publish', '--dry-run', '--home', home], {env: {QIS_BOOTSTRAP: ''}})
    expect(text.stdout).toMatch(/would publish 12 packet/)
    // --quiet: no summary (and no progress); errors would still be printed.
    const quiet = await runCommand(['publish', '--dry-run', '--quiet', '--home', home], {env: {QIS_BOOTSTRAP: ''}})
    expect(quiet.code).toBe(0)
    expect(quiet.stdout + quiet.stderr).toBe('')
  })

  it('fails clearly without bootstrap peers, and when none answers', async () => {
    const home = await publisherHome('nob', makePackets(signerFor('nob'), 3))
    const none = await runCommand(['publish', '--home', home], {env: {QIS_BOOTSTRAP: ''}})
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/no bootstrap peers/)
    const dead = await runCommand(['publish', '--home', home, '--bootstrap', '/ip4/127.0.0.1/tcp/9/p2p/12D3KooWJnhVSweLEpY1RYtjefeQYhjD21gJy5qRmWMNA7k1GW6Y'], {env: {QIS_BOOTSTRAP: ''}})
    expect(dead.code).toBe(1)
    // Nothing listens on port 9: refused at once, not after the 20 s join timeout.
    expect(dead.stderr).toMatch(/every bootstrap peer refused the connection \(\/ip4\/127\.0\.0\.1\/tcp\/9\/p2p\/\w+\): no qis node listens there/)
  }, 60_000)

  it('names the store and record of a damaged packet and still sends the rest', async () => {
    const packets = makePackets(signerFor('damaged'), 5, {keyCount: 2})
    const home = await publisherHome('damaged', packets)
    const file = path.join(home, 'packets', 'damaged.qisp')
    const bytes = await fs.readFile(file)
    bytes[8 + 2 + 20] ^= 0xff // inside the first record's packet: its CRC no longer matches
    await fs.writeFile(file, bytes)
    const r = await runCommand(['publish', '--dry-run', '--home', home], {env: {QIS_BOOTSTRAP: ''}})
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/damaged\.qisp: record 1 \(byte 8\): checksum mismatch/)
    expect(r.stdout).toMatch(/would publish 4 packet/)
  })

  it('a store it cannot read is an error naming the store and why, never "already published" (issue 21 item 10)', async () => {
    const packets = makePackets(signerFor('unreadable'), 2)
    const cases: [string, (bytes: Buffer) => Buffer, RegExp][] = [
      ['zero-bytes', () => Buffer.alloc(0), /file is empty/],
      ['wrong-version', (b) => Buffer.from(b.map((x, i) => (i === 4 ? 99 : x))), /version/],
      ['zero-length-record', (b) => Buffer.concat([b.subarray(0, 8), Buffer.from([0, 0]), b.subarray(8)]), /record length 0 is impossible/],
    ]
    for (const [name, damage, reason] of cases) {
      const home = await publisherHome(name, packets)
      const file = path.join(home, 'packets', `${name}.qisp`)
      await fs.writeFile(file, damage(await fs.readFile(file)))
      const r = await runCommand(['publish', '--dry-run', '--home', home], {env: {QIS_BOOTSTRAP: ''}})
      expect(r.code, `${name}: ${r.stdout}${r.stderr}`).toBe(1)
      expect(r.stderr).toMatch(reason)
      expect(r.stderr).toContain(`${name}.qisp`)
      const j = await runCommand(['publish', '--dry-run', '--json', '--home', home], {env: {QIS_BOOTSTRAP: ''}})
      expect(j.code).toBe(1)
      expect(JSON.parse(j.stdout)).toMatchObject({error: {code: 'STORE_UNREADABLE'}, pending: 0})
    }
    // A store with a header and no records holds nothing: exit 3, not "already published".
    const empty = await publisherHome('header-only', [])
    const r = await runCommand(['publish', '--dry-run', '--home', empty], {env: {QIS_BOOTSTRAP: ''}})
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/hold no packets/)
  }, 60_000)

  it('a --home that does not exist: nothing to publish (exit 3), and the folder is not created', async () => {
    const home = path.join(tempDir(), 'typo')
    for (const extra of [[], ['--dry-run']]) {
      const r = await runCommand(['publish', '--home', home, '--bootstrap', '/ip4/127.0.0.1/tcp/9/p2p/12D3KooWNGveBaC1JYMnywxBu9e9GMkQHgrNQAg851svvVUfd5oa', '--json', ...extra])
      expect(r.code, r.stdout).toBe(3)
      expect(JSON.parse(r.stdout).error).toMatchObject({code: 'NOTHING_PRODUCED', message: `no packet stores to publish in ${path.join(home, 'packets')}`})
      expect(existsSync(home)).toBe(false)
    }
  })
})

describe('qis publish interrupted', () => {
  it('Ctrl-C while joining exits 130 with INTERRUPTED in the envelope (interruptSignal, issue 19 phase B)', async () => {
    const home = await publisherHome('sigint', makePackets(signerFor('sigint'), 3))
    // A listener that accepts and never answers: the join waits, as on a stalled network.
    const silent = net.createServer(() => {}).listen(0, '127.0.0.1')
    await new Promise((r) => silent.once('listening', r))
    const port = (silent.address() as net.AddressInfo).port
    try {
      const child = spawn(process.execPath, [runJs, 'publish', '--json', '--yes', '--home', home, '--bootstrap', `/ip4/127.0.0.1/tcp/${port}/p2p/12D3KooWJnhVSweLEpY1RYtjefeQYhjD21gJy5qRmWMNA7k1GW6Y`], {
        cwd: repoRoot,
        env: {...process.env, NO_COLOR: '1', QIS_BOOTSTRAP: ''},
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      child.stdout.on('data', (d) => (stdout += d))
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
      // The command is loaded and joining once the silent listener sees a connection.
      await new Promise((r) => silent.once('connection', r))
      child.kill('SIGINT')
      expect(await exited).toBe(130)
      expect(JSON.parse(stdout)).toMatchObject({error: {code: 'INTERRUPTED', message: expect.stringMatching(/journaled, run qis publish again/)}})
    } finally {
      silent.close()
    }
  }, 60_000)
})

describe('qis publish to a swarm smaller than --replicas', () => {
  it('says the packets reached every storage peer there is, that a re-run cannot help, and which --replicas would (issue 19)', async () => {
    const nodes = await startSwarm(2)
    try {
      const home = await publisherHome('small', makePackets(signerFor('small'), 6, {keyCount: 2}))
      const bootstrap = nodes[0].multiaddrs[0]
      const r = await runCli(['publish', '--home', home, '--bootstrap', bootstrap, '--yes'])
      expect(r.code).toBe(1)
      expect(r.stdout).toMatch(/6 reached only 2 storage peer\(s\), fewer than --replicas 3/)
      expect(r.stdout).toMatch(/a re-run cannot add replicas until more nodes join; to accept 2 copies, run qis publish --replicas 2/)
      expect(r.stdout).not.toMatch(/run qis publish again/)
      const json = await runCli(['publish', '--home', home, '--bootstrap', bootstrap, '--yes', '--json'])
      expect(json.code).toBe(1)
      expect(JSON.parse(json.stdout)).toMatchObject({replicas: 3, storagePeersFound: 2, failures: {UNDER_REPLICATED: 6}, error: {code: 'UNDER_REPLICATED'}})
      // The advice works: the copies were stored, and accepting two replicas publishes everything.
      const two = await runCli(['publish', '--home', home, '--bootstrap', bootstrap, '--yes', '--replicas', '2', '--json'])
      expect(two.code, two.stderr).toBe(0)
      expect(JSON.parse(two.stdout)).toMatchObject({published: 6, failed: 0})
    } finally {
      await stopAll(nodes)
    }
  }, 120_000)
})
