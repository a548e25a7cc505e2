import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'

import {LEXICAL_TOKENIZER, Lexicon, type LexiconData, type LexiconParts} from './lexical.js'

/**
 * A routing codebook: public k-means centroids over an embedding space, fitted once offline by
 * scripts/fit-codebook.mjs and shipped in assets/codebook/. A query's routing keys are the
 * centroids nearest to it, so two queries meet when they share a nearby centroid. A book may carry
 * a per-centroid `bias` subtracted from every score (a power diagram instead of a Voronoi one),
 * which shrinks the cells of hub anchors (`Book.bias`); the shipped book has none. A one-book
 * codebook may also carry a lexicon (`lexicon.*` sections, header `lexical`): each anchor's content
 * words, so that a score is the embedding's cosine blended with the word overlap (src/hash/lexical.ts).
 *
 * File layout (little-endian): 8-byte magic "QISCB\x01\0\0", u32 header length, UTF-8 JSON
 * header (CodebookHeader), then the sections the header lists, each at its byte offset from the
 * start of the data block.
 */
export const CODEBOOK_MAGIC = Buffer.from('QISCB\x01\0\0', 'latin1')

export interface SectionInfo {
  name: string
  dtype: 'f32' | 'i8' | 'u8' | 'u32'
  shape: number[]
  offset: number
}

export interface KeySelection {
  /** Keys per book are the centroids whose similarity is within `margin` of the best one... */
  margin: number
  /**
   * ...or, when set (and then instead of `margin`), the centroids whose Voronoi boundary with the
   * nearest one lies within this distance of the query: (s1 - sj) / |c1 - cj|. A paraphrase moves
   * the query a short distance, so it can only land in a cell whose boundary is that close; a
   * cosine margin instead over-counts cells whose centroids sit far from the nearest one...
   */
  boundary?: number
  /** ...at most this many per book... */
  maxPerBook: number
  /** ...and at least this many per book (the nearest ones), whatever the margin. */
  minPerBook: number
  /**
   * With `boundary`: how many of the nearest centroids are candidates (default `maxPerBook`);
   * when more than `maxPerBook` qualify, the closest boundaries win. A centroid beyond the
   * `maxPerBook` nearest can have a closer boundary than one of them, since the boundary distance
   * also depends on how far it sits from the nearest one.
   */
  pool?: number
}

/**
 * Exact-in-practice search for large flat books: score every centroid on the first `dimensions`
 * principal axes (which carry most of the variance), keep the `candidates` best, and score only
 * those on all axes. Deterministic: the same arithmetic in the same order on every machine.
 */
export interface Prefilter {
  dimensions: number
  candidates: number
}

export interface CodebookHeader {
  format: 'qis-codebook'
  version: 1
  /** Short tag that goes into the scheme id, e.g. 'cb4096m'. */
  name: string
  /** Embedder id the codebook was fitted for, e.g. 'use-lite'. */
  embedder: string
  dimension: number
  /** Dimension after the optional projection (== dimension when there is none). */
  reducedDimension: number
  books: number
  centroids: number
  /** Super-clusters per book for the two-level search (0 = exhaustive scan). */
  groups: number
  /** Groups probed per query. */
  probes: number
  /** Set for flat books searched with a prefilter instead of groups. */
  prefilter?: Prefilter
  selection: KeySelection
  /**
   * Set when the book carries a lexicon: scores become (cosine + weight x lexical cosine) / (1 +
   * weight), the cosine of the two unit vectors side by side with the lexical one scaled by
   * sqrt(weight), so cells stay hyperplane-bounded and the boundary distance stays exact.
   */
  lexical?: {tokenizer: string; weight: number; unknownIdf: number}
  fit: Record<string, unknown>
  sections: SectionInfo[]
  /** sha256 of the data block, checked on load so a damaged file fails loudly rather than routing wrongly. */
  sha256: string
}

export interface Book {
  /**
   * Centroids dequantised to float64, row-major K x reducedDimension, unit length. Empty for a
   * book that is `quantised` instead.
   */
  centroids: Float64Array
  /** Group centroids (G x reducedDimension) and each group's member centroid indexes. */
  groupCentroids: Float64Array
  groupMembers: Int32Array[]
  /** Set for books searched with a prefilter: they are scored straight from their int8 rows. */
  quantised?: QuantisedRows
  /**
   * Per centroid, subtracted from its similarity before ranking (section `book<b>.bias`, optional).
   * Text unlike the fitting corpus crowds into a few "hub" cells, so unrelated queries meet there;
   * a hub's bias is beta x its mean similarity to its k nearest sentences of a reference corpus
   * (CSLS, Conneau et al. 2018), which shrinks its cell. Cell boundaries stay hyperplanes, so the
   * boundary distance (s1 - sj) / |c1 - cj| is still exact with biased scores. All zeros when the
   * file has no bias section.
   */
  bias: Float64Array
}

/**
 * A large flat book kept as int8: 15k anchors are 1.9 MB this way and 15.5 MB as float64. The
 * size is what makes the search fast: scanning even the first 32 values of every float64 row ran
 * at memory speed (3-5 ms a query here, no faster than all 128), the int8 prefix stays in cache
 * (0.5-1 ms), and a query's rescoring touches 64 KB instead of 512 KB beside the model's weights.
 */
export interface QuantisedRows {
  /** K x reducedDimension int8 values. */
  rows: Int8Array
  /** Per row: scale to the unit-length float64 row (int8 scale / norm of the dequantised row). */
  factors: Float64Array
  /** The first `prefilter.dimensions` values of every row, contiguous, for the coarse pass. */
  prefix: Int8Array
}

export interface Codebook {
  header: CodebookHeader
  mean: Float64Array
  /** reducedDimension x dimension, or undefined when there is no projection. */
  projection: Float64Array | undefined
  books: Book[]
  /** The anchors' words when the header has `lexical` (one book only). */
  lexicon?: Lexicon
}

const VALUE_BYTES: Record<SectionInfo['dtype'], number> = {f32: 4, i8: 1, u8: 1, u32: 4}

/** A section's bytes and type as stored, or undefined when the file has no such section. */
function sectionBytes(header: CodebookHeader, data: Buffer, name: string): {dtype: SectionInfo['dtype']; raw: Uint8Array} | undefined {
  const info = header.sections.find((s) => s.name === name)
  if (!info) return undefined
  const width = VALUE_BYTES[info.dtype] as number | undefined
  if (width === undefined) throw new Error(`codebook section "${name}" has an unknown type "${String(info.dtype)}"`)
  const size = width * info.shape.reduce((a, b) => a * b, 1)
  if (info.offset + size > data.length) throw new Error(`codebook section "${name}" runs past the end of the file`)
  // The file is little-endian, as are the machines Node runs on in practice; say so if not.
  if (width > 1 && new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian machines cannot read qis codebooks')
  // Copied into fresh memory so the typed-array view is aligned (the data block starts after a
  // header of any length); element by element reads took ~0.2 s for a 2 MB book.
  const raw = new Uint8Array(size)
  raw.set(data.subarray(info.offset, info.offset + size))
  return {dtype: info.dtype, raw}
}

/** A number section (f32 / i8) as float64, or undefined when the file has none. */
function section(header: CodebookHeader, data: Buffer, name: string): Float64Array | undefined {
  const s = sectionBytes(header, data, name)
  if (!s) return undefined
  if (s.dtype === 'f32') return Float64Array.from(new Float32Array(s.raw.buffer))
  if (s.dtype === 'i8') return Float64Array.from(new Int8Array(s.raw.buffer))
  throw new Error(`codebook section "${name}" is ${s.dtype}, not a number section`)
}

/** A u8 / u32 section as it is stored (vocabulary bytes, postings). */
function integerSection(header: CodebookHeader, data: Buffer, name: string, file: string): Uint8Array | Uint32Array {
  const s = sectionBytes(header, data, name)
  if (!s || (s.dtype !== 'u8' && s.dtype !== 'u32')) throw new Error(`codebook ${file} lacks integer section "${name}"`)
  return s.dtype === 'u32' ? new Uint32Array(s.raw.buffer) : s.raw
}

function readLexicon(header: CodebookHeader, data: Buffer, file: string): Lexicon {
  const lex = header.lexical!
  if (lex.tokenizer !== LEXICAL_TOKENIZER) throw new Error(`codebook ${file}: unknown lexical tokenizer "${lex.tokenizer}"`)
  if (header.books !== 1) throw new Error(`codebook ${file}: a lexicon needs exactly one book`)
  const vocabBytes = integerSection(header, data, 'lexicon.vocab', file)
  const vocabulary = vocabBytes.length === 0 ? [] : Buffer.from(vocabBytes).toString('utf8').split('\n')
  const lexicon: LexiconData = {
    vocabulary,
    idf: required(header, data, 'lexicon.idf', file),
    offsets: integerSection(header, data, 'lexicon.offsets', file) as Uint32Array,
    anchors: integerSection(header, data, 'lexicon.anchors', file) as Uint32Array,
    counts: integerSection(header, data, 'lexicon.counts', file) as Uint8Array,
    unknownIdf: lex.unknownIdf,
    weight: lex.weight,
  }
  try {
    return new Lexicon(lexicon, header.centroids)
  } catch (err) {
    throw new Error(`codebook ${file}: ${(err as Error).message}`)
  }
}

function required(header: CodebookHeader, data: Buffer, name: string, file: string): Float64Array {
  const s = section(header, data, name)
  if (!s) throw new Error(`codebook ${file} lacks section "${name}"`)
  return s
}

/**
 * int8 rows back to float64, renormalised to unit length: rounding moves a row's norm by ~0.3%,
 * which would shift its cosine by as much as a key-selection margin, so it is taken out here.
 */
function dequantise(q: Float64Array, scales: Float64Array, dim: number, keepRows = true): {rows: Float64Array; factors: Float64Array} {
  const out = new Float64Array(keepRows ? q.length : 0)
  const factors = new Float64Array(scales.length)
  for (let r = 0; r < scales.length; r++) {
    let n = 0
    for (let j = 0; j < dim; j++) {
      const x = q[r * dim + j] * scales[r]
      n += x * x
    }
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0
    if (keepRows) for (let j = 0; j < dim; j++) out[r * dim + j] = q[r * dim + j] * scales[r] * inv
    factors[r] = scales[r] * inv
  }
  return {rows: out, factors}
}

export function parseCodebook(bytes: Buffer, file = '<codebook>'): Codebook {
  if (bytes.length < 12 || !bytes.subarray(0, 8).equals(CODEBOOK_MAGIC)) throw new Error(`${file} is not a qis codebook`)
  const headerLength = bytes.readUInt32LE(8)
  const header = JSON.parse(bytes.subarray(12, 12 + headerLength).toString('utf8')) as CodebookHeader
  if (header.format !== 'qis-codebook' || header.version !== 1) throw new Error(`${file}: unsupported codebook format`)
  checkSelection(header.selection, file)
  const data = bytes.subarray(12 + headerLength)
  const digest = createHash('sha256').update(data).digest('hex')
  if (digest !== header.sha256) throw new Error(`${file} is damaged (checksum mismatch)`)
  const d = header.reducedDimension
  const books: Book[] = []
  for (let b = 0; b < header.books; b++) {
    const q = required(header, data, `book${b}`, file)
    const scales = required(header, data, `book${b}.scale`, file)
    let quantised: QuantisedRows | undefined
    let centroids: Float64Array = new Float64Array(0)
    if (!header.prefilter) centroids = dequantise(q, scales, d).rows
    else {
      const factors = dequantise(q, scales, d, false).factors
      const w = header.prefilter.dimensions
      if (!(w >= 1 && w <= d)) throw new Error(`codebook ${file}: prefilter dimensions ${w} out of range`)
      const prefix = new Int8Array(header.centroids * w)
      for (let k = 0; k < header.centroids; k++) for (let j = 0; j < w; j++) prefix[k * w + j] = q[k * d + j]
      quantised = {rows: Int8Array.from(q), factors, prefix}
    }
    let groupCentroids: Float64Array = new Float64Array(0)
    let groupMembers: Int32Array[] = []
    if (header.groups > 0) {
      groupCentroids = required(header, data, `book${b}.groups`, file)
      const assign = required(header, data, `book${b}.group_of`, file)
      const lists: number[][] = Array.from({length: header.groups}, () => [])
      for (let k = 0; k < assign.length; k++) lists[assign[k]].push(k)
      groupMembers = lists.map((l) => Int32Array.from(l))
    }
    const bias = section(header, data, `book${b}.bias`) ?? new Float64Array(header.centroids)
    if (bias.length !== header.centroids) throw new Error(`codebook ${file}: book${b}.bias has ${bias.length} values for ${header.centroids} centroids`)
    books.push({centroids, groupCentroids, groupMembers, bias, ...(quantised ? {quantised} : {})})
  }
  return {
    header,
    mean: required(header, data, 'mean', file),
    projection: section(header, data, 'projection'),
    books,
    ...(header.lexical ? {lexicon: readLexicon(header, data, file)} : {}),
  }
}

/** The header is outside the checksum (a candidate may differ only there), so its numbers are checked. */
function checkSelection(sel: KeySelection | undefined, file: string): void {
  const count = (v: unknown) => Number.isInteger(v) && (v as number) >= 1
  const fail = (problem: string): never => {
    throw new Error(`codebook ${file}: ${problem}`)
  }
  if (!sel) return fail('no key selection')
  if (!count(sel.minPerBook) || !count(sel.maxPerBook) || sel.maxPerBook < sel.minPerBook) fail(`minPerBook ${sel.minPerBook} and maxPerBook ${sel.maxPerBook} must be counts, min <= max`)
  if (sel.pool !== undefined && !count(sel.pool)) fail(`pool ${sel.pool} must be a count`)
  if (!Number.isFinite(sel.margin) || (sel.boundary !== undefined && !Number.isFinite(sel.boundary))) fail('margin and boundary must be numbers')
}

export function loadCodebook(file: string): Codebook {
  return parseCodebook(readFileSync(file), file)
}

/** Centre, project and renormalise a vector into the codebook's space (float64, fixed order). */
export function reduce(cb: Codebook, vec: Float32Array): Float64Array {
  const {dimension: d, reducedDimension: p} = cb.header
  const x = new Float64Array(d)
  for (let j = 0; j < d; j++) x[j] = vec[j] - cb.mean[j]
  let z = x
  if (cb.projection) {
    z = new Float64Array(p)
    for (let i = 0; i < p; i++) z[i] = dot4(cb.projection, i * d, x, d)
  }
  let n = 0
  for (let i = 0; i < p; i++) n += z[i] * z[i]
  if (n > 0) {
    const inv = 1 / Math.sqrt(n)
    for (let i = 0; i < p; i++) z[i] *= inv
  }
  return z
}

function dot(a: Float64Array, aOff: number, b: Float64Array, n: number): number {
  let s = 0
  for (let j = 0; j < n; j++) s += a[aOff + j] * b[j]
  return s
}

/**
 * Dot product with four running sums (lanes j mod 4, then (s0 + s1) + (s2 + s3)): about twice as
 * fast in V8, which does not vectorise, and still one fixed order of float64 operations, so every
 * machine gets the same result. For the hot loops: projection, prefilter, rescoring.
 */
function dot4(a: Float64Array, aOff: number, b: Float64Array, n: number): number {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  const n4 = n - (n % 4)
  for (let j = 0; j < n4; j += 4) {
    s0 += a[aOff + j] * b[j]
    s1 += a[aOff + j + 1] * b[j + 1]
    s2 += a[aOff + j + 2] * b[j + 2]
    s3 += a[aOff + j + 3] * b[j + 3]
  }
  for (let j = n4; j < n; j++) s0 += a[aOff + j] * b[j]
  return s0 + s1 + (s2 + s3)
}

/** dot4 for an int8 row. A separate function so that each one sees a single array type: one
 * function for both was slower than the plain loop (V8 then handles two element kinds). */
export function dot4i8(a: Int8Array, aOff: number, b: Float64Array, n: number): number {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  const n4 = n - (n % 4)
  for (let j = 0; j < n4; j += 4) {
    s0 += a[aOff + j] * b[j]
    s1 += a[aOff + j + 1] * b[j + 1]
    s2 += a[aOff + j + 2] * b[j + 2]
    s3 += a[aOff + j + 3] * b[j + 3]
  }
  for (let j = n4; j < n; j++) s0 += a[aOff + j] * b[j]
  return s0 + s1 + (s2 + s3)
}

/** Keeps the best `size` (index, score) pairs seen: higher score first, lower index on ties. */
export class TopK {
  readonly index: Int32Array
  readonly score: Float64Array
  length = 0

  constructor(readonly size: number) {
    this.index = new Int32Array(size)
    this.score = new Float64Array(size)
  }

  offer(k: number, s: number): void {
    let i = this.length < this.size ? this.length++ : this.size
    if (i === this.size) {
      const last = this.size - 1
      if (s < this.score[last] || (s === this.score[last] && k > this.index[last])) return
      i = last
    }
    while (i > 0 && (s > this.score[i - 1] || (s === this.score[i - 1] && k < this.index[i - 1]))) {
      this.index[i] = this.index[i - 1]
      this.score[i] = this.score[i - 1]
      i--
    }
    this.index[i] = k
    this.score[i] = s
  }
}

/**
 * Nearest centroids of one book for a reduced vector, best first, as [index, similarity].
 * With groups, only the members of the `probes` nearest groups are scored: far cheaper than a
 * full scan, and still deterministic because every step is plain float64 arithmetic in a fixed
 * order. Ties break on the lower index. `lexical` (the codebook has a lexicon): every anchor's
 * lexical cosine with the query, blended into its score.
 */
export function nearest(cb: Codebook, book: Book, z: Float64Array, count: number, lexical?: Float64Array): Array<[number, number]> {
  const p = cb.header.reducedDimension
  const top = new TopK(count)
  const score = scorer(cb, book, lexical)
  if (cb.header.groups > 0) {
    const groups = new TopK(Math.min(cb.header.probes, cb.header.groups))
    for (let g = 0; g < cb.header.groups; g++) groups.offer(g, dot(book.groupCentroids, g * p, z, p))
    for (let i = 0; i < groups.length; i++) {
      for (const k of book.groupMembers[groups.index[i]]) top.offer(k, score(k, dot(book.centroids, k * p, z, p)))
    }
  } else if (book.quantised) {
    const {rows, factors} = book.quantised
    for (const k of prefiltered(cb, book.quantised, score, z)) top.offer(k, score(k, factors[k] * dot4i8(rows, k * p, z, p)))
  } else {
    for (let k = 0; k < cb.header.centroids; k++) top.offer(k, score(k, dot(book.centroids, k * p, z, p)))
  }
  const out: Array<[number, number]> = []
  for (let i = 0; i < top.length; i++) out.push([top.index[i], top.score[i]])
  return out
}

const NEEDS_TEXT = 'this codebook scores words too: routing keys need the text'

/**
 * A centroid's score from its embedding cosine: minus its bias, and with a lexicon blended with
 * the lexical cosine, (cosine + w x lexical) / (1 + w). Without a lexicon exactly cosine - bias,
 * so books without one keep their keys bit for bit.
 */
export function scorer(cb: Codebook, book: Book, lexical: Float64Array | undefined): (k: number, cosine: number) => number {
  const {bias} = book
  if (!cb.lexicon) return (k, cosine) => cosine - bias[k]
  if (!lexical) throw new Error(NEEDS_TEXT)
  const w = cb.lexicon.weight
  const f = 1 / (1 + w)
  return (k, cosine) => (cosine + w * lexical[k]) * f - bias[k]
}

let coarseBuffer = new Float64Array(0)
let selectBuffer = new Float64Array(0)

/**
 * Centroids whose score on the first `dimensions` axes is among the `candidates` best (all of
 * them on a tie at the cut), in index order.
 */
function prefiltered(cb: Codebook, book: QuantisedRows, score: (k: number, cosine: number) => number, z: Float64Array): Int32Array {
  const {dimensions: w, candidates} = cb.header.prefilter!
  const K = cb.header.centroids
  if (candidates >= K) return Int32Array.from({length: K}, (_, k) => k)
  const {prefix, factors: prefixScale} = book
  // Reused across calls: two fresh 120 KB arrays per query were most of the garbage of hashing.
  if (coarseBuffer.length < K) {
    coarseBuffer = new Float64Array(K)
    selectBuffer = new Float64Array(K)
  }
  const coarse = coarseBuffer
  for (let k = 0; k < K; k++) coarse[k] = score(k, dot4i8(prefix, k * w, z, w) * prefixScale[k])
  selectBuffer.set(coarse.subarray(0, K))
  const cut = kthLargest(selectBuffer.subarray(0, K), candidates)
  let n = 0
  for (let k = 0; k < K; k++) if (coarse[k] >= cut) n++
  const out = new Int32Array(n)
  n = 0
  for (let k = 0; k < K; k++) if (coarse[k] >= cut) out[n++] = k
  return out
}

/** The k-th largest value (1-based) of `a`, which it reorders: iterative quickselect, middle pivot. */
export function kthLargest(a: Float64Array, k: number): number {
  let lo = 0
  let hi = a.length - 1
  const target = k - 1
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1]
    let i = lo
    let j = hi
    while (i <= j) {
      while (a[i] > pivot) i++
      while (a[j] < pivot) j--
      if (i <= j) {
        const t = a[i]
        a[i] = a[j]
        a[j] = t
        i++
        j--
      }
    }
    if (target <= j) hi = j
    else if (target >= i) lo = i
    else return a[target]
  }
  return a[target]
}

/**
 * Distance from z to the boundary between the cells of centroids a and b, given z's scores sa >=
 * sb. With a lexicon the centroids are the blended vectors, |c_a - c_b|^2 = (|e_a - e_b|^2 + w x
 * |h_a - h_b|^2) / (1 + w), e the embedding part and h the lexical one.
 */
function boundaryDistance(cb: Codebook, book: Book, p: number, a: number, b: number, sa: number, sb: number): number {
  let n = 0
  if (book.quantised) {
    const {rows, factors} = book.quantised
    for (let j = 0; j < p; j++) {
      const d = rows[a * p + j] * factors[a] - rows[b * p + j] * factors[b]
      n += d * d
    }
  } else {
    for (let j = 0; j < p; j++) {
      const d = book.centroids[a * p + j] - book.centroids[b * p + j]
      n += d * d
    }
  }
  if (cb.lexicon) n = (n + cb.lexicon.weight * cb.lexicon.distance2(a, b)) / (1 + cb.lexicon.weight)
  return n > 0 ? (sa - sb) / Math.sqrt(n) : 0
}

/** How many nearest centroids per book the key selection looks at. */
export function candidateCount(selection: KeySelection): number {
  return selection.boundary === undefined ? selection.maxPerBook : Math.max(selection.maxPerBook, selection.pool ?? 0)
}

/**
 * Routing keys of one vector: `<book letter><centroid index>` per selected centroid, book by book.
 * `text` is what the model embedded; a codebook with a lexicon needs it, others ignore it.
 */
export function codebookKeys(cb: Codebook, vec: Float32Array, text?: string): string[] {
  const z = reduce(cb, vec)
  if (cb.lexicon && text === undefined) throw new Error(NEEDS_TEXT)
  const lexical = cb.lexicon ? cb.lexicon.scores(cb.lexicon.query(text!)) : undefined
  const count = candidateCount(cb.header.selection)
  return selectKeys(cb, cb.books.map((book) => nearest(cb, book, z, count, lexical)))
}

/** The keys chosen from each book's nearest centroids (as `nearest` gives them, best first). */
export function selectKeys(cb: Codebook, nearPerBook: Array<Array<[number, number]>>): string[] {
  const keys: string[] = []
  const {margin, boundary, maxPerBook, minPerBook} = cb.header.selection
  const p = cb.header.reducedDimension
  for (let b = 0; b < nearPerBook.length; b++) {
    const letter = String.fromCharCode(97 + b)
    const near = nearPerBook[b]
    if (boundary === undefined) {
      const best = near[0][1]
      // A cosine margin is monotone in rank, so the first miss ends the book.
      for (let i = 0; i < near.length && (i < minPerBook || near[i][1] >= best - margin); i++) keys.push(`${letter}${near[i][0]}`)
      continue
    }
    const [first, best] = near[0]
    // Boundary distance is not monotone in rank (it depends on where each centroid sits), so
    // every candidate is checked, and when too many qualify the closest boundaries win.
    const within: Array<[rank: number, distance: number]> = []
    for (let i = minPerBook; i < near.length; i++) {
      const d = boundaryDistance(cb, cb.books[b], p, first, near[i][0], best, near[i][1])
      if (d <= boundary) within.push([i, d])
    }
    within.sort((x, y) => x[1] - y[1] || x[0] - y[0])
    const kept = within.slice(0, Math.max(0, maxPerBook - minPerBook)).map(([i]) => i)
    for (let i = 0; i < Math.min(minPerBook, near.length); i++) kept.push(i)
    kept.sort((x, y) => x - y)
    for (const i of kept) keys.push(`${letter}${near[i][0]}`)
  }
  return keys
}

export interface CodebookParts {
  name: string
  embedder: string
  mean: Float32Array
  /** reducedDimension x dimension, row-major; omit for none. */
  projection?: Float32Array
  reducedDimension: number
  /** Per book: K x reducedDimension centroids (any length; quantised to unit-length int8 rows here). */
  books: Float32Array[]
  /** Per book: K score biases (Book.bias); omit for none. */
  bias?: Float32Array[]
  /** Per book: group centroids (G x reducedDimension) and each centroid's group; omit for exhaustive search. */
  groups?: Array<{centroids: Float32Array; groupOf: Int32Array}>
  probes?: number
  prefilter?: Prefilter
  selection: KeySelection
  /** The anchors' words (one book only), from fitLexicon. */
  lexicon?: LexiconParts
  fit: Record<string, unknown>
}

/** int8 per row with a float32 scale (max |x| / 127): 4x smaller than float32, ~0.4% error per value. */
function quantise(rows: Float32Array, dim: number): {q: Int8Array; scales: Float32Array} {
  const count = rows.length / dim
  const q = new Int8Array(rows.length)
  const scales = new Float32Array(count)
  for (let r = 0; r < count; r++) {
    let n = 0
    for (let j = 0; j < dim; j++) n += rows[r * dim + j] * rows[r * dim + j]
    const norm = Math.sqrt(n) || 1
    let max = 0
    for (let j = 0; j < dim; j++) max = Math.max(max, Math.abs(rows[r * dim + j] / norm))
    const scale = max / 127 || 1
    for (let j = 0; j < dim; j++) q[r * dim + j] = Math.round(rows[r * dim + j] / norm / scale)
    scales[r] = scale
  }
  return {q, scales}
}

/** Serialise a codebook in the format parseCodebook reads (used by scripts/fit-codebook.mjs and tests). */
export function encodeCodebook(parts: CodebookParts): Buffer {
  const dimension = parts.mean.length
  const p = parts.reducedDimension
  const chunks: Buffer[] = []
  const sections: SectionInfo[] = []
  let offset = 0
  const add = (name: string, dtype: SectionInfo['dtype'], shape: number[], data: Float32Array | Int8Array | Uint8Array | Uint32Array) => {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    // Copy: `data` may be a view whose buffer is reused by the caller.
    chunks.push(Buffer.from(buf))
    sections.push({name, dtype, shape, offset})
    offset += buf.length
    const pad = (4 - (offset % 4)) % 4
    if (pad) {
      chunks.push(Buffer.alloc(pad))
      offset += pad
    }
  }
  add('mean', 'f32', [dimension], parts.mean)
  if (parts.projection) add('projection', 'f32', [p, dimension], parts.projection)
  const K = parts.books[0].length / p
  parts.books.forEach((rows, b) => {
    if (rows.length !== K * p) throw new Error('all books must have the same number of centroids')
    const {q, scales} = quantise(rows, p)
    add(`book${b}`, 'i8', [K, p], q)
    add(`book${b}.scale`, 'f32', [K], scales)
    const bias = parts.bias?.[b]
    if (bias) {
      if (bias.length !== K) throw new Error(`book ${b}: ${bias.length} biases for ${K} centroids`)
      add(`book${b}.bias`, 'f32', [K], bias)
    }
    const g = parts.groups?.[b]
    if (g) {
      add(`book${b}.groups`, 'f32', [g.centroids.length / p, p], g.centroids)
      add(`book${b}.group_of`, 'f32', [K], Float32Array.from(g.groupOf))
    }
  })
  const lex = parts.lexicon
  if (lex) {
    if (parts.books.length !== 1) throw new Error('a lexicon needs exactly one book')
    const vocab = Buffer.from(lex.vocabulary.join('\n'), 'utf8')
    add('lexicon.vocab', 'u8', [vocab.length], new Uint8Array(vocab.buffer, vocab.byteOffset, vocab.length))
    add('lexicon.idf', 'f32', [lex.idf.length], lex.idf)
    add('lexicon.offsets', 'u32', [lex.offsets.length], lex.offsets)
    add('lexicon.anchors', 'u32', [lex.anchors.length], lex.anchors)
    add('lexicon.counts', 'u8', [lex.counts.length], lex.counts)
  }
  const data = Buffer.concat(chunks)
  const header: CodebookHeader = {
    format: 'qis-codebook',
    version: 1,
    name: parts.name,
    embedder: parts.embedder,
    dimension,
    reducedDimension: p,
    books: parts.books.length,
    centroids: K,
    groups: parts.groups ? parts.groups[0].centroids.length / p : 0,
    probes: parts.groups ? (parts.probes ?? 1) : 0,
    ...(parts.prefilter && !parts.groups ? {prefilter: parts.prefilter} : {}),
    selection: parts.selection,
    ...(lex ? {lexical: {tokenizer: LEXICAL_TOKENIZER, weight: lex.weight, unknownIdf: lex.unknownIdf}} : {}),
    fit: parts.fit,
    sections,
    sha256: createHash('sha256').update(data).digest('hex'),
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  const len = Buffer.alloc(4)
  len.writeUInt32LE(json.length)
  return Buffer.concat([CODEBOOK_MAGIC, len, json, data])
}
