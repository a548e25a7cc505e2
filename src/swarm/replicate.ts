import type {PeerId} from '@libp2p/interface'
import {createHash} from 'node:crypto'

import type {SwarmEvent, SwarmNode} from './node.js'
import {compareXor, keyKadId} from './lookup.js'
import {PROTOCOL_LIMITS, STORE_PROTOCOL, decodeStoreResponse, encodeStoreRequest, readFrames, writeFrame} from './protocol.js'
import type {PacketStorage} from './storage.js'

/**
 * Re-replication (issue 17, "Packets outlive their first replicas"). A publisher stores each packet
 * on the R closest peers of its key at the time; when those peers leave and others join, a key's R
 * closest peers are no longer the ones holding it. Every storage node therefore looks up, now and
 * then, the current closest peers of the keys it holds, and pushes a key's packets to peers that
 * became one of its R closest since the last look. Baseline first: a key seen for the first time
 * only records its set (its publisher just stored it on that set), so a quiet swarm sends nothing.
 *
 * Bounded: keys per round, packets per round (the rest waits for the next round, with its old set
 * kept so it is still seen as changed), per-peer back-off doubling after a failed push, and a key
 * whose first batch to a peer comes back all `duplicate` is not pushed further to it (another
 * holder did it first).
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
  concurrency: 4,
  maxBackoffMs: 10 * 60_000,
  requestTimeoutMs: 10_000,
}

/** Cumulative figures since start (printed in `qis node`'s summaries and `stopped` event, exported as metrics). */
export interface ReplicationStats {
  rounds: number
  /** Keys looked up. */
  checked: number
  /** Keys whose replica set changed (a push was due). */
  changed: number
  /** Packets pushed, and what the receiving peers answered. */
  sent: number
  stored: number
  duplicates: number
  refused: number
  /** Pushes (one key to one peer) that failed in transport; retried after the peer's back-off. */
  failed: number
}

/** One round's outcome as a node event (only when something was pushed or failed). */
export type ReplicationEvent = {event: 'replicated'; keys: number; peers: number; sent: number; stored: number; duplicates: number; failed: number}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest()

/**
 * Per key, which peers should receive its packets now: the key's `replicas` closest among the
 * looked-up peers and this node, minus this node and the peers of the previous set. `undefined`
 * previous means first sight (baseline: nothing to push). A node that is not itself among the
 * `2 x replicas` closest pushes nothing: it is a stale holder, and the closer holders do it.
 */
export function replicationTargets(
  key: string,
  self: {id: string; kadId: Uint8Array},
  found: {id: string; kadId: Uint8Array}[],
  replicas: number,
  previous: readonly string[] | undefined,
): {set: string[]; push: string[]} {
  const target = keyKadId(key)
  const ranked = [self, ...found.filter((p) => p.id !== self.id)].sort((a, b) => compareXor(target, a.kadId, b.kadId))
  const set = ranked.slice(0, replicas).map((p) => p.id)
  if (previous === undefined) return {set, push: []}
  const inRange = ranked.slice(0, replicas * 2).some((p) => p.id === self.id)
  if (!inRange) return {set, push: []}
  const before = new Set(previous)
  return {set, push: set.filter((id) => id !== self.id && !before.has(id))}
}

export interface Replicator {
  stats: ReplicationStats
  /** Runs one round now (tests and benchmarks); rounds never overlap. */
  runOnce(): Promise<void>
  stop(): void
}

export function startReplication(node: SwarmNode, storage: PacketStorage, options: Partial<ReplicationLimits>, log: (e: SwarmEvent) => void): Replicator {
  const limits = {...DEFAULT_REPLICATION, ...options}
  const stats: ReplicationStats = {rounds: 0, checked: 0, changed: 0, sent: 0, stored: 0, duplicates: 0, refused: 0, failed: 0}
  const last = new Map<string, string[]>()
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
    if (last.size > held.length * 2 + 1024) {
      const live = new Set(held)
      for (const k of last.keys()) if (!live.has(k)) last.delete(k)
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
    const due = new Map<string, {set: string[]; pending: number; ok: boolean}>()
    for (const key of keys) {
      const found = result.closest.get(key) ?? []
      // An isolated node learns nothing about who should hold the key: keep the old set.
      if (found.length === 0) continue
      for (const p of found) byId.set(p.toString(), p)
      const {set, push} = replicationTargets(
        key,
        self,
        found.map((p) => ({id: p.toString(), kadId: sha256(p.toMultihash().bytes)})),
        limits.replicas,
        last.get(key),
      )
      if (push.length === 0) {
        last.set(key, set)
        continue
      }
      stats.changed++
      due.set(key, {set, pending: push.length, ok: true})
      for (const peer of push) work.set(peer, [...(work.get(peer) ?? []), key])
    }
    if (work.size === 0) return

    let budget = limits.maxPacketsPerRound
    const now = Date.now()
    const outcome = {peers: 0, sent: 0, stored: 0, duplicates: 0, failed: 0}
    const jobs = [...work].filter(([peer]) => (backoff.get(peer)?.until ?? 0) <= now)
    for (const [peer, keysFor] of work) if (!jobs.some(([p]) => p === peer)) for (const k of keysFor) due.get(k)!.ok = false
    let next = 0
    const worker = async () => {
      while (next < jobs.length && !stopped) {
        const [peer, keysFor] = jobs[next++]
        const done = await pushToPeer(byId.get(peer)!, keysFor, () => budget, (n) => (budget -= n))
        outcome.peers++
        outcome.sent += done.sent
        outcome.stored += done.stored
        outcome.duplicates += done.duplicates
        stats.refused += done.refused
        if (done.failed.length > 0) {
          outcome.failed += done.failed.length
          const delay = Math.min((backoff.get(peer)?.delay ?? limits.intervalMs / 2) * 2, limits.maxBackoffMs)
          backoff.set(peer, {until: Date.now() + delay, delay})
        } else backoff.delete(peer)
        // A key is settled only when every peer due it got it; otherwise its old set stays, so the next round pushes again.
        for (const k of [...done.failed, ...done.skipped]) due.get(k)!.ok = false
      }
    }
    await Promise.all(Array.from({length: Math.min(limits.concurrency, jobs.length)}, worker))
    for (const [key, d] of due) if (d.ok) last.set(key, d.set)
    stats.sent += outcome.sent
    stats.stored += outcome.stored
    stats.duplicates += outcome.duplicates
    stats.failed += outcome.failed
    if (outcome.sent > 0 || outcome.failed > 0) log({event: 'replicated', keys: due.size, ...outcome})
  }

  /** Sends each key's packets to one peer on one stream, batch by batch, within the round's budget. */
  async function pushToPeer(peer: PeerId, keys: string[], budget: () => number, spend: (n: number) => void) {
    const out = {sent: 0, stored: 0, duplicates: 0, refused: 0, failed: [] as string[], skipped: [] as string[]}
    let i = 0
    try {
      const stream = await node.libp2p.dialProtocol(peer, STORE_PROTOCOL, {signal: AbortSignal.any([controller.signal, AbortSignal.timeout(limits.requestTimeoutMs)]), runOnLimitedConnection: true})
      try {
        const replies = readFrames(stream, PROTOCOL_LIMITS.maxStoreRequestsPerStream)[Symbol.asyncIterator]()
        let requests = 0
        for (; i < keys.length; i++) {
          const packets = storage.get(keys[i])
          let first = true
          for (let b = 0; b < packets.length; b += limits.batchSize) {
            const batch = packets.slice(b, b + limits.batchSize)
            if (batch.length > budget() || requests >= PROTOCOL_LIMITS.maxStoreRequestsPerStream) {
              out.skipped.push(keys[i])
              break
            }
            spend(batch.length)
            requests++
            const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(limits.requestTimeoutMs)])
            await writeFrame(stream, encodeStoreRequest({key: keys[i], packets: batch}), signal)
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
            // The peer already held the whole first batch: another holder pushed it, or the publisher did.
            if (first && duplicates === batch.length) break
            first = false
          }
        }
        await stream.close({signal: AbortSignal.timeout(limits.requestTimeoutMs)})
      } catch (err) {
        stream.abort(err as Error)
        throw err
      }
    } catch {
      // Down, slow or not a storage peer: its keys are retried after its back-off.
      if (!stopped) out.failed.push(...keys.slice(i))
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
