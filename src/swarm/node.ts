import '../util/polyfill.js'

import {noise} from '@chainsafe/libp2p-noise'
import {bootstrap as bootstrapDiscovery} from '@libp2p/bootstrap'
import {yamux} from '@chainsafe/libp2p-yamux'
import {identify} from '@libp2p/identify'
import type {Libp2p, PeerId, PrivateKey} from '@libp2p/interface'
import {type KadDHT, kadDHT, passthroughMapper} from '@libp2p/kad-dht'
import {ping} from '@libp2p/ping'
import {preSharedKey} from '@libp2p/pnet'
import {tcp} from '@libp2p/tcp'
import {peerIdFromString} from '@libp2p/peer-id'
import type {DNS} from '@multiformats/dns'
import {type Multiaddr, multiaddr} from '@multiformats/multiaddr'
import {createLibp2p} from 'libp2p'
import {createHash} from 'node:crypto'

import {decodePacket} from '../packet/codec.js'
import {keyFingerprint} from '../packet/fingerprint.js'
import {QisError, errorMessage} from '../util/errors.js'
import {GuardedDatastore, type RefusedDhtMessage, openPeerStoreDatastore} from './datastore.js'
import {pendingPerIpGater} from './gater.js'
import {handleClosest} from './handlers/closest.js'
import {handleFetch} from './handlers/fetch.js'
import {handleHave} from './handlers/have.js'
import {handleStore} from './handlers/store.js'
import {keepJoined} from './join.js'
import {type LookupResult, lookupClosest} from './lookup.js'
import {
  CLOSEST_PROTOCOL,
  type ClosestRequest,
  FETCH_PROTOCOL,
  FINGERPRINT_PATTERN,
  HAVE_PROTOCOL,
  KAD_PROTOCOL,
  PROTOCOL_LIMITS,
  RECORD_NAMESPACE,
  type RefusalReason,
  STORE_PROTOCOL,
  decodeClosestResponse,
  encodeClosestRequest,
  readOneFrame,
  sendRequest,
} from './protocol.js'
import {type ReachabilityOptions, listenFailure, paceEmptyWalks, reachabilityParts} from './reachability.js'
import {type ReplicationEvent, type ReplicationLimits, type Replicator, startReplication} from './replicate.js'
import type {PacketStorage} from './storage.js'

/**
 * Peers per routing-table bucket. kad-dht's own lookups (only the join's self-lookup now; key
 * lookups are batched, src/swarm/lookup.ts) query the k closest, and we need the 2 x 3 closest,
 * not 20: at N=20 k=20 cost 20 messages per lookup, k=8 cost 8.
 */
export const KAD_BUCKET_SIZE = 8

/**
 * Depth of kad-dht's routing-table trie, in bits. kad-dht's trie never splits a bucket around the
 * node's own id below this depth, and a full bucket keeps its live old contacts, so once a prefix
 * holds more nodes than a bucket (8), the later ones are in none of their neighbours' tables, and
 * a lookup, which ends among those neighbours, does not find them. At 10,000 nodes: kad-dht's default of 6 bits put a key's replicas on its true 3 closest for
 * 0.0 % of keys (95.4 % retrievable right after a publish); 10 bits (~10 nodes per prefix) for
 * 86.6-89.0 % (100 %), falling to 73 % after 2 h of churn; 12 bits (~2.4 per prefix) for 100 %, at
 * the same lookup cost and tables 4 % larger (~300 B an entry). At ~40,000 nodes a 12-bit prefix is
 * as crowded as a 10-bit one at 10,000 and the misses return (bench/swarm/scale-model.mjs and
 * table-memory.mjs, docs/swarm.md "What changes at 10,000 nodes").
 */
export const KAD_PREFIX_LENGTH = 12

/** Limits on what a node accepts from the network, beyond the per-message caps in PROTOCOL_LIMITS. */
export interface NodeLimits {
  /** A whole request (read, handle, reply) must finish in this time or its stream is reset. */
  requestTimeoutMs: number
  /** Concurrent inbound streams per connection for each of our protocols. */
  maxInboundStreams: number
  /** Packets one fetch reply carries at most. */
  maxFetchPackets: number
  /** Open connections at most (a flood of peers cannot exhaust file descriptors). */
  maxConnections: number
  /** How often expired packets are swept from storage. */
  sweepIntervalMs: number
  /**
   * Inbound connections still being upgraded (noise, yamux), node-wide and per remote IP. libp2p's
   * default of 10 node-wide let 12 silent sockets from one IP lock every honest peer out (issue 21
   * item 1); the per-IP cap is what keeps a few addresses from holding all the node-wide slots.
   */
  maxPendingInbound: number
  maxPendingInboundPerIp: number
  /** An inbound connection must finish its upgrade within this, or it is dropped (libp2p's default is 10 s). */
  inboundUpgradeTimeoutMs: number
}

export const DEFAULT_NODE_LIMITS: NodeLimits = {
  requestTimeoutMs: 15_000,
  maxInboundStreams: 16,
  maxFetchPackets: PROTOCOL_LIMITS.maxFetchPackets,
  maxConnections: 256,
  sweepIntervalMs: 60_000,
  maxPendingInbound: 128,
  maxPendingInboundPerIp: 4,
  inboundUpgradeTimeoutMs: 3000,
}

/** One thing a node did, for `qis node`'s log (one line per event). */
export type SwarmEvent =
  | {event: 'peer:connect'; peer: string}
  | {event: 'peer:disconnect'; peer: string}
  | {event: 'stored'; key: string; from: string; stored: number; duplicates: number; refused: Partial<Record<RefusalReason, number>>; evicted?: number}
  | {event: 'refused'; from: string; reason: RefusalReason; message: string}
  | {event: 'served'; from: string; keys: number; packets: number; truncated: boolean}
  | {event: 'expired'; dropped: number}
  | {event: 'bootstrap:failed'; multiaddr: string; message: string; retryInMs?: number}
  /** Connected to a storage peer after having none (at start, or after losing every peer). */
  | {event: 'bootstrap:joined'; peers: number; attempts: number}
  /** The routing table gained or lost a peer; `size` is its size now. */
  | {event: 'routing'; size: number}
  | {event: 'addresses'; multiaddrs: string[]}
  /** A re-replication round pushed packets to keys' closest peers not known to hold them (src/swarm/replicate.ts). */
  | ReplicationEvent

/** Counters a caller can read to see what the node cost (bench/swarm prints them). */
export interface SwarmCounters {
  /** Store requests sent (one batch for one key each). */
  storeRequests: number
  /** Streams opened for them (a publisher sends all batches for one peer on one stream). */
  storeStreams: number
  /** Fetch requests sent (one stream each, up to 64 keys). */
  fetchRequests: number
  /** Batched lookups (`lookup`) started, and the keys they covered. */
  batchLookups: number
  batchLookupKeys: number
  /** Closest-peers requests they sent (one stream each), and the (key, peer) queries those carried. */
  closestRequests: number
  closestQueries: number
}

/** What a node refused before any qis protocol ran (connections, DHT messages); printed at `qis node`'s stop. */
export interface GuardCounters {
  /** Inbound connections refused because their IP already had `maxPendingInboundPerIp` in the upgrade. */
  pendingPerIpRefused: number
  /** kad-dht messages refused because they would store a record qis does not use (src/swarm/datastore.ts). */
  dhtRefused: Record<RefusedDhtMessage, number>
}

/** The parts of kad-dht's routing table qis uses (the instance has them; the KadDHT interface does not). */
export interface RoutingTableView extends EventTarget {
  size: number
  closestPeers(kadId: Uint8Array, options: {count: number}): PeerId[]
}

export interface SwarmNode {
  libp2p: Libp2p<{dht: KadDHT}>
  peerId: string
  storage?: PacketStorage
  /** A storage node's re-replication (absent when switched off or for a client). */
  replication?: Replicator
  counters: SwarmCounters
  guard: GuardCounters
  /** Listen multiaddrs with /p2p/<peerId>, suitable for --bootstrap. */
  multiaddrs(): string[]
  /** Peers in the DHT routing table. */
  routingTableSize(): number
  /** kad-dht's routing table itself, for what the KadDHT interface does not expose (closest known peers, add/remove events). */
  routingTable: RoutingTableView
  /**
   * The closest storage peers of many keys in one batched Kademlia lookup (src/swarm/lookup.ts):
   * each round sends every peer involved one /qis/closest request for all its keys.
   */
  lookup(keys: string[], options: {count: number; signal?: AbortSignal; concurrency?: number; timeoutMs?: number}): Promise<LookupResult<PeerId>>
  /** Dials the bootstrap multiaddrs (again); resolves with how many answered. `retryInMs` goes into the failure events. */
  dialBootstrap(signal?: AbortSignal, retryInMs?: number): Promise<number>
  /** Bootstrap addresses whose last dial was refused outright (nothing listens there), for failing fast. */
  bootstrapRefused: string[]
  stop(): Promise<void>
}

export interface SwarmNodeOptions {
  privateKey: PrivateKey
  listen: string[]
  bootstrap: string[]
  /** With storage the node serves /qis/store and /qis/fetch and is a DHT server; without, it is a client. */
  storage?: PacketStorage
  limits?: Partial<NodeLimits>
  logger?: (event: SwarmEvent) => void
  /**
   * Keep dialling the bootstrap peers with back-off until connected to a storage peer, and again
   * whenever every one is lost. Default: on for a storage node (a client joins once, in openSwarmClient).
   */
  keepJoined?: boolean
  /** What the node advertises, relaying, hole punching (src/swarm/reachability.ts). */
  reachability?: ReachabilityOptions
  /** A private swarm's key file bytes (src/swarm/pnet.ts): connections to peers without it fail. */
  swarmKey?: Uint8Array
  /** Collect libp2p's metrics for `--metrics` (src/swarm/metrics.ts, loaded only then). */
  metrics?: boolean
  /**
   * Keep the peer store (addresses, protocols, kad-dht's routing-table tags) in this folder: on a
   * restart the routing table is filled from it, and the node rejoins through the peers it knew
   * when its bootstrap peers are down or none are configured.
   */
  peerStoreDir?: string
  /** A storage node re-replicates its keys to their current closest peers (src/swarm/replicate.ts); false switches it off. */
  replication?: Partial<ReplicationLimits> | false
  /** Resolves `/dnsaddr/` bootstrap addresses (libp2p's dialer asks it for `_dnsaddr.<host>` TXT records); default: the system's DNS over libp2p's resolvers. */
  dns?: DNS
}

/** The DHT record key for a fingerprint in our namespace. */
export function recordKey(fingerprint: string): Uint8Array {
  return new TextEncoder().encode(`/${RECORD_NAMESPACE}/${fingerprint}`)
}

/**
 * Validator for DHT records in the `qis` namespace. We do not store packets as DHT records (a key
 * holds one record, so publishers would overwrite each other), but kad-dht answers PUT_VALUE for any
 * registered namespace, so the validator makes sure the DHT cannot be used as a junk store: only a
 * valid, signed, unexpired packet under a key matching one of its routing keys is accepted.
 */
export function validateRecord(key: Uint8Array, value: Uint8Array): void {
  const text = new TextDecoder().decode(key)
  const fingerprint = text.slice(RECORD_NAMESPACE.length + 2)
  if (!text.startsWith(`/${RECORD_NAMESPACE}/`) || !FINGERPRINT_PATTERN.test(fingerprint)) throw new Error('not a qis record key')
  const decoded = decodePacket(value)
  if (!decoded.ok) throw new Error(`not a valid packet: ${decoded.error.message}`)
  const p = decoded.packet
  if (!p.routing_keys.some((k) => keyFingerprint(p.scheme, p.domain_tag, k) === fingerprint)) throw new Error('packet has no routing key for this record key')
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest()

/** Bootstrap addresses that name their peer (`/p2p/<id>`), the ones @libp2p/bootstrap accepts. */
const withPeerIds = (addrs: string[]) => addrs.filter((a) => multiaddr(a).getComponents().some((c) => c.name === 'p2p'))

export function fingerprintBytes(key: string): Uint8Array {
  if (!FINGERPRINT_PATTERN.test(key)) throw new QisError(`"${key}" is not a key fingerprint (32 lowercase hex characters)`, {code: 'INTERNAL'})
  return Buffer.from(key, 'hex')
}

export async function createSwarmNode(options: SwarmNodeOptions): Promise<SwarmNode> {
  const limits = {...DEFAULT_NODE_LIMITS, ...options.limits}
  const log = options.logger ?? (() => {})
  const storage = options.storage
  for (const a of [...options.listen, ...options.bootstrap]) {
    try {
      multiaddr(a)
    } catch (err) {
      throw new QisError(`"${a}" is not a valid multiaddr: ${errorMessage(err)}`, {code: 'BAD_MULTIADDR'})
    }
  }
  const onDisk = options.peerStoreDir ? await openPeerStoreDatastore(options.peerStoreDir) : undefined
  const datastore = onDisk?.datastore ?? new GuardedDatastore()
  const guard: GuardCounters = {pendingPerIpRefused: 0, dhtRefused: datastore.refused}
  let libp2p: Libp2p<{dht: KadDHT}>
  const reach = await reachabilityParts(options.reachability ?? {}, {listen: options.listen, storage: storage !== undefined})
  try {
    libp2p = await createLibp2p({
      privateKey: options.privateKey,
      datastore,
      addresses: {listen: [...options.listen, ...reach.listen], announce: reach.announce, announceFilter: reach.announceFilter},
      transports: [tcp(), ...reach.transports],
      connectionEncrypters: [noise()],
      connectionProtector: options.swarmKey ? preSharedKey({psk: options.swarmKey}) : undefined,
      metrics: options.metrics ? (await import('./metrics.js')).libp2pMetrics() : undefined,
      // A publisher looking up many keys opens many streams on a connection the instant it exists;
      // at yamux's default of 10 such "early" streams the whole connection is aborted.
      streamMuxers: [yamux({maxEarlyStreams: 256})],
      connectionManager: {
        maxConnections: limits.maxConnections,
        maxIncomingPendingConnections: limits.maxPendingInbound,
        inboundUpgradeTimeout: limits.inboundUpgradeTimeoutMs,
      },
      connectionGater: pendingPerIpGater(limits.maxPendingInboundPerIp, () => guard.pendingPerIpRefused++),
      dns: options.dns,
      // libp2p's bootstrap module records the peers named with /p2p/ in the peer store, tagged so the
      // connection manager prunes them last, and dials them once. It neither retries nor reports a
      // failure, so the joining itself (back-off, rejoin, fast fail on a refused address) stays in
      // keepJoined (src/swarm/join.ts); docs/swarm.md, "Bootstrap", has the measurement.
      peerDiscovery: withPeerIds(options.bootstrap).length > 0 ? [bootstrapDiscovery({list: withPeerIds(options.bootstrap), timeout: 0})] : [],
      services: {
        ...reach.services,
        identify: identify(),
        ping: ping(),
        dht: paceEmptyWalks(kadDHT({
          protocol: KAD_PROTOCOL,
          // A publishing/fetching client must not be mistaken for a storage peer by others' lookups.
          clientMode: storage === undefined,
          // A client answers no DHT queries and must admit its bootstrap peers whatever their addresses.
          peerInfoMapper: storage === undefined ? passthroughMapper : reach.peerInfoMapper,
          allowQueryWithZeroPeers: true,
          kBucketSize: KAD_BUCKET_SIZE,
          prefixLength: KAD_PREFIX_LENGTH,
          // Many keys are looked up at once (alpha=3 streams each, mostly to the same few peers);
          // libp2p's default of 32 inbound streams per connection resets them under a publish.
          maxInboundStreams: 256,
          maxOutboundStreams: 256,
          validators: {[RECORD_NAMESPACE]: async (key, value) => validateRecord(key, value)},
          selectors: {[RECORD_NAMESPACE]: () => 0},
        })),
      },
    })
  } catch (err) {
    await onDisk?.close().catch(() => {})
    throw listenFailure(err) ?? new QisError(`cannot start the libp2p node: ${errorMessage(err)}`, {code: 'NODE_START_FAILED', cause: err})
  }

  const addressesRecorded = new Set<string>()
  const counters: SwarmCounters = {storeRequests: 0, storeStreams: 0, fetchRequests: 0, batchLookups: 0, batchLookupKeys: 0, closestRequests: 0, closestQueries: 0}
  libp2p.addEventListener('peer:connect', (e) => log({event: 'peer:connect', peer: e.detail.toString()}))
  libp2p.addEventListener('peer:disconnect', (e) => log({event: 'peer:disconnect', peer: e.detail.toString()}))
  let advertised = libp2p.getMultiaddrs().map(String).join(' ')
  libp2p.addEventListener('self:peer:update', () => {
    if (libp2p.status !== 'started') return
    const now = libp2p.getMultiaddrs().map(String)
    if (now.join(' ') === advertised) return
    advertised = now.join(' ')
    log({event: 'addresses', multiaddrs: now})
  })

  let sweeper: NodeJS.Timeout | undefined
  if (storage) {
    // Relayed connections are "limited" (bounded bytes and time); a node behind a NAT is reached only over one.
    const handlerOptions = {maxInboundStreams: limits.maxInboundStreams, maxOutboundStreams: limits.maxInboundStreams, runOnLimitedConnection: true}
    await libp2p.handle(STORE_PROTOCOL, (stream, connection) => handleStore(stream, connection, storage, limits, log), handlerOptions)
    await libp2p.handle(FETCH_PROTOCOL, (stream, connection) => handleFetch(stream, connection, storage, limits, log), handlerOptions)
    await libp2p.handle(CLOSEST_PROTOCOL, (stream, connection) => handleClosest(stream, connection, storage, limits, log, closestFromTable, peerRecord), handlerOptions)
    await libp2p.handle(HAVE_PROTOCOL, (stream, connection) => handleHave(stream, connection, storage, limits, log), handlerOptions)
    sweeper = setInterval(() => {
      storage.sweep().then((dropped) => dropped > 0 && log({event: 'expired', dropped}), () => {})
    }, limits.sweepIntervalMs)
    sweeper.unref()
  }

  const dht = libp2p.services.dht
  const self = libp2p.peerId
  // kad-dht exposes its routing table on the instance but not in the KadDHT interface.
  const table = (dht as unknown as {routingTable: RoutingTableView}).routingTable
  const onRouting = () => log({event: 'routing', size: table.size})
  table.addEventListener('peer:add', onRouting)
  table.addEventListener('peer:remove', onRouting)
  // The table may have gained its first peers while the node was still starting (a bootstrap dial
  // and identify finished before these listeners existed): say so, or the log never shows them
  // (seen at load: `bootstrap:joined` with 1 peer and no `routing` event ever).
  if (table.size > 0) onRouting()

  // Where to dial peers named by others in lookups; put in the peer store only when we dial them
  // (peer-store writes are protobuf round trips, and most named peers are never dialled).
  const heard = new Map<string, Multiaddr[]>()
  const ensureAddresses = async (id: PeerId) => {
    const key = id.toString()
    const addrs = heard.get(key)
    if (!addrs || addressesRecorded.has(key) || libp2p.getConnections(id).length > 0) return
    if (addressesRecorded.size > 10_000) addressesRecorded.clear()
    addressesRecorded.add(key)
    await libp2p.peerStore.merge(id, {multiaddrs: addrs}).catch(() => {})
  }
  // Addresses we tell others, cached briefly: a lookup names the same few peers many times.
  const recordCache = new Map<string, {at: number; addrs: string[]}>()
  async function peerRecord(id: PeerId): Promise<{id: string; addrs: string[]}> {
    const key = id.toString()
    const hit = recordCache.get(key)
    if (hit && Date.now() - hit.at < 30_000) return {id: key, addrs: hit.addrs}
    let addrs: string[] = []
    try {
      const peer = await libp2p.peerStore.get(id)
      addrs = peer.addresses
        .map((a) => a.multiaddr.toString())
        .filter((a) => a.length <= PROTOCOL_LIMITS.maxAddrChars && reach.policy.shareable(a))
        .slice(0, PROTOCOL_LIMITS.maxPeerAddrs)
    } catch {
      // Known to the routing table but not the peer store: name it without addresses.
    }
    if (recordCache.size > 10_000) recordCache.clear()
    recordCache.set(key, {at: Date.now(), addrs})
    return {id: key, addrs}
  }
  function closestFromTable(target: Uint8Array, count: number): PeerId[] {
    return table.closestPeers(target, {count})
  }
  const peerIds = new Map<string, PeerId>()
  const parsePeer = (s: string): PeerId => {
    let id = peerIds.get(s)
    if (!id) {
      id = peerIdFromString(s)
      if (peerIds.size > 10_000) peerIds.clear()
      peerIds.set(s, id)
    }
    return id
  }

  /** Storage peers of earlier runs (kad-dht tags its routing-table peers in the peer store), not connected now; at most 8. */
  async function rememberedPeers(signal?: AbortSignal): Promise<PeerId[]> {
    try {
      const peers = await libp2p.peerStore.all({
        filters: [(p) => p.protocols.includes(KAD_PROTOCOL) && p.addresses.length > 0 && libp2p.getConnections(p.id).length === 0],
        limit: 64,
        signal,
      })
      return peers
        .map((p) => p.id)
        .sort(() => Math.random() - 0.5)
        .slice(0, 8)
    } catch {
      return []
    }
  }

  const node: SwarmNode = {
    libp2p,
    peerId: self.toString(),
    storage,
    counters,
    guard,
    multiaddrs: () => libp2p.getMultiaddrs().map((m) => m.toString()),
    routingTableSize: () => table.size,
    routingTable: table,
    async lookup(keys, {count, signal, concurrency, timeoutMs}) {
      counters.batchLookups++
      counters.batchLookupKeys += keys.length
      // A malformed key is a caller's bug: fail loudly before any message is sent.
      for (const k of keys) fingerprintBytes(k)
      const result = await lookupClosest(
        {
          self: self.toString(),
          local: (target, n) => closestFromTable(target, n).map((id) => id.toString()),
          learn(record) {
            try {
              parsePeer(record.id)
              if (!heard.has(record.id) && record.addrs.length > 0) {
                if (heard.size > 10_000) heard.clear()
                heard.set(record.id, record.addrs.map((a) => multiaddr(a)))
              }
              return true
            } catch {
              // A peer id or multiaddr that does not parse: the peer is not used.
              return false
            }
          },
          kadId: (peer) => sha256(parsePeer(peer).toMultihash().bytes),
          async ask(peer, request: ClosestRequest, askSignal) {
            const id = parsePeer(peer)
            await ensureAddresses(id)
            counters.closestRequests++
            counters.closestQueries += request.keys.length
            return sendRequest(libp2p, id, CLOSEST_PROTOCOL, encodeClosestRequest(request), askSignal, async (stream) =>
              decodeClosestResponse(await readOneFrame(stream), request),
            )
          },
        },
        keys,
        {count, signal, concurrency, timeoutMs},
      )
      const closest = new Map<string, PeerId[]>()
      const dialled = new Set<string>()
      for (const [key, list] of result.closest) {
        closest.set(key, list.map(parsePeer))
        for (const p of list) dialled.add(p)
      }
      // Store and fetch dial these next by peer id.
      await Promise.all([...dialled].map((p) => ensureAddresses(parsePeer(p))))
      return {closest, stats: result.stats, failures: result.failures}
    },
    bootstrapRefused: [],
    async dialBootstrap(signal, retryInMs) {
      let ok = 0
      const refused: string[] = []
      const remembered = onDisk ? await rememberedPeers(signal) : []
      await Promise.all([
        ...remembered.map(async (id) => {
          try {
            await libp2p.dial(id, {signal: signal ?? AbortSignal.timeout(10_000)})
            ok++
          } catch {
            // A peer from an earlier run that is gone now; kad-dht drops it from the table in time.
          }
        }),
        ...options.bootstrap.map(async (addr) => {
          try {
            await libp2p.dial(multiaddr(addr), {signal: signal ?? AbortSignal.timeout(10_000)})
            ok++
          } catch (err) {
            if (/ECONNREFUSED/.test(errorMessage(err))) refused.push(addr)
            log({event: 'bootstrap:failed', multiaddr: addr, message: errorMessage(err), ...(retryInMs === undefined ? {} : {retryInMs})})
          }
        }),
      ])
      node.bootstrapRefused = refused
      return ok
    },
    async stop() {
      if (sweeper) clearInterval(sweeper)
      node.replication?.stop()
      keeper?.stop()
      await libp2p.stop()
      await onDisk?.close()
      await storage?.close()
    },
  }
  if (storage && options.replication !== false) node.replication = startReplication(node, storage, options.replication ?? {}, log)
  const keeper = (options.keepJoined ?? storage !== undefined) && (options.bootstrap.length > 0 || onDisk !== undefined) ? keepJoined(node, log) : undefined
  return node
}

// Moved out of this file (one module per protocol handler, issue 19); re-exported for callers.
export {BOOTSTRAP_BACKOFF_MS} from './join.js'
export {pendingPerIpGater} from './gater.js'
