import {readRecords} from './readers.js'
import type {CorrectionInfo, IngestEvent, ReadOptions} from './types.js'

/**
 * Correction logs indexed by inference id, for joining while the (much larger) inference log
 * streams past. Memory: one small entry per correction (id, flag, type, outcome: ~100-200 bytes), so
 * a million corrections take ~200 MB; the inference log is never held. Corrections that no
 * inference record claims are counted by `unmatched()`.
 */
export class CorrectionIndex {
  /** Rejected rows of the correction files, plus rows without an id (not joinable). */
  readonly rejects: IngestEvent[] = []
  /** Ids seen more than once; the last row wins. */
  duplicates = 0
  private readonly byId = new Map<string, CorrectionInfo>()
  private readonly matched = new Set<string>()

  static async load(files: string[], options?: ReadOptions): Promise<CorrectionIndex> {
    const index = new CorrectionIndex()
    for (const file of files) {
      for await (const ev of readRecords(file, options)) {
        if (ev.kind === 'reject') {
          index.rejects.push(ev)
          continue
        }
        const r = ev.record
        if (r.id === undefined) {
          index.rejects.push({kind: 'reject', at: ev.at, reason: 'correction without an id cannot be joined', field: 'id'})
          continue
        }
        if (index.byId.has(r.id)) index.duplicates++
        // A row in a correction log is a correction unless it says otherwise.
        const info: CorrectionInfo = {correctionApplied: r.correctionApplied ?? true}
        if (r.correctionType !== undefined) info.correctionType = r.correctionType
        if (r.outcome !== undefined) info.outcome = r.outcome
        index.byId.set(r.id, info)
      }
    }
    return index
  }

  get size(): number {
    return this.byId.size
  }

  /** The correction for an inference id, marking it matched; undefined when there is none. */
  take(id: string): CorrectionInfo | undefined {
    const info = this.byId.get(id)
    if (info) this.matched.add(id)
    return info
  }

  /** Corrections no inference record has taken (so far). */
  unmatched(): number {
    return this.byId.size - this.matched.size
  }

  /** Up to `limit` ids of unmatched corrections, for a report. */
  unmatchedIds(limit = 10): string[] {
    const out: string[] = []
    for (const id of this.byId.keys()) {
      if (!this.matched.has(id)) out.push(id)
      if (out.length >= limit) break
    }
    return out
  }
}
