import type {ScoreMapping} from './formats/index.js'

/** One inference-log record reduced to the fields qis uses. Absent fields are undefined. */
export interface NormalisedRecord {
  id?: string
  /** The user's query; kept in memory only long enough to scrub and embed it. */
  query?: string
  domain?: string
  /** 0..1: how well the answer went (score, scaled rating, thumbs). */
  outcome?: number
  /** 0..1: the model's confidence at inference time. */
  confidence?: number
  modelVariant?: string
  correctionApplied?: boolean
  correctionType?: string
  /** Epoch milliseconds. */
  timestamp?: number
  /** Further ids a join row may be keyed by (the trace of a Langfuse observation or LangSmith run). */
  joinIds?: string[]
  /** Set when the record is not an inference (a Langfuse SPAN, a tool run): the reason it is skipped. */
  skip?: string
  /** A row that adds to another record rather than being one (a score, feedback, an OpenAI batch output). */
  join?: boolean
}

export interface RecordLocation {
  file: string
  /** 1-based line where the record starts. */
  line: number
  /**
   * Byte offset in the file just past the record (and its line ending): how much of the file a
   * reader that has finished this record is through. Set for JSONL (also a .json file of JSON
   * lines) and CSV; absent where the bytes of a record are not known: a JSON array, Parquet, a .gz
   * file (its offsets are not the file's).
   */
  end?: number
}

/** What a reader yields for each input record. A reject never carries the record's text. */
export type IngestEvent =
  | {kind: 'record'; at: RecordLocation; record: NormalisedRecord}
  | {kind: 'reject'; at: RecordLocation; reason: string; field?: string}

/** A container (jsonl, json, csv, parquet: the schema is then detected), a log schema (the container from the extension), or `generic` (no detection). */
export const INPUT_FORMATS = ['jsonl', 'json', 'csv', 'parquet', 'generic', 'otel', 'langfuse', 'langsmith', 'openai-batch', 'helicone'] as const
export type InputFormat = (typeof INPUT_FORMATS)[number]

/** What a reader found at the start of a file, for messages about records it could not use. */
export interface SourceInfo {
  file: string
  container: 'jsonl' | 'json' | 'csv' | 'parquet'
  schema: string
  /** Top-level keys (CSV: columns) of the first record. */
  keys: string[]
}

export interface ReadOptions {
  /** Default: container from the extension, schema from the first record (see INPUT_FORMATS). */
  format?: InputFormat
  /** CSV delimiter; default: auto-detected (tab for .tsv). */
  delimiter?: string
  /** canonical field -> source field/column, overriding the built-in names (see parseMapFlags). */
  map?: Record<string, string>
  /** How scores and feedback (Langfuse, LangSmith, Helicone) become outcomes and corrections. */
  scores?: ScoreMapping
  /** Called once per file with its container, schema and the first record's keys. */
  onSchema?: (info: SourceInfo) => void
  /** Called when a file (not stdin, not Parquet) is opened, with how far into it the stream is (see openSource): progress where records carry no `end`. */
  onOpen?: (bytesRead: () => number) => void
  /** Longest accepted JSONL line (bytes) or CSV record (characters); longer ones are rejected without being buffered. Default 1 MiB. */
  maxLineBytes?: number
}

/** What a correction log (or a join row: score, feedback, batch output) contributes to the inference record with the same id. */
export interface CorrectionInfo {
  correctionApplied: boolean
  correctionType?: string
  outcome?: number
  modelVariant?: string
  timestamp?: number
  confidence?: number
}
