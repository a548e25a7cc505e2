// bench/swarm/scale-model.mjs: a scale model of the qis swarm's Kademlia at sizes that do not fit on
// one machine as processes (issue 17, "How this scales"; docs/swarm.md, "What changes at 10,000 nodes").
//
//   npm run build && node bench/swarm/scale-model.mjs [--nodes 100,1000,10000] [--keys 500] [--packets-per-key 20] \
//     [--churn 0.1] [--hours 4] [--refresh 0|1] [--prefix-length 12] [--k-bucket 8] [--split-threshold 8] [--seed 1] \
//     [--svg docs/img/scale-model.svg] [--json FILE]
//
// What is real here and what is modelled:
// - Real: every node's routing table is kad-dht's own KBucket (@libp2p/kad-dht 16, the class inside its
//   RoutingTable) with qis's settings (k = 8, kad-dht's prefix length); ids are real Ed25519 peer ids
//   and kad ids are sha256 of their multihash, as kad-dht computes them. Key lookups are qis's own
//   batched lookup (dist/swarm/lookup.js `lookupClosest`, same counts as publish (9), fetch (12) and
//   re-replication (6)); re-replication chooses its targets with dist/swarm/replicate.js
//   `replicationTargets`. A responder answers from its table the way src/swarm/handlers/closest.ts
//   does (the `count` closest it knows, dead ones included until kad-dht evicts them).
// - Modelled: the network. A message is a function call that always arrives unless the peer is dead;
//   no latency, no loss, no timeouts (a dead peer fails at once). kad-dht's own getClosestPeers (used
//   only for a node's join self-lookup and its table refresh) is modelled as an iterative FIND_NODE
//   with alpha 3 and k 8. A peer is offered to a node's table whenever the two exchange a message, as
//   kad-dht does on connect (clients are never offered: they run in client mode). kad-dht's pings
//   (new contact, and old contacts of a full bucket after 10 minutes) answer from the model's alive flag.
// - Time is simulated: re-replication rounds every 60 s (qis's default), churn replaces a share of the
//   nodes per hour (uniformly random victims, storage lost; each newcomer joins through 2 live nodes,
//   looks itself up and runs kad-dht's start-up refresh). With --refresh 1 every node also refreshes
//   its table every 5 minutes as kad-dht does; that costs most of the model's CPU, so the default is
//   on up to 1,000 nodes and off above, and the output says which.
import {generateKeyPair} from '@libp2p/crypto/keys'
import {peerIdFromPrivateKey} from '@libp2p/peer-id'
import {createHash, randomBytes} from 'node:crypto'
import {readFileSync, renameSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import {parseArgs} from 'node:util'

import {compareXor, keyKadId, lookupClosest} from '../../dist/swarm/lookup.js'
import {DEFAULT_REPLICATION, replicationTargets} from '../../dist/swarm/replicate.js'
import {HAVE_ID_BYTES, PROTOCOL_LIMITS} from '../../dist/swarm/protocol.js'
import {KAD_BUCKET_SIZE, KAD_PREFIX_LENGTH} from '../../dist/swarm/node.js'

// kad-dht's package exports only its index; its routing table classes are files next to it.
const kadDir = new URL('./', import.meta.resolve('@libp2p/kad-dht'))
const {KBucket} = await import(new URL('routing-table/k-bucket.js', kadDir).href)
const {PREFIX_LENGTH, LAST_PING_THRESHOLD} = await import(new URL('routing-table/index.js', kadDir).href)

const {values} = parseArgs({
  options: {
    nodes: {type: 'string', default: '100,1000,10000'},
    keys: {type: 'string', default: '500'},
    'packets-per-key': {type: 'string', default: '20'},
    churn: {type: 'string', default: '0.1'},
    hours: {type: 'string', default: '4'},
    refresh: {type: 'string'},
    // kad-dht's trie depth; default qis's (KAD_PREFIX_LENGTH). --prefix-length 6 is kad-dht's own default.
    'prefix-length': {type: 'string'},
    // kad-dht's kBucketSize (default qis's KAD_BUCKET_SIZE) and kBucketSplitThreshold (default: the bucket size).
    // A bucket splits when it holds split-threshold peers and is shallower than the prefix length;
    // a bucket at full depth holds up to k-bucket peers.
    'k-bucket': {type: 'string'},
    'split-threshold': {type: 'string'},
    seed: {type: 'string', default: '1'},
    svg: {type: 'string', default: ''},
    json: {type: 'string', default: ''},
    // Draw the picture from earlier runs' --json files (comma-separated) instead of running.
    'from-json': {type: 'string', default: ''},
  },
})

// qis's settings (src/swarm/node.ts, src/swarm/client/publish.ts and fetch.ts counts).
const K_BUCKET = values['k-bucket'] === undefined ? KAD_BUCKET_SIZE : Number(values['k-bucket'])
const SPLIT_THRESHOLD = values['split-threshold'] === undefined ? K_BUCKET : Number(values['split-threshold'])
const R = DEFAULT_REPLICATION.replicas
const PUBLISH_COUNT = R * 3
const FETCH_COUNT = 2 * R * 2
const FETCH_ASK = 2 * R
const REPLICATE_COUNT = R * 2
const ALPHA = 3
const STEP_MS = DEFAULT_REPLICATION.intervalMs
const REFRESH_MS = 5 * 60_000
const MAX_CPL_REFRESH = 15
const probeSize = DEFAULT_REPLICATION.probeSize
const packetsPerKey = Number(values['packets-per-key'])
const prefixLength = values['prefix-length'] === undefined ? KAD_PREFIX_LENGTH : Number(values['prefix-length'])
const PACKET_BYTES = 420 // a typical signed packet (bench/swarm/packets.mjs makes 300-450 B)

// Simulated clock: kad-dht's buckets compare lastPing with Date.now().
let clock = Date.now()
Date.now = () => clock

// Seeded choice of victims and bootstrap peers (ids are random; their placement is what it is).
function rng(seed) {
  let s = seed >>> 0
  return () => ((s = (s * 1_664_525 + 1_013_904_223) >>> 0) / 2 ** 32)
}
const random = rng(Number(values.seed))
const pick = (list) => list[Math.floor(random() * list.length)]

const sha256 = (b) => createHash('sha256').update(b).digest()
const kadIds = new Map()
/** keyKadId, remembered: every responder of a lookup would hash the same keys again. */
const keyTarget = (key) => kadIds.get(key) ?? kadIds.set(key, keyKadId(key)).get(key)
const bit = (id, i) => (id[i >> 3] >> (7 - (i & 7))) & 1

/** The `count` closest peers in a kad-dht KBucket, walking its trie nearest branch first (equal to KBucket.closest, checked below). */
function tableClosest(kb, target, count) {
  const out = []
  const walk = (bucket, depth) => {
    if (out.length >= count) return
    if (Array.isArray(bucket.peers)) {
      for (const p of bucket.peers) out.push(p)
      return
    }
    const near = bit(target, depth) === 0 ? bucket.left : bucket.right
    const far = near === bucket.left ? bucket.right : bucket.left
    walk(near, depth + 1)
    walk(far, depth + 1)
  }
  walk(kb.root, 0)
  return out.sort((a, b) => compareXor(target, a.kadId, b.kadId)).slice(0, count).map((p) => p.peerId)
}

/** Counts messages by kind, in total and per receiving node. */
class Meter {
  constructor() {
    this.sent = {}
    this.received = new Map()
  }
  add(kind, to, n = 1) {
    this.sent[kind] = (this.sent[kind] ?? 0) + n
    if (to) to.received += n
  }
}

class Swarm {
  constructor(refresh) {
    this.refresh = refresh
    this.nodes = [] // every node ever, alive or not
    this.byId = new Map()
    this.meter = new Meter()
    this.liveCache = undefined
  }

  /** Live storage nodes (cached until one joins or dies). */
  live() {
    return (this.liveCache ??= this.nodes.filter((n) => n.alive && n.server))
  }

  kill(node) {
    node.alive = false
    node.held.clear()
    this.liveCache = undefined
  }

  async makeNode(server) {
    const swarm = this
    const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const node = {id: peerId.toString(), peerId, kadId: sha256(peerId.toMultihash().bytes), server, alive: true, held: new Set(), holding: new Map(), inTable: new Set(), received: 0, refreshedAt: clock, joinedAt: clock}
    node.kb = new KBucket(
      {peerId, metrics: undefined},
      {
        kBucketSize: K_BUCKET,
        splitThreshold: SPLIT_THRESHOLD,
        prefixLength,
        metricsPrefix: 'model',
        // Mirrors the table's members, so "already in the table" is a set lookup (KBucket.get builds a 256-character bit string).
        onAdd: (peer) => node.inTable.add(peer.peerId.toString()),
        onRemove: (peer) => node.inTable.delete(peer.peerId.toString()),
        // kad-dht pings a new contact before adding it, and the stalest old contacts of a full bucket.
        verify: async (contact) => {
          const peer = swarm.byId.get(contact.peerId.toString())
          swarm.meter.add('ping', peer)
          return peer.alive
        },
        ping: async function* (old) {
          for (const contact of old) {
            const peer = swarm.byId.get(contact.peerId.toString())
            swarm.meter.add('ping', peer)
            if (!peer.alive) yield contact
            else contact.lastPing = clock
          }
        },
      },
    )
    await node.kb.start()
    this.nodes.push(node)
    this.byId.set(node.id, node)
    if (server) this.liveCache = undefined
    return node
  }

  /** Two nodes exchanged a message: each offers the other to its table (kad-dht does on connect), never a client. */
  async contact(a, b) {
    if (b.server && a.alive && !a.inTable.has(b.id)) await a.kb.add(b.peerId)
    if (a.server && b.alive && !b.inTable.has(a.id)) await b.kb.add(a.peerId)
  }

  /** A responder's answer from its own table (src/swarm/handlers/closest.ts). */
  answer(peer, targets, count) {
    const index = new Map()
    const peers = []
    const closest = targets.map((t) =>
      tableClosest(peer.kb, t, count).map((id) => {
        const s = id.toString()
        let i = index.get(s)
        if (i === undefined) {
          index.set(s, (i = peers.length))
          peers.push({id: s, addrs: []})
        }
        return i
      }),
    )
    return {peers, closest}
  }

  /** qis's batched lookup (dist/swarm/lookup.js) from `from`, with the network modelled as calls. */
  async lookup(from, keys, count, kind) {
    const result = await lookupClosest(
      {
        self: from.id,
        local: (target, n) => tableClosest(from.kb, target, n).map(String),
        learn: () => true,
        kadId: (id) => this.byId.get(id).kadId,
        ask: async (id, request) => {
          const peer = this.byId.get(id)
          this.meter.add(kind, peer)
          if (!peer.alive) throw new Error('dead')
          await this.contact(from, peer)
          return this.answer(peer, request.keys.map(keyTarget), request.count)
        },
      },
      keys,
      {count, concurrency: 16},
    )
    return result
  }

  /** kad-dht's own iterative FIND_NODE for a raw kad id (join self-lookup, refresh): alpha 3, k 8. */
  async kadQuery(from, target) {
    const known = new Map(tableClosest(from.kb, target, K_BUCKET).map((p) => [p.toString(), this.byId.get(p.toString())]))
    const asked = new Set()
    const failed = new Set()
    for (let round = 0; round < 30; round++) {
      const top = [...known.values()].filter((p) => !failed.has(p.id) && p !== from).sort((a, b) => compareXor(target, a.kadId, b.kadId)).slice(0, K_BUCKET)
      const next = top.filter((p) => !asked.has(p.id)).slice(0, ALPHA)
      if (next.length === 0) break
      for (const peer of next) {
        asked.add(peer.id)
        this.meter.add('kad', peer)
        if (!peer.alive) {
          failed.add(peer.id)
          continue
        }
        await this.contact(from, peer)
        for (const id of tableClosest(peer.kb, target, K_BUCKET)) if (!known.has(id.toString())) known.set(id.toString(), this.byId.get(id.toString()))
      }
    }
  }

  /** kad-dht's table refresh: one query per common prefix length up to the table's deepest (at most 15). */
  async refreshTable(node) {
    let maxCpl = 0
    for (const p of node.kb.toIterable()) {
      let cpl = 0
      while (cpl < 255 && bit(p.kadId, cpl) === bit(node.kadId, cpl)) cpl++
      maxCpl = Math.max(maxCpl, cpl)
    }
    for (let cpl = 0; cpl <= Math.min(maxCpl, MAX_CPL_REFRESH); cpl++) {
      const target = Uint8Array.from(randomBytes(32))
      // Same first `cpl` bits as the node, then the next bit flipped: a kad id in bucket `cpl`.
      for (let i = 0; i <= cpl; i++) {
        const want = i < cpl ? bit(node.kadId, i) : 1 - bit(node.kadId, i)
        if (bit(target, i) !== want) target[i >> 3] ^= 0x80 >> (i & 7)
      }
      await this.kadQuery(node, target)
    }
    node.refreshedAt = clock
  }

  /** A storage node joins: dials its bootstrap peers, looks itself up, runs kad-dht's start-up refresh. */
  async join(node, bootstrap) {
    for (const b of bootstrap) {
      this.meter.add('kad', b)
      await this.contact(node, b)
    }
    await this.kadQuery(node, node.kadId)
    await this.refreshTable(node)
  }
}

/** The true `n` closest live storage nodes of a key (what a perfect lookup would find). */
function trueClosest(swarm, key, n) {
  const target = keyKadId(key)
  const best = []
  for (const node of swarm.live()) {
    if (best.length === n && compareXor(target, node.kadId, best[n - 1].kadId) > 0) continue
    best.push(node)
    best.sort((a, b) => compareXor(target, a.kadId, b.kadId))
    if (best.length > n) best.pop()
  }
  return best
}

async function client(swarm) {
  const c = await swarm.makeNode(false)
  const live = swarm.live()
  for (let i = 0; i < 3; i++) await swarm.contact(c, pick(live))
  return c
}

/** A publish of every key from a fresh client: batched lookup (9 closest), store on the 3 closest that answer. */
async function publish(swarm, keys) {
  const before = {...swarm.meter.sent}
  const c = await client(swarm)
  const r = await swarm.lookup(c, keys, PUBLISH_COUNT, 'closest')
  let exact = 0
  let holdersOk = 0
  // Why a key missed: per true-closest node the publish did not choose, how many live tables hold it
  // and how many live nodes share its first prefix-length bits (what its bucket must hold).
  const missed = []
  for (const key of keys) {
    const chosen = (r.closest.get(key) ?? []).map((id) => swarm.byId.get(id)).filter((p) => p.alive).slice(0, R)
    for (const p of chosen) {
      swarm.meter.add('store', p, Math.ceil(packetsPerKey / 128))
      p.held.add(key)
    }
    const truth = trueClosest(swarm, key, R)
    if (truth.every((t) => chosen.includes(t))) exact++
    else for (const t of truth.filter((t) => !chosen.includes(t))) missed.push(whyMissed(swarm, t))
    holdersOk += chosen.length === R ? 1 : 0
  }
  c.alive = false
  return {stats: r.stats, exact: exact / keys.length, missed, full: holdersOk / keys.length, messages: diff(swarm.meter.sent, before)}
}

function whyMissed(swarm, t) {
  const live = swarm.live()
  const samePrefix = (n) => {
    for (let i = 0; i < prefixLength; i++) if (bit(n.kadId, i) !== bit(t.kadId, i)) return false
    return true
  }
  return {inTables: live.filter((n) => n !== t && n.inTable.has(t.id)).length, prefixPeers: live.filter(samePrefix).length, joinedAt: t.joinedAt}
}

/** A fetch of every key from a fresh client: lookup (12 closest), then the 6 closest that answer are asked. */
async function fetch(swarm, keys) {
  const before = {...swarm.meter.sent}
  const c = await client(swarm)
  const r = await swarm.lookup(c, keys, FETCH_COUNT, 'closest')
  let got = 0
  const perPeer = new Map()
  for (const key of keys) {
    const ask = (r.closest.get(key) ?? []).map((id) => swarm.byId.get(id)).filter((p) => p.alive).slice(0, FETCH_ASK)
    for (const p of ask) perPeer.set(p, (perPeer.get(p) ?? 0) + 1)
    if (ask.some((p) => p.held.has(key))) got++
  }
  // One fetch request per peer per 64 keys (src/swarm/client/fetch.ts).
  for (const [p, n] of perPeer) swarm.meter.add('fetch', p, Math.ceil(n / PROTOCOL_LIMITS.maxFetchKeys))
  c.alive = false
  return {stats: r.stats, retrievable: got / keys.length, messages: diff(swarm.meter.sent, before)}
}

const diff = (a, b) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]))

/**
 * One re-replication round on every live holder (src/swarm/replicate.ts): a batched lookup of its
 * held keys (6 closest), `replicationTargets`, then per target peer either the have check (the rule
 * now) or a probe of 4 packets (the rule before); both lead to the same copies, so one run prices both.
 */
async function replicationRound(swarm, traffic) {
  for (const node of swarm.live()) {
    if (node.held.size === 0) continue
    const keys = [...node.held].slice(0, DEFAULT_REPLICATION.maxKeysPerRound)
    const r = await swarm.lookup(node, keys, REPLICATE_COUNT, 'replicate-lookup')
    const due = new Map()
    for (const key of keys) {
      const found = (r.closest.get(key) ?? []).map((id) => swarm.byId.get(id))
      if (found.length === 0) continue
      const {set, push} = replicationTargets(key, node, found, R, node.holding.get(key))
      const known = node.holding.get(key)
      if (known) for (const p of known) if (!set.includes(p)) known.delete(p)
      for (const id of push) due.set(id, [...(due.get(id) ?? []), key])
    }
    for (const [id, keysFor] of due) {
      const peer = swarm.byId.get(id)
      // Have check: one request for all of this peer's due keys (ids at 8 bytes each).
      traffic.haveRequests += Math.ceil(keysFor.length / PROTOCOL_LIMITS.maxHaveKeys)
      traffic.haveBytes += keysFor.length * (16 + packetsPerKey * HAVE_ID_BYTES)
      swarm.meter.add('have', peer, Math.ceil(keysFor.length / PROTOCOL_LIMITS.maxHaveKeys))
      if (!peer.alive) continue
      await swarm.contact(node, peer)
      for (const key of keysFor) {
        const lacks = !peer.held.has(key)
        // Probe rule: 4 packets first; if the peer lacked them, the rest follows.
        traffic.probePackets += lacks ? packetsPerKey : Math.min(probeSize, packetsPerKey)
        traffic.probeRequests += lacks ? Math.ceil((packetsPerKey - probeSize) / 128) + 1 : 1
        if (lacks) {
          traffic.pushed += packetsPerKey
          traffic.pushRequests += Math.ceil(packetsPerKey / 128)
          swarm.meter.add('store', peer, Math.ceil(packetsPerKey / 128))
          peer.held.add(key)
        }
        let known = node.holding.get(key)
        if (!known) node.holding.set(key, (known = new Set()))
        known.add(id)
      }
    }
  }
}

function census(swarm, keys) {
  const count = new Map(keys.map((k) => [k, 0]))
  for (const n of swarm.live()) for (const k of n.held) if (count.has(k)) count.set(k, count.get(k) + 1)
  const c = [...count.values()]
  // Keys whose true 3 closest live nodes all hold them: where a perfect lookup would look.
  const onTrue = keys.filter((k) => trueClosest(swarm, k, R).every((n) => n.held.has(k))).length / keys.length
  return {onTrue, held: c.filter((x) => x > 0).length / keys.length, full: c.filter((x) => x >= R).length / keys.length, mean: c.reduce((a, b) => a + b, 0) / keys.length}
}

function tableStats(swarm) {
  const live = swarm.live()
  const sizes = live.map((n) => n.kb.count())
  let dead = 0
  for (const n of live) for (const p of n.kb.toIterable()) if (!swarm.byId.get(p.peerId.toString()).alive) dead++
  return {mean: sizes.reduce((a, b) => a + b, 0) / sizes.length, min: Math.min(...sizes), max: Math.max(...sizes), deadShare: dead / sizes.reduce((a, b) => a + b, 0)}
}

async function run(N) {
  const refresh = values.refresh === undefined ? N <= 1000 : values.refresh === '1'
  const swarm = new Swarm(refresh)
  const t0 = process.hrtime.bigint()
  const first = await swarm.makeNode(true)
  for (let i = 1; i < N; i++) {
    const node = await swarm.makeNode(true)
    await swarm.join(node, [first, swarm.nodes[Math.floor(random() * i)]])
    clock += 50
    if (i % Math.ceil(N / 10) === 0) console.error(`  N = ${N}: ${i} joined (${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(0)} s)`)
  }
  // Let every table settle as it would in the first minutes: one refresh for every node.
  for (const n of swarm.live()) await swarm.refreshTable(n)
  clock += REFRESH_MS
  const buildS = Number(process.hrtime.bigint() - t0) / 1e9
  // kad-dht's closest() against the trie walk the model uses, on a sample.
  let agree = 0
  const sample = 200
  for (let i = 0; i < sample; i++) {
    const n = pick(swarm.live())
    const target = keyKadId(randomBytes(16).toString('hex'))
    const theirs = [...n.kb.closest(target, {count: 12})].map(String).join()
    if (theirs === tableClosest(n.kb, target, 12).map(String).join()) agree++
  }
  const tables = tableStats(swarm)
  // The model's whole heap (every table, every id, the peer ids' keys) after a collection, per node:
  // an upper bound on what one node's table costs in kad-dht (run node with --expose-gc for a clean figure).
  globalThis.gc?.()
  const heap = {bytes: process.memoryUsage().heapUsed, entries: swarm.live().reduce((a, n) => a + n.kb.count(), 0), gc: typeof globalThis.gc === 'function'}

  const keys = Array.from({length: Number(values.keys)}, () => randomBytes(16).toString('hex'))
  swarm.meter = new Meter()
  for (const n of swarm.nodes) n.received = 0
  const pub = await publish(swarm, keys)
  const pubLoad = loadOf(swarm)
  for (const n of swarm.nodes) n.received = 0
  const pull = await fetch(swarm, keys)
  const pullLoad = loadOf(swarm)

  // Churn: `churn` x N nodes replaced per hour, one re-replication round a minute.
  const perStep = (Number(values.churn) * N * STEP_MS) / 3_600_000
  const hours = Number(values.hours)
  const traffic = {haveRequests: 0, haveBytes: 0, probePackets: 0, probeRequests: 0, pushed: 0, pushRequests: 0}
  const rows = [{hour: 0, replaced: 0, ...census(swarm, keys), retrievable: pull.retrievable}]
  const noRepl = {held: new Map(swarm.live().map((n) => [n, new Set(n.held)]))}
  swarm.meter = new Meter()
  for (const n of swarm.nodes) n.received = 0
  let owed = 0
  let replaced = 0
  const churnT0 = process.hrtime.bigint()
  const hourly = []
  const steps = Math.round((hours * 3_600_000) / STEP_MS)
  for (let step = 1; step <= steps; step++) {
    clock += STEP_MS
    owed += perStep
    while (owed >= 1) {
      owed -= 1
      const victim = pick(swarm.live())
      swarm.kill(victim)
      noRepl.held.delete(victim)
      const bootstrap = [pick(swarm.live()), pick(swarm.live())]
      const fresh = await swarm.makeNode(true)
      await swarm.join(fresh, bootstrap)
      replaced++
    }
    if (refresh) for (const n of swarm.live()) if (clock - n.refreshedAt >= REFRESH_MS) await swarm.refreshTable(n)
    await replicationRound(swarm, traffic)
    // A checkpoint every hour, and at the end of a horizon that is not whole hours.
    if (step % 10 === 0) console.error(`  N = ${N}: ${step} min of churn simulated (${(Number(process.hrtime.bigint() - churnT0) / 1e9).toFixed(0)} s)`)
    if ((step * STEP_MS) % 3_600_000 === 0 || step === steps) {
      const hour = (step * STEP_MS) / 3_600_000
      const f = await fetch(swarm, keys)
      // Without re-replication the copies are the publish's, minus the dead.
      const without = new Map(keys.map((k) => [k, 0]))
      for (const set of noRepl.held.values()) for (const k of set) if (without.has(k)) without.set(k, without.get(k) + 1)
      const w = [...without.values()]
      rows.push({hour, replaced, ...census(swarm, keys), retrievable: f.retrievable, withoutHeld: w.filter((x) => x > 0).length / keys.length, withoutFull: w.filter((x) => x >= R).length / keys.length})
      hourly.push({...swarm.meter.sent})
      const row = rows.at(-1)
      const rec = swarm.live().map((n) => n.received).sort((a, b) => a - b)
      // Printed as it comes, so a run stopped later still leaves its checkpoints.
      console.error(
        `  N = ${N}: ${hour} h of churn simulated (${(Number(process.hrtime.bigint() - churnT0) / 1e9).toFixed(0)} s): ${row.replaced} replaced; retrievable ${(row.retrievable * 100).toFixed(1)} %, ` +
          `on a live node ${(row.held * 100).toFixed(1)} %, on 3+ ${(row.full * 100).toFixed(1)} %, ${row.mean.toFixed(2)} copies, on the true 3 closest ${(row.onTrue * 100).toFixed(1)} %; without: ${(row.withoutHeld * 100).toFixed(1)} / ${(row.withoutFull * 100).toFixed(1)} %; ` +
          `pushed ${traffic.pushed} packets, have ${traffic.haveRequests} requests ${(traffic.haveBytes / 1024).toFixed(0)} KiB; messages ${JSON.stringify(swarm.meter.sent)}; ` +
          `received per live node so far: mean ${(rec.reduce((a, b) => a + b, 0) / rec.length).toFixed(0)}, p99 ${rec[Math.floor(rec.length * 0.99)]}, max ${rec.at(-1)}`,
      )
    }
  }
  const churnS = Number(process.hrtime.bigint() - churnT0) / 1e9
  // Tables right after the build hold only what the joins and one refresh found; hours of upkeep fill
  // them. A second publish and pull of fresh keys measures lookups in the swarm as it is now.
  let late
  if (hours > 0) {
    const fresh = Array.from({length: keys.length}, () => randomBytes(16).toString('hex'))
    const p = await publish(swarm, fresh)
    const f = await fetch(swarm, fresh)
    late = {publish: p, pull: f, tables: tableStats(swarm)}
  }
  const live = swarm.live()
  const received = live.map((n) => n.received).sort((a, b) => a - b)
  return {
    N,
    refresh,
    buildS,
    churnS,
    agree: `${agree} of ${sample}`,
    tables,
    heap,
    tablesAfter: tableStats(swarm),
    publish: pub,
    pull,
    pubLoad,
    pullLoad,
    late,
    rows,
    traffic,
    hours,
    replaced,
    churnMessages: swarm.meter.sent,
    churnReceived: {mean: received.reduce((a, b) => a + b, 0) / received.length, p99: received[Math.floor(received.length * 0.99)], max: received.at(-1)},
  }
}

function loadOf(swarm) {
  const r = swarm.live().map((n) => n.received)
  const touched = r.filter((x) => x > 0).length
  return {touched, max: Math.max(...r), mean: r.reduce((a, b) => a + b, 0) / r.length}
}

if (values['from-json']) {
  const results = values['from-json'].split(',').flatMap((f) => JSON.parse(readFileSync(f, 'utf8'))).sort((a, b) => a.N - b.N)
  values.hours = String(Math.max(...results.map((r) => r.hours)))
  const tmp = `${values.svg}.tmp-${process.pid}`
  writeFileSync(tmp, svg(results))
  renameSync(tmp, values.svg)
  console.log(`picture: ${values.svg} from ${results.map((r) => `N = ${r.N}`).join(', ')}`)
  process.exit(0)
}
const sizes = values.nodes.split(',').map(Number)
console.log(
  `bench/swarm/scale-model: ${sizes.join(', ')} storage nodes (kad-dht ${prefixLength}-bit prefix trie${prefixLength === KAD_PREFIX_LENGTH ? ", qis's" : prefixLength === PREFIX_LENGTH ? ", kad-dht's default" : ''}, k = ${K_BUCKET}${SPLIT_THRESHOLD === K_BUCKET ? '' : `, split at ${SPLIT_THRESHOLD}`}, R = ${R}); ` +
    `${values.keys} keys x ${packetsPerKey} packets; churn ${Number(values.churn) * 100} % of the nodes per hour for ${values.hours} h, re-replication every ${STEP_MS / 1000} s; ` +
    `${os.cpus().length} cores, load average ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`,
)
const results = []
const pct = (v) => `${(v * 100).toFixed(1)} %`
for (const N of sizes) {
  const r = await run(N)
  results.push(r)
  const per = (m, k) => m[k] ?? 0
  console.log(`\nN = ${N} (table refresh every 5 min: ${r.refresh ? 'modelled' : 'not modelled'}; built in ${r.buildS.toFixed(0)} s, churn in ${r.churnS.toFixed(0)} s)`)
  console.log(
    `  model heap after the build: ${(r.heap.bytes / 2 ** 20).toFixed(0)} MiB${r.heap.gc ? '' : ' (no --expose-gc)'} for ${r.heap.entries} table entries, ${(r.heap.bytes / N / 1024).toFixed(1)} KiB per node (tables, ids and keys)`,
  )
  console.log(`  routing table: ${r.tables.mean.toFixed(0)} peers (min ${r.tables.min}, max ${r.tables.max}); after churn ${r.tablesAfter.mean.toFixed(0)}, ${pct(r.tablesAfter.deadShare)} of entries dead; kad-dht closest() = model's walk on ${r.agree} samples`)
  console.log(
    `  publish of ${values.keys} keys: ${r.publish.stats.rounds} rounds (hops), ${r.publish.stats.requests} closest requests, ${(r.publish.stats.queries / Number(values.keys)).toFixed(1)} queries/key; ` +
      `store requests ${per(r.publish.messages, 'store')}; replicas on the true 3 closest for ${pct(r.publish.exact)} of keys; nodes receiving a message ${r.pubLoad.touched}, busiest ${r.pubLoad.max}`,
  )
  if (r.publish.missed.length > 0) {
    const m = r.publish.missed
    const med = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
    console.log(
      `  true-closest nodes the publish missed: ${m.length}; in how many live tables: ${m.filter((x) => x.inTables === 0).length} in none, median ${med(m.map((x) => x.inTables))}, max ${Math.max(...m.map((x) => x.inTables))}; ` +
        `live nodes sharing their ${prefixLength}-bit prefix: median ${med(m.map((x) => x.prefixPeers))} (min ${Math.min(...m.map((x) => x.prefixPeers))})`,
    )
  }
  console.log(
    `  pull of ${values.keys} keys: ${r.pull.stats.rounds} rounds, ${r.pull.stats.requests} closest requests, ${(r.pull.stats.queries / Number(values.keys)).toFixed(1)} queries/key, fetch requests ${per(r.pull.messages, 'fetch')}; retrievable ${pct(r.pull.retrievable)}`,
  )
  for (const row of r.rows.slice(1)) {
    console.log(
      `  ${row.hour} h (${row.replaced} replaced): with re-replication ${pct(row.retrievable)} retrievable, ${pct(row.held)} on a live node, ${pct(row.full)} on 3+, ${row.mean.toFixed(2)} copies, ${pct(row.onTrue)} on the true 3 closest; ` +
        `without: ${pct(row.withoutHeld)} on a live node, ${pct(row.withoutFull)} on 3+`,
    )
  }
  if (r.hours > 0) {
    const l = r.late
    console.log(
      `  after ${r.hours} h, fresh keys: publish ${l.publish.stats.rounds} rounds, ${l.publish.stats.requests} closest requests, ${(l.publish.stats.queries / Number(values.keys)).toFixed(1)} queries/key, ` +
        `replicas on the true 3 closest for ${pct(l.publish.exact)} of keys; pull ${l.pull.stats.rounds} rounds, ${(l.pull.stats.queries / Number(values.keys)).toFixed(1)} queries/key, retrievable ${pct(l.pull.retrievable)}`,
    )
    const t = r.traffic
    const m = r.churnMessages
    console.log(
      `  re-replication over ${r.hours} h: ${t.pushed} packets pushed in ${t.pushRequests} store requests; have checks ${t.haveRequests} requests, ${(t.haveBytes / 1024).toFixed(0)} KiB; ` +
        `the probe rule would have sent ${t.probePackets} packets in ${t.probeRequests} requests (${((t.probePackets * PACKET_BYTES) / 1024).toFixed(0)} KiB at ${PACKET_BYTES} B a packet)`,
    )
    console.log(
      `  messages over ${r.hours} h: ` + Object.entries(m).map(([k, v]) => `${k} ${v}`).join(', ') +
        `; received per live node per hour: mean ${(r.churnReceived.mean / r.hours).toFixed(0)}, p99 ${(r.churnReceived.p99 / r.hours).toFixed(0)}, max ${(r.churnReceived.max / r.hours).toFixed(0)}`,
    )
  }
}
if (values.json) {
  const tmp = `${values.json}.tmp-${process.pid}`
  writeFileSync(tmp, JSON.stringify(results.map(({rows, ...r}) => ({...r, rows})), null, 1))
  renameSync(tmp, values.json)
}
if (values.svg) {
  const tmp = `${values.svg}.tmp-${process.pid}`
  writeFileSync(tmp, svg(results))
  renameSync(tmp, values.svg)
  console.log(`picture: ${values.svg}`)
}

/** Left: lookup cost per key against N (log scale). Right: share of keys on 3+ live nodes through churn. */
function svg(results) {
  const W = 800
  const H = 320
  const pw = 300
  const m = {l: 55, t: 40, b: 50}
  const x1 = (n) => m.l + ((Math.log10(n) - 1.8) / (Math.log10(20000) - 1.8)) * pw
  const maxQ = Math.max(...results.map((r) => r.pull.stats.queries / Number(values.keys))) * 1.2
  const y1 = (q) => m.t + (1 - q / maxQ) * (H - m.t - m.b)
  let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">\n`
  out += `<text x="${m.l}" y="18" font-size="13">Scale model (kad-dht tables, qis lookups): cost per key, and copies under ${Number(values.churn) * 100} %/h churn</text>\n`
  out += `<line x1="${m.l}" x2="${m.l + pw}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/><line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>\n`
  for (const r of results) out += `<text x="${x1(r.N)}" y="${H - m.b + 16}" text-anchor="middle">${r.N}</text>\n`
  out += `<text x="${m.l + pw / 2}" y="${H - 14}" text-anchor="middle">storage nodes (log scale)</text>\n`
  for (let q = 0; q <= maxQ; q += 10) out += `<text x="${m.l - 6}" y="${y1(q) + 4}" text-anchor="end">${q}</text><line x1="${m.l}" x2="${m.l + pw}" y1="${y1(q)}" y2="${y1(q)}" stroke="#eee"/>\n`
  const series = [
    ['publish: queries / key', '#1f77b4', (r) => r.publish.stats.queries / Number(values.keys)],
    ['pull: queries / key', '#2ca02c', (r) => r.pull.stats.queries / Number(values.keys)],
    ['publish: rounds (hops)', '#9467bd', (r) => r.publish.stats.rounds],
  ]
  series.forEach(([label, c, f], i) => {
    out += `<polyline fill="none" stroke="${c}" stroke-width="2" points="${results.map((r) => `${x1(r.N)},${y1(f(r))}`).join(' ')}"/>\n`
    for (const r of results) out += `<circle cx="${x1(r.N)}" cy="${y1(f(r))}" r="3" fill="${c}"/>\n`
    out += `<text x="${m.l + 8}" y="${m.t + 4 + i * 15}" fill="${c}">${label}</text>\n`
  })
  const ox = m.l + pw + 90
  const hours = Number(values.hours)
  const x2 = (h) => ox + (h / hours) * pw
  const y2 = (v) => m.t + (1 - v) * (H - m.t - m.b)
  out += `<line x1="${ox}" x2="${ox + pw}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/><line x1="${ox}" x2="${ox}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>\n`
  for (const v of [0, 0.5, 1]) out += `<text x="${ox - 6}" y="${y2(v) + 4}" text-anchor="end">${v * 100} %</text><line x1="${ox}" x2="${ox + pw}" y1="${y2(v)}" y2="${y2(v)}" stroke="#eee"/>\n`
  for (let h = 0; h <= hours; h++) out += `<text x="${x2(h)}" y="${H - m.b + 16}" text-anchor="middle">${h} h</text>\n`
  out += `<text x="${ox + pw / 2 - 10}" y="${H - 14}" text-anchor="middle">keys on 3+ live nodes (solid: re-replication, dashed: none)</text>\n`
  const colours = ['#ff7f0e', '#1f77b4', '#d62728', '#2ca02c']
  results.forEach((r, i) => {
    const c = colours[i % colours.length]
    out += `<polyline fill="none" stroke="${c}" stroke-width="2" points="${r.rows.map((p) => `${x2(p.hour)},${y2(p.full)}`).join(' ')}"/>\n`
    out += `<polyline fill="none" stroke="${c}" stroke-width="1.5" stroke-dasharray="5,4" points="${r.rows.map((p) => `${x2(p.hour)},${y2(p.hour === 0 ? p.full : p.withoutFull)}`).join(' ')}"/>\n`
    out += `<text x="${ox + pw - 4}" y="${m.t + 50 + i * 15}" text-anchor="end" fill="${c}">N = ${r.N}</text>\n`
  })
  return out + '</svg>\n'
}
