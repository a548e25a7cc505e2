import {createHash} from 'node:crypto'

import {PROTOCOL_LIMITS, type ClosestRequest, type ClosestResponse, type PeerRecord} from './protocol.js'

/**
 * Batched Kademlia lookup: the closest storage peers of many keys at once.
 *
 * A kad-dht lookup costs one stream per (key, peer) query, about 10 ms of CPU each on this kind of
 * machine, so a publish of 500 keys spent most of its time looking up. The algorithm here is
 * Kademlia's own (start from the routing table, ask the closest known peers for closer ones, stop
 * when the `count` closest known have all answered), but every round sends each peer one request
 * carrying all the keys it is asked about (/qis/closest/1.0.0). The logical cost per key is still
 * O(count + log N) queries; the number of messages per round is at most the number of peers.
 *
 * Peers are named by their peer id string; the transport is injected (`LookupDeps`), so the
 * algorithm is tested on a simulated swarm and the node wires it to libp2p.
 */
export interface LookupDeps {
  /** This node's peer id: never asked, never returned. */
  self: string
  /** Up to `count` peers our own routing table knows near a kad target, any order. */
  local(target: Uint8Array, count: number): string[]
  /** Asks one peer for the closest peers it knows to each key of the request. Rejects on any failure. */
  ask(peer: string, request: ClosestRequest, signal: AbortSignal): Promise<ClosestResponse>
  /** Takes in a peer named by another peer (remember where to dial it); false if it is unusable. */
  learn(record: PeerRecord): boolean
  /** The kad id (sha256 of the peer id's multihash) of a peer id string. */
  kadId(peer: string): Uint8Array
}

export interface LookupOptions {
  /** Peers wanted per key; the lookup ends for a key when its `count` closest known peers have all answered. */
  count: number
  /** Requests in flight at once. Default 16. */
  concurrency?: number
  /** Deadline per request. Default 15 s. */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface LookupStats {
  /** Requests sent (each carries up to maxClosestKeys keys for one peer). */
  requests: number
  /** (key, peer) queries those requests carried: the logical Kademlia cost. */
  queries: number
  rounds: number
}

/** `P` is how a peer is named: its id string here, a libp2p PeerId once the node has parsed it. */
export interface LookupResult<P = string> {
  /** Per key: up to `count` peers, closest first. Peers that failed during the lookup are left out. */
  closest: Map<string, P[]>
  stats: LookupStats
  /** Per peer that failed to answer (down, slow, not a storage peer, or a bad reply): the error. */
  failures: Map<string, unknown>
}

/** The kad id of a key fingerprint, as kad-dht computes it for a key: sha256 of the key bytes. */
export function keyKadId(fingerprint: string): Uint8Array {
  return createHash('sha256').update(Buffer.from(fingerprint, 'hex')).digest()
}

/** Negative when `a` is closer to `target` than `b` (XOR distance, big-endian). */
export function compareXor(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < target.length; i++) {
    const da = a[i] ^ target[i]
    const db = b[i] ^ target[i]
    if (da !== db) return da - db
  }
  return 0
}

// A lookup whose closest set keeps changing is bounded; Kademlia converges in O(log N) rounds.
const MAX_ROUNDS = 24

interface KeyState {
  key: string
  target: Uint8Array
  known: Set<string>
  asked: Set<string>
  answered: Set<string>
  done: boolean
}

export async function lookupClosest(deps: LookupDeps, keys: string[], opts: LookupOptions): Promise<LookupResult> {
  const count = Math.max(1, Math.min(opts.count, PROTOCOL_LIMITS.maxClosestCount))
  // Responders name twice as many peers as we need: with dead peers still in their tables, the
  // live peers that complete our set are often just past their own first `count`.
  const askCount = Math.min(PROTOCOL_LIMITS.maxClosestCount, count * 2)
  const concurrency = Math.max(1, opts.concurrency ?? 16)
  const timeoutMs = opts.timeoutMs ?? 15_000
  const kadIds = new Map<string, Uint8Array>()
  const kad = (peer: string) => {
    let id = kadIds.get(peer)
    if (!id) kadIds.set(peer, (id = deps.kadId(peer)))
    return id
  }
  const failed = new Map<string, unknown>()
  const stats: LookupStats = {requests: 0, queries: 0, rounds: 0}

  const states: KeyState[] = [...new Set(keys)].map((key) => {
    const target = keyKadId(key)
    const known = new Set(deps.local(target, count).filter((p) => p !== deps.self))
    return {key, target, known, asked: new Set(), answered: new Set(), done: false}
  })
  const closestOf = (s: KeyState) =>
    [...s.known].filter((p) => !failed.has(p)).sort((a, b) => compareXor(s.target, kad(a), kad(b))).slice(0, count)

  for (let round = 0; round < MAX_ROUNDS; round++) {
    opts.signal?.throwIfAborted()
    // Each key asks every peer among its `count` closest known that has not been asked yet: with
    // requests batched per peer, asking more peers per round costs keys in a message, not messages.
    const plan = new Map<string, KeyState[]>()
    for (const s of states) {
      if (s.done) continue
      const top = closestOf(s)
      const toAsk = top.filter((p) => !s.asked.has(p))
      if (toAsk.length === 0) {
        s.done = true
        continue
      }
      for (const p of toAsk) {
        s.asked.add(p)
        const list = plan.get(p) ?? []
        list.push(s)
        plan.set(p, list)
      }
    }
    if (plan.size === 0) break
    stats.rounds++

    const jobs: {peer: string; group: KeyState[]}[] = []
    for (const [peer, group] of plan) {
      for (let i = 0; i < group.length; i += PROTOCOL_LIMITS.maxClosestKeys) jobs.push({peer, group: group.slice(i, i + PROTOCOL_LIMITS.maxClosestKeys)})
    }
    let next = 0
    const worker = async () => {
      while (next < jobs.length) {
        const {peer, group} = jobs[next++]
        if (failed.has(peer)) continue
        const request = {keys: group.map((s) => s.key), count: askCount}
        stats.requests++
        stats.queries += group.length
        const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs)
        let response: ClosestResponse
        try {
          response = await deps.ask(peer, request, signal)
        } catch (err) {
          opts.signal?.throwIfAborted()
          failed.set(peer, err)
          continue
        }
        // Peers named by a response are parsed once; a bad record is dropped, not trusted.
        const usable = response.peers.map((r) => r.id !== deps.self && deps.learn(r))
        group.forEach((s, i) => {
          s.answered.add(peer)
          for (const idx of response.closest[i]) if (usable[idx]) s.known.add(response.peers[idx].id)
        })
      }
    }
    await Promise.all(Array.from({length: Math.min(concurrency, jobs.length)}, worker))
  }

  const closest = new Map<string, string[]>()
  for (const s of states) closest.set(s.key, closestOf(s))
  return {closest, stats, failures: failed}
}
