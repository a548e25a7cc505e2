import {createHash} from 'node:crypto'
import {promises as fs} from 'node:fs'
import path from 'node:path'

import {QisError, errorMessage} from '../util/errors.js'
import {embedInLengthGroups} from './groups.js'
import {normalizeInPlace} from './normalize.js'
import type {Embedder} from './types.js'

export interface TransformersEmbedderOptions {
  /** Local model folder laid out like a Hugging Face repo: config.json, tokenizer.json, onnx/model[_quantized].onnx. */
  modelDir: string
  /**
   * Fetch missing files from the hub. The last two segments of modelDir are then the hub name
   * (…/Xenova/all-MiniLM-L6-v2), and downloaded files land in modelDir, so later runs are offline.
   */
  allowDownload?: boolean
}

type FeatureExtractor = ((texts: string[], options: {pooling: 'mean'; normalize: boolean}) => Promise<{
  data: Float32Array
  dims: number[]
}>) & {dispose?: () => Promise<void>; tokenizer: {encode(text: string): number[]}}

/**
 * Texts of one token count sent in one model call, at most. Attention tensors grow with the square
 * of the length, so this keeps the worst case (long texts) where plain batches of 32 had it.
 */
const MAX_GROUP = 32

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  )
}

/**
 * @xenova/transformers feature extraction (mean pooling, L2-normalised) on a local ONNX model.
 * Remote loading stays off unless allowDownload, so a missing file is an error naming the path,
 * never a silent network fetch.
 */
export async function createTransformersEmbedder(options: TransformersEmbedderOptions): Promise<Embedder> {
  const modelDir = path.resolve(options.modelDir)
  const allowDownload = Boolean(options.allowDownload)
  const local = await exists(path.join(modelDir, 'config.json'))
  if (!local && !allowDownload) {
    throw new QisError(
      `No model at ${modelDir}: expected config.json, tokenizer.json and onnx/model.onnx (or onnx/model_quantized.onnx). ` +
        'Point --model-dir (or QIS_MODEL_DIR) at a downloaded model, or add --allow-download.',
      {code: 'MODEL_NOT_FOUND'},
    )
  }
  const quantizedPath = path.join(modelDir, 'onnx', 'model_quantized.onnx')
  const plainPath = path.join(modelDir, 'onnx', 'model.onnx')
  const hasQuantized = await exists(quantizedPath)
  const hasPlain = await exists(plainPath)
  if (local && !hasQuantized && !hasPlain && !allowDownload) {
    throw new QisError(`No ONNX weights in ${modelDir}: expected onnx/model.onnx or onnx/model_quantized.onnx.`, {
      code: 'MODEL_NOT_FOUND',
    })
  }
  // Prefer the quantised file when both exist, as transformers.js does; fetch the quantised one by default.
  const quantized = hasQuantized || !hasPlain

  const segments = modelDir.split(path.sep).filter(Boolean)
  const nameDepth = allowDownload ? 2 : 1
  if (segments.length < nameDepth) throw new QisError(`--model-dir ${modelDir} is too short to name a model.`, {code: 'BAD_FLAG'})
  const modelName = segments.slice(-nameDepth).join('/')
  const root = path.sep + segments.slice(0, -nameDepth).join(path.sep)

  let extractor: FeatureExtractor
  try {
    const transformers = await import('@xenova/transformers')
    const {env} = transformers
    env.allowLocalModels = true
    env.localModelPath = root.endsWith(path.sep) ? root : root + path.sep
    env.allowRemoteModels = allowDownload
    // Downloads are cached under the same root, so the files end up in modelDir itself.
    env.cacheDir = env.localModelPath
    extractor = (await transformers.pipeline('feature-extraction', modelName, {quantized})) as unknown as FeatureExtractor
  } catch (err) {
    throw new QisError(`Could not load the transformers model in ${modelDir}: ${errorMessage(err)}`, {
      code: 'EMBEDDER_LOAD',
      cause: err,
    })
  }

  // The id names the model and pins its weights, so two different models never share a scheme.
  const weights = await fs.readFile(quantized ? quantizedPath : plainPath)
  const digest = createHash('sha256').update(weights).digest('hex').slice(0, 8)
  const slug = (segments.at(-1) ?? 'model').toLowerCase().replace(/[^a-z0-9.-]+/g, '-').slice(0, 24)
  const probe = await extractor(['dimension probe'], {pooling: 'mean', normalize: true})
  const dimension = probe.dims.at(-1) ?? 0
  let closed = false
  return {
    id: `transformers:${slug}.${digest}`,
    dimension,
    // Larger calls give larger equal-length groups. On a one-layer, 384-wide copy of the test model
    // (no real model can be fetched here), grouping within 256 texts ran 1.4-1.7x plain batches of
    // 32, grouping within 32 1.1-1.5x (docs/hashing.md, "Determinism").
    preferredBatchSize: 256,
    async embed(texts: string[]): Promise<Float32Array[]> {
      if (closed) throw new Error('transformers embedder is closed')
      if (texts.length === 0) return []
      // Grouped by token count so that a text's vector never depends on its batch (src/embed/groups.ts).
      return embedInLengthGroups(
        texts,
        (text) => extractor.tokenizer.encode(text).length,
        async (group) => {
          const out = await extractor(group, {pooling: 'mean', normalize: true})
          return group.map((_, i) => normalizeInPlace(Float32Array.from(out.data.subarray(i * dimension, (i + 1) * dimension))))
        },
        MAX_GROUP,
      )
    },
    async close(): Promise<void> {
      closed = true
      await extractor.dispose?.()
    },
  }
}
