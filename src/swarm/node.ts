import '../util/polyfill.js'

import {noise} from '@chainsafe/libp2p-noise'
import {yamux} from '@chainsafe/libp2p-yamux'
import {identify} from '@libp2p/identify'
import type {Connection, Libp2p, PeerId, PrivateKey, Stream} from '@libp2p/interface'
import {type KadDHT, kadDHT, passthroughMapper} from '@libp2p/kad-dht'
import {ping} from '@libp2p/ping'
import {preSharedKey} from '@libp2p/pnet'
import {tcp} from '@libp2p/tcp'
import {peerIdFromString} from '@libp2p/peer-id'
import {type Multiaddr, multiaddr} from '@multiformats/multiaddr'
import {createLibp2p} from 'libp2p'
import {createHash} from 'node:crypto'

import {decodePacket} from '../packet/codec.js'
import {keyFingerprint} from '../packet/fingerprint.js'
import {QisError, errorMessage} from '../util/errors.js'
import {type LookupResult, keyKadId, lookupClosest} from './lookup.js'
import {
  CLOSEST_PROTOCOL,
  type ClosestRequest,
  FETCH_PROTOCOL,
  FINGERPRINT_PATTERN,
  KAD_PROTOCOL,
  PROTOCOL_LIMITS,
  ProtocolError,
  RECORD_NAMESPACE,
  type RefusalReason,
  STORE_PROTOCOL,
  decodeClosestRequest,
  decodeClosestResponse,
  decodeFetchRequest,
  decodeStoreRequest,
  encodeClosestRequest,
  encodeClosestResponse,
  encodeFetchFrame,
  encodeStoreResponse,
  readFrames,
  readOneFrame,
  sendRequest,
  writeFrame,
} from './protocol.js'
import {type ReachabilityOptions, listenFailure, paceEmptyWalks, reachabilityParts} from './reachability.js'
import type {PacketStorage} from './storage.js'

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
}

export const DEFAULT_NODE_LIMITS: NodeLimits = {
  requestTimeoutMs: 15_000,
  maxInboundStreams: 16,
  maxFetchPackets: PROTOCOL_LIMITS.maxFetchPackets,
  maxConnections: 256,
  sweepIntervalMs: 60_000,
}

/** One thing a node did, for `qis node`'s log (one line per event). */
export type SwarmEvent =
  | {event: 'peer:connect'; peer: string}
  | {event: 'peer:disconnect'; peer: string}
  | {event: 'stored'; key: string; from: string; stored: number; duplicates: number; refused: Partial<Record<RefusalReason, number>>}
  | {event: 'refused'; from: string; reason: RefusalReason; message: string}
  | {event: 'served'; from: string; keys: number; packets: number; truncated: boolean}
  | {event: 'expired'; dropped: number}
  | {event: 'bootstrap:failed'; multiaddr: string; message: string}
  | {event: 'addresses'; multiaddrs: string[]}

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

export interface SwarmNode {
  libp2p: Libp2p<{dht: KadDHT}>
  peerId: string
  storage?: PacketStorage
  counters: SwarmCounters
  /** Listen multiaddrs with /p2p/<peerId>, suitable for --bootstrap. */
  multiaddrs(): string[]
  /** Peers in the DHT routing table. */
  routingTableSize(): number
  /**
   * The closest storage peers of many keys in one batched Kademlia lookup (src/swarm/lookup.ts):
   * each round sends every peer involved one /qis/closest request for all its keys.
   */
  lookup(keys: string[], options: {count: number; signal?: AbortSignal; concurrency?: number; timeoutMs?: number}): Promise<LookupResult<PeerId>>
  /** Dials the bootstrap multiaddrs (again); resolves with how many answered. */
  dialBootstrap(signal?: AbortSignal): Promise<number>
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
  /** What the node advertises, relaying, hole punching (src/swarm/reachability.ts). */
  reachability?: ReachabilityOptions
  /** A private swarm's key file bytes (src/swarm/pnet.ts): connections to peers without it fail. */
  swarmKey?: Uint8Array
  /** Collect libp2p's metrics for `--metrics` (src/swarm/metrics.ts, loaded only then). */
  metrics?: boolean
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

export function fingerprintBytes(key: string): Uint8Array {
  if (!FINGERPRINT_PATTERN.test(key)) throw new QisError(`"${key}" is not a key fingerprint (32 lowercase hex characters)`)
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
  let libp2p: Libp2p<{dht: KadDHT}>
  const reach = await reachabilityParts(options.reachability ?? {}, {listen: options.listen, storage: storage !== undefined})
  try {
    libp2p = await createLibp2p({
      privateKey: options.privateKey,
      addresses: {listen: [...options.listen, ...reach.listen], announce: reach.announce, announceFilter: reach.announceFilter},
      transports: [tcp(), ...reach.transports],
      connectionEncrypters: [noise()],
      connectionProtector: options.swarmKey ? preSharedKey({psk: options.swarmKey}) : undefined,
      metrics: options.metrics ? (await import('./metrics.js')).libp2pMetrics() : undefined,
      // A publisher looking up many keys opens many streams on a connection the instant it exists;
      // at yamux's default of 10 such "early" streams the whole connection is aborted.
      streamMuxers: [yamux({maxEarlyStreams: 256})],
      connectionManager: {maxConnections: limits.maxConnections},
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
          // Peers per bucket. kad-dht's own lookups (only the join's self-lookup now; key lookups
          // are batched, src/swarm/lookup.ts) query the k closest, and we need the 2 x 3 closest,
          // not 20: at N=20 k=20 cost 20 messages per lookup, k=8 cost 8.
          kBucketSize: 8,
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
    sweeper = setInterval(() => {
      storage.sweep().then((dropped) => dropped > 0 && log({event: 'expired', dropped}), () => {})
    }, limits.sweepIntervalMs)
    sweeper.unref()
  }

  const dht = libp2p.services.dht
  const self = libp2p.peerId
  // kad-dht exposes its routing table on the instance but not in the KadDHT interface.
  const routingTable = () => (dht as unknown as {routingTable: {size: number; closestPeers(kadId: Uint8Array, o: {count: number}): PeerId[]}}).routingTable

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
    return routingTable().closestPeers(target, {count})
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

  const node: SwarmNode = {
    libp2p,
    peerId: self.toString(),
    storage,
    counters,
    multiaddrs: () => libp2p.getMultiaddrs().map((m) => m.toString()),
    routingTableSize: () => routingTable().size,
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
    async dialBootstrap(signal) {
      let ok = 0
      const refused: string[] = []
      await Promise.all(
        options.bootstrap.map(async (addr) => {
          try {
            await libp2p.dial(multiaddr(addr), {signal: signal ?? AbortSignal.timeout(10_000)})
            ok++
          } catch (err) {
            if (/ECONNREFUSED/.test(errorMessage(err))) refused.push(addr)
            log({event: 'bootstrap:failed', multiaddr: addr, message: errorMessage(err)})
          }
        }),
      )
      node.bootstrapRefused = refused
      return ok
    },
    async stop() {
      if (sweeper) clearInterval(sweeper)
      await libp2p.stop()
      await storage?.close()
    },
  }
  return node
}

/** Runs a request handler under a deadline: past it the stream is reset, so a slow or silent peer cannot hold a slot. */
async function withDeadline(stream: Stream, ms: number, task: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const controller = new AbortController()
  const timer = setTimeout(() => {
    controller.abort()
    stream.abort(new Error(`request took longer than ${ms} ms`))
  }, ms)
  try {
    await task(controller.signal)
  } finally {
    clearTimeout(timer)
  }
}

async function refuseRequest(stream: Stream, from: string, err: unknown, storage: PacketStorage, log: (e: SwarmEvent) => void, reply: Uint8Array | undefined, signal: AbortSignal) {
  const reason: RefusalReason = err instanceof ProtocolError ? err.reason : 'BAD_REQUEST'
  storage.countRefusal(reason)
  log({event: 'refused', from, reason, message: errorMessage(err)})
  try {
    if (reply && stream.writeStatus === 'writable') {
      await writeFrame(stream, reply, signal)
      await stream.close({signal})
    } else stream.abort(new Error(reason))
  } catch {
    stream.abort(new Error(reason))
  }
}

/**
 * A store stream carries one or more requests, each answered before the next is read (a publisher
 * sends all its batches for one peer on one stream, saving a protocol negotiation per batch). The
 * deadline applies per request; the number of requests per stream is capped.
 */
async function handleStore(stream: Stream, connection: Connection, storage: PacketStorage, limits: NodeLimits, log: (e: SwarmEvent) => void): Promise<void> {
  const from = connection.remotePeer.toString()
  const controller = new AbortController()
  const signal = controller.signal
  let timer: NodeJS.Timeout | undefined
  const arm = () => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      controller.abort()
      stream.abort(new Error(`request took longer than ${limits.requestTimeoutMs} ms`))
    }, limits.requestTimeoutMs)
  }
  arm()
  try {
    try {
      for await (const frame of readFrames(stream, PROTOCOL_LIMITS.maxStoreRequestsPerStream)) {
        const request = decodeStoreRequest(frame)
        const results = await storage.storeBatch(request.key, request.packets)
        const refused: Partial<Record<RefusalReason, number>> = {}
        let stored = 0
        let duplicates = 0
        for (const r of results) {
          if (r === 'stored') stored++
          else if (r === 'duplicate') duplicates++
          else refused[r] = (refused[r] ?? 0) + 1
        }
        log({event: 'stored', key: request.key, from, stored, duplicates, refused})
        // If this write fails the packets are still on disk; the publisher retries and gets 'duplicate'.
        await writeFrame(stream, encodeStoreResponse({results}), signal)
        arm()
      }
    } catch (err) {
      if (signal.aborted) throw err
      await refuseRequest(stream, from, err, storage, log, encodeStoreResponse({results: [], error: 'BAD_REQUEST'}), signal)
      return
    }
    await stream.close({signal})
  } catch (err) {
    stream.abort(err as Error)
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The frame of a one-request protocol (fetch, closest): read and decode the request under the
 * node's deadline; a request that does not decode is refused and counted, the rest is `serve`'s.
 */
async function serveRequest<R>(
  stream: Stream,
  connection: Connection,
  storage: PacketStorage,
  limits: NodeLimits,
  log: (e: SwarmEvent) => void,
  decode: (bytes: Uint8Array) => R,
  serve: (request: R, from: string, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const from = connection.remotePeer.toString()
  await withDeadline(stream, limits.requestTimeoutMs, async (signal) => {
    let request: R
    try {
      request = decode(await readOneFrame(stream))
    } catch (err) {
      await refuseRequest(stream, from, err, storage, log, undefined, signal)
      return
    }
    await serve(request, from, signal)
  })
}

async function handleFetch(stream: Stream, connection: Connection, storage: PacketStorage, limits: NodeLimits, log: (e: SwarmEvent) => void): Promise<void> {
  await serveRequest(stream, connection, storage, limits, log, decodeFetchRequest, async (request, from, signal) => {
    let budget = limits.maxFetchPackets
    let sent = 0
    let truncated = false
    try {
      for (const key of new Set(request.keys)) {
        const packets = storage.get(key, budget + 1)
        if (packets.length > budget) {
          truncated = true
          packets.length = budget
        }
        for (let i = 0; i < packets.length; i += PROTOCOL_LIMITS.maxPacketsPerFrame) {
          await writeFrame(stream, encodeFetchFrame({key, packets: packets.slice(i, i + PROTOCOL_LIMITS.maxPacketsPerFrame)}), signal)
        }
        budget -= packets.length
        sent += packets.length
        if (truncated) break
      }
      await writeFrame(stream, encodeFetchFrame({done: true, truncated}), signal)
      await stream.close({signal})
    } catch (err) {
      stream.abort(err as Error)
      return
    }
    log({event: 'served', from, keys: request.keys.length, packets: sent, truncated})
  })
}

/**
 * Answers a batched FIND_NODE from the routing table: per key, the `count` closest storage peers
 * this node knows, with their addresses. Cheap (no I/O beyond a cached peer-store read per named peer).
 */
async function handleClosest(
  stream: Stream,
  connection: Connection,
  storage: PacketStorage,
  limits: NodeLimits,
  log: (e: SwarmEvent) => void,
  closest: (target: Uint8Array, count: number) => PeerId[],
  record: (id: PeerId) => Promise<{id: string; addrs: string[]}>,
): Promise<void> {
  await serveRequest(stream, connection, storage, limits, log, decodeClosestRequest, async (request, _from, signal) => {
    // Each peer is named once; the per-key lists index into that list.
    const index = new Map<string, number>()
    const ids: PeerId[] = []
    const lists = request.keys.map((key) => {
      const list: number[] = []
      for (const id of closest(keyKadId(key), request.count)) {
        const s = id.toString()
        let i = index.get(s)
        if (i === undefined) {
          if (ids.length >= PROTOCOL_LIMITS.maxClosestPeers) continue
          index.set(s, (i = ids.length))
          ids.push(id)
        }
        list.push(i)
      }
      return list
    })
    try {
      const peers = await Promise.all(ids.map(record))
      await writeFrame(stream, encodeClosestResponse({peers, closest: lists}), signal)
      await stream.close({signal})
    } catch (err) {
      stream.abort(err as Error)
    }
  })
}
