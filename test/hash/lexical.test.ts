import {describe, expect, it} from 'vitest'

import {codebookKeys, encodeCodebook, nearest, parseCodebook, reduce} from '../../src/hash/codebook.js'
import {Lexicon, fitLexicon, lexicalTokens} from '../../src/hash/lexical.js'
import {SeededRandom} from '../../src/hash/prng.js'

describe('lexicalTokens', () => {
  it('keeps content words, lower-cased, without stop words, one-letter words or punctuation', () => {
    expect(lexicalTokens('What is the MAXIMUM dose of Ibuprofen, for a child?')).toEqual(['maximum', 'dose', 'ibuprofen', 'child'])
    expect(lexicalTokens('')).toEqual([])
    expect(lexicalTokens('a I , . ?')).toEqual([])
  })

  it('drops a plural s from words longer than four letters only', () => {
    expect(lexicalTokens('contracts statutes class glass bus dogs')).toEqual(['contract', 'statute', 'class', 'glass', 'bus', 'dogs'])
  })

  it('normalises compatibility forms (NFKC) and keeps letters and digits of any script', () => {
    expect(lexicalTokens('Ｐｙｔｈｏｎ ﬁle')).toEqual(['python', 'file'])
    expect(lexicalTokens('Müller 東京 covid19 3.14')).toEqual(['müller', '東京', 'covid19', '14'])
  })
})

/** tf-idf exactly as documented, computed densely and independently of Lexicon's postings. */
function dense(texts: string[], vocabulary: string[], idf: Float32Array, unknownIdf: number): number[][] {
  return texts.map((t) => {
    const v = new Array<number>(vocabulary.length).fill(0)
    let n = 0
    const counts = new Map<string, number>()
    for (const w of lexicalTokens(t)) counts.set(w, (counts.get(w) ?? 0) + 1)
    for (const [w, c] of counts) {
      const i = vocabulary.indexOf(w)
      const x = Math.sqrt(c) * (i < 0 ? unknownIdf : idf[i])
      n += x * x
      if (i >= 0) v[i] = x
    }
    return v.map((x) => (n > 0 ? x / Math.sqrt(n) : 0))
  })
}

const dotp = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0)

function randomUnit(rnd: SeededRandom, d: number): Float32Array {
  const out = new Float32Array(d)
  let n = 0
  for (let j = 0; j < d; j++) n += (out[j] = rnd.nextGaussianish()) ** 2
  return out.map((x) => x / Math.sqrt(n))
}

const WORDS = ['contract', 'breach', 'damages', 'tenant', 'lease', 'dose', 'child', 'fever', 'insulin', 'python', 'error', 'server', 'refund', 'order', 'delivery', 'password']

function anchorTexts(rnd: SeededRandom, n: number): string[] {
  return Array.from({length: n}, () => Array.from({length: 2 + Math.floor(rnd.nextUnit() * 4)}, () => WORDS[Math.floor(rnd.nextUnit() * WORDS.length)]).join(' the '))
}

describe('fitLexicon and Lexicon', () => {
  const texts = ['breach of contract damages', 'the tenant and the lease', 'child fever dose dose', 'python server error', '']
  const parts = fitLexicon(texts, 1.5)
  const lexicon = new Lexicon({...parts, idf: Float64Array.from(parts.idf)}, texts.length)
  const anchors = dense(texts, parts.vocabulary, parts.idf, parts.unknownIdf)

  it('builds a sorted vocabulary, float32 idf = ln((N+1)/(df+1))+1, and postings with term counts', () => {
    expect(parts.vocabulary).toEqual([...parts.vocabulary].sort())
    const i = parts.vocabulary.indexOf('dose')
    expect(parts.idf[i]).toBe(Math.fround(Math.log(6 / 2) + 1))
    expect(Array.from(parts.anchors.subarray(parts.offsets[i], parts.offsets[i + 1]))).toEqual([2])
    expect(Array.from(parts.counts.subarray(parts.offsets[i], parts.offsets[i + 1]))).toEqual([2])
    expect(parts.unknownIdf).toBe(Math.fround(Math.log(6) + 1))
    expect(fitLexicon(texts, 1.5)).toEqual(parts)
  })

  it('scores a query against every anchor as the cosine of the tf-idf vectors; unknown words only dilute', () => {
    for (const q of ['contract damages for breach', 'fever in a child', 'quantum chromodynamics', 'python lease unknownword']) {
      const [qv] = dense([q], parts.vocabulary, parts.idf, parts.unknownIdf)
      const got = Array.from(lexicon.scores(lexicon.query(q)))
      got.forEach((s, a) => expect(s).toBeCloseTo(dotp(qv, anchors[a]), 12))
    }
    expect(lexicon.scores(lexicon.query('contract breach damages'))[0]).toBeCloseTo(1, 12)
    expect(lexicon.scores(lexicon.query('contract breach damages zebra'))[0]).toBeLessThan(0.95)
  })

  it('measures |h_a - h_b|^2 between anchors, 0 for an anchor with itself, 1 against an anchor with no words', () => {
    for (let a = 0; a < texts.length; a++) {
      for (let b = 0; b < texts.length; b++) {
        const d = anchors[a].reduce((s, x, i) => s + (x - anchors[b][i]) ** 2, 0)
        expect(lexicon.distance2(a, b)).toBeCloseTo(d, 12)
      }
    }
    expect(lexicon.distance2(1, 4)).toBeCloseTo(1, 12)
  })
})

describe('a codebook with a lexicon', () => {
  const D = 16
  const K = 48
  const w = 1.69
  const rnd = new SeededRandom(31)
  const rows = new Float32Array(K * D)
  for (let k = 0; k < K; k++) rows.set(randomUnit(rnd, D), k * D)
  const texts = anchorTexts(rnd, K)
  const lexicon = fitLexicon(texts, w)
  const tau = 0.12
  const encode = (prefilter?: {dimensions: number; candidates: number}, lex = lexicon) =>
    encodeCodebook({name: 'lex', embedder: 'test', mean: new Float32Array(D), reducedDimension: D, books: [rows], prefilter, lexicon: lex, selection: {margin: 0, boundary: tau, maxPerBook: 6, minPerBook: 1}, fit: {}})
  const cb = parseCodebook(encode())
  const h = dense(texts, lexicon.vocabulary, lexicon.idf, lexicon.unknownIdf)

  /** Anchors as the blended vectors [c ; sqrt(w) h] / sqrt(1 + w), ranked and selected by brute force. */
  function expectedKeys(v: Float32Array, text: string): string[] {
    const z = reduce(cb, v)
    const [hq] = dense([text], lexicon.vocabulary, lexicon.idf, lexicon.unknownIdf)
    const c = cb.books[0].centroids
    const blend = (k: number) => [...Array.from(c.subarray(k * D, (k + 1) * D)), ...h[k].map((x) => Math.sqrt(w) * x)].map((x) => x / Math.sqrt(1 + w))
    const q = [...Array.from(z), ...hq.map((x) => Math.sqrt(w) * x)].map((x) => x / Math.sqrt(1 + w))
    const scored = Array.from({length: K}, (_, k) => [k, dotp(q, blend(k))] as [number, number]).sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, 6)
    const [first, best] = scored[0]
    return scored
      .filter(([k, s], i) => {
        if (i === 0) return true
        const a = blend(first)
        const b = blend(k)
        return (best - s) / Math.sqrt(a.reduce((n, x, j) => n + (x - b[j]) ** 2, 0)) <= tau
      })
      .map(([k]) => `a${k}`)
  }

  it('round-trips the lexicon through the file and refuses what it cannot use', () => {
    expect(cb.header.lexical).toEqual({tokenizer: 'qis-lex-v1', weight: w, unknownIdf: lexicon.unknownIdf})
    expect(cb.lexicon).toBeDefined()
    expect(() => encodeCodebook({name: 'x', embedder: 'test', mean: new Float32Array(D), reducedDimension: D, books: [rows, rows], lexicon, selection: {margin: 0, maxPerBook: 1, minPerBook: 1}, fit: {}})).toThrow(/exactly one book/)
    const bytes = encode()
    const headerLength = bytes.readUInt32LE(8)
    const header = JSON.parse(bytes.subarray(12, 12 + headerLength).toString('utf8'))
    header.lexical.tokenizer = 'qis-lex-v0'
    const json = Buffer.from(JSON.stringify(header), 'utf8')
    const len = Buffer.alloc(4)
    len.writeUInt32LE(json.length)
    expect(() => parseCodebook(Buffer.concat([bytes.subarray(0, 8), len, json, bytes.subarray(12 + headerLength)]))).toThrow(/unknown lexical tokenizer/)
  })

  it('selects exactly the keys of a brute-force search over the blended vectors', () => {
    let extra = 0
    let wordsMoved = 0
    for (let t = 0; t < 40; t++) {
      const v = randomUnit(rnd, D)
      const text = anchorTexts(rnd, 1)[0]
      const keys = codebookKeys(cb, v, text)
      expect(keys).toEqual(expectedKeys(v, text))
      extra += keys.length - 1
      if (codebookKeys(cb, v, 'nothing known here')[0] !== keys[0]) wordsMoved++
    }
    // Both halves matter: several keys are kept, and the words change the nearest anchor.
    expect(extra).toBeGreaterThan(0)
    expect(wordsMoved).toBeGreaterThan(0)
  })

  it('finds the same nearest anchor with a prefilter, and needs the text', () => {
    const pre = parseCodebook(encode({dimensions: 4, candidates: 8}))
    const full = parseCodebook(encode({dimensions: D, candidates: K}))
    const v = rows.slice(3 * D, 4 * D)
    const z = reduce(pre, v)
    const lex = (c: typeof pre) => c.lexicon!.scores(c.lexicon!.query(texts[3]))
    expect(nearest(pre, pre.books[0], z, 1, lex(pre))[0][0]).toBe(3)
    expect(nearest(full, full.books[0], z, 1, lex(full))[0][0]).toBe(3)
    expect(() => nearest(pre, pre.books[0], z, 1)).toThrow(/need the text/)
    expect(() => codebookKeys(pre, v)).toThrow(/need the text/)
  })
})
