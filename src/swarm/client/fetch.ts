import type {PeerId} from '@libp2p/interface'

import {DEFAULT_REPLICAS} from '../defaults.js'
import {PROTOCOL_LIMITS} from '../protocol.js'
import {lookupKeys} from './closest.js'
import {count, failureReason, pool, sleep} from './common.js'
import {type FetchTally, fetchFromPeer} from './fetch-peer.js'
import type {SwarmClient} from './open.js'

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
  const nextCandidate = new Map<string, number>(keys.map((k) => [k, 0]))
  const tally: FetchTally = {packets: [], seen: new Set(), incomplete: new Set(), answeredBy: new Map(keys.map((k) => [k, 0])), answeredPeers: new Set(), failures}
  const {answeredBy, incomplete} = tally
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
        await fetchFromPeer(client, peersById.get(peer)!, ks, tally, {signal: opts.signal, timeoutMs, maxPerKey})
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
  return {packets: tally.packets, peers: tally.answeredPeers.size, failures, unanswered, incomplete: keys.filter((k) => incomplete.has(k))}
}
