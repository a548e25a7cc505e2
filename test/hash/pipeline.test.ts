import {mkdtempSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {HashPipeline, MAX_CACHED_CHARS, createHashPipeline} from '../../src/hash/pipeline.js'
import {createEmbedder} from '../../src/embed/index.js'
import type {Embedder} from '../../src/embed/types.js'
import {schemeFor} from '../../src/hash/index.js'
import {repoRoot} from '../helpers/cli.js'
import {writeGroupCodebook} from '../helpers/codebook.js'

const modelDir = path.join(repoRoot, 'fixtures/models/qis-tiny-bert')

/** Records the texts that reach the model, and how many each call brought, so cache hits and batching are observable. */
function counting(inner: Embedder, preferredBatchSize?: number): Embedder & {seen: string[]; calls: number[]} {
  const seen: string[] = []
  const calls: number[] = []
  return {
    id: inner.id,
    dimension: inner.dimension,
    preferredBatchSize,
    seen,
    calls,
    async embed(texts) {
      seen.push(...texts)
      calls.push(texts.length)
      return inner.embed(texts)
    },
    close: () => inner.close(),
  }
}

describe('HashPipeline', () => {
  let base: Embedder

  beforeAll(async () => {
    base = await createEmbedder({backend: 'transformers', modelDir})
  })
  afterAll(async () => {
    await base?.close()
  })

  it('returns codes in input order, equal to hashing each vector directly', async () => {
    const scheme = schemeFor(base)
    const pipeline = new HashPipeline(base, scheme, {batchSize: 2, workers: 0})
    const texts = ['reset my password', 'the cat and the dog', 'refund my order', 'python code error', 'music song']
    const codes = await pipeline.hashMany(texts)
    const vecs = await base.embed(texts)
    expect(codes).toEqual(vecs.map((v, i) => ({hash: scheme.fineHash(v), keys: scheme.routingKeys(v, texts[i])})))
  })

  it('embeds each distinct text once: repeats within and across calls are cache hits', async () => {
    const embedder = counting(base)
    const pipeline = new HashPipeline(embedder, schemeFor(base), {batchSize: 4, workers: 0})
    const first = await pipeline.hashMany(['a dog', 'a cat', 'a dog', 'a dog'])
    expect(first[0]).toEqual(first[2])
    expect(embedder.seen).toEqual(['a dog', 'a cat'])
    await pipeline.hashMany(['a cat', 'a bird'])
    expect(embedder.seen).toEqual(['a dog', 'a cat', 'a bird'])
    expect(pipeline.stats()).toEqual({embedded: 3, cacheHits: 3})
  })

  it("calls the embedder with its preferred number of texts unless a batch size is given", async () => {
    const texts = ['one', 'two', 'three', 'four', 'five', 'six', 'seven']
    const preferred = counting(base, 3)
    await new HashPipeline(preferred, schemeFor(base), {workers: 0}).hashMany(texts)
    expect(preferred.calls).toEqual([3, 3, 1])
    const given = counting(base, 3)
    await new HashPipeline(given, schemeFor(base), {workers: 0, batchSize: 5}).hashMany(texts)
    expect(given.calls).toEqual([5, 2])
  })

  it('gives the model its model input (plain words for placeholders, no case, no punctuation), so such variants share one embedding', async () => {
    const embedder = counting(base)
    const pipeline = new HashPipeline(embedder, schemeFor(base), {workers: 0})
    const [scrubbed, plain, other] = await pipeline.hashMany(['<PERSON> moved to <LOCATION>', 'Someone moved to somewhere!', '<NOT_A_TYPE> stays'])
    expect(scrubbed).toEqual(plain)
    expect(embedder.seen).toEqual(['someone moved to somewhere', 'not a type stays'])
    expect(other).not.toEqual(plain)
  })

  it('forgets the least recently used text beyond cacheSize', async () => {
    const embedder = counting(base)
    const pipeline = new HashPipeline(embedder, schemeFor(base), {cacheSize: 2, workers: 0})
    await pipeline.hashMany(['one'])
    await pipeline.hashMany(['two'])
    await pipeline.hashMany(['one']) // hit, and now the most recent
    await pipeline.hashMany(['three']) // evicts 'two'
    await pipeline.hashMany(['one', 'two'])
    expect(embedder.seen).toEqual(['one', 'two', 'three', 'two'])
  })

  it('does not cache a model input longer than MAX_CACHED_CHARS (a long prompt would pin its whole text)', async () => {
    const embedder = counting(base)
    const pipeline = new HashPipeline(embedder, schemeFor(base), {workers: 0})
    const long = 'reset my password '.repeat(Math.ceil(MAX_CACHED_CHARS / 18) + 1).trim()
    await pipeline.hashMany([long, 'short'])
    await pipeline.hashMany([long, 'short'])
    expect(embedder.seen).toEqual([long, 'short', long])
  })

  it("plans no worker threads for 'auto' with the transformers backend (onnxruntime uses the cores itself), N when asked", () => {
    const scheme = schemeFor(base)
    const plan = (workers: number | 'auto', backend: 'use-lite' | 'transformers') => new HashPipeline(base, scheme, {workers, embedderConfig: {backend, modelDir}}).plannedWorkers
    expect(plan('auto', 'transformers')).toBe(0)
    expect(plan(2, 'transformers')).toBe(2)
    const cores = os.availableParallelism()
    expect(plan('auto', 'use-lite')).toBe(cores >= 4 ? Math.min(cores - 1, 7) : 0)
  })

  it('refuses a missing or damaged codebook file before it loads any model', async () => {
    // The model folder does not exist either: were the model loaded first, its error would win.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qis-cb-'))
    const damaged = path.join(dir, 'damaged.qcb')
    writeFileSync(damaged, 'not a codebook')
    for (const codebook of [path.join(dir, 'missing.qcb'), damaged]) {
      await expect(createHashPipeline({backend: 'transformers', modelDir: path.join(dir, 'no-model'), codebook})).rejects.toMatchObject({
        code: 'BAD_CODEBOOK',
        exitCode: 2,
        message: expect.stringContaining(codebook),
      })
    }
  })

  // One worker thread only: onnxruntime-node in worker threads is known to crash now and then on a
  // loaded machine (microsoft/onnxruntime#20084), and one vitest fork died that way here once.
  it("gives the same codes with a worker thread as in process, with the config's own codebook (compiled dist/)", async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'qis-cb-')), 'group.qcb')
    writeGroupCodebook(file, {dimension: 16, anchors: 32, seed: 43, words: ['order', 'refund', 'help', 'lease', 'dose', 'reset']})
    const dist = (await import(path.join(repoRoot, 'dist/hash/pipeline.js'))) as typeof import('../../src/hash/pipeline.js')
    const {schemeForConfig} = (await import(path.join(repoRoot, 'dist/hash/index.js'))) as typeof import('../../src/hash/index.js')
    const config = {backend: 'transformers' as const, modelDir, codebook: file}
    const inProcess = await dist.createHashPipeline({...config, workers: 0, batchSize: 2})
    // createHashPipeline hands its workers the codebook with the rest of the embedder config.
    expect((inProcess.pipeline as unknown as {embedderConfig: {codebook?: string}}).embedderConfig.codebook).toBe(file)
    const queries = Array.from({length: 20}, (_, i) => `refund for order ${i} and a ${['lease', 'dose'][i % 2]}`)
    const expected = await inProcess.pipeline.hashMany(queries)
    // The calling thread's model is slowed down, so the worker thread (its own model and codebook,
    // from the config) does most of the batches.
    let localBatches = 0
    const slow: Embedder = {
      id: base.id,
      dimension: base.dimension,
      async embed(texts) {
        localBatches++
        await new Promise((resolve) => setTimeout(resolve, 3000))
        return base.embed(texts)
      },
      close: async () => {},
    }
    const pooled = new dist.HashPipeline(slow, schemeForConfig(base, config), {batchSize: 2, workers: 1, embedderConfig: config})
    try {
      expect(await pooled.hashMany(queries)).toEqual(expected)
      expect(localBatches).toBeLessThan(10)
    } finally {
      await pooled.close()
      await inProcess.pipeline.close()
    }
  }, 60_000)
})

describe('HashPipeline on a long prompt (use-lite)', () => {
  it('builds the model input from a head once the model reads no further, with the codes of the whole text', async () => {
    const {createUseLiteEmbedder} = await import('../../src/embed/use-lite.js')
    const {embeddingText} = await import('../../src/hash/input.js')
    const embedder = await createUseLiteEmbedder()
    const scheme = schemeFor(embedder)
    const words = 'the <PERSON> asked about a dose of ibuprofen for ΟΔΟΣ children and adults, twice a day'.split(' ')
    const long = Array.from({length: 12_000}, (_, i) => words[(i * 7) % words.length]).join(' ')
    const whole = embeddingText(long)
    const expected = await scheme.codes(await embedder.embed([whole]), [whole])
    const seen: string[] = []
    const spy: Embedder = {...embedder, id: embedder.id, dimension: embedder.dimension, embed: async (texts) => (seen.push(...texts), embedder.embed(texts)), close: async () => {}}
    const pipeline = new HashPipeline(spy, scheme, {workers: 0})
    expect(await pipeline.hashMany([long])).toEqual(expected)
    expect(seen[0].length).toBeLessThan(whole.length / 4)
    expect(whole.startsWith(seen[0] + ' ')).toBe(true)
    // Without the embedder's say-so, the whole text is the model input.
    const plain = new HashPipeline({...spy, readsNoFurtherThan: undefined}, scheme, {workers: 0})
    expect(await plain.hashMany([long])).toEqual(expected)
    expect(seen[1]).toBe(whole)
    await embedder.close()
  }, 60_000)
})
