// bench/swarm/table-memory.mjs: what one kad-dht routing table costs in memory, by trie depth and
// bucket size (docs/swarm.md, "What changes at 10,000 nodes"). One node meets every peer of a swarm
// of N (the worst case: the node everyone joins through); the heap is measured after a collection,
// before and after the table takes them in, so the peer ids themselves (which libp2p's peer store
// holds anyway) are not counted.
//
//   node --expose-gc bench/swarm/table-memory.mjs [--peers 10000] [--prefix-length 10,12] [--k-bucket 8]
import {generateKeyPair} from '@libp2p/crypto/keys'
import {peerIdFromPrivateKey} from '@libp2p/peer-id'
import {parseArgs} from 'node:util'

const kadDir = new URL('./', import.meta.resolve('@libp2p/kad-dht'))
const {KBucket} = await import(new URL('routing-table/k-bucket.js', kadDir).href)

const {values} = parseArgs({
  options: {
    peers: {type: 'string', default: '10000'},
    'prefix-length': {type: 'string', default: '10,12'},
    'k-bucket': {type: 'string', default: '8'},
  },
})
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc')

const peers = []
for (let i = 0; i < Number(values.peers); i++) peers.push(peerIdFromPrivateKey(await generateKeyPair('Ed25519')))
const owner = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

// One table first, not measured: the first one built pays for compiling and loading kad-dht's code.
const warm = new KBucket({peerId: owner, metrics: undefined}, {kBucketSize: 8, prefixLength: 6, metricsPrefix: 'w', verify: async () => true, ping: async function* () {}})
await warm.start()
for (const p of peers) await warm.add(p)
await warm.stop()

for (const prefixLength of values['prefix-length'].split(',').map(Number)) {
  for (const k of values['k-bucket'].split(',').map(Number)) {
    globalThis.gc()
    const before = process.memoryUsage().heapUsed
    // Every contact answers its ping; the table keeps what its trie has room for.
    const kb = new KBucket({peerId: owner, metrics: undefined}, {kBucketSize: k, prefixLength, metricsPrefix: 'm', verify: async () => true, ping: async function* () {}})
    await kb.start()
    for (const p of peers) await kb.add(p)
    globalThis.gc()
    const bytes = process.memoryUsage().heapUsed - before
    const n = kb.count()
    console.log(`prefix ${prefixLength} bits, k = ${k}: ${n} of ${peers.length} peers held, ${(bytes / 2 ** 20).toFixed(2)} MiB, ${(bytes / n).toFixed(0)} B per entry`)
    await kb.stop()
  }
}
