// Text to codes, in one place: model input (embeddingText) -> embedding -> fine hash and routing
// keys, for distill, `qis hash` and adjust alike (each scrubs first), so a query meets the same keys wherever it is hashed.
import os from 'node:os'

import type {Embedder, EmbedderConfig} from '../embed/types.js'
import type {Scrubber} from '../privacy/types.js'
import type {HashScheme, SemanticCodes} from './index.js'
import {embeddingText, embeddingTextHead} from './input.js'

export type {SemanticCodes} from './index.js'

/** Model inputs longer than this are embedded every time, never cached (bounds the cache's memory: 10,000 x 4 KiB). */
export const MAX_CACHED_CHARS = 4096
/** Scrubbed texts longer than this get their model input from a head when the model reads only that far. */
const LONG_TEXT_CHARS = 16_384

/**
 * Text in, semantic codes out, in order: what distill, `qis hash` and adjust ask of a pipeline
 * (HashPipeline, or a stand-in in tests). The callers scrub first.
 */
export interface TextHasher {
  hashMany(texts: string[]): Promise<SemanticCodes[]>
  /** Counters for a run's summary (HashPipeline: texts embedded, cache hits). */
  stats(): Record<string, number>
  /** HashPipeline.modelInputOfHead: lets the hash path scrub a long text's head only. */
  modelInputOfHead?(scrubbedHead: string): string | undefined
  close(): Promise<void>
}

export interface HashPipelineOptions {
  /** Texts per embedder call. Default: the embedder's preferredBatchSize (256 for both backends), else 32. */
  batchSize?: number
  /** Distinct texts remembered within this pipeline (least recently used dropped). Default 10,000. */
  cacheSize?: number
  /**
   * Extra worker threads, each with its own model copy (~150 MB for use-lite). 'auto': see
   * plannedWorkers (docs/hashing.md, "Threads", says what was measured). Default 'auto'.
   */
  workers?: number | 'auto'
  /** How to build the embedder in a worker thread (required for workers > 0). */
  embedderConfig?: EmbedderConfig
}

/**
 * Texts in, semantic codes out, in order. Identical texts (after scrubbing, which the caller
 * does) are embedded once per pipeline: later copies are cache hits and cost no model time.
 */
export class HashPipeline implements TextHasher {
  private readonly embedder: Embedder
  private readonly scheme: HashScheme
  readonly batchSize: number
  private readonly cacheSize: number
  private readonly workersOption: number | 'auto'
  private readonly embedderConfig: EmbedderConfig | undefined
  private readonly cache = new Map<string, SemanticCodes>()
  private pool: import('./worker-pool.js').WorkerPool | undefined
  private embedded = 0
  private cacheHits = 0

  constructor(embedder: Embedder, scheme: HashScheme, options: HashPipelineOptions = {}) {
    this.embedder = embedder
    this.scheme = scheme
    this.batchSize = Math.max(1, Math.floor(options.batchSize ?? embedder.preferredBatchSize ?? 32))
    this.cacheSize = Math.max(0, Math.floor(options.cacheSize ?? 10_000))
    this.workersOption = options.workers ?? 'auto'
    this.embedderConfig = options.embedderConfig
  }

  async hashMany(texts: string[]): Promise<SemanticCodes[]> {
    const out = new Array<SemanticCodes | undefined>(texts.length)
    const pending = new Map<string, number[]>()
    for (let i = 0; i < texts.length; i++) {
      // Keyed by what the model sees, so "<PERSON> called" and "someone called" share one embedding.
      const text = this.modelInput(texts[i])
      const hit = this.cache.get(text)
      if (hit) {
        // Refresh recency: Map iteration order is insertion order, so re-insert.
        this.cache.delete(text)
        this.cache.set(text, hit)
        out[i] = hit
        this.cacheHits++
        continue
      }
      const slots = pending.get(text)
      if (slots) {
        slots.push(i)
        this.cacheHits++
      } else pending.set(text, [i])
    }
    const unique = [...pending.keys()]
    const codes = await this.codesFor(unique)
    for (let u = 0; u < unique.length; u++) {
      for (const i of pending.get(unique[u])!) out[i] = codes[u]
      this.remember(unique[u], codes[u])
    }
    this.embedded += unique.length
    return out as SemanticCodes[]
  }

  stats(): {embedded: number; cacheHits: number} {
    return {embedded: this.embedded, cacheHits: this.cacheHits}
  }

  async close(): Promise<void> {
    await this.pool?.close()
    this.pool = undefined
    await this.embedder.close()
  }

  /**
   * embeddingText of a scrubbed text; of a long one's head, doubling from 8,192 characters, once
   * the model reads no further (a 900 KB prompt's model input took 0.19 s whole).
   */
  private modelInput(scrubbed: string): string {
    return this.modelInputOfHead(scrubbed) ?? embeddingText(scrubbed)
  }

  /**
   * The model input of every scrubbed text that begins with `scrubbedHead`, when that head settles
   * it: the doubling in modelInput stops within the head, at a cut the head holds. undefined when
   * it does not (the text is short, the model reads everything, the scheme reads the text itself).
   */
  modelInputOfHead(scrubbedHead: string): string | undefined {
    const readsNoFurtherThan = this.embedder.readsNoFurtherThan?.bind(this.embedder)
    // Past LONG_TEXT_CHARS the head, hence every text it begins, is long enough to be cut.
    if (scrubbedHead.length <= LONG_TEXT_CHARS || !readsNoFurtherThan || this.scheme.readsText) return undefined
    for (let chars = LONG_TEXT_CHARS / 2; chars < scrubbedHead.length; chars *= 2) {
      const head = embeddingTextHead(scrubbedHead, chars)
      if (head === undefined) return undefined
      if (readsNoFurtherThan(head)) return head
    }
    return undefined
  }

  private remember(text: string, codes: SemanticCodes): void {
    // A long prompt is seldom asked twice word for word, and 10,000 of them at up to 1 MiB each
    // would hold gigabytes; queries are far shorter than this.
    if (this.cacheSize === 0 || text.length > MAX_CACHED_CHARS) return
    this.cache.set(text, codes)
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string)
  }

  /**
   * Worker threads this pipeline will use for large calls. 'auto': none for embedders on
   * onnxruntime (it spreads a call over the cores itself, and crashes now and then in worker
   * threads) or below 4 cores (two model copies on 2 cores gave ~1.15x one), else one per spare
   * core up to 7. Streaming callers should hand hashMany 2 x batchSize x (workers + 1) texts at a time.
   */
  get plannedWorkers(): number {
    if (!this.embedderConfig) return 0
    if (this.workersOption === 'auto') {
      if (this.embedderConfig.backend === 'transformers' || (this.embedder as {runtime?: string}).runtime === 'onnx') return 0
      const cores = os.availableParallelism()
      return cores >= 4 ? Math.min(cores - 1, 7) : 0
    }
    return Math.max(0, Math.floor(this.workersOption))
  }

  private async codesFor(texts: string[]): Promise<SemanticCodes[]> {
    if (texts.length === 0) return []
    // A call smaller than two batches is never worth waking the workers (or loading their models).
    const workers = texts.length >= 2 * this.batchSize ? this.plannedWorkers : 0
    if (workers > 0) {
      if (!this.pool) {
        const {WorkerPool} = await import('./worker-pool.js')
        this.pool = new WorkerPool(this.embedderConfig!, workers)
      }
      return this.pool.run(texts, this.batchSize, (batch) => this.codesInProcess(batch))
    }
    return this.codesInProcess(texts)
  }

  private async codesInProcess(texts: string[]): Promise<SemanticCodes[]> {
    const out: SemanticCodes[] = []
    for (let i = 0; i < texts.length; i += this.batchSize) {
      const batch = texts.slice(i, i + this.batchSize)
      out.push(...(await this.scheme.codes(await this.embedder.embed(batch), batch)))
    }
    return out
  }
}

/** Raw texts longer than this are scrubbed from a head first on the hash path (scrubbedForHash). */
export const SCRUB_HEAD_CHARS = 2 * LONG_TEXT_CHARS

/**
 * A raw text scrubbed for hashing: what `scrubber.scrub(raw).text` would give, or a head of it from
 * which `hasher` makes the same model input, hence the same codes. Scrubbing costs more than the
 * model on a long prompt (0.5-0.9 s of a 900 KB prompt's 1.4 s) though the model reads its first
 * 128 tokens only, so the raw head scrubbed doubles from SCRUB_HEAD_CHARS until it settles the model
 * input (Scrubber.head says why the head's scrub is the whole's). Output of `qis scrub` never comes
 * from here: it must scrub everything.
 */
export function scrubbedForHash(scrubber: Pick<Scrubber, 'head'> & {scrub(text: string): {text: string}}, raw: string, hasher: Pick<TextHasher, 'modelInputOfHead'> | undefined): string {
  if (raw.length > SCRUB_HEAD_CHARS && scrubber.head && hasher?.modelInputOfHead) {
    for (let chars = SCRUB_HEAD_CHARS; chars < raw.length; chars *= 2) {
      const head = scrubber.head(raw, chars)
      if (head === undefined) break
      if (hasher.modelInputOfHead(head) !== undefined) return head
    }
  }
  return scrubber.scrub(raw).text
}

/** Embedder + scheme + pipeline in one call: what `qis hash` and `qis distill` use. */
export async function createHashPipeline(
  config: EmbedderConfig & {workers?: number | 'auto'; batchSize?: number; cacheSize?: number},
): Promise<{pipeline: HashPipeline; scheme: HashScheme}> {
  const [{createEmbedder}, {readCodebookFile, schemeForConfig}] = await Promise.all([import('../embed/index.js'), import('./index.js')])
  // A bad codebook file is refused before the model spends a second or more loading.
  const codebook = config.codebook === undefined ? undefined : readCodebookFile(config.codebook)
  const embedder = await createEmbedder(config)
  const scheme = schemeForConfig(embedder, config, codebook)
  const pipeline = new HashPipeline(embedder, scheme, {
    batchSize: config.batchSize,
    cacheSize: config.cacheSize,
    workers: config.workers,
    embedderConfig: {backend: config.backend, modelDir: config.modelDir, allowDownload: config.allowDownload, codebook: config.codebook},
  })
  return {pipeline, scheme}
}
