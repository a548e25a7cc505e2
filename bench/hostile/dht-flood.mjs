// DHT record flood against one real `qis node` on 127.0.0.1 (issue 21 item 6): ADD_PROVIDER
// messages (one per stream, hand-encoded kad-dht protobuf) for distinct CIDs, then PUT_VALUE
// messages carrying valid signed packets under their own /qis/<fingerprint> keys, with the node
// started at --max-packets 1000. Prints node RSS (sampled from /proc) before, peak and after, and
// how many PUT_VALUEs the node accepted. Bounded in count and time; loopback only.
//
//   npm run build && node bench/hostile/dht-flood.mjs [--messages 150000] [--puts 10000] [--workers 32] [--per-stream 1000] [--root DIR] [--json]
//
// --root runs the node (and the attacker's libp2p) of another checkout's build, for a before figure.
import {generateKeyPair} from '@libp2p/crypto/keys'
import {peerIdFromString} from '@libp2p/peer-id'
import * as lp from 'it-length-prefixed'
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {startQisNode, tempHome} from '../swarm/node-process.mjs'

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : fallback
}
const MESSAGES = Number(arg('messages', 150_000))
const PUTS = Number(arg('puts', 10_000))
const WORKERS = Number(arg('workers', 32))
const PER_STREAM = Number(arg('per-stream', 1000))
const ROOT = path.resolve(arg('root', here))
const JSON_OUT = process.argv.includes('--json')
if (MESSAGES > 300_000 || PUTS > 50_000 || WORKERS > 128) throw new Error('bounded: --messages <= 300000, --puts <= 50000, --workers <= 128')
const log = (...a) => (JSON_OUT ? process.stderr.write(a.join(' ') + '\n') : console.log(...a))

const {createSwarmNode, recordKey} = await import(pathToFileURL(path.join(ROOT, 'dist/swarm/node.js')).href)
const {KAD_PROTOCOL} = await import(pathToFileURL(path.join(ROOT, 'dist/swarm/protocol.js')).href)
const {encodePacket, keyFingerprint, signerFromSeed} = await import(pathToFileURL(path.join(ROOT, 'dist/packet/index.js')).href)

// ---- kad-dht's Message, by hand (dht.proto) ------------------------------------------------------
const varint = (n) => {
  const out = []
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  out.push(n)
  return out
}
const field = (no, bytes) => [...varint((no << 3) | 2), ...varint(bytes.length), ...bytes]
const enumField = (no, v) => [...varint(no << 3), ...varint(v)]
const sha256Multihash = (s) => [0x12, 0x20, ...createHash('sha256').update(s).digest()]
const addProvider = (i, provider, addr) => Uint8Array.from([...enumField(1, 2), ...field(2, sha256Multihash(`cid-${i}`)), ...field(9, [...field(1, provider), ...field(2, addr)])])
const putValue = (key, value) => Uint8Array.from([...enumField(1, 0), ...field(2, key), ...field(3, [...field(1, key), ...field(2, value)])])

// ---- the node -----------------------------------------------------------------------------------
const home = tempHome('qis-dht-flood-')
const events = []
const node = await startQisNode({home, run: path.join(ROOT, 'bin/run.js'), args: ['--max-packets', '1000'], onEvent: (e) => events.push(e)})
const child = node.child
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024
const samples = []
const sampler = setInterval(() => samples.push(rss()), 200)
await new Promise((r) => setTimeout(r, 1000))
const rssBefore = rss()

const attacker = await createSwarmNode({privateKey: await generateKeyPair('Ed25519'), listen: [], bootstrap: [node.multiaddr]})
await attacker.dialBootstrap()
const target = peerIdFromString(node.peerId)

/** One message on its own stream; resolves with whether the node answered (PUT_VALUE echoes an accepted record). */
async function send(message) {
  let stream
  try {
    stream = await attacker.libp2p.dialProtocol(target, KAD_PROTOCOL, {signal: AbortSignal.timeout(10_000)})
    stream.send(lp.encode.single(message))
    await stream.close({signal: AbortSignal.timeout(10_000)})
    for await (const _ of lp.decode(stream)) return 'answered'
    return 'closed'
  } catch {
    stream?.abort(new Error('done'))
    return 'reset'
  }
}
/**
 * ADD_PROVIDER has no reply, so an attacker writes many on one stream (--per-stream), as the issue's
 * did; a node that refuses resets the stream at the first, and the attacker opens another.
 */
async function flood(n, make) {
  let next = 0
  let streams = 0
  let written = 0
  await Promise.all(Array.from({length: WORKERS}, async () => {
    while (next < n) {
      let stream
      try {
        stream = await attacker.libp2p.dialProtocol(target, KAD_PROTOCOL, {signal: AbortSignal.timeout(10_000)})
        streams++
        for (let j = 0; j < PER_STREAM && next < n && stream.status === 'open'; j++) {
          if (!stream.send(lp.encode.single(make(next++)))) await stream.onDrain({signal: AbortSignal.timeout(10_000)})
          written++
        }
        await stream.close({signal: AbortSignal.timeout(10_000)})
      } catch {
        stream?.abort(new Error('done'))
      }
    }
  }))
  return {streams, written}
}
async function run(n, make) {
  const outcomes = {}
  let next = 0
  await Promise.all(Array.from({length: WORKERS}, async () => {
    while (next < n) {
      const o = await send(make(next++))
      outcomes[o] = (outcomes[o] ?? 0) + 1
    }
  }))
  return outcomes
}

const me = attacker.libp2p.peerId.toMultihash().bytes
const addr = [4, 127, 0, 0, 1, 6, 0x0f, 0xa1]
let t = performance.now()
const providerOutcomes = await flood(MESSAGES, (i) => addProvider(i, me, addr))
const providerSeconds = (performance.now() - t) / 1000
const rssAfterProviders = rss()
log(`ADD_PROVIDER: ${providerOutcomes.written} written on ${providerOutcomes.streams} streams in ${providerSeconds.toFixed(1)} s; RSS ${rssBefore.toFixed(0)} -> ${rssAfterProviders.toFixed(0)} MiB`)

const signer = signerFromSeed(createHash('sha256').update('qis-dht-flood').digest())
t = performance.now()
const putOutcomes = await run(PUTS, (i) => {
  const bytes = encodePacket({scheme: 'dht-flood-v1', domain_tag: 'bench', query_semantic_hash: createHash('sha256').update(`q${i}`).digest('hex').slice(0, 16), routing_keys: [`k${i}`], outcome_signal: 1, confidence_at_inference: 1, model_variant: 'm', correction_applied: false, correction_type: null, timestamp: Math.floor(Date.now() / 1000) - 60}, signer)
  return putValue(recordKey(keyFingerprint('dht-flood-v1', 'bench', `k${i}`)), bytes)
})
const putSeconds = (performance.now() - t) / 1000
await attacker.stop()
await new Promise((r) => setTimeout(r, 2000))
const rssAfter = rss()
clearInterval(sampler)
await node.stop()
const stopped = events.find((e) => e.event === 'stopped')

const result = {
  root: ROOT,
  addProvider: {messages: MESSAGES, seconds: +providerSeconds.toFixed(1), outcomes: providerOutcomes},
  putValue: {messages: PUTS, seconds: +putSeconds.toFixed(1), acceptedAsRecords: putOutcomes.answered ?? 0, outcomes: putOutcomes},
  rssMiB: {before: +rssBefore.toFixed(1), afterAddProvider: +rssAfterProviders.toFixed(1), peak: +Math.max(...samples).toFixed(1), after: +rssAfter.toFixed(1)},
  nodePackets: stopped?.storage?.packets ?? null,
  nodeGuard: stopped?.guard ?? null,
}
if (JSON_OUT) console.log(JSON.stringify(result))
else {
  console.log(`PUT_VALUE: ${PUTS} valid packets as /qis records in ${result.putValue.seconds} s; ${result.putValue.acceptedAsRecords} accepted as DHT records (node at --max-packets 1000)`)
  console.log(`node RSS: before ${result.rssMiB.before} MiB, after ADD_PROVIDER ${result.rssMiB.afterAddProvider} MiB, peak ${result.rssMiB.peak} MiB, end ${result.rssMiB.after} MiB`)
  console.log(`node guard counters: ${JSON.stringify(result.nodeGuard)}`)
}
process.exit(0)
