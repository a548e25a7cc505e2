import {readRecords} from './readers.js'
import type {CorrectionInfo, IngestEvent, NormalisedRecord, ReadOptions} from './types.js'

interface Entry extends CorrectionInfo {
  /** Rows with an outcome merged into this entry, for the mean. */
  outcomes: number
}

/**
 * Rows that add to inference records, indexed by id, for joining while the (much larger) inference
 * log streams past: correction logs, and the join side of log formats (Langfuse scores, LangSmith
 * feedback, OpenAI Batch output files). Memory: one small entry per id (flag, type, outcome, model,
 * time, confidence: ~150-250 bytes), so a million take ~250 MB; the inference log is never held.
 * Rows with the same id are combined: outcomes averaged (several scores of one trace), a correction
 * if any row says so, the last correction type, and the first model, time and confidence.
 * Entries no inference record claims are counted by `unmatched()`.
 */
export class CorrectionIndex {
  /** Rejected rows of the correction files, plus rows without an id (not joinable). */
  readonly rejects: IngestEvent[] = []
  /** Ids seen more than once (combined as above). */
  duplicates = 0
  /** Rows that were readable but add nothing (a categorical score, a failed batch request), by reason. */
  readonly skipped: Record<string, number> = {}
  private readonly byId = new Map<string, Entry>()
  private readonly matched = new Set<string>()

  static async load(files: string[], options?: ReadOptions): Promise<CorrectionIndex> {
    const index = new CorrectionIndex()
    await index.add(files, options)
    return index
  }

  /** Reads more files into the index. */
  async add(files: string[], options?: ReadOptions): Promise<void> {
    for (const file of files) {
      for await (const ev of readRecords(file, options)) {
        if (ev.kind === 'reject') {
          this.rejects.push(ev)
          continue
        }
        const r = ev.record
        if (r.skip !== undefined) {
          this.skipped[r.skip] = (this.skipped[r.skip] ?? 0) + 1
          continue
        }
        if (r.id === undefined) {
          this.rejects.push({kind: 'reject', at: ev.at, reason: 'correction without an id cannot be joined', field: 'id'})
          continue
        }
        this.merge(r.id, r)
      }
    }
  }

  private merge(id: string, r: NormalisedRecord): void {
    // A row in a correction log is a correction unless it says otherwise; join rows of log formats say.
    const correctionApplied = r.correctionApplied ?? true
    const old = this.byId.get(id)
    if (!old) {
      const e: Entry = {correctionApplied, outcomes: r.outcome === undefined ? 0 : 1}
      if (r.correctionType !== undefined) e.correctionType = r.correctionType
      if (r.outcome !== undefined) e.outcome = r.outcome
      if (r.modelVariant !== undefined) e.modelVariant = r.modelVariant
      if (r.timestamp !== undefined) e.timestamp = r.timestamp
      if (r.confidence !== undefined) e.confidence = r.confidence
      this.byId.set(id, e)
      return
    }
    this.duplicates++
    old.correctionApplied ||= correctionApplied
    if (r.correctionType !== undefined) old.correctionType = r.correctionType
    if (r.outcome !== undefined) {
      old.outcome = ((old.outcome ?? 0) * old.outcomes + r.outcome) / (old.outcomes + 1)
      old.outcomes++
    }
    old.modelVariant ??= r.modelVariant
    old.timestamp ??= r.timestamp
    old.confidence ??= r.confidence
  }

  get size(): number {
    return this.byId.size
  }

  /** The entry for an inference id, marking it matched; undefined when there is none. */
  take(id: string): CorrectionInfo | undefined {
    const info = this.byId.get(id)
    if (!info) return undefined
    this.matched.add(id)
    const {outcomes: _, ...out} = info
    return out
  }

  /** Entries no inference record has taken (so far). */
  unmatched(): number {
    return this.byId.size - this.matched.size
  }

  /** Up to `limit` ids of unmatched entries, for a report. */
  unmatchedIds(limit = 10): string[] {
    const out: string[] = []
    for (const id of this.byId.keys()) {
      if (!this.matched.has(id)) out.push(id)
      if (out.length >= limit) break
    }
    return out
  }
}

/** Whether a file's first record is a join row (scores, feedback, batch outputs) rather than an inference. Undefined for stdin or a file without records. */
export async function isJoinSource(file: string, options?: ReadOptions): Promise<boolean | undefined> {
  if (file === '-') return undefined
  for await (const ev of readRecords(file, {...options, onSchema: undefined, onOpen: undefined})) {
    if (ev.kind === 'record') return ev.record.join === true
  }
  return undefined
}
