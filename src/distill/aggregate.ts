/**
 * `--aggregate`: one packet per (domain, fine hash, model variant, correction, time bucket) with the
 * group's mean outcome and confidence and its record count.
 *
 * Memory grows with the number of distinct groups (about 1 KB each), so the table is bounded
 * by `maxGroups`. When it is full, the groups of the oldest time bucket(s) are closed early and handed
 * back for emission. Logs are written in time order, so an old bucket is normally complete; when a log
 * is not in order, a group closed early and seen again later becomes two packets whose counts add up
 * to the same total (receivers combine packets by count anyway). The number of early closes is reported.
 * Under `--min-count`, a group closed early is judged on the records it had when closed.
 */

export interface GroupKey {
  domain: string
  hash: string
  modelVariant: string
  correctionApplied: boolean
  correctionType: string | null
  /** Coarsened epoch seconds. */
  bucket: number
}

export interface Group extends GroupKey {
  routingKeys: string[]
  count: number
  /** Sum of outcomes, or of randomised-response bits under --epsilon. */
  outcomeSum: number
  confidenceSum: number
}

export interface GroupTableOptions {
  maxGroups: number
}

/** Default bound: ~1 KB per group measured, so about 100 MB, inside the 600 MB budget beside the embedder. */
export const DEFAULT_MAX_GROUPS = 100_000

export class GroupTable {
  private readonly groups = new Map<string, Group>()
  readonly maxGroups: number
  /** Groups closed before the end of input because the table was full. */
  earlyCloses = 0

  constructor(options: Partial<GroupTableOptions> = {}) {
    this.maxGroups = options.maxGroups ?? DEFAULT_MAX_GROUPS
    if (!Number.isInteger(this.maxGroups) || this.maxGroups < 1) throw new RangeError(`maxGroups must be a positive whole number, got ${this.maxGroups}`)
  }

  get size(): number {
    return this.groups.size
  }

  /**
   * Adds one record's values. Returns the groups closed to make room (usually none); the caller
   * emits them. The record itself always lands in the table.
   */
  add(key: GroupKey, routingKeys: string[], outcome: number, confidence: number): Group[] {
    const id = groupId(key)
    const existing = this.groups.get(id)
    if (existing) {
      existing.count++
      existing.outcomeSum += outcome
      existing.confidenceSum += confidence
      return []
    }
    const closed = this.groups.size >= this.maxGroups ? this.evictOldest() : []
    this.groups.set(id, {...key, routingKeys, count: 1, outcomeSum: outcome, confidenceSum: confidence})
    return closed
  }

  /** All remaining groups in first-seen order; empties the table. */
  drain(): Group[] {
    const all = [...this.groups.values()]
    this.groups.clear()
    return all
  }

  /** Closes whole oldest buckets until at least a tenth of the table is free, so evictions stay rare. */
  private evictOldest(): Group[] {
    const target = Math.max(1, Math.floor(this.maxGroups * 0.9))
    const out: Group[] = []
    while (this.groups.size >= target) {
      let oldest = Infinity
      for (const g of this.groups.values()) if (g.bucket < oldest) oldest = g.bucket
      for (const [id, g] of this.groups) {
        if (g.bucket === oldest) {
          out.push(g)
          this.groups.delete(id)
        }
      }
    }
    this.earlyCloses += out.length
    return out
  }
}

function groupId(k: GroupKey): string {
  // Labels cannot contain '|' (packet text rules), so the join is unambiguous.
  return `${k.domain}|${k.hash}|${k.modelVariant}|${k.correctionApplied ? (k.correctionType ?? '+') : '-'}|${k.bucket}`
}
