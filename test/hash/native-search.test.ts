import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {type Codebook, candidateCount, codebookKeys, encodeCodebook, loadCodebook, parseCodebook, reduce, selectKeys} from '../../src/hash/codebook.js'
import {CODEBOOK_DIR} from '../../src/hash/index.js'
import {createNativeSearch} from '../../src/hash/native-search.js'
import {SeededRandom} from '../../src/hash/prng.js'

function unitRows(rnd: SeededRandom, n: number, d: number): Float32Array {
  const out = new Float32Array(n * d)
  for (let r = 0; r < n; r++) {
    let s = 0
    for (let j = 0; j < d; j++) s += (out[r * d + j] = rnd.nextGaussianish()) ** 2
    for (let j = 0; j < d; j++) out[r * d + j] /= Math.sqrt(s)
  }
  return out
}

/** Vectors where ties and near-ties are likely: random ones, and anchors with a little noise. */
function queries(cb: Codebook, rnd: SeededRandom, n: number): Float32Array[] {
  const d = cb.header.dimension
  const out: Float32Array[] = []
  for (let i = 0; i < n; i++) {
    const v = unitRows(rnd, 1, d)
    if (i % 2 === 1 && !cb.projection) {
      const {rows, factors} = cb.books[0].quantised!
      const k = Math.floor(rnd.nextUnit() * cb.header.centroids)
      for (let j = 0; j < d; j++) v[j] = cb.mean[j] + rows[k * d + j] * factors[k] + 0.02 * v[j]
    }
    out.push(v)
  }
  return out
}

async function compare(cb: Codebook, vecs: Float32Array[]): Promise<{native: number; rescued: number}> {
  const search = await createNativeSearch(cb)
  expect(search).toBeDefined()
  const count = candidateCount(cb.header.selection)
  const near = await search!.nearestMany(
    vecs.map((v) => reduce(cb, v)),
    count,
  )
  vecs.forEach((v, i) => expect(near[i] ? selectKeys(cb, [near[i]!]) : codebookKeys(cb, v)).toEqual(codebookKeys(cb, v)))
  // Where the native path answered, it answered on its own: the same nearest list as the JS search.
  vecs.forEach((v, i) => {
    if (near[i]) expect(selectKeys(cb, [near[i]!])).toEqual(codebookKeys(cb, v))
  })
  return search!.stats
}

const D = 24
const K = 3000
const selection = {margin: 0, boundary: 0.2, pool: 16, maxPerBook: 8, minPerBook: 1}

function synthetic(rows: Float32Array, bias?: Float32Array): Codebook {
  return parseCodebook(
    encodeCodebook({name: 't', embedder: 't', mean: new Float32Array(D), reducedDimension: D, books: [rows], bias: bias ? [bias] : undefined, prefilter: {dimensions: 6, candidates: 200}, selection, fit: {}}),
  )
}

describe('native key search', () => {
  it('gives the shipped codebook the keys of the JS search, answering nearly every query natively', async () => {
    const cb = loadCodebook(path.join(CODEBOOK_DIR, 'use-lite.mmlu-anchors.qcb'))
    const stats = await compare(cb, queries(cb, new SeededRandom(1), 200))
    expect(stats.native).toBeGreaterThanOrEqual(195)
  })

  it('keeps the JS keys on a codebook with a narrow prefilter and with score biases', async () => {
    const rnd = new SeededRandom(2)
    const rows = unitRows(rnd, K, D)
    const plain = await compare(synthetic(rows), queries(synthetic(rows), rnd, 300))
    expect(plain.native).toBeGreaterThan(250)
    const bias = Float32Array.from({length: K}, () => 0.05 * rnd.nextUnit())
    const biased = await compare(synthetic(rows, bias), queries(synthetic(rows, bias), rnd, 300))
    expect(biased.native).toBeGreaterThan(250)
  })

  it('hands a query back to the JS search when float32 cannot tell the candidates apart (ties)', async () => {
    // Ten anchors, each repeated 300 times: scores tie far past any candidate list, so nothing can be proved.
    const rnd = new SeededRandom(3)
    const few = unitRows(rnd, K / 300, D)
    const rows = new Float32Array(K * D)
    for (let k = 0; k < K; k++) rows.set(few.subarray((k % (K / 300)) * D, (k % (K / 300) + 1) * D), k * D)
    const cb = synthetic(rows)
    const stats = await compare(cb, queries(cb, rnd, 50))
    expect(stats.rescued).toBe(50)
  })

  it('hands a query back when more anchors tie with its nearest ones than the full-score candidates hold', async () => {
    // No coarse cut (the prefilter keeps every anchor); twenty anchors, 150 copies each.
    const rnd = new SeededRandom(5)
    const few = unitRows(rnd, 20, D)
    const rows = new Float32Array(K * D)
    for (let k = 0; k < K; k++) rows.set(few.subarray((k % 20) * D, (k % 20 + 1) * D), k * D)
    const cb = parseCodebook(encodeCodebook({name: 't', embedder: 't', mean: new Float32Array(D), reducedDimension: D, books: [rows], prefilter: {dimensions: 6, candidates: K}, selection, fit: {}}))
    const stats = await compare(cb, queries(cb, rnd, 30))
    expect(stats.rescued).toBe(30)
  })

  it('is not used for codebooks it does not cover (no prefilter)', async () => {
    const rnd = new SeededRandom(4)
    const cb = parseCodebook(encodeCodebook({name: 't', embedder: 't', mean: new Float32Array(D), reducedDimension: D, books: [unitRows(rnd, 64, D)], selection, fit: {}}))
    expect(await createNativeSearch(cb)).toBeUndefined()
  })
})
