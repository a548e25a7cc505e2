/**
 * What distill needs from ingestion, PII scrubbing and hashing, as narrow structural types, so the
 * pipeline states its contract in one place. `loadDistillDeps` imports the real modules lazily (the
 * embedder pulls in TF.js, which `qis --help` must not pay for).
 */

// Ingestion's own types (type-only imports: nothing is loaded at run time).
import type {IngestEvent, NormalisedRecord, ReadOptions as IngestReadOptions, RecordLocation} from '../ingest/types.js'
import type {CustomRecognisers} from '../privacy/types.js'

export type SourcePosition = RecordLocation
export type DistillRecord = NormalisedRecord
export type ReadItem = IngestEvent
export type ReadOptions = Pick<IngestReadOptions, 'format' | 'delimiter' | 'map' | 'scores' | 'onSchema'>

export interface MatchedCorrection {
  correctionApplied: boolean
  outcome?: number
  correctionType?: string
  /** From join rows of log formats (an OpenAI Batch output): fill what the record lacks. */
  modelVariant?: string
  timestamp?: number
  confidence?: number
}

export interface Corrections {
  /** The correction for an inference id (marking it matched), or undefined. */
  take(id: string): MatchedCorrection | undefined
  /** Corrections no inference record has taken so far. */
  unmatched(): number
  /** Rows of the correction files that could not be used. */
  readonly rejects: ReadonlyArray<ReadItem>
  /** Readable rows that add nothing (a categorical score, a failed batch request), by reason. */
  readonly skipped?: Readonly<Record<string, number>>
  /** Reads more join files (scores, feedback, batch outputs given among the inputs) into the index. */
  add?(files: string[], options: ReadOptions): Promise<void>
}

export interface HashResult {
  hash: string
  keys: string[]
}

export interface HashPipeline {
  hashMany(texts: string[]): Promise<HashResult[]>
  stats(): Record<string, number>
  close(): Promise<void>
}

export interface DistillDeps {
  readRecords(file: string, options: ReadOptions): AsyncIterable<ReadItem>
  /** `--map canonical=source` pairs to a map; throws QisError on bad syntax, before any work. */
  parseMap(pairs: string[]): Record<string, string>
  loadCorrections(files: string[], options: ReadOptions): Promise<Corrections>
  /** True when a file's records only add to others (scores, feedback, batch outputs); undefined when unknown (stdin). */
  isJoinSource?(file: string, options: ReadOptions): Promise<boolean | undefined>
  createScrubber(options?: {custom?: CustomRecognisers}): {scrub(text: string): {text: string}}
  createHashPipeline(options: {backend?: string; modelDir?: string; allowDownload?: boolean; codebook?: string}): Promise<{pipeline: HashPipeline; scheme: string}>
}
