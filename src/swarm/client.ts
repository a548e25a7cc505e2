import '../util/polyfill.js'

import type {PeerId, PrivateKey, Stream} from '@libp2p/interface'

import {packetId} from '../packet/codec.js'
import {raceAbort} from '../util/abort.js'
import {QisError, errorMessage} from '../util/errors.js'
import {type NodeLimits, type SwarmCounters, type SwarmEvent, type SwarmNode, createSwarmNode} from './node.js'
import {
  FETCH_PROTOCOL,
  PROTOCOL_LIMITS,
  ProtocolError,
  STORE_PROTOCOL,
  type StoreStatus,
  decodeFetchFrame,
  decodeStoreResponse,
  encodeFetchRequest,
  encodeStoreRequest,
  readFrames,
  readOneFrame,
  sendRequest,
  writeFrame,
} from './protocol.js'

/** A short-lived swarm member that publishes and fetches but stores nothing (a DHT client). */
export interface SwarmClient {
  peerId: string
  /** The underlying node (counters, routing table); for diagnostics and benchmarks. */
  node: SwarmNode
  close(): Promise<void>
}

export {DEFAULT_REPLICAS} from './defaults.js'
import {DEFAULT_REPLICAS} from './defaults.js'

export interface OpenClientOptions {
  privateKey: PrivateKey
  bootstrap: string[]
  signal?: AbortSignal
  /** How long to wait for the routing table to fill. Default 20 s. */
  joinTimeoutMs?: number
  limits?: Partial<NodeLimits>
  logger?: (event: SwarmEvent) => void
  /** A private swarm's key (src/swarm/pnet.ts). */
  swarmKey?: Uint8Array
}

/** Joins the swarm through the bootstrap peers and waits until the routing table has peers. */
export async function openSwarmClient(opts: OpenClientOptions): Promise<SwarmClient> {
  if (opts.bootstrap.length === 0) {
    throw new QisError('no bootstrap peers: pass --bootstrap MULTIADDR, set QIS_BOOTSTRAP, or add "bootstrap" to the config', {code: 'NO_BOOTSTRAP'})
  }
  const node = await createSwarmNode({privateKey: opts.privateKey, listen: [], bootstrap: opts.bootstrap, limits: opts.limits, logger: opts.logger, swarmKey: opts.swarmKey})
  const timeoutMs = opts.joinTimeoutMs ?? 20_000
  const deadline = Date.now() + timeoutMs
  try {
    let answered = 0
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      opts.signal?.throwIfAborted()
      if (answered === 0) {
        const left = Math.max(1, deadline - Date.now())
        answered = await node.dialBootstrap(anySignal(opts.signal, AbortSignal.timeout(Math.min(left, 5000))))
        // Nothing listens at any of them: waiting will not change that.
        if (answered === 0 && node.bootstrapRefused.length === opts.bootstrap.length) {
          throw new QisError(`every bootstrap peer refused the connection (${opts.bootstrap.join(', ')}): no qis node listens there`, {
            code: 'SWARM_UNREACHABLE',
            hint: 'check the address and port, and that the node is running (`qis node` prints its addresses)',
          })
        }
      }
      if (node.routingTableSize() > 0) break
      await sleep(Math.min(100 * 2 ** attempt, 1000), opts.signal)
    }
    if (node.routingTableSize() === 0) {
      throw new QisError(
        answered === 0
          ? `could not reach any bootstrap peer (${opts.bootstrap.join(', ')}) within ${timeoutMs / 1000} s`
          : `bootstrap peers answered but none is a qis storage node (no /qis/kad/1.0.0 peers) after ${timeoutMs / 1000} s`,
        {code: 'SWARM_UNREACHABLE'},
      )
    }
    // Kademlia's join: look up our own id, so the routing table holds more than the bootstrap peers
    // before the first key lookup (a lookup can only start from peers we know).
    try {
      for await (const _ of node.libp2p.services.dht.getClosestPeers(node.libp2p.peerId.toMultihash().bytes, {signal: anySignal(opts.signal, AbortSignal.timeout(5000))})) {
        // drain
      }
    } catch {
      opts.signal?.throwIfAborted()
    }
  } catch (err) {
    await node.stop().catch(() => {})
    if (err instanceof QisError) throw err
    throw new QisError(`could not join the swarm: ${errorMessage(err)}`, {code: 'SWARM_UNREACHABLE', cause: err})
  }
  return {peerId: node.peerId, node, close: () => node.stop()}
}

function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined))
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}

/** Runs `worker` over `items` with at most `concurrency` at a time. */
async function pool<T>(items: T[], concurrency: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const run = async () => {
    while (next < items.length) await worker(items[next++])
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(concurrency, items.length))}, run))
}

function failureReason(err: unknown, signal?: AbortSignal): string {
  if (signal?.aborted) return 'ABORTED'
  if (err instanceof ProtocolError) return 'BAD_RESPONSE'
  const name = (err as Error)?.name ?? ''
  if (name === 'TimeoutError' || name === 'AbortError' || /timed? ?out/i.test(errorMessage(err))) return 'TIMEOUT'
  if (/protocol/i.test(name) || /protocol selection failed|UnsupportedProtocol/i.test(errorMessage(err))) return 'NOT_A_STORAGE_PEER'
  return 'UNREACHABLE'
}

const count = (m: Record<string, number>, k: string, n = 1) => {
  m[k] = (m[k] ?? 0) + n
}

/**
 * Closest peers of each key by the node's batched lookup. Keys that come back with fewer than
 * `want` peers (a swarm still settling, or peers too slow to answer) are looked up again with
 * backoff, up to `retries` lookups in all; what failed is counted as LOOKUP_<reason> in `failures`.
 */
async function lookupKeys(
  client: SwarmClient,
  keys: string[],
  o: {count: number; want: number; retries: number; concurrency: number; timeoutMs: number; signal?: AbortSignal; failures: Record<string, number>},
): Promise<Map<string, PeerId[]>> {
  const found = new Map<string, PeerId[]>(keys.map((k) => [k, []]))
  let todo = keys
  let lastErrors = new Map<string, unknown>()
  for (let attempt = 0; attempt < Math.max(1, o.retries) && todo.length > 0; attempt++) {
    if (attempt > 0) await sleep(200 * 2 ** (attempt - 1), o.signal)
    const result = await client.node.lookup(todo, {count: o.count, signal: o.signal, concurrency: o.concurrency, timeoutMs: o.timeoutMs})
    for (const [key, peers] of result.closest) if (peers.length > found.get(key)!.length) found.set(key, peers)
    lastErrors = result.failures
    todo = todo.filter((k) => found.get(k)!.length < o.want)
  }
  if (todo.some((k) => found.get(k)!.length === 0)) {
    for (const err of lastErrors.values()) count(o.failures, `LOOKUP_${failureReason(err, o.signal)}`)
  }
  return found
}

// ---------------------------------------------------------------------------------------------
// Fetch

export interface FetchedPacket {
  key: string
  bytes: Uint8Array
  /** Peer ID of the first peer that returned it. */
  from: string
}

export interface FetchOptions {
  signal?: AbortSignal
  /** Keys looked up / peers queried at once. Default 8. */
  concurrency?: number
  /** Replicas the publishers stored (default 3). Each key is asked of twice as many closest peers, because a publisher's view of the swarm may have differed slightly from ours. */
  replicas?: number
  /** Per request deadline. Default 15 s. */
  requestTimeoutMs?: number
  /**
   * Packets taken per key from one peer, over as many pages as it takes. A key with more is
   * reported in `incomplete` (never as answered). Default 50,000.
   */
  maxPacketsPerKey?: number
}

/** Pages (requests) at most per group of keys asked of one peer; a peer that pages slower leaves its keys incomplete. */
const MAX_FETCH_PAGES = 100

export interface FetchResult {
  /** Merged over peers and de-duplicated by packet id (per key). Not yet verified: callers decode and check them. */
  packets: FetchedPacket[]
  /** Distinct peers that answered. */
  peers: number
  /** Failed lookups or requests by reason (a key still succeeds if another replica answered). */
  failures: Record<string, number>
  /** Keys for which no peer answered at all. */
  unanswered: string[]
  /**
   * Keys for which some peer held more than it sent: past `maxPacketsPerKey`, or a peer that
   * stopped paging. What was received is in `packets`, but it is not everything peers hold.
   */
  incomplete: string[]
}

/**
 * Fetches the packets stored under each key fingerprint from the 2 x `replicas` closest peers of
 * each key. Lookups run first; then keys are grouped by peer so one request serves up to 64 keys. A
 * peer that fails is replaced by the next closest one for its keys.
 */
export async function fetchPackets(client: SwarmClient, keyFingerprints: string[], opts: FetchOptions = {}): Promise<FetchResult> {
  const keys = [...new Set(keyFingerprints)]
  const concurrency = opts.concurrency ?? 8
  const replicas = opts.replicas ?? DEFAULT_REPLICAS
  // Peers asked per key. Requests are grouped per peer (up to 64 keys each), so asking more peers
  // per key costs few extra requests and covers publishers whose lookup saw a slightly different swarm.
  const askPerKey = replicas * 2
  const timeoutMs = opts.requestTimeoutMs ?? 15_000
  const failures: Record<string, number> = {}
  // closest peers beyond the asked ones are the fallbacks for a replica that does not answer.
  const candidates = await lookupKeys(client, keys, {count: askPerKey * 2, want: 1, retries: 3, concurrency, timeoutMs, signal: opts.signal, failures})

  const peersById = new Map<string, PeerId>()
  const answeredBy = new Map<string, number>(keys.map((k) => [k, 0]))
  const nextCandidate = new Map<string, number>(keys.map((k) => [k, 0]))
  const answeredPeers = new Set<string>()
  const seen = new Set<string>()
  const packets: FetchedPacket[] = []
  const incomplete = new Set<string>()
  const maxPerKey = opts.maxPacketsPerKey ?? PROTOCOL_LIMITS.maxFetchPackets

  // Keys still short of `askPerKey` answers, assigned to their next untried candidates.
  const assign = (forKeys: string[]): Map<string, string[]> => {
    const byPeer = new Map<string, string[]>()
    for (const key of forKeys) {
      const list = candidates.get(key) ?? []
      const need = Math.min(askPerKey, list.length) - answeredBy.get(key)!
      for (let i = 0; i < need; i++) {
        const idx = nextCandidate.get(key)!
        if (idx >= list.length) break
        nextCandidate.set(key, idx + 1)
        const id = list[idx].toString()
        peersById.set(id, list[idx])
        const group = byPeer.get(id) ?? []
        group.push(key)
        byPeer.set(id, group)
      }
    }
    return byPeer
  }

  // A request that failed is tried once more on the same peer (it is among the closest, so likely
  // a holder; under load a timeout is usually transient) before its keys move to further peers.
  const failedOnce = new Set<string>()
  let pending = assign(keys)
  let again: {peer: string; keys: string[]}[] = []
  for (let round = 0; pending.size > 0 || again.length > 0; round++) {
    const retry: string[] = []
    const jobs: {peer: string; keys: string[]}[] = again
    again = []
    for (const [peer, ks] of pending) for (let i = 0; i < ks.length; i += PROTOCOL_LIMITS.maxFetchKeys) jobs.push({peer, keys: ks.slice(i, i + PROTOCOL_LIMITS.maxFetchKeys)})
    if (round > 0) await sleep(Math.min(250 * 2 ** (round - 1), 2000), opts.signal)
    await pool(jobs, concurrency, async ({peer, keys: ks}) => {
      try {
        // Page until every key is finished, each page under its own deadline. Packets are merged
        // as they arrive; a key counts as answered by this peer only once it is finished.
        let cursors = new Map<string, number>(ks.map((k) => [k, 0]))
        const taken = new Map<string, number>(ks.map((k) => [k, 0]))
        for (let pageNo = 0; cursors.size > 0; pageNo++) {
          if (pageNo >= MAX_FETCH_PAGES) {
            for (const k of cursors.keys()) incomplete.add(k)
            count(failures, 'TRUNCATED')
            break
          }
          const request = {keys: [...cursors.keys()], after: [...cursors.values()]}
          const signal = anySignal(opts.signal, AbortSignal.timeout(timeoutMs))
          client.node.counters.fetchRequests++
          const got = new Map<string, number>()
          const done = await sendRequest(client.node.libp2p, peersById.get(peer)!, FETCH_PROTOCOL, encodeFetchRequest(request), signal, async (stream) => {
            const maxFrames = Math.ceil(PROTOCOL_LIMITS.maxFetchPackets / PROTOCOL_LIMITS.maxPacketsPerFrame) + request.keys.length + 1
            for await (const raw of readFrames(stream, maxFrames)) {
              const frame = decodeFetchFrame(raw, request)
              if ('done' in frame) return frame
              if (!cursors.has(frame.key)) throw new ProtocolError('BAD_REQUEST', `peer sent packets for key ${frame.key}, which was not asked for`)
              got.set(frame.key, (got.get(frame.key) ?? 0) + frame.packets.length)
              for (const bytes of frame.packets) {
                const id = `${frame.key}:${packetId(bytes)}`
                if (seen.has(id)) continue
                seen.add(id)
                packets.push({key: frame.key, bytes, from: peer})
              }
            }
            throw new ProtocolError('BAD_REQUEST', 'fetch reply ended without its end marker')
          })
          answeredPeers.add(peer)
          const next = new Map<string, number>()
          for (const [k, after] of done.more) {
            const before = cursors.get(k)!
            const total = taken.get(k)! + (got.get(k) ?? 0)
            taken.set(k, total)
            // A peer that names no new cursor (or sent nothing) would page forever; past the per-key bound we stop asking.
            if (after <= before || (got.get(k) ?? 0) === 0 || total >= maxPerKey) {
              incomplete.add(k)
              count(failures, 'TRUNCATED')
            } else next.set(k, after)
          }
          for (const k of cursors.keys()) if (!next.has(k) && !incomplete.has(k)) answeredBy.set(k, answeredBy.get(k)! + 1)
          cursors = next
        }
      } catch (err) {
        opts.signal?.throwIfAborted()
        const reason = failureReason(err, opts.signal)
        count(failures, reason)
        const jobKey = `${peer} ${ks[0]}`
        if (reason !== 'NOT_A_STORAGE_PEER' && !failedOnce.has(jobKey)) {
          failedOnce.add(jobKey)
          again.push({peer, keys: ks})
        } else retry.push(...ks)
      }
    })
    pending = assign(retry)
  }
  const unanswered = keys.filter((k) => answeredBy.get(k) === 0 && !incomplete.has(k))
  for (const k of unanswered) if ((candidates.get(k) ?? []).length === 0) count(failures, 'NO_PEERS')
  return {packets, peers: answeredPeers.size, failures, unanswered, incomplete: keys.filter((k) => incomplete.has(k))}
}

// ---------------------------------------------------------------------------------------------
// Publish

export interface PublishItem {
  /** Key fingerprint the packet is pushed under (one of its routing keys). */
  key: string
  bytes: Uint8Array
  /** packetId(bytes). */
  id: string
}

export interface PublishOptions {
  /** Packets per store request (at most 256). Default 128. */
  batchSize?: number
  /** Keys in flight at once. Default 8. */
  concurrency?: number
  /** Distinct peers that must acknowledge each packet. Default 3; a swarm with fewer storage peers fails with UNDER_REPLICATED. */
  replicas?: number
  /** Attempts per peer and per lookup before giving up on it. Default 3. */
  retries?: number
  signal?: AbortSignal
  requestTimeoutMs?: number
  /** Called with items acknowledged by the required number of peers; awaited before more is reported, so a journal write here is ordered. */
  onAck?: (items: PublishItem[]) => void | Promise<void>
  /** Called with items that will not be delivered in this run, and why. */
  onFail?: (items: PublishItem[], reason: string) => void | Promise<void>
}

export interface PublishResult {
  /** Items acknowledged by the required number of peers. */
  acked: number
  /** Items not delivered; by reason in `failures`. */
  failed: number
  failures: Record<string, number>
  keys: number
  /** Distinct peers that acknowledged anything. */
  peers: number
  /**
   * When items failed UNDER_REPLICATED: the fewest storage peers found for any of their keys. The
   * swarm has no more to give, so a re-run cannot help; `--replicas` this low would.
   */
  storagePeersFound?: number
  /**
   * Distinct packets that at least one peer answered `stored` for (it did not hold them yet). On a
   * first publish that is every packet; on a republish, the packets one of whose replicas was gone.
   */
  newlyStored: number
}

/** Refusals that another peer would repeat: the packet itself is bad. */
const PERMANENT = new Set<StoreStatus>(['EMPTY', 'TOO_LARGE', 'MALFORMED', 'NOT_CANONICAL', 'UNSUPPORTED_VERSION', 'INVALID_FIELD', 'BAD_SIGNATURE', 'EXPIRED', 'FUTURE_TIMESTAMP', 'KEY_MISMATCH'])

/** One store request's worth of items for one key, and what the peers said about each item. */
interface Batch {
  key: string
  items: PublishItem[]
  candidates: PeerId[]
  /** Distinct peers that acknowledged each item. */
  ackedBy: Set<string>[]
  permanent: Map<number, string>
  /** Attempts per peer id (a peer that failed may be tried again, up to `retries`). */
  attempts: Map<string, number>
  /** Peers that answered this batch (acknowledged or refused), never asked again. */
  answered: Set<string>
  lastError: string
  reported: Set<number>
}

/**
 * Pushes packets to the `replicas` closest peers of their key, in three steps: one DHT lookup per
 * key (concurrently); batches grouped by destination peer, each peer receiving all its batches on
 * one stream; then rounds in which items still short of acknowledgements go to the next closest
 * peers (or, after a transport failure, to the same peer again) with exponential backoff.
 * `onAck` hears about each item as soon as its last required acknowledgement arrives.
 */
export async function publishPackets(client: SwarmClient, items: PublishItem[], opts: PublishOptions = {}): Promise<PublishResult> {
  const batchSize = Math.min(Math.max(1, opts.batchSize ?? 128), PROTOCOL_LIMITS.maxStoreBatch)
  const replicas = Math.max(1, opts.replicas ?? DEFAULT_REPLICAS)
  const retries = Math.max(1, opts.retries ?? 3)
  const concurrency = opts.concurrency ?? 8
  const timeoutMs = opts.requestTimeoutMs ?? 15_000
  const byKey = new Map<string, PublishItem[]>()
  for (const item of items) {
    const list = byKey.get(item.key) ?? []
    list.push(item)
    byKey.set(item.key, list)
  }
  const failures: Record<string, number> = {}
  const peers = new Set<string>()
  const newlyStored = new Set<string>()
  let acked = 0
  let failed = 0
  // Callbacks are serialised so journal writes land in order.
  let reporting: Promise<unknown> = Promise.resolve()
  const report = (fn: () => void | Promise<void>) => (reporting = reporting.then(fn))
  const fail = (list: PublishItem[], reason: string) => {
    if (list.length === 0) return
    failed += list.length
    count(failures, reason, list.length)
    const cb = opts.onFail
    if (cb) void report(() => cb(list, reason))
  }

  // Step 1: closest peers of every key, in one batched lookup.
  const batches: Batch[] = []
  const lookupFailures: Record<string, number> = {}
  const candidatesOf = await lookupKeys(client, [...byKey.keys()], {count: replicas * 3, want: replicas, retries, concurrency, timeoutMs, signal: opts.signal, failures: lookupFailures})
  for (const [key, keyItems] of byKey) {
    const candidates = candidatesOf.get(key) ?? []
    if (candidates.length === 0) {
      fail(keyItems, Object.keys(lookupFailures)[0] ?? 'NO_PEERS')
      continue
    }
    for (let b = 0; b < keyItems.length; b += batchSize) {
      const slice = keyItems.slice(b, b + batchSize)
      batches.push({
        key,
        items: slice,
        candidates,
        ackedBy: slice.map(() => new Set()),
        permanent: new Map(),
        attempts: new Map(),
        answered: new Set(),
        lastError: 'UNREACHABLE',
        reported: new Set(),
      })
    }
  }

  // Never fewer than asked: a client that joined a moment ago may not see the whole swarm yet, and
  // shrinking the target to what it sees would under-replicate silently. A swarm smaller than
  // `replicas` fails with UNDER_REPLICATED; the user lowers `replicas` deliberately.
  const target = replicas
  const pendingIdx = (b: Batch) => b.items.map((_, i) => i).filter((i) => !b.permanent.has(i) && b.ackedBy[i].size < target)

  const settle = async (b: Batch) => {
    const done = b.items.filter((_, i) => !b.reported.has(i) && !b.permanent.has(i) && b.ackedBy[i].size >= target)
    b.items.forEach((_, i) => {
      if (!b.permanent.has(i) && b.ackedBy[i].size >= target) b.reported.add(i)
    })
    if (done.length === 0) return
    acked += done.length
    const cb = opts.onAck
    if (cb) await report(() => cb(done))
  }

  // Steps 2 and 3: rounds of per-peer streams.
  for (let round = 0; ; round++) {
    const assignments = new Map<string, {peer: PeerId; work: Batch[]}>()
    for (const b of batches) {
      const pending = pendingIdx(b)
      if (pending.length === 0) continue
      // Peers still needed for the least-acknowledged pending item.
      let needed = target - Math.min(...pending.map((i) => b.ackedBy[i].size))
      for (const peer of b.candidates) {
        if (needed <= 0) break
        const id = peer.toString()
        if (b.answered.has(id) || pending.every((i) => b.ackedBy[i].has(id))) continue
        if ((b.attempts.get(id) ?? 0) >= retries) continue
        const slot = assignments.get(id) ?? {peer, work: []}
        slot.work.push(b)
        assignments.set(id, slot)
        b.attempts.set(id, (b.attempts.get(id) ?? 0) + 1)
        needed--
      }
    }
    if (assignments.size === 0) break
    if (round > 0) await sleep(Math.min(200 * 2 ** (round - 1), 2000), opts.signal)
    await pool([...assignments.values()], concurrency, async ({peer, work}) => {
      const id = peer.toString()
      for (let i = 0; i < work.length; i += PROTOCOL_LIMITS.maxStoreRequestsPerStream) {
        await storeOnPeer(client, peer, work.slice(i, i + PROTOCOL_LIMITS.maxStoreRequestsPerStream), async (b, sent, response) => {
          b.answered.add(id)
          if (response.error) {
            b.lastError = response.error
            return
          }
          let any = false
          response.results.forEach((status, j) => {
            const idx = sent[j]
            if (status === 'stored' || status === 'duplicate') {
              if (status === 'stored') newlyStored.add(b.items[idx].id)
              b.ackedBy[idx].add(id)
              any = true
            } else if (PERMANENT.has(status)) b.permanent.set(idx, status)
            else b.lastError = status
          })
          if (any) peers.add(id)
          await settle(b)
        }, (b, reason) => {
          b.lastError = reason
          // A peer that does not speak the store protocol is not asked again.
          if (reason === 'NOT_A_STORAGE_PEER') b.answered.add(id)
        }, {signal: opts.signal, timeoutMs, pendingIdx})
      }
    })
  }

  let storagePeersFound: number | undefined
  for (const b of batches) {
    const byReason = new Map<string, PublishItem[]>()
    b.items.forEach((item, i) => {
      if (b.reported.has(i)) return
      const reason = b.permanent.get(i) ?? (b.candidates.length < target ? 'UNDER_REPLICATED' : b.lastError)
      if (reason === 'UNDER_REPLICATED') storagePeersFound = Math.min(storagePeersFound ?? Infinity, b.candidates.length)
      byReason.set(reason, [...(byReason.get(reason) ?? []), item])
    })
    for (const [reason, list] of byReason) fail(list, reason)
  }
  await reporting
  return {acked, failed, failures, keys: byKey.size, peers: peers.size, newlyStored: newlyStored.size, ...(storagePeersFound === undefined ? {} : {storagePeersFound})}
}

/**
 * Sends several batches to one peer on one stream, one request and one response at a time. On a
 * transport failure the batches not yet answered are reported through `onError`.
 */
async function storeOnPeer(
  client: SwarmClient,
  peer: PeerId,
  work: Batch[],
  onResponse: (b: Batch, sent: number[], response: {results: StoreStatus[]; error?: string}) => Promise<void>,
  onError: (b: Batch, reason: string) => void,
  o: {signal?: AbortSignal; timeoutMs: number; pendingIdx: (b: Batch) => number[]},
): Promise<void> {
  let next = 0
  let stream: Stream | undefined
  try {
    client.node.counters.storeStreams++
    stream = await client.node.libp2p.dialProtocol(peer, STORE_PROTOCOL, {signal: anySignal(o.signal, AbortSignal.timeout(o.timeoutMs)), runOnLimitedConnection: true})
    const replies = readFrames(stream, work.length)[Symbol.asyncIterator]()
    for (; next < work.length; next++) {
      const b = work[next]
      const id = peer.toString()
      const sent = o.pendingIdx(b).filter((i) => !b.ackedBy[i].has(id))
      if (sent.length === 0) continue
      const signal = anySignal(o.signal, AbortSignal.timeout(o.timeoutMs))
      client.node.counters.storeRequests++
      await writeFrame(stream, encodeStoreRequest({key: b.key, packets: sent.map((i) => b.items[i].bytes)}), signal)
      const reply = await raceAbort(replies.next(), signal)
      if (reply.done) throw new ProtocolError('BAD_REQUEST', 'store stream ended before its reply')
      await onResponse(b, sent, decodeStoreResponse(reply.value, sent.length))
    }
    await stream.close({signal: anySignal(o.signal, AbortSignal.timeout(o.timeoutMs))})
  } catch (err) {
    stream?.abort(err as Error)
    o.signal?.throwIfAborted()
    const reason = failureReason(err, o.signal)
    for (; next < work.length; next++) onError(work[next], reason)
  }
}

