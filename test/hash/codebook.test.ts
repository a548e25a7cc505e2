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

function sample(
  grouped: boolean,
  selection: {margin: number; boundary?: number; pool?: number; maxPerBook: number; minPerBook: number} = {margin: 0.05, maxPerBook: 4, minPerBook: 1},
  prefilter?: {dimensions: number; candidates: number},
  bias?: Float32Array[],
) {
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
    prefilter,
    bias,
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

  it('with a prefilter on all dimensions, find the same nearest centroids as a full scan', () => {
    // Coarse scores on every axis rank like the full ones, so the kept candidates hold the true top 4.
    const pre = parseCodebook(sample(false, {margin: 0.05, maxPerBook: 4, minPerBook: 1}, {dimensions: D, candidates: 6}))
    expect(pre.books[0].quantised?.prefix).toHaveLength(K * D)
    const rnd = new SeededRandom(13)
    for (let t = 0; t < 50; t++) {
      const v = randomRows(rnd, 1, D)
      const z = reduce(pre, v)
      expect(nearest(pre, pre.books[0], z, 4).map(([k]) => k)).toEqual(nearest(flat, flat.books[0], z, 4).map(([k]) => k))
    }
  })

  it('with a prefilter on a few dimensions, only rescore the candidates: a narrow one misses some true nearest centroids', () => {
    const narrow = parseCodebook(sample(false, {margin: 0.05, maxPerBook: 1, minPerBook: 1}, {dimensions: 2, candidates: 1}))
    const rnd = new SeededRandom(17)
    let differ = 0
    for (let t = 0; t < 50; t++) {
      const z = reduce(narrow, randomRows(rnd, 1, D))
      if (nearest(narrow, narrow.books[0], z, 1)[0][0] !== nearest(flat, flat.books[0], z, 1)[0][0]) differ++
    }
    expect(differ).toBeGreaterThan(0)
  })
})

describe('boundary-distance key selection', () => {
  const tau = 0.1
  const cb = parseCodebook(sample(false, {margin: 0, boundary: tau, maxPerBook: 4, minPerBook: 1}))

  /** The distance from z to the bisector of centroids a and b of `book`, computed here independently. */
  function toBoundary(book: ReturnType<typeof parseCodebook>['books'][number], a: number, b: number, z: Float64Array): number {
    const c = book.centroids
    let sa = 0
    let sb = 0
    let n = 0
    for (let j = 0; j < D; j++) {
      sa += c[a * D + j] * z[j]
      sb += c[b * D + j] * z[j]
      n += (c[a * D + j] - c[b * D + j]) ** 2
    }
    return (sa - sb) / Math.sqrt(n)
  }

  /**
   * For 60 seeded random queries and each of the two books: the centroids nearest the query
   * (`count` of them, best first), the query reduced, and the keys codebookKeys gave for that book
   * with the key each centroid would have.
   */
  function eachQueryAndBook(
    book: ReturnType<typeof parseCodebook>,
    seed: number,
    count: number,
    check: (near: number[], z: Float64Array, b: number, keys: string[], keyOf: (k: number) => string) => void,
  ): void {
    const rnd = new SeededRandom(seed)
    for (let t = 0; t < 60; t++) {
      const v = randomRows(rnd, 1, D)
      const z = reduce(book, v)
      const keys = codebookKeys(book, v)
      for (let b = 0; b < 2; b++) {
        const letter = String.fromCharCode(97 + b)
        check(nearest(book, book.books[b], z, count).map(([k]) => k), z, b, keys.filter((k) => k.startsWith(letter)), (k) => `${letter}${k}`)
      }
    }
  }

  it('keeps the nearest centroid and exactly the next ones whose cell boundary is within the distance', () => {
    let extra = 0
    let skipped = 0
    eachQueryAndBook(cb, 19, 4, (near, z, b, keys, keyOf) => {
      const expected = near.filter((k, i) => i === 0 || toBoundary(cb.books[b], near[0], k, z) <= tau).map(keyOf)
      expect(keys).toEqual(expected)
      extra += expected.length - 1
      skipped += near.length - expected.length
    })
    // Both branches are exercised: some neighbours kept, some left out.
    expect(extra).toBeGreaterThan(0)
    expect(skipped).toBeGreaterThan(0)
  })

  it('with a pool, keeps the closest boundaries among the pool, best first, at most maxPerBook', () => {
    const wide = 0.25
    const pooled = parseCodebook(sample(false, {margin: 0, boundary: wide, pool: 12, maxPerBook: 4, minPerBook: 1}))
    let beyondRank = 0
    let capped = 0
    eachQueryAndBook(pooled, 31, 12, (near, z, b, keys, keyOf) => {
      const within = near
        .map((k, rank) => ({rank, d: toBoundary(pooled.books[b], near[0], k, z)}))
        .filter(({rank, d}) => rank > 0 && d <= wide)
        .sort((x, y) => x.d - y.d)
      const chosen = [0, ...within.slice(0, 3).map(({rank}) => rank)].sort((x, y) => x - y)
      expect(keys).toEqual(chosen.map((rank) => keyOf(near[rank])))
      if (chosen.some((rank) => rank >= 4)) beyondRank++
      if (within.length > 3) capped++
    })
    // The pool matters (a key beyond the 4 nearest) and the cap binds (more qualify than fit).
    expect(beyondRank).toBeGreaterThan(0)
    expect(capped).toBeGreaterThan(0)
  })

  it('refuses a header whose selection numbers make no sense', () => {
    const bad = (selection: Record<string, unknown>) => () => parseCodebook(sample(false, selection as never))
    expect(bad({margin: 0, boundary: tau, pool: 2.5, maxPerBook: 4, minPerBook: 1})).toThrow(/pool 2.5 must be a count/)
    expect(bad({margin: 0, boundary: tau, maxPerBook: 1, minPerBook: 2})).toThrow(/min <= max/)
    expect(bad({margin: 0, boundary: 'far', maxPerBook: 4, minPerBook: 1})).toThrow(/must be numbers/)
  })

  it('gives one key per book at distance 0 and more as the distance grows', () => {
    const v = randomRows(new SeededRandom(23), 1, D)
    const at = (boundary: number) => codebookKeys(parseCodebook(sample(false, {margin: 0, boundary, maxPerBook: 4, minPerBook: 1})), v).length
    expect(at(0)).toBe(2)
    expect(at(10)).toBe(8)
    expect(at(0.05)).toBeLessThanOrEqual(at(0.2))
  })
})


describe('score bias (hub anchors)', () => {
  const rnd = new SeededRandom(29)
  const bias = [new Float32Array(K), new Float32Array(K)]
  for (const b of bias) for (let k = 0; k < K; k++) b[k] = 0.3 * rnd.nextUnit()

  it('round-trips; a file without a bias section scores with zeros; a wrong length is refused', () => {
    const cb = parseCodebook(sample(false, undefined, undefined, bias))
    expect(Array.from(cb.books[1].bias)).toEqual(Array.from(bias[1]))
    expect(parseCodebook(sample(false)).books[0].bias.every((x) => x === 0)).toBe(true)
    expect(() => sample(false, undefined, undefined, [new Float32Array(K - 1), bias[1]])).toThrow(/biases for 64 centroids/)
  })

  /** Centroids ranked by similarity minus bias, computed here independently of the search. */
  function ranked(cb: ReturnType<typeof parseCodebook>, book: number, z: Float64Array): Array<[number, number]> {
    const c = cb.books[book].centroids
    const scores: Array<[number, number]> = []
    for (let k = 0; k < K; k++) {
      let s = 0
      for (let j = 0; j < D; j++) s += c[k * D + j] * z[j]
      scores.push([k, s - bias[book][k]])
    }
    return scores.sort((x, y) => y[1] - x[1] || x[0] - y[0])
  }

  it('ranks centroids by similarity minus bias, in every search mode', () => {
    const flat = parseCodebook(sample(false, undefined, undefined, bias))
    const grouped = parseCodebook(sample(true, undefined, undefined, bias))
    const pre = parseCodebook(sample(false, undefined, {dimensions: D, candidates: K}, bias))
    let moved = 0
    for (let t = 0; t < 40; t++) {
      const v = randomRows(rnd, 1, D)
      const z = reduce(flat, v)
      for (let b = 0; b < 2; b++) {
        const expected = ranked(flat, b, z).slice(0, 4).map(([k]) => k)
        expect(nearest(flat, flat.books[b], z, 4).map(([k]) => k)).toEqual(expected)
        expect(nearest(grouped, grouped.books[b], z, 4).map(([k]) => k)).toEqual(expected)
        // The int8 rows round differently from the float ones; the winner is the same here.
        expect(nearest(pre, pre.books[b], z, 1)[0][0]).toBe(expected[0])
        const unbiased = nearest(parseCodebook(sample(false)), parseCodebook(sample(false)).books[b], z, 1)[0][0]
        if (unbiased !== expected[0]) moved++
      }
    }
    // The bias is large enough here to change some winners, so the test can tell it is applied.
    expect(moved).toBeGreaterThan(0)
  })

  it('keeps boundary-distance selection exact on biased scores', () => {
    const tau = 0.1
    const cb = parseCodebook(sample(false, {margin: 0, boundary: tau, maxPerBook: 4, minPerBook: 1}, undefined, bias))
    let extra = 0
    for (let t = 0; t < 40; t++) {
      const v = randomRows(rnd, 1, D)
      const z = reduce(cb, v)
      const keys = codebookKeys(cb, v)
      for (let b = 0; b < 2; b++) {
        const near = ranked(cb, b, z).slice(0, 4)
        const c = cb.books[b].centroids
        const [first, best] = near[0]
        const within = near.filter(([k, s], i) => {
          if (i === 0) return true
          let n = 0
          for (let j = 0; j < D; j++) n += (c[first * D + j] - c[k * D + j]) ** 2
          return (best - s) / Math.sqrt(n) <= tau
        })
        const letter = String.fromCharCode(97 + b)
        expect(keys.filter((k) => k.startsWith(letter))).toEqual(within.map(([k]) => `${letter}${k}`))
        extra += within.length - 1
      }
    }
    expect(extra).toBeGreaterThan(0)
  })
})
