import type {SwarmEvent} from './node.js'
import type {RefusalReason} from './protocol.js'

/**
 * `qis node`'s periodic summary (issue 17, "Log levels"): a busy node stores hundreds of batches a
 * second, and one log line per batch buries the lines an operator needs (bootstrap failures,
 * address changes). The default level folds the per-batch and per-request events into one line per
 * interval; --verbose prints them all as well.
 */
export interface ActivitySummary {
  event: 'summary'
  /** Seconds this summary covers. */
  seconds: number
  /** Store requests (batches) answered, and what they held. */
  batches: number
  stored: number
  duplicates: number
  refused: Partial<Record<RefusalReason, number>>
  evicted: number
  /** Fetch requests answered and packets sent in them. */
  served: number
  servedPackets: number
  expired: number
  /** Re-replication: packets pushed to new closest peers, and how many they did not hold yet. */
  replicatedSent: number
  replicated: number
  connects: number
  disconnects: number
  /** State at the end of the interval. */
  peers: number
  routing: number
  packets: number
}

/** Events that the default level folds into the summary instead of printing one line each. */
export const FOLDED_EVENTS = new Set<SwarmEvent['event']>(['peer:connect', 'peer:disconnect', 'stored', 'refused', 'served', 'routing'])

export class ActivityCounter {
  private since = Date.now()
  private c = ActivityCounter.empty()

  private static empty() {
    return {batches: 0, stored: 0, duplicates: 0, refused: {} as Partial<Record<RefusalReason, number>>, evicted: 0, served: 0, servedPackets: 0, expired: 0, replicatedSent: 0, replicated: 0, connects: 0, disconnects: 0}
  }

  observe(e: SwarmEvent): void {
    const c = this.c
    switch (e.event) {
      case 'stored':
        c.batches++
        c.stored += e.stored
        c.duplicates += e.duplicates
        c.evicted += e.evicted ?? 0
        for (const [r, n] of Object.entries(e.refused)) c.refused[r as RefusalReason] = (c.refused[r as RefusalReason] ?? 0) + (n ?? 0)
        break
      case 'refused':
        c.refused[e.reason] = (c.refused[e.reason] ?? 0) + 1
        break
      case 'served':
        c.served++
        c.servedPackets += e.packets
        break
      case 'expired':
        c.expired += e.dropped
        break
      case 'replicated':
        c.replicatedSent += e.sent
        c.replicated += e.stored
        break
      case 'peer:connect':
        c.connects++
        break
      case 'peer:disconnect':
        c.disconnects++
        break
      default:
    }
  }

  /** The summary of what happened since the last call, or undefined when nothing did. */
  take(state: {peers: number; routing: number; packets: number}, now = Date.now()): ActivitySummary | undefined {
    const c = this.c
    const seconds = Math.round((now - this.since) / 1000)
    this.since = now
    this.c = ActivityCounter.empty()
    const quiet = c.batches + c.served + c.expired + c.replicatedSent + c.connects + c.disconnects + Object.keys(c.refused).length === 0
    if (quiet) return undefined
    return {event: 'summary', seconds, ...c, ...state}
  }
}

/** One human line for a summary. */
export function describeSummary(s: ActivitySummary): string {
  const parts: string[] = []
  if (s.batches > 0) parts.push(`stored ${s.stored} packet(s) in ${s.batches} batch(es)${s.duplicates ? `, ${s.duplicates} duplicate(s)` : ''}${s.evicted ? `, evicted ${s.evicted}` : ''}`)
  const refused = Object.entries(s.refused).map(([r, n]) => `${r} x${n}`)
  if (refused.length > 0) parts.push(`refused ${refused.join(', ')}`)
  if (s.served > 0) parts.push(`served ${s.servedPackets} packet(s) in ${s.served} request(s)`)
  if (s.replicatedSent > 0) parts.push(`re-replicated ${s.replicated} of ${s.replicatedSent} packet(s) pushed`)
  if (s.expired > 0) parts.push(`expired ${s.expired}`)
  if (s.connects + s.disconnects > 0) parts.push(`${s.connects} peer connect(s), ${s.disconnects} disconnect(s)`)
  return `last ${s.seconds} s: ${parts.join('; ')}. Now ${s.peers} peer(s) connected, ${s.routing} in the routing table, ${s.packets} packet(s) held`
}
