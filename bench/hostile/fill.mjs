// A node filled by fresh identities (issue 21 item 7), one real `qis node` on 127.0.0.1 at
// --max-packets: an established honest publisher stores some packets; a flood of fresh identities
// fills the node; then the established publisher and a brand-new honest one publish again.
// Prints honest publish success on the flooded node, whether the established publisher's earlier
// packets survived, and the node's eviction count. Bounded in count; loopback only.
//
//   npm run build && node bench/hostile/fill.mjs [--max-packets 2000] [--identities 100] [--root DIR] [--json]
//
// --root runs the node (and client library) of another checkout's build, for a before figure.
import {generateKeyPair} from '@libp2p/crypto/keys'
import {createHash} from 'node:crypto'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {startQisNode, tempHome} from '../swarm/node-process.mjs'

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : fallback
}
const MAX = Number(arg('max-packets', 2000))
const IDENTITIES = Number(arg('identities', 100))
const ROOT = path.resolve(arg('root', here))
const JSON_OUT = process.argv.includes('--json')
if (MAX > 20_000 || IDENTITIES > 1000) throw new Error('bounded: --max-packets <= 20000, --identities <= 1000')

const {openSwarmClient, publishPackets, fetchPackets} = await import(pathToFileURL(path.join(ROOT, 'dist/swarm/client.js')).href)
const {encodePacket, keyFingerprint, packetId, signerFromSeed} = await import(pathToFileURL(path.join(ROOT, 'dist/packet/index.js')).href)

const home = tempHome('qis-fill-')
const events = []
const node = await startQisNode({home, run: path.join(ROOT, 'bin/run.js'), args: ['--max-packets', String(MAX)], onEvent: (e) => events.push(e)})
const addr = node.multiaddr

const SCHEME = 'fill-v1'
const signer = (name) => signerFromSeed(createHash('sha256').update(`qis-fill:${name}`).digest())
const items = (s, from, n, key) =>
  Array.from({length: n}, (_, i) => {
    const bytes = encodePacket({scheme: SCHEME, domain_tag: 'bench', query_semantic_hash: createHash('sha256').update(`${from + i}`).digest('hex').slice(0, 16), routing_keys: [key], outcome_signal: 1, confidence_at_inference: 1, model_variant: 'm', correction_applied: false, correction_type: null, timestamp: Math.floor(Date.now() / 1000) - 60}, s)
    return {key: keyFingerprint(SCHEME, 'bench', key), bytes, id: packetId(bytes)}
  })
const client = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [addr]})
const publish = async (list) => {
  const r = await publishPackets(client, list, {replicas: 1, retries: 1, batchSize: 128})
  return {acked: r.acked, failed: r.failed, failures: r.failures}
}

const honest = signer('established')
const honestFirst = items(honest, 0, Math.round(MAX / 10), 'honest')
const r0 = await publish(honestFirst)
const perIdentity = Math.ceil((MAX * 1.5) / IDENTITIES)
const flood = Array.from({length: IDENTITIES}, (_, k) => items(signer(`sybil-${k}`), 100_000 + k * perIdentity, perIdentity, `flood${k % 10}`)).flat()
const rFlood = await publish(flood)
const honestLater = items(honest, 50_000, Math.round(MAX / 10), 'honest')
const r1 = await publish(honestLater)
const newcomer = await publish(items(signer('newcomer'), 70_000, 50, 'newcomer'))
const fetched = await fetchPackets(client, [keyFingerprint(SCHEME, 'bench', 'honest')], {replicas: 1})
const have = new Set(fetched.packets.map((p) => packetId(p.bytes)))
const survived = honestFirst.filter((p) => have.has(p.id)).length
await client.close()
await node.stop()
const stopped = events.find((e) => e.event === 'stopped')

const result = {
  root: ROOT,
  maxPackets: MAX,
  honestBeforeFlood: r0,
  flood: {identities: IDENTITIES, packets: flood.length, ...rFlood},
  establishedAfterFlood: {...r1, successRate: +(r1.acked / honestLater.length).toFixed(2)},
  newcomerAfterFlood: {...newcomer, successRate: +(newcomer.acked / 50).toFixed(2)},
  establishedEarlierPacketsSurviving: `${survived}/${honestFirst.length}`,
  nodeEvicted: stopped?.storage?.evicted ?? null,
  nodePackets: stopped?.storage?.packets ?? null,
}
if (JSON_OUT) console.log(JSON.stringify(result))
else {
  console.log(`node at --max-packets ${MAX}; flood of ${flood.length} packets from ${IDENTITIES} fresh identities: ${rFlood.acked} stored, ${rFlood.failed} refused ${JSON.stringify(rFlood.failures)}`)
  console.log(`established honest publisher after the flood: ${r1.acked}/${honestLater.length} stored (${result.establishedAfterFlood.successRate}) ${JSON.stringify(r1.failures)}; its ${honestFirst.length} earlier packets: ${result.establishedEarlierPacketsSurviving} still served`)
  console.log(`brand-new honest publisher after the flood: ${newcomer.acked}/50 stored ${JSON.stringify(newcomer.failures)}`)
  console.log(`node: ${result.nodePackets} packets at stop, ${result.nodeEvicted} evicted`)
}
process.exit(0)
