// bench/swarm/scale-calibrate.mjs: the same figures as bench/swarm/scale-model.mjs, measured on real
// `qis node` processes on 127.0.0.1, so the model can be checked where both can run.
//
//   npm run build && node bench/swarm/scale-calibrate.mjs [--nodes 30] [--keys 150] [--packets-per-key 4] [--settle 30]
//   then: node bench/swarm/scale-model.mjs --nodes 30 --keys 150 --packets-per-key 4 --hours 0
//
// Prints, for a fresh client: the batched lookup of every key with publish's count (9) and fetch's
// (12): rounds, requests, (key, peer) queries per key; whether the 3 closest it found are the true 3
// closest of the key among the live nodes (computed from the nodes' peer ids, sha256 of the
// multihash as kad-dht does); after a real publish, whether the packets sit on exactly those 3 (read
// from every node's storage file); and the nodes' routing-table sizes.
import {generateKeyPair} from '@libp2p/crypto/keys'
import {peerIdFromString} from '@libp2p/peer-id'
import {createHash} from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'

import {packetId} from '../../dist/packet/index.js'
import {readStoreFile} from '../../dist/packet/store.js'
import {compareXor, keyKadId} from '../../dist/swarm/lookup.js'
import {STORAGE_FILE} from '../../dist/swarm/storage.js'
import {openSwarmClient, publishPackets} from '../../dist/swarm/client.js'
import {startQisNode, tempHome} from './node-process.mjs'
import {makeBenchPackets} from './packets.mjs'

const {values} = parseArgs({
  options: {
    nodes: {type: 'string', default: '30'},
    keys: {type: 'string', default: '150'},
    'packets-per-key': {type: 'string', default: '4'},
    settle: {type: 'string', default: '30'},
  },
})
const N = Number(values.nodes)
const keyCount = Number(values.keys)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const sha256 = (b) => createHash('sha256').update(b).digest()

console.log(`bench/swarm/scale-calibrate: ${N} qis node processes on 127.0.0.1, ${keyCount} keys; ${os.cpus().length} cores, load average ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`)
const root = tempHome('qis-bench-calibrate-')
const nodes = []
const start = (name, bootstrap) =>
  startQisNode({
    home: path.join(root, name),
    name,
    bootstrap,
    // Re-replication would move copies between the publish and the census.
    args: ['--no-replicate'],
    startTimeoutMs: 180_000,
    fields: {table: 0},
    onEvent: (e, node) => {
      if (e.event === 'routing') node.table = e.size
    },
  })
nodes.push(await start('n0', []))
for (let i = 1; i < N; i += 4) {
  const wave = Array.from({length: Math.min(4, N - i)}, (_, j) => start(`n${i + j}`, [nodes[0].multiaddr, nodes[Math.floor(Math.random() * nodes.length)].multiaddr]))
  nodes.push(...(await Promise.all(wave)))
}
for (let t = 0; t < 240 && nodes.some((n) => !n.joined); t++) await sleep(500)
console.log(`started ${N} nodes; waiting ${values.settle} s for tables to settle, longer while a table holds fewer than 8 peers (at most 4 minutes)`)
await sleep(Number(values.settle) * 1000)
for (let t = 0; t < 240 && nodes.some((n) => n.table < Math.min(8, N - 1)); t++) await sleep(1000)

const kad = new Map(nodes.map((n) => [n.peerId, sha256(peerIdFromString(n.peerId).toMultihash().bytes)]))
const truth = (key, n) => {
  const target = keyKadId(key)
  return [...kad.keys()].sort((a, b) => compareXor(target, kad.get(a), kad.get(b))).slice(0, n)
}
const items = makeBenchPackets({seed: 'bench-calibrate', count: keyCount * Number(values['packets-per-key']), keys: keyCount, queryPrefix: 'cal'})
const keys = [...new Set(items.map((i) => i.key))]
const bootstrap = () => [...new Set([0, 1, 2].map(() => nodes[Math.floor(Math.random() * nodes.length)].multiaddr))]
const pct = (v) => `${(v * 100).toFixed(1)} %`

/** A client joined through a few nodes; on a loaded machine a join can time out, so it is tried again (as bench/swarm/churn.mjs does). */
async function client() {
  for (let attempt = 1; ; attempt++) {
    try {
      return await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: bootstrap(), joinTimeoutMs: 60_000})
    } catch (err) {
      if (attempt >= 3) throw err
      console.error(`client join failed (${err.message}); trying again`)
    }
  }
}

async function lookupFigures(count, label) {
  const client_ = await client()
  try {
    const r = await client_.node.lookup(keys, {count, timeoutMs: 30_000})
    const exact = keys.filter((k) => {
      const found = (r.closest.get(k) ?? []).slice(0, 3).map(String)
      return truth(k, 3).every((t) => found.includes(t))
    }).length
    console.log(`${label} lookup (count ${count}): ${r.stats.rounds} rounds, ${r.stats.requests} requests, ${(r.stats.queries / keys.length).toFixed(1)} queries/key; true 3 closest among the first 3 found: ${pct(exact / keys.length)}; failed peers ${r.failures.size}`)
    return r.stats
  } finally {
    await client_.close()
  }
}

try {
  const tables = nodes.map((n) => n.table).sort((a, b) => a - b)
  console.log(`routing tables: mean ${(tables.reduce((a, b) => a + b, 0) / N).toFixed(1)}, min ${tables[0]}, max ${tables.at(-1)} (of ${N - 1} other nodes)`)
  await lookupFigures(9, 'publish')
  await lookupFigures(12, 'fetch')
  const publisher = await client()
  const pub = await publishPackets(publisher, items, {concurrency: 8})
  await publisher.close()
  await sleep(2000)
  const holders = new Map()
  for (const n of nodes) {
    try {
      for await (const e of readStoreFile(path.join(n.home, 'node', STORAGE_FILE))) if (e.kind === 'packet') {
        const id = packetId(e.bytes)
        holders.set(id, [...(holders.get(id) ?? []), n.peerId])
      }
    } catch (err) {
      // A node that was sent nothing has no storage file.
      if (err.code !== 'ENOENT') throw err
    }
  }
  const byKey = new Map()
  for (const i of items) if (!byKey.has(i.key)) byKey.set(i.key, i.id)
  const onTruth = keys.filter((k) => {
    const h = holders.get(byKey.get(k)) ?? []
    return truth(k, 3).every((t) => h.includes(t))
  }).length
  const copies = items.map((i) => (holders.get(i.id) ?? []).length)
  console.log(`publish: ${pub.acked}/${items.length} acknowledged; keys whose packets sit on their true 3 closest nodes: ${pct(onTruth / keys.length)}; copies per packet ${(copies.reduce((a, b) => a + b, 0) / copies.length).toFixed(2)}`)
} finally {
  await Promise.all(nodes.map((n) => n.stop()))
}
