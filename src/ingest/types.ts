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
}

export interface RecordLocation {
  file: string
  /** 1-based line where the record starts. */
  line: number
}

/** What a reader yields for each input record. A reject never carries the record's text. */
export type IngestEvent =
  | {kind: 'record'; at: RecordLocation; record: NormalisedRecord}
  | {kind: 'reject'; at: RecordLocation; reason: string; field?: string}

export type InputFormat = 'jsonl' | 'csv'

export interface ReadOptions {
  /** Default: from the file extension (.jsonl/.ndjson/.json -> jsonl, .csv/.tsv -> csv; .gz stripped first); stdin: jsonl. */
  format?: InputFormat
  /** CSV delimiter; default: auto-detected (tab for .tsv). */
  delimiter?: string
  /** canonical field -> source field/column, overriding the built-in names (see parseMapFlags). */
  map?: Record<string, string>
  /** Longest accepted JSONL line (bytes) or CSV record (characters); longer ones are rejected without being buffered. Default 1 MiB. */
  maxLineBytes?: number
}

/** What a correction log contributes to the inference record with the same id. */
export interface CorrectionInfo {
  correctionApplied: boolean
  correctionType?: string
  outcome?: number
}
