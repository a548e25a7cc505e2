import type {PeerId} from '@libp2p/interface'

import {DEFAULT_REPLICAS} from '../defaults.js'
import {PROTOCOL_LIMITS, type StoreStatus} from '../protocol.js'
import {lookupKeys} from './closest.js'
import {count, pool, sleep} from './common.js'
import type {SwarmClient} from './open.js'
import {type Batch, storeOnPeer} from './store-stream.js'

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
