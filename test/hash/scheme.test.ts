import {describe, expect, it} from 'vitest'

import type {Embedder} from '../../src/embed/types.js'
import {createHash} from 'node:crypto'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {encodeCodebook, loadCodebook} from '../../src/hash/codebook.js'
import {CODEBOOK_DIR, MAX_ROUTING_KEYS, hammingDistance, schemeFor, schemeFromCodebookFile} from '../../src/hash/index.js'
import {SeededRandom} from '../../src/hash/prng.js'
import {LABEL_PATTERN} from '../../src/packet/text.js'

/** Only id and dimension matter to schemeFor; vectors are made here, no model needed. */
const stub = (id: string, dimension: number): Embedder => ({
  id,
  dimension,
  embed: async () => {
    throw new Error('not used')
  },
  close: async () => {},
})

function unit(rnd: SeededRandom, d: number): Float32Array {
  const v = new Float32Array(d)
  let n = 0
  for (let i = 0; i < d; i++) n += (v[i] = rnd.nextGaussianish()) ** 2
  return v.map((x) => x / Math.sqrt(n))
}

function nudge(rnd: SeededRandom, v: Float32Array, eps: number): Float32Array {
  const noise = unit(rnd, v.length)
  const out = v.map((x, i) => x + eps * noise[i])
  const n = Math.sqrt(out.reduce((s, x) => s + x * x, 0))
  return out.map((x) => x / n)
}

describe('schemeFor', () => {
  it('uses the shipped codebook for use-lite: 1..8 distinct valid keys, 16-hex hash, packet-valid id', () => {
    const scheme = schemeFor(stub('use-lite', 512))
    expect(scheme.id).toBe('use-lite.mmlu-anchors.v6')
    expect(scheme.id).toMatch(LABEL_PATTERN)
    const v = unit(new SeededRandom(1), 512)
    const keys = scheme.routingKeys(v, 'how do I reset my password')
    expect(keys.length).toBeGreaterThanOrEqual(1)
    expect(keys.length).toBeLessThanOrEqual(MAX_ROUTING_KEYS)
    expect(new Set(keys).size).toBe(keys.length)
    for (const k of keys) expect(k).toMatch(/^[a-z0-9._:-]{1,16}$/)
    expect(scheme.fineHash(v)).toMatch(/^[0-9a-f]{16}$/)
    expect(schemeFor(stub('use-lite', 512)).routingKeys(v, 'how do I reset my password')).toEqual(keys)
  })

  it('chooses the shipped keys by the embedding alone: the text does not move them', () => {
    // Word scores (src/hash/lexical.ts) split reworded paraphrases apart, so v3 ships without them.
    const scheme = schemeFor(stub('use-lite', 512))
    const rnd = new SeededRandom(5)
    for (let t = 0; t < 10; t++) {
      const v = unit(rnd, 512)
      expect(scheme.routingKeys(v, 'breach of a commercial lease by the tenant')).toEqual(scheme.routingKeys(v, 'dosage of insulin for a diabetic child'))
    }
  })

  it('keeps near vectors together and far ones apart, in keys and in Hamming distance', () => {
    const scheme = schemeFor(stub('use-lite', 512))
    const rnd = new SeededRandom(2)
    let nearMeet = 0
    let farMeet = 0
    let nearBits = 0
    let farBits = 0
    const trials = 40
    for (let t = 0; t < trials; t++) {
      const a = unit(rnd, 512)
      const near = nudge(rnd, a, 0.15)
      const far = unit(rnd, 512)
      // No words: the embedding alone decides here (lexical.test.ts covers the words).
      const ka = scheme.routingKeys(a, '')
      if (scheme.routingKeys(near, '').some((k) => ka.includes(k))) nearMeet++
      if (scheme.routingKeys(far, '').some((k) => ka.includes(k))) farMeet++
      nearBits += hammingDistance(scheme.fineHash(a), scheme.fineHash(near))
      farBits += hammingDistance(scheme.fineHash(a), scheme.fineHash(far))
    }
    expect(nearBits / trials).toBeLessThan(farBits / trials / 2)
    expect(nearMeet).toBeGreaterThan(0.8 * trials)
    expect(farMeet).toBeLessThan(nearMeet / 2)
  })

  it('falls back to cross-polytope LSH for models without a codebook, with an id that fits a packet', () => {
    const scheme = schemeFor(stub('transformers:all-minilm-l6-v2-extra-long-name.0123abcd', 384))
    expect(scheme.id.length).toBeLessThanOrEqual(40)
    expect(scheme.id).toMatch(LABEL_PATTERN)
    expect(scheme.id).toMatch(/^tx:.*0123abcd\.cp2x4\.v3$/)
    const keys = scheme.routingKeys(unit(new SeededRandom(3), 384), 'any text')
    expect(keys).toHaveLength(8)
    expect(() => scheme.routingKeys(new Float32Array(10), 'any text')).toThrow(/expects 384-d/)
  })
})

describe('schemeFromCodebookFile', () => {
  const shipped = path.join(CODEBOOK_DIR, 'use-lite.mmlu-anchors.qcb')

  it('gives the shipped file the shipped scheme id, and any other file under that name an id of its own', () => {
    const embedder = stub('use-lite', 512)
    expect(schemeFromCodebookFile(embedder, shipped).id).toBe(schemeFor(embedder).id)
    // A candidate with the shipped name but other contents (here: one anchor dropped).
    const cb = loadCodebook(shipped)
    const p = cb.header.reducedDimension
    const K = cb.header.centroids - 1
    const rows = new Float32Array(K * p)
    const {rows: q, factors} = cb.books[0].quantised!
    for (let k = 0; k < K; k++) for (let j = 0; j < p; j++) rows[k * p + j] = q[k * p + j] * factors[k]
    const projection = Float32Array.from(cb.projection!)
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'qis-cb-')), 'candidate.qcb')
    writeFileSync(file, encodeCodebook({name: cb.header.name, embedder: 'use-lite', mean: Float32Array.from(cb.mean), projection, reducedDimension: p, books: [rows], prefilter: cb.header.prefilter, selection: cb.header.selection, fit: {}}))
    const candidate = schemeFromCodebookFile(embedder, file)
    const digest = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 8)
    expect(candidate.id).toBe(`use-lite.mmlu-anchors-${digest}.v3`)
    expect(candidate.id).toMatch(LABEL_PATTERN)
    expect(readFileSync(file).equals(readFileSync(shipped))).toBe(false)
  })

  it('tells apart a candidate that differs from the shipped file only in its header (another boundary)', () => {
    const embedder = stub('use-lite', 512)
    const bytes = readFileSync(shipped)
    const headerLength = bytes.readUInt32LE(8)
    const header = JSON.parse(bytes.subarray(12, 12 + headerLength).toString('utf8'))
    header.selection.boundary = 0.2
    const json = Buffer.from(JSON.stringify(header), 'utf8')
    const len = Buffer.alloc(4)
    len.writeUInt32LE(json.length)
    // Same data block, so the same data checksum: the keys still differ (wider boundary, more keys).
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'qis-cb-')), 'wider.qcb')
    writeFileSync(file, Buffer.concat([bytes.subarray(0, 8), len, json, bytes.subarray(12 + headerLength)]))
    expect(loadCodebook(file).header.sha256).toBe(loadCodebook(shipped).header.sha256)
    const candidate = schemeFromCodebookFile(embedder, file)
    expect(candidate.id).not.toBe(schemeFor(embedder).id)
    expect(candidate.id).toMatch(/^use-lite\.mmlu-anchors-[0-9a-f]{8}\.v3$/)
  })
})
