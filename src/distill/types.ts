import type {ScoreMapping} from '../config/config.js'
import type {Home} from '../config/home.js'
import type {InputFormat} from '../ingest/types.js'
import type {EmbedderConfig} from '../embed/types.js'
import type {Signer} from '../packet/signer.js'
import type {UniformSource} from './ldp.js'

export interface DistillOptions {
  /** Log files (JSONL or CSV, optionally .gz); `-` is stdin. */
  files: string[]
  /** Correction logs joined to records by id. */
  corrections?: string[]
  /** Domain for records that carry none (before the config's defaultDomain). */
  domain?: string
  /** Store to write. Default: a new `<home>/packets/<UTC time>-<run id>.qisp`. */
  out?: string
  /** Rejects JSONL. Default: beside the store, written only when something was rejected. */
  rejects?: string
  /** A container or log schema (ingest INPUT_FORMATS); default: container by extension, schema detected. */
  format?: InputFormat
  delimiter?: string
  /** `canonical=source` column overrides, as given on the command line. */
  map?: string[]
  /** Format of the correction logs (as `format`). */
  correctionsFormat?: InputFormat
  /** `canonical=source` overrides for the correction logs. */
  correctionsMap?: string[]
  /** A named profile from config `profiles`: format, maps, scores, domain, default confidence; options given here win. */
  profile?: string
  /** How scores and feedback become outcomes and corrections (over the profile's). */
  scores?: ScoreMapping
  /** Logged model name -> public name, over the config's modelAlias (see model-name.ts). */
  modelAlias?: Record<string, string>
  /** One packet per group instead of one per record. */
  aggregate?: boolean
  /** Timestamps are floored to this many seconds (0 = to the second). Default 3600. */
  timeResolutionSeconds?: number
  /** Aggregates supported by fewer records are suppressed. Default 1 (nothing suppressed). */
  minCount?: number
  /**
   * After the records, one domain summary per (domain, model variant) of the records written
   * (docs/protocol.md, "Domain summaries"). Default true; false is `--no-domain-summary`.
   */
  domainSummary?: boolean
  /** Local-DP budget per record for the outcome signal (randomised response). Default: no noise. */
  epsilon?: number
  /** Confidence for records that carry none; without it they are skipped. */
  defaultConfidence?: number
  /** How long peers keep a packet, in hours counted from this run. Default 168 (a week). */
  ttlHours?: number
  /** Any reject stops the run with an error and writes nothing. */
  strict?: boolean
  /** Bound on distinct aggregate groups held in memory (see aggregate.ts). */
  maxGroups?: number
  /** The embedder to hash with. Default: the config's. */
  embedder?: EmbedderConfig
  /** Records per embedding batch. */
  batchSize?: number
  /** The home: identity (signer), config (defaultDomain, embedder) and packets folder. */
  home: Home
  /** Overrides the home identity's signer (tests, libraries with their own keys). */
  signer?: Signer
  /** Called about four times a second while the run works. */
  onProgress?: (progress: DistillProgress) => void
  /** Aborting stops the run at the next record; nothing is left under the final names. */
  signal?: AbortSignal
  /** Noise source for --epsilon. Default: crypto-strength. Tests pass a seeded one. */
  uniform?: UniformSource
  /** Epoch milliseconds of "now" (tests). */
  now?: number
}

export interface DistillProgress {
  read: number
  emitted: number
  /** Input bytes through the last record finished (emitted, rejected or skipped), and the inputs' total size; set when every input is a file. */
  bytesDone?: number
  bytesTotal?: number
  seconds: number
}

export interface DistillCounts {
  /** Records read: always emitted + rejected + skipped. */
  read: number
  /** Records carried by packets in the store (with --aggregate, records, not packets). */
  emitted: number
  rejected: number
  skipped: number
  correctionsMatched: number
  correctionsUnmatched: number
  /** Rows of the correction logs that could not be used (also listed in the rejects file). */
  correctionsRejected: number
  /** Readable join rows that add nothing (a categorical score, a failed batch request). */
  correctionsSkipped: number
}

export interface StageTimes {
  /** Wall seconds before the first record: checks, identity, corrections index, model load. */
  setup: number
  /** Wall seconds spent waiting for the reader (read + parse + normalise + correction join). */
  parse: number
  scrub: number
  /** Embedding and hashing (cache lookups included). */
  embed: number
  /** Building, signing, encoding and writing packets. */
  signWrite: number
}

export interface DistillSummary {
  counts: DistillCounts
  /** The packet store written (absolute path), or null when no record yielded a packet (no store is written then). */
  out: string | null
  /** The rejects file written, or null when nothing was rejected and no --rejects was given. */
  rejects: string | null
  packets: number
  /** Packets not written because they were byte-identical to one already in the store (their records are skipped). */
  duplicatePackets: number
  /** Size of the store file, header included (0 when none was written). */
  bytes: number
  rejectedByReason: Record<string, number>
  skippedByReason: Record<string, number>
  /** Emitted records per domain. */
  domains: Record<string, number>
  seconds: number
  recordsPerSecond: number
  /** The hashing scheme; null when no record reached the hash stage, so the model was never loaded. */
  scheme: string | null
  /** Present with --aggregate. */
  aggregate: {groups: number; packets: number; suppressedGroups: number; compressionRatio: number; earlyCloses: number; maxGroups: number} | null
  /**
   * Domain summaries written after the records (not in `packets` nor in `counts`: they carry the
   * same records again). Null with --no-domain-summary.
   */
  summaries: {written: number} | null
  privacy: {timeResolution: string; timeResolutionSeconds: number; minCount: number; epsilon: number | null; mechanism: string | null}
  stages: StageTimes
  /** Embedding cache figures from the hash pipeline. */
  cache: Record<string, number>
  /** Orphaned temp stores of killed runs removed from the output folder(s) before this run. */
  tempFilesRemoved: number
  correctionsSkippedByReason: Record<string, number>
  /** For files none of whose records could be used for want of a field: the keys seen and the --map to try. */
  hints: string[]
}
