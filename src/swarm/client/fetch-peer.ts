import type {PeerId} from '@libp2p/interface'

import {packetId} from '../../packet/codec.js'
import {FETCH_PROTOCOL, PROTOCOL_LIMITS, ProtocolError, decodeFetchFrame, encodeFetchRequest, readFrames, sendRequest} from '../protocol.js'
import {anySignal, count} from './common.js'
import type {FetchedPacket} from './fetch.js'
import type {SwarmClient} from './open.js'

/** Pages (requests) at most per group of keys asked of one peer; a peer that pages slower leaves its keys incomplete. */
const MAX_FETCH_PAGES = 100

/** What every peer's answers in one fetchPackets call add to. */
export interface FetchTally {
  /** Merged over peers, de-duplicated per key by packet id. */
  packets: FetchedPacket[]
  /** `key:packetId` of every packet in `packets`. */
  seen: Set<string>
  /** Keys some peer held more of than it sent: never counted as answered, whoever else answered. */
  incomplete: Set<string>
  /** Per key, the peers that answered it in full. */
  answeredBy: Map<string, number>
  /** Peers that answered at least one page. */
  answeredPeers: Set<string>
  failures: Record<string, number>
}

/**
 * Asks one peer for `keys` (at most a request's worth), paging until every key is finished, each
 * page under its own deadline. Packets are merged into `tally` as they arrive; a key counts as
 * answered by this peer only once it is finished. A key the peer would page past `maxPerKey`
 * packets, or past MAX_FETCH_PAGES pages, or whose cursor does not move, is marked incomplete
 * (TRUNCATED) rather than answered. Throws when a request fails; what earlier pages gave is kept.
 */
export async function fetchFromPeer(
  client: SwarmClient,
  peer: PeerId,
  keys: string[],
  tally: FetchTally,
  o: {signal?: AbortSignal; timeoutMs: number; maxPerKey: number},
): Promise<void> {
  const from = peer.toString()
  let cursors = new Map<string, number>(keys.map((k) => [k, 0]))
  const taken = new Map<string, number>(keys.map((k) => [k, 0]))
  for (let pageNo = 0; cursors.size > 0; pageNo++) {
    if (pageNo >= MAX_FETCH_PAGES) {
      for (const k of cursors.keys()) tally.incomplete.add(k)
      count(tally.failures, 'TRUNCATED')
      break
    }
    const request = {keys: [...cursors.keys()], after: [...cursors.values()]}
    const signal = anySignal(o.signal, AbortSignal.timeout(o.timeoutMs))
    client.node.counters.fetchRequests++
    const got = new Map<string, number>()
    const done = await sendRequest(client.node.libp2p, peer, FETCH_PROTOCOL, encodeFetchRequest(request), signal, async (stream) => {
      const maxFrames = Math.ceil(PROTOCOL_LIMITS.maxFetchPackets / PROTOCOL_LIMITS.maxPacketsPerFrame) + request.keys.length + 1
      for await (const raw of readFrames(stream, maxFrames)) {
        const frame = decodeFetchFrame(raw, request)
        if ('done' in frame) return frame
        if (!cursors.has(frame.key)) throw new ProtocolError('BAD_REQUEST', `peer sent packets for key ${frame.key}, which was not asked for`)
        got.set(frame.key, (got.get(frame.key) ?? 0) + frame.packets.length)
        for (const bytes of frame.packets) {
          const id = `${frame.key}:${packetId(bytes)}`
          if (tally.seen.has(id)) continue
          tally.seen.add(id)
          tally.packets.push({key: frame.key, bytes, from})
        }
      }
      throw new ProtocolError('BAD_REQUEST', 'fetch reply ended without its end marker')
    })
    tally.answeredPeers.add(from)
    const next = new Map<string, number>()
    for (const [k, after] of done.more) {
      const before = cursors.get(k)!
      const total = taken.get(k)! + (got.get(k) ?? 0)
      taken.set(k, total)
      // A peer that names no new cursor (or sent nothing) would page forever; past the per-key bound we stop asking.
      if (after <= before || (got.get(k) ?? 0) === 0 || total >= o.maxPerKey) {
        tally.incomplete.add(k)
        count(tally.failures, 'TRUNCATED')
      } else next.set(k, after)
    }
    for (const k of cursors.keys()) if (!next.has(k) && !tally.incomplete.has(k)) tally.answeredBy.set(k, tally.answeredBy.get(k)! + 1)
    cursors = next
  }
}
