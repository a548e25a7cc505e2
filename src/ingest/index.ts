// Streaming readers for inference and correction logs (JSONL, CSV; .gz; stdin).
export {CorrectionIndex, isJoinSource} from './corrections.js'
export {CANONICAL_FIELDS, FIELD_ALIASES, parseMapFlags, parseTimestamp} from './fields.js'
export {DEFAULT_MAX_LINE_BYTES, readRecords} from './readers.js'
export {readLines} from './lines.js'
export {INPUT_FORMATS} from './types.js'
export {SCHEMAS, detectSchema, type Schema, type ScoreMapping} from './formats/index.js'
export type {CorrectionInfo, IngestEvent, InputFormat, NormalisedRecord, ReadOptions, RecordLocation, SourceInfo} from './types.js'
