// Slowloris against one real `qis node` on 127.0.0.1 (issue 21 item 1): silent TCP sockets from
// several loopback source addresses (127.0.0.2.., all of 127/8 is this machine) are held open in
// the node's connection upgrade and reopened a second after the node drops them, while honest
// clients join (dial + Kademlia join) and publish one packet, one after another. Prints the
// honest join rate. Bounded in sockets, joins and time; loopback only.
//
//   npm run build && node bench/hostile/slowloris.mjs [--ips 20] [--per-ip 10] [--joins 10] [--join-timeout 10] [--root DIR] [--json]
//
// --root runs the node (and the client library) of another checkout's build, e.g. a worktree of
// main, for a before/after figure.
import {generateKeyPair} from '@libp2p/crypto/keys'
import {createHash} from 'node:crypto'
import net from 'node:net'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {startQisNode, tempHome} from '../swarm/node-process.mjs'

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : fallback
}
const IPS = Number(arg('ips', 20))
const PER_IP = Number(arg('per-ip', 10))
const JOINS = Number(arg('joins', 10))
const JOIN_TIMEOUT = Number(arg('join-timeout', 10)) * 1000
const ROOT = path.resolve(arg('root', here))
const JSON_OUT = process.argv.includes('--json')
if (IPS > 50 || PER_IP > 50 || JOINS > 50 || JOIN_TIMEOUT > 30_000) throw new Error('bounded: --ips <= 50, --per-ip <= 50, --joins <= 50, --join-timeout <= 30')

const {openSwarmClient, publishPackets} = await import(pathToFileURL(path.join(ROOT, 'dist/swarm/client.js')).href)
const {encodePacket, keyFingerprint, packetId, signerFromSeed} = await import(pathToFileURL(path.join(ROOT, 'dist/packet/index.js')).href)

const home = tempHome('qis-slowloris-')
const events = []
const node = await startQisNode({home, run: path.join(ROOT, 'bin/run.js'), onEvent: (e) => events.push(e)})
const addr = node.multiaddr
const port = Number(/\/tcp\/(\d+)/.exec(addr)[1])

// ---- the attack ----------------------------------------------------------------------------------
let stopped = false
let opened = 0
let dropped = 0
const open = new Set()
function hold(ip) {
  if (stopped) return
  const s = net.connect({port, host: '127.0.0.1', localAddress: ip})
  s.on('connect', () => {
    opened++
    open.add(s)
  })
  s.on('error', () => {})
  s.on('close', () => {
    if (open.delete(s)) dropped++
    if (!stopped) setTimeout(() => hold(ip), 1000).unref()
  })
}
const ips = Array.from({length: IPS}, (_, i) => `127.0.0.${i + 2}`)
for (const ip of ips) for (let i = 0; i < PER_IP; i++) hold(ip)
await new Promise((r) => setTimeout(r, 2000))

// ---- honest joins meanwhile ---------------------------------------------------------------------
const signer = signerFromSeed(createHash('sha256').update('qis-slowloris-honest').digest())
const joins = []
const heldAtJoin = []
const tAll = performance.now()
for (let i = 0; i < JOINS; i++) {
  heldAtJoin.push(open.size)
  const t = performance.now()
  let ok = false
  let why = ''
  try {
    const client = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [addr], joinTimeoutMs: JOIN_TIMEOUT})
    try {
      const bytes = encodePacket({scheme: 'slowloris-v1', domain_tag: 'bench', query_semantic_hash: createHash('sha256').update(`q${i}`).digest('hex').slice(0, 16), routing_keys: [`k${i}`], outcome_signal: 1, confidence_at_inference: 1, model_variant: 'm', correction_applied: false, correction_type: null, timestamp: Math.floor(Date.now() / 1000) - 60}, signer)
      const r = await publishPackets(client, [{key: keyFingerprint('slowloris-v1', 'bench', `k${i}`), bytes, id: packetId(bytes)}], {replicas: 1})
      ok = r.failed === 0
      if (!ok) why = JSON.stringify(r.failures)
    } finally {
      await client.close()
    }
  } catch (err) {
    why = err.code ?? err.message
  }
  joins.push({ok, ms: Math.round(performance.now() - t), why})
}
const seconds = (performance.now() - tAll) / 1000
stopped = true
for (const s of open) s.destroy()
await node.stop()
const stoppedEvent = events.find((e) => e.event === 'stopped')

const ok = joins.filter((j) => j.ok)
const sorted = ok.map((j) => j.ms).sort((a, b) => a - b)
const result = {
  root: ROOT,
  attack: {ips: IPS, perIp: PER_IP, socketsOpened: opened, droppedByNode: dropped, heldAtJoinMedian: heldAtJoin.sort((a, b) => a - b)[Math.floor(heldAtJoin.length / 2)]},
  honest: {joins: JOINS, succeeded: ok.length, joinRate: +(ok.length / JOINS).toFixed(2), perMinute: +((ok.length / seconds) * 60).toFixed(1), msMedian: sorted[Math.floor(sorted.length / 2)] ?? null, msMax: sorted.at(-1) ?? null, failures: joins.filter((j) => !j.ok).map((j) => j.why)},
  nodeGuard: stoppedEvent?.guard ?? null,
  seconds: +seconds.toFixed(1),
}
if (JSON_OUT) console.log(JSON.stringify(result))
else {
  console.log(`attack: ${IPS} IPs x ${PER_IP} silent sockets; ${opened} opened, ${dropped} dropped by the node, ${result.attack.heldAtJoinMedian} held (median) when each join began`)
  console.log(`honest: ${ok.length}/${JOINS} joins+publishes succeeded in ${result.seconds} s (${result.honest.perMinute}/min), median ${result.honest.msMedian} ms, max ${result.honest.msMax} ms`)
  if (ok.length < JOINS) console.log(`failures: ${result.honest.failures.join('; ')}`)
  console.log(`node guard counters: ${JSON.stringify(result.nodeGuard)}`)
}
process.exit(0)
