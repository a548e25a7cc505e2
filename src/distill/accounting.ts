import {MAX_TTL_HOURS} from '../packet/types.js'
import type {DistillCounts} from './types.js'

/** Reasons a record is skipped (valid, but no packet can or should carry it). One spelling each. */
export const SKIP = {
  noOutcome: 'no outcome signal',
  noConfidence: 'no confidence (pass --default-confidence to use a fixed one)',
  noQuery: 'no query text',
  future: 'timestamp in the future',
  tooOld: `older than the longest packet lifetime (${MAX_TTL_HOURS} hours)`,
  belowMinCount: 'below min-count',
  joinRow: 'a score, feedback or batch output row among inference records',
  duplicate: 'duplicate packet (byte-identical to one already in the packet store)',
} as const

/**
 * The one tally of a run. Every record read ends in exactly one of emitted, rejected or skipped
 * (with --aggregate, a record counts when its group is written or dropped), so the three add up to
 * `read`; `balanced()` says whether they do.
 */
export class Accounting {
  read = 0
  emitted = 0
  rejected = 0
  skipped = 0
  /** Packets written (with --aggregate, fewer than records emitted). */
  packets = 0
  /** Packets not written because the store already held the same bytes. */
  duplicatePackets = 0
  suppressedGroups = 0
  /** Domain summaries written: apart from the records' tally, which they do not change. */
  summaries = 0
  correctionsMatched = 0
  correctionsUnmatched = 0
  correctionsRejected = 0
  correctionsSkipped = 0
  readonly rejectedByReason: Record<string, number> = {}
  readonly skippedByReason: Record<string, number> = {}
  readonly correctionsSkippedByReason: Record<string, number> = {}
  /** Emitted records per domain. */
  readonly domains: Record<string, number> = {}

  reject(reason: string): void {
    this.rejected++
    add(this.rejectedByReason, reason, 1)
  }

  skip(reason: string, records = 1): void {
    this.skipped += records
    add(this.skippedByReason, reason, records)
  }

  /** One packet written, carrying `records` records of `domain`. */
  emit(domain: string, records: number): void {
    this.packets++
    this.emitted += records
    add(this.domains, domain, records)
  }

  correctionsSkippedFrom(byReason: Readonly<Record<string, number>>): void {
    for (const [reason, n] of Object.entries(byReason)) {
      this.correctionsSkipped += n
      add(this.correctionsSkippedByReason, reason, n)
    }
  }

  balanced(): boolean {
    return this.read === this.emitted + this.rejected + this.skipped
  }

  counts(): DistillCounts {
    const {read, emitted, rejected, skipped, correctionsMatched, correctionsUnmatched, correctionsRejected, correctionsSkipped} = this
    return {read, emitted, rejected, skipped, correctionsMatched, correctionsUnmatched, correctionsRejected, correctionsSkipped}
  }
}

function add(to: Record<string, number>, key: string, n: number): void {
  to[key] = (to[key] ?? 0) + n
}
