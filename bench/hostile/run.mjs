// Hostile peer against one real `qis node` process on 127.0.0.1, with an honest peer publishing
// and fetching meanwhile. Bounded in count and time; loopback only.
//
//   npm run build && node bench/hostile/run.mjs [--seconds 10] [--quota 500] [--quota-bytes 100000]
//                                               [--identities 8] [--garbage 20] [--json]
//
// Phases: raw garbage to the TCP port; crafted bad requests and packets on /qis/store and
// /qis/fetch, one of each kind; a timed flood (unique packets from one identity and from several,
// replays, forged signatures) while the honest peer publishes and fetches every second. Then the
// node is stopped and its own refusal counters (the `stopped` event) are compared with what the
// hostile peer was told, its log is read back to check the per-publisher quota, and RSS figures
// sampled from /proc/<pid>/status are printed. --json prints one JSON object (test/e2e/hostile.test.ts).
import {generateKeyPair} from '@libp2p/crypto/keys'
import {peerIdFromString} from '@libp2p/peer-id'
import {encode as cborEncode} from 'cborg'
import {createHash, randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

import {decodePacket, encodePacket, keyFingerprint, packetId, readStoreFile, signerFromSeed} from '../../dist/packet/index.js'
import {fetchPackets, openSwarmClient, publishPackets} from '../../dist/swarm/client.js'
import {
  FETCH_PROTOCOL,
  STORE_PROTOCOL,
  decodeStoreResponse,
  encodeFetchRequest,
  encodeStoreRequest,
  readFrames,
  readOneFrame,
  writeFrame,
} from '../../dist/swarm/protocol.js'
import {startQisNode, tempHome} from '../swarm/node-process.mjs'

function flag(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const SECONDS = flag('seconds', 10)
const QUOTA = flag('quota', 500)
const QUOTA_BYTES = flag('quota-bytes', 100_000)
const IDENTITIES = flag('identities', 8)
const GARBAGE = flag('garbage', 20)
const JSON_OUT = process.argv.includes('--json')
if (SECONDS > 60 || GARBAGE > 200 || IDENTITIES > 64) throw new Error('bounded: --seconds <= 60, --garbage <= 200, --identities <= 64')

const SCHEME = 'hostile-bench-v1'
const DOMAIN = 'clinical'
const now = () => Math.floor(Date.now() / 1000)
const signer = (name) => signerFromSeed(createHash('sha256').update(`qis-hostile:${name}`).digest())
const hex16 = (s) => createHash('sha256').update(s).digest('hex').slice(0, 16)
const log = (...a) => (JSON_OUT ? process.stderr.write(a.join(' ') + '\n') : console.log(...a))

function body(i, extra = {}) {
  return {
    scheme: SCHEME,
    domain_tag: DOMAIN,
    query_semantic_hash: hex16(`q${i}:${extra.salt ?? ''}`),
    routing_keys: ['rk0', `rk${1 + (i % 7)}`],
    outcome_signal: (i % 10) / 10,
    confidence_at_inference: 0.5,
    model_variant: 'llama3-8b',
    correction_applied: false,
    correction_type: null,
    timestamp: now() - 60,
    ...extra.fields,
  }
}
const KEY0 = keyFingerprint(SCHEME, DOMAIN, 'rk0')

/** A packet signed over a body array we build ourselves, so fields the encoder would refuse reach the node. */
function craft(s, arr) {
  const bodyBytes = cborEncode(arr)
  return cborEncode([arr, s.publicKey, s.sign(bodyBytes)])
}
const rawBody = (over = {}) => {
  const b = {version: 1, scheme: SCHEME, domain: DOMAIN, hash: Buffer.from(hex16('raw'), 'hex'), keys: ['rk0'], outcome: 500, confidence: 500, model: 'm', corrected: false, ctype: null, timestamp: now() - 60, ttl: 168, count: 1, ...over}
  return [b.version, b.scheme, b.domain, b.hash, b.keys, b.outcome, b.confidence, b.model, b.corrected, b.ctype, b.timestamp, b.ttl, b.count]
}

// ---- the node under attack -------------------------------------------------------------------
const home = tempHome('qis-hostile-node-')
const events = []
const node = await startQisNode({home, args: ['--publisher-max-packets', String(QUOTA), '--publisher-max-bytes', String(QUOTA_BYTES)], onEvent: (e) => events.push(e)})
const child = node.child
let alive = true
void node.exited.then(() => (alive = false))
process.on('uncaughtException', (err) => {
  console.error(err)
  process.exit(1)
})
const addr = node.multiaddr
const port = Number(/\/tcp\/(\d+)/.exec(addr)[1])
const nodePeer = peerIdFromString(node.peerId)

const rssSamples = []
const rss = () => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) * 1024
  } catch {
    return NaN
  }
}
const sampler = setInterval(() => rssSamples.push(rss()), 100)
await new Promise((r) => setTimeout(r, 500))
const rssBefore = rss()

// What the hostile peer was told, by reason; compared with the node's own counters at the end.
const told = {}
const tell = (reason, n = 1) => (told[reason] = (told[reason] ?? 0) + n)
const statuses = {}

// ---- phase 1: raw garbage on the TCP port -----------------------------------------------------
let garbageBytes = 0
await Promise.all(Array.from({length: GARBAGE}, (_, i) => new Promise((resolve) => {
  const sock = net.connect(port, '127.0.0.1')
  const bytes = i === 0 ? Buffer.from('/multistream/1.0.0\n'.repeat(100)) : randomBytes(64 * 1024)
  sock.on('error', () => resolve())
  sock.on('close', () => resolve())
  sock.on('connect', () => {
    garbageBytes += bytes.length
    sock.write(bytes)
    setTimeout(() => sock.destroy(), 300)
  })
})))
log(`garbage: ${GARBAGE} TCP connections, ${garbageBytes} random bytes; node alive: ${alive}`)

// ---- phase 2: one of every bad request and bad packet ------------------------------------------
const attacker = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [addr]})
const dial = (protocol) => attacker.node.libp2p.dialProtocol(nodePeer, protocol, {signal: AbortSignal.timeout(10_000)})

async function storeOnce(key, packets) {
  const stream = await dial(STORE_PROTOCOL)
  await writeFrame(stream, encodeStoreRequest({key, packets}))
  await stream.close()
  return decodeStoreResponse(await readOneFrame(stream), packets.length)
}

const crafted = {}
{
  // Oversized frame: a 10 MB length prefix followed by a little data; refused before buffering.
  const stream = await dial(STORE_PROTOCOL)
  stream.send(Uint8Array.from([0x80, 0xad, 0xe2, 0x04, ...new Uint8Array(1000)]))
  crafted.oversizedFrame = decodeStoreResponse(await readOneFrame(stream), 0).error
  tell(crafted.oversizedFrame)
}
{
  const stream = await dial(STORE_PROTOCOL)
  await writeFrame(stream, Uint8Array.from([0xff, 0x00, 0x13]))
  await stream.close()
  crafted.badCbor = decodeStoreResponse(await readOneFrame(stream), 0).error
  tell(crafted.badCbor)
}
{
  const stream = await dial(STORE_PROTOCOL)
  await writeFrame(stream, encodeStoreRequest({key: KEY0, packets: Array.from({length: 257}, () => new Uint8Array([1]))}))
  await stream.close()
  crafted.tooManyPackets = decodeStoreResponse(await readOneFrame(stream), 0).error
  tell(crafted.tooManyPackets)
}
for (const [name, keys] of [['fetchTooManyKeys', Array.from({length: 65}, () => KEY0)], ['fetchBadKey', ['ZZ']]]) {
  const stream = await dial(FETCH_PROTOCOL)
  await writeFrame(stream, encodeFetchRequest({keys}))
  await stream.close()
  try {
    for await (const _ of readFrames(stream, 10)) {
      // a refused fetch gets no frames
    }
    crafted[name] = 'answered'
  } catch {
    crafted[name] = 'BAD_REQUEST'
    tell('BAD_REQUEST')
  }
}
{
  const m = signer('mallory')
  const good = encodePacket(body(1, {salt: 'mallory'}), m)
  const forged = Uint8Array.from(good)
  forged[forged.length - 1] ^= 1
  const foreignKey = Uint8Array.from(good)
  // Swap the public key for another identity's: the signature no longer matches.
  const other = signer('other').publicKey
  const pkAt = Buffer.from(good).indexOf(Buffer.from(m.publicKey))
  foreignKey.set(other, pkAt)
  const cases = {
    forgedSignature: forged,
    foreignPublicKey: foreignKey,
    futureTimestamp: encodePacket(body(2, {salt: 'm', fields: {timestamp: now() + 30 * 86400}}), m),
    expired: encodePacket(body(3, {salt: 'm', fields: {timestamp: now() - 10 * 86400, ttl_hours: 1}}), m),
    wrongKey: encodePacket(body(4, {salt: 'm', fields: {routing_keys: ['elsewhere']}}), m),
    wrongScheme: craft(m, rawBody({scheme: 'NOT A SCHEME!'})),
    outcomeOutOfRange: craft(m, rawBody({outcome: 1500})),
    confidenceNegative: craft(m, rawBody({confidence: -3})),
    ttlOutOfRange: craft(m, rawBody({ttl: 10 * 24 * 365})),
    unknownVersion: craft(m, rawBody({version: 9})),
    shortPublicKey: cborEncode([rawBody(), m.publicKey.subarray(0, 31), new Uint8Array(64)]),
    trailingByte: Uint8Array.from([...good, 0]),
    notCbor: randomBytes(200),
    empty: new Uint8Array(0),
    oversizedPacket: new Uint8Array(600).fill(0x41),
    original: good,
    replayInBatch: good,
  }
  const names = Object.keys(cases)
  const r = await storeOnce(KEY0, names.map((n) => cases[n]))
  names.forEach((n, i) => (crafted[n] = r.results[i]))
  // Replayed later in a separate request, as a captured packet would be.
  crafted.replayLater = (await storeOnce(KEY0, [good])).results[0]
  for (const s of [...r.results, crafted.replayLater]) if (s !== 'stored' && s !== 'duplicate') tell(s)
}
log('crafted:', JSON.stringify(crafted))

// ---- phase 3: the flood, with an honest peer served meanwhile ---------------------------------
const tGen = performance.now()
const one = signer('flood-one')
const pools = {
  // One identity sends three times its quota of distinct packets.
  oneIdentity: Array.from({length: QUOTA * 3}, (_, i) => encodePacket(body(i, {salt: 'one'}), one)),
  // Several identities, each a little over its quota.
  severalIdentities: Array.from({length: IDENTITIES}, (_, k) => signer(`flood-${k}`)).flatMap((s, k) => Array.from({length: QUOTA + 50}, (_, i) => encodePacket(body(i, {salt: `s${k}`}), s))),
  // Large packets (8 routing keys, long model name): the byte quota binds before the packet quota.
  bytesQuota: (() => {
    const s = signer('flood-bytes')
    const keys = Array.from({length: 8}, (_, j) => (j === 0 ? 'rk0' : `k${j}-${'x'.repeat(13)}`))
    return Array.from({length: Math.ceil(QUOTA_BYTES / 300) + 100}, (_, i) => encodePacket(body(i, {salt: 'b', fields: {routing_keys: keys, model_variant: `model-${'v'.repeat(42)}`}}), s))
  })(),
}
const forgedPool = pools.oneIdentity.slice(0, 256).map((p) => {
  const f = Uint8Array.from(p)
  f[f.length - 1] ^= 0x80
  return f
})
const genSeconds = (performance.now() - tGen) / 1000
// Interleave sources so every kind of traffic is in flight for the whole flood.
const batches = []
const chunk = (arr, kind) => {
  const out = []
  for (let i = 0; i < arr.length; i += 256) out.push({kind, packets: arr.slice(i, i + 256)})
  return out
}
const queues = [chunk(pools.oneIdentity, 'oneIdentity'), chunk(pools.severalIdentities, 'severalIdentities'), chunk(pools.bytesQuota, 'bytesQuota')]
while (queues.some((q) => q.length)) for (const q of queues) if (q.length) batches.push(q.shift())
const replayBatch = pools.oneIdentity.slice(0, 256)

let sent = 0
let sentBytes = 0
let requests = 0
const floodStart = performance.now()
const deadline = floodStart + SECONDS * 1000
let nextBatch = 0
let round = 0
function pickBatch() {
  round++
  if (nextBatch < batches.length && round % 4 !== 0) return batches[nextBatch++]
  return round % 8 === 0 ? {kind: 'forged', packets: forgedPool} : {kind: 'replay', packets: replayBatch}
}
// The flood lasts --seconds, and in any case until every distinct packet went out once and replays
// and forgeries were in the mix, so a short run still exercises every quota.
const flooding = () => performance.now() < deadline || nextBatch < batches.length || round < 8
async function floodStream() {
  while (flooding()) {
    const stream = await dial(STORE_PROTOCOL)
    const replies = readFrames(stream, 64)[Symbol.asyncIterator]()
    for (let n = 0; n < 64 && flooding(); n++) {
      const b = pickBatch()
      await writeFrame(stream, encodeStoreRequest({key: KEY0, packets: b.packets}))
      const {value} = await replies.next()
      const r = decodeStoreResponse(value, b.packets.length)
      sent += b.packets.length
      sentBytes += b.packets.reduce((a, p) => a + p.length, 0)
      requests++
      for (const s of r.results) {
        statuses[`${b.kind}:${s}`] = (statuses[`${b.kind}:${s}`] ?? 0) + 1
        if (s !== 'stored' && s !== 'duplicate') tell(s)
      }
    }
    await stream.close()
  }
}

const honest = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [addr]})
const honestSigner = signer('honest')
const honestPackets = []
const publishMs = []
const fetchMs = []
let honestFailures = 0
async function honestLoop() {
  let i = 0
  while (flooding() || publishMs.length === 0) {
    const batch = Array.from({length: 20}, () => encodePacket(body(i++, {salt: 'honest', fields: {routing_keys: ['honest-a', 'honest-b']}}), honestSigner))
    const items = batch.flatMap((bytes) => ['honest-a', 'honest-b'].map((k) => ({key: keyFingerprint(SCHEME, DOMAIN, k), bytes, id: packetId(bytes)})))
    let t = performance.now()
    const pub = await publishPackets(honest, items, {replicas: 1})
    publishMs.push(performance.now() - t)
    if (pub.failed > 0) honestFailures += pub.failed
    else honestPackets.push(...batch)
    t = performance.now()
    await fetchPackets(honest, [keyFingerprint(SCHEME, DOMAIN, 'honest-a')], {replicas: 1})
    fetchMs.push(performance.now() - t)
    await new Promise((r) => setTimeout(r, 500))
  }
}
const streams = 4
await Promise.all([...Array.from({length: streams}, floodStream), honestLoop()])
const floodSeconds = (performance.now() - floodStart) / 1000
const rssPeakFlood = Math.max(...rssSamples.filter(Number.isFinite))

// The honest peer's packets are all retrievable after the flood.
const fetched = await fetchPackets(honest, ['honest-a', 'honest-b'].map((k) => keyFingerprint(SCHEME, DOMAIN, k)), {replicas: 1})
const fetchedIds = new Set(fetched.packets.map((p) => packetId(p.bytes)))
const honestMissing = honestPackets.filter((p) => !fetchedIds.has(packetId(p))).length
await attacker.close()
await honest.close()
await new Promise((r) => setTimeout(r, 2000))
const rssAfter = rss()
clearInterval(sampler)
const aliveAtEnd = alive

const exit = await node.stop()
const stopped = events.find((e) => e.event === 'stopped')

// Per publisher on the node's disk: packets and bytes, against the quota.
const perPublisher = new Map()
for await (const e of readStoreFile(path.join(home, 'node', 'packets.qisp'))) {
  if (e.kind !== 'packet') continue
  const d = decodePacket(e.bytes)
  const pk = d.ok ? d.packet.public_key : 'undecodable'
  const q = perPublisher.get(pk) ?? {packets: 0, bytes: 0}
  q.packets++
  q.bytes += e.bytes.length
  perPublisher.set(pk, q)
}
const pkOf = (s) => Buffer.from(s.publicKey).toString('hex')
const held = (s) => perPublisher.get(pkOf(s)) ?? {packets: 0, bytes: 0}

const pct = (arr, p) => {
  const s = [...arr].sort((a, b) => a - b)
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]) : null
}
const result = {
  loadAverage: os.loadavg().map((x) => +x.toFixed(1)),
  cpus: os.cpus().length,
  seconds: Math.round(floodSeconds * 10) / 10,
  generateSeconds: Math.round(genSeconds * 10) / 10,
  garbageConnections: GARBAGE,
  crafted,
  flood: {requests, packets: sent, bytes: sentBytes, packetsPerSecond: Math.round(sent / floodSeconds), statuses},
  told,
  nodeRefused: stopped?.storage?.refused ?? null,
  nodeStorage: stopped?.storage ?? null,
  quota: {
    packets: QUOTA,
    bytes: QUOTA_BYTES,
    oneIdentity: held(one),
    severalIdentities: Array.from({length: IDENTITIES}, (_, k) => held(signer(`flood-${k}`))),
    bytesQuota: held(signer('flood-bytes')),
    maxHeld: [...perPublisher.values()].reduce((a, q) => ({packets: Math.max(a.packets, q.packets), bytes: Math.max(a.bytes, q.bytes)}), {packets: 0, bytes: 0}),
  },
  honest: {
    published: honestPackets.length,
    failedPackets: honestFailures,
    missingAfterFlood: honestMissing,
    rounds: publishMs.length,
    publishMsP50: pct(publishMs, 50),
    publishMsMax: pct(publishMs, 100),
    fetchMsP50: pct(fetchMs, 50),
    fetchMsMax: pct(fetchMs, 100),
  },
  rss: {beforeMiB: +(rssBefore / 2 ** 20).toFixed(1), peakMiB: +(rssPeakFlood / 2 ** 20).toFixed(1), afterMiB: +(rssAfter / 2 ** 20).toFixed(1)},
  node: {aliveThroughout: aliveAtEnd, exit},
}
if (JSON_OUT) process.stdout.write(JSON.stringify(result) + '\n')
else {
  console.log(`flood: ${result.flood.packets} packets in ${result.flood.requests} store requests over ${result.seconds} s = ${result.flood.packetsPerSecond} packets/s (${(sentBytes / 2 ** 20).toFixed(1)} MiB), ${streams} streams`)
  console.log('flood statuses:', JSON.stringify(statuses))
  console.log('refused, as told to the hostile peer:', JSON.stringify(told))
  console.log('refused, node counters             :', JSON.stringify(result.nodeRefused))
  console.log(`quota ${QUOTA} packets / ${QUOTA_BYTES} bytes: one identity holds ${JSON.stringify(result.quota.oneIdentity)}, byte-heavy identity ${JSON.stringify(result.quota.bytesQuota)}, largest publisher ${JSON.stringify(result.quota.maxHeld)}`)
  console.log(`honest peer: ${result.honest.published} packets published in ${result.honest.rounds} rounds, ${result.honest.failedPackets} failed, ${result.honest.missingAfterFlood} missing after the flood; publish p50 ${result.honest.publishMsP50} ms (max ${result.honest.publishMsMax}), fetch p50 ${result.honest.fetchMsP50} ms (max ${result.honest.fetchMsMax})`)
  console.log(`machine: ${result.cpus} cores, load average ${result.loadAverage.join(' ')} at the end`)
  console.log(`node RSS: before ${result.rss.beforeMiB} MiB, peak ${result.rss.peakMiB} MiB, after ${result.rss.afterMiB} MiB; alive throughout: ${aliveAtEnd}, exit ${JSON.stringify(exit)}`)
}
process.exit(0)
