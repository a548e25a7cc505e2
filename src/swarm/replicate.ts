import type {PeerId} from '@libp2p/interface'
import {createHash} from 'node:crypto'

import type {SwarmEvent, SwarmNode} from './node.js'
import {compareXor, keyKadId} from './lookup.js'
import {
  HAVE_ID_BYTES,
  HAVE_PROTOCOL,
  PROTOCOL_LIMITS,
  STORE_PROTOCOL,
  decodeHaveResponse,
  decodeStoreResponse,
  encodeHaveRequest,
  encodeStoreRequest,
  readFrames,
  readOneFrame,
  sendRequest,
  writeFrame,
} from './protocol.js'
import type {PacketStorage} from './storage.js'

/**
 * Re-replication (issue 17, "Packets outlive their first replicas"). A publisher stores each packet
 * on the R closest peers of its key at the time; when those peers leave and others join, a key's R
 * closest peers are no longer the ones holding it. Every storage node therefore looks up, now and
 * then, the current closest peers of the keys it holds, and pushes a key's packets to each of its R
 * closest that is not known to hold them.
 *
 * "Known to hold" is learnt, not assumed: a peer is known for a key once it has answered for it.
 * Before sending packets a node asks the peer which of them it lacks (/qis/have: 8 bytes of each
 * packet id, all its due keys in one request) and sends exactly those. An earlier version assumed
 * that the set found on a node's first look at a key already held it (its publisher had just stored
 * it there) and pushed only to peers that entered the set later; a replica lost before that first
 * look, or a set the publisher's lookup saw differently, then stayed short for good. The version
 * after it sent a probe of a few packets per key and peer, which after every publish cost 1.7-2.8x
 * the packets of that old rule, mostly answered `duplicate` (docs/swarm.md, "Re-replication").
 * A peer that does not speak /qis/have (an older node) still gets the probe.
 *
 * Bounded: keys per round, packets per round (the rest waits for the next round), ids per check,
 * per-peer back-off doubling after a failed check or push, and a holder no longer among a key's
 * 2R closest leaves the pushing to closer holders.
 */
export interface ReplicationLimits {
  /** Time between rounds. */
  intervalMs: number
  /** Replicas a key should have: its R closest storage peers. */
  replicas: number
  /** Keys looked up per round (rotating through everything held). */
  maxKeysPerRound: number
  /** Packets pushed per round at most, over all peers. */
  maxPacketsPerRound: number
  /** Packets per store request. */
  batchSize: number
  /** Packets in the first request of a key to a peer that does not speak /qis/have; all `duplicate` ends the push there. */
  probeSize: number
  /** Peers pushed to at once. */
  concurrency: number
  /** A peer whose push failed is left alone for a doubling back-off, from intervalMs up to this. */
  maxBackoffMs: number
  /** Deadline of one lookup request and of one store request. */
  requestTimeoutMs: number
}

export const DEFAULT_REPLICATION: ReplicationLimits = {
  intervalMs: 60_000,
  replicas: 3,
  maxKeysPerRound: 1024,
  maxPacketsPerRound: 20_000,
  batchSize: 128,
  probeSize: 4,
  concurrency: 4,
  maxBackoffMs: 10 * 60_000,
  requestTimeoutMs: 10_000,
}

/** Cumulative figures since start (printed in `qis node`'s summaries and `stopped` event, exported as metrics). */
export interface ReplicationStats {
  rounds: number
  /** Keys looked up. */
  checked: number
  /** Keys with one of their R closest peers not known to hold them (a push or probe was due). */
  changed: number
  /** Packets pushed, and what the receiving peers answered. */
  sent: number
  stored: number
  duplicates: number
  refused: number
  /** Pushes (one key to one peer) that failed in transport; retried after the peer's back-off. */
  failed: number
  /** Have requests sent, and the packet ids they named (HAVE_ID_BYTES each on the wire). */
  checks: number
  checkedIds: number
}

/** One round's outcome as a node event (only when something was pushed or failed). */
export type ReplicationEvent = {
  event: 'replicated'
  keys: number
  peers: number
  sent: number
  stored: number
  duplicates: number
  failed: number
  /** Have requests sent this round, and the packet ids they named. */
  checks: number
  checkedIds: number
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest()

/**
 * Per key, which peers should receive its packets now: the key's `replicas` closest among the
 * looked-up peers and this node, minus this node and the peers known to hold the key. A node that is
 * not itself among the `2 x replicas` closest pushes nothing: it is a stale holder, and the closer
 * holders do it.
 */
export function replicationTargets(
  key: string,
  self: {id: string; kadId: Uint8Array},
  found: {id: string; kadId: Uint8Array}[],
  replicas: number,
  holding: ReadonlySet<string> | undefined,
): {set: string[]; push: string[]} {
  const target = keyKadId(key)
  const ranked = [self, ...found.filter((p) => p.id !== self.id)].sort((a, b) => compareXor(target, a.kadId, b.kadId))
  const set = ranked.slice(0, replicas).map((p) => p.id)
  const inRange = ranked.slice(0, replicas * 2).some((p) => p.id === self.id)
  if (!inRange) return {set, push: []}
  return {set, push: set.filter((id) => id !== self.id && !holding?.has(id))}
}

export interface Replicator {
  stats: ReplicationStats
  /** Runs one round now (tests and benchmarks); rounds never overlap. */
  runOnce(): Promise<void>
  stop(): void
}

export function startReplication(node: SwarmNode, storage: PacketStorage, options: Partial<ReplicationLimits>, log: (e: SwarmEvent) => void): Replicator {
  const limits = {...DEFAULT_REPLICATION, ...options}
  const stats: ReplicationStats = {rounds: 0, checked: 0, changed: 0, sent: 0, stored: 0, duplicates: 0, refused: 0, failed: 0, checks: 0, checkedIds: 0}
  /** Per key, the peers of its current closest set that answered a push of it. */
  const holding = new Map<string, Set<string>>()
  const backoff = new Map<string, {until: number; delay: number}>()
  const controller = new AbortController()
  const self = {id: node.peerId, kadId: sha256(node.libp2p.peerId.toMultihash().bytes)}
  let cursor = 0
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let stopped = false

  const round = async () => {
    const held = storage.keys()
    // Forget keys no longer held (expired or evicted), so the map does not grow with churned keys.
    if (holding.size > held.length * 2 + 1024) {
      const live = new Set(held)
      for (const k of holding.keys()) if (!live.has(k)) holding.delete(k)
    }
    if (held.length === 0) return
    if (cursor >= held.length) cursor = 0
    const keys = held.slice(cursor, cursor + limits.maxKeysPerRound)
    cursor += keys.length
    stats.rounds++
    stats.checked += keys.length
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(limits.requestTimeoutMs * 6)])
    const result = await node.lookup(keys, {count: limits.replicas * 2, signal, timeoutMs: limits.requestTimeoutMs})
    const byId = new Map<string, PeerId>()
    const work = new Map<string, string[]>()
    const due = new Set<string>()
    for (const key of keys) {
      const found = result.closest.get(key) ?? []
      // An isolated node learns nothing about who should hold the key.
      if (found.length === 0) continue
      for (const p of found) byId.set(p.toString(), p)
      const {set, push} = replicationTargets(
        key,
        self,
        found.map((p) => ({id: p.toString(), kadId: sha256(p.toMultihash().bytes)})),
        limits.replicas,
        holding.get(key),
      )
      // A peer that left the set and comes back may have lost the key meanwhile (restarted empty): probe it again then.
      const known = holding.get(key)
      if (known) for (const p of known) if (!set.includes(p)) known.delete(p)
      if (push.length === 0) continue
      stats.changed++
      due.add(key)
      for (const peer of push) work.set(peer, [...(work.get(peer) ?? []), key])
    }
    if (work.size === 0) return

    let budget = limits.maxPacketsPerRound
    const now = Date.now()
    const outcome = {peers: 0, sent: 0, stored: 0, duplicates: 0, failed: 0, checks: 0, checkedIds: 0}
    // A peer in back-off keeps its keys unconfirmed, so they are due again in a later round.
    const jobs = [...work].filter(([peer]) => (backoff.get(peer)?.until ?? 0) <= now)
    let next = 0
    const worker = async () => {
      while (next < jobs.length && !stopped) {
        const [peer, keysFor] = jobs[next++]
        const done = await syncPeer(byId.get(peer)!, keysFor, () => budget, (n) => (budget -= n))
        outcome.peers++
        outcome.checks += done.checks
        outcome.checkedIds += done.checkedIds
        outcome.sent += done.sent
        outcome.stored += done.stored
        outcome.duplicates += done.duplicates
        stats.refused += done.refused
        if (done.failed.length > 0) {
          outcome.failed += done.failed.length
          const delay = Math.min((backoff.get(peer)?.delay ?? limits.intervalMs / 2) * 2, limits.maxBackoffMs)
          backoff.set(peer, {until: Date.now() + delay, delay})
        } else backoff.delete(peer)
        // Answered, even with refusals (a full peer is not pushed to every round); failed and skipped keys stay due.
        for (const k of done.answered) {
          let known = holding.get(k)
          if (!known) holding.set(k, (known = new Set()))
          known.add(peer)
        }
      }
    }
    await Promise.all(Array.from({length: Math.min(limits.concurrency, jobs.length)}, worker))
    stats.sent += outcome.sent
    stats.stored += outcome.stored
    stats.duplicates += outcome.duplicates
    stats.failed += outcome.failed
    stats.checks += outcome.checks
    stats.checkedIds += outcome.checkedIds
    if (outcome.sent > 0 || outcome.failed > 0 || outcome.checks > 0) log({event: 'replicated', keys: due.size, ...outcome})
  }

  /** Whether a dial failed because the peer does not speak the protocol (an older node), not because it is down. */
  const unsupported = (err: unknown) => (err as Error | undefined)?.name === 'UnsupportedProtocolError'

  /**
   * Brings one peer up to date on its due keys: asks which packets it lacks (/qis/have, as few
   * requests as the id bounds allow) and pushes exactly those; a peer without /qis/have gets the
   * probe of `probeSize` packets per key instead. Keys answered in full are `answered`; keys whose
   * check or push failed in transport are `failed`; keys left over by the round's budget neither.
   */
  async function syncPeer(peer: PeerId, keys: string[], budget: () => number, spend: (n: number) => void) {
    const out = {checks: 0, checkedIds: 0, sent: 0, stored: 0, duplicates: 0, refused: 0, answered: [] as string[], failed: [] as string[]}
    const held = new Map(keys.map((k) => [k, storage.held(k)]))
    // Keys too large for one check, and every key of a peer without /qis/have, go by probe.
    const probe: string[] = keys.filter((k) => held.get(k)!.length > PROTOCOL_LIMITS.maxHaveIds)
    const push: {key: string; packets: Uint8Array[]}[] = []
    const checkable = keys.filter((k) => held.get(k)!.length <= PROTOCOL_LIMITS.maxHaveIds)
    // Keys before `c` got an answer; a failed check puts `c` back to its first key, so the rest stay due.
    let c = 0
    try {
      while (c < checkable.length) {
        const chunk: string[] = []
        const start = c
        let ids = 0
        while (c < checkable.length && chunk.length < PROTOCOL_LIMITS.maxHaveKeys && ids + held.get(checkable[c])!.length <= PROTOCOL_LIMITS.maxHaveIds) {
          ids += held.get(checkable[c])!.length
          chunk.push(checkable[c++])
        }
        const request = {
          keys: chunk,
          ids: chunk.map((k) => Buffer.concat(held.get(k)!.map((e) => Buffer.from(e.id.slice(0, HAVE_ID_BYTES * 2), 'hex')))),
        }
        const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(limits.requestTimeoutMs)])
        out.checks++
        out.checkedIds += ids
        let reply
        try {
          reply = await sendRequest(node.libp2p, peer, HAVE_PROTOCOL, encodeHaveRequest(request), signal, async (stream) =>
            decodeHaveResponse(await readOneFrame(stream), request),
          )
        } catch (err) {
          c = start
          throw err
        }
        chunk.forEach((key, k) => {
          const entries = held.get(key)!
          if (reply.missing[k].length === 0) out.answered.push(key)
          else push.push({key, packets: reply.missing[k].map((i) => entries[i].bytes)})
        })
      }
    } catch (err) {
      if (unsupported(err)) probe.push(...checkable.slice(c))
      else {
        if (!stopped) out.failed.push(...checkable.slice(c))
        return out
      }
    }
    const items = [...push.map((p) => ({...p, probe: false})), ...probe.map((key) => ({key, packets: held.get(key)!.map((e) => e.bytes), probe: true}))]
    if (items.length === 0) return out
    const pushed = await pushToPeer(peer, items, budget, spend)
    out.sent += pushed.sent
    out.stored += pushed.stored
    out.duplicates += pushed.duplicates
    out.refused += pushed.refused
    out.answered.push(...pushed.answered)
    out.failed.push(...pushed.failed)
    return out
  }

  /**
   * Sends each key's packets to one peer on one stream within the round's budget. A `probe` item
   * starts with `probeSize` packets and stops there if the peer held them all (`duplicate`).
   */
  async function pushToPeer(peer: PeerId, items: {key: string; packets: Uint8Array[]; probe: boolean}[], budget: () => number, spend: (n: number) => void) {
    const out = {sent: 0, stored: 0, duplicates: 0, refused: 0, answered: [] as string[], failed: [] as string[]}
    let i = 0
    try {
      const stream = await node.libp2p.dialProtocol(peer, STORE_PROTOCOL, {signal: AbortSignal.any([controller.signal, AbortSignal.timeout(limits.requestTimeoutMs)]), runOnLimitedConnection: true})
      try {
        const replies = readFrames(stream, PROTOCOL_LIMITS.maxStoreRequestsPerStream)[Symbol.asyncIterator]()
        let requests = 0
        for (; i < items.length; i++) {
          const {key, packets, probe} = items[i]
          let complete = true
          for (let b = 0; b < packets.length; ) {
            const batch = packets.slice(b, b + (b === 0 && probe ? Math.min(limits.probeSize, limits.batchSize) : limits.batchSize))
            if (batch.length > budget() || requests >= PROTOCOL_LIMITS.maxStoreRequestsPerStream) {
              complete = false
              break
            }
            spend(batch.length)
            requests++
            const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(limits.requestTimeoutMs)])
            await writeFrame(stream, encodeStoreRequest({key, packets: batch}), signal)
            const reply = await Promise.race([
              replies.next(),
              new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), {once: true})),
            ])
            if (reply.done) throw new Error('store stream ended before its reply')
            const response = decodeStoreResponse(reply.value, batch.length)
            out.sent += batch.length
            let duplicates = 0
            for (const s of response.results) {
              if (s === 'stored') out.stored++
              else if (s === 'duplicate') duplicates++
              else out.refused++
            }
            out.duplicates += duplicates
            // The peer already held the probe: the publisher or another holder stored the key there.
            if (b === 0 && probe && duplicates === batch.length) break
            b += batch.length
          }
          if (complete) out.answered.push(key)
        }
        await stream.close({signal: AbortSignal.timeout(limits.requestTimeoutMs)})
      } catch (err) {
        stream.abort(err as Error)
        throw err
      }
    } catch {
      // Down, slow or not a storage peer: its keys are retried after its back-off.
      if (!stopped) out.failed.push(...items.slice(i).map((it) => it.key))
    }
    return out
  }

  const schedule = () => {
    if (stopped) return
    timer = setTimeout(() => {
      void runOnce().finally(schedule)
    }, limits.intervalMs)
    timer.unref()
  }
  const runOnce = (): Promise<void> => {
    if (!running) {
      running = round()
        .catch(() => {
          // A failed lookup (aborted, no peers answering) leaves every set as it was: the next round tries again.
        })
        .finally(() => (running = undefined))
    }
    return running
  }
  schedule()
  return {
    stats,
    runOnce,
    stop() {
      stopped = true
      clearTimeout(timer)
      controller.abort()
    },
  }
}
