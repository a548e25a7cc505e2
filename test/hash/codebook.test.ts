import {describe, expect, it} from 'vitest'

import {codebookKeys, encodeCodebook, nearest, parseCodebook, reduce} from '../../src/hash/codebook.js'
import {SeededRandom} from '../../src/hash/prng.js'

const D = 16
const K = 64

function randomRows(rnd: SeededRandom, n: number, d: number): Float32Array {
  const out = new Float32Array(n * d)
  for (let r = 0; r < n; r++) {
    let s = 0
    for (let j = 0; j < d; j++) {
      out[r * d + j] = rnd.nextGaussianish()
      s += out[r * d + j] ** 2
    }
    for (let j = 0; j < d; j++) out[r * d + j] /= Math.sqrt(s)
  }
  return out
}

function sample(grouped: boolean, selection = {margin: 0.05, maxPerBook: 4, minPerBook: 1}) {
  const rnd = new SeededRandom(11)
  const books = [randomRows(rnd, K, D), randomRows(rnd, K, D)]
  const groups = grouped
    ? books.map((rows) => {
        // 8 groups: centroid k belongs to group k % 8, group centre = its members' normalised mean.
        const centroids = new Float32Array(8 * D)
        const groupOf = new Int32Array(K)
        for (let k = 0; k < K; k++) {
          groupOf[k] = k % 8
          for (let j = 0; j < D; j++) centroids[(k % 8) * D + j] += rows[k * D + j]
        }
        return {centroids, groupOf}
      })
    : undefined
  return encodeCodebook({
    name: 'test',
    embedder: 'test',
    mean: new Float32Array(D).fill(0.01),
    reducedDimension: D,
    books,
    groups,
    probes: 8,
    selection,
    fit: {},
  })
}

describe('codebook file', () => {
  it('round-trips through encode and parse', () => {
    const cb = parseCodebook(sample(false))
    expect(cb.header.name).toBe('test')
    expect(cb.header.centroids).toBe(K)
    expect(cb.books).toHaveLength(2)
    expect(cb.mean[0]).toBeCloseTo(0.01, 6)
  })

  it('refuses files that are not codebooks or are damaged', () => {
    expect(() => parseCodebook(Buffer.from('not a codebook at all'), 'x.qcb')).toThrow(/x.qcb is not a qis codebook/)
    const bytes = sample(false)
    bytes[bytes.length - 5] ^= 0xff
    expect(() => parseCodebook(bytes, 'y.qcb')).toThrow(/y.qcb is damaged/)
  })
})

describe('routing keys from a codebook', () => {
  const flat = parseCodebook(sample(false))

  it('are 1..8 valid key strings, deterministic, with the nearest centroid first per book', () => {
    const rnd = new SeededRandom(3)
    for (let t = 0; t < 50; t++) {
      const v = randomRows(rnd, 1, D)
      const keys = codebookKeys(flat, v)
      expect(keys.length).toBeGreaterThanOrEqual(2)
      expect(keys.length).toBeLessThanOrEqual(8)
      for (const k of keys) expect(k).toMatch(/^[a-z0-9._:-]{1,16}$/)
      expect(codebookKeys(flat, Float32Array.from(v))).toEqual(keys)
      const z = reduce(flat, v)
      expect(keys[0]).toBe(`a${nearest(flat, flat.books[0], z, 1)[0][0]}`)
      expect(keys).toContain(`b${nearest(flat, flat.books[1], z, 1)[0][0]}`)
    }
  })

  it('take more keys with a wider margin, never more than maxPerBook per book', () => {
    const wide = parseCodebook(sample(false, {margin: 2, maxPerBook: 4, minPerBook: 1}))
    const narrow = parseCodebook(sample(false, {margin: 0, maxPerBook: 4, minPerBook: 1}))
    const v = randomRows(new SeededRandom(9), 1, D)
    expect(codebookKeys(wide, v)).toHaveLength(8)
    expect(codebookKeys(narrow, v)).toHaveLength(2)
  })

  it('give the same nearest centroids with a two-level search when every group is probed', () => {
    const grouped = parseCodebook(sample(true))
    const rnd = new SeededRandom(5)
    for (let t = 0; t < 30; t++) {
      const v = randomRows(rnd, 1, D)
      expect(codebookKeys(grouped, v)).toEqual(codebookKeys(flat, v))
    }
  })
})
