// Streaming readers for inference and correction logs (JSONL, CSV; .gz; stdin).
export {CorrectionIndex} from './corrections.js'
export {CANONICAL_FIELDS, FIELD_ALIASES, parseMapFlags, parseTimestamp} from './fields.js'
export {DEFAULT_MAX_LINE_BYTES, readRecords} from './readers.js'
export {readLines} from './lines.js'
export type {CorrectionInfo, IngestEvent, InputFormat, NormalisedRecord, ReadOptions, RecordLocation} from './types.js'
