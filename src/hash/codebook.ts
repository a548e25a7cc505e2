import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'

/**
 * A routing codebook: public k-means centroids over an embedding space, fitted once offline by
 * scripts/fit-codebook.mjs and shipped in assets/codebook/. A query's routing keys are the
 * centroids nearest to it, so two queries meet when they share a nearby centroid.
 *
 * File layout (little-endian): 8-byte magic "QISCB\x01\0\0", u32 header length, UTF-8 JSON
 * header (CodebookHeader), then the sections the header lists, each at its byte offset from the
 * start of the data block.
 */
export const CODEBOOK_MAGIC = Buffer.from('QISCB\x01\0\0', 'latin1')

export interface SectionInfo {
  name: string
  dtype: 'f32' | 'i8'
  shape: number[]
  offset: number
}

export interface KeySelection {
  /** Keys per book are the centroids whose similarity is within `margin` of the best one... */
  margin: number
  /** ...at most this many per book... */
  maxPerBook: number
  /** ...and at least this many per book (the nearest ones), whatever the margin. */
  minPerBook: number
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
  selection: KeySelection
  fit: Record<string, unknown>
  sections: SectionInfo[]
  /** sha256 of the data block, checked on load so a damaged file fails loudly rather than routing wrongly. */
  sha256: string
}

export interface Book {
  /** Centroids dequantised to float64, row-major K x reducedDimension, unit length. */
  centroids: Float64Array
  /** Group centroids (G x reducedDimension) and each group's member centroid indexes. */
  groupCentroids: Float64Array
  groupMembers: Int32Array[]
}

export interface Codebook {
  header: CodebookHeader
  mean: Float64Array
  /** reducedDimension x dimension, or undefined when there is no projection. */
  projection: Float64Array | undefined
  books: Book[]
}

function section(header: CodebookHeader, data: Buffer, name: string): Float64Array | undefined {
  const info = header.sections.find((s) => s.name === name)
  if (!info) return undefined
  const count = info.shape.reduce((a, b) => a * b, 1)
  const out = new Float64Array(count)
  if (info.dtype === 'f32') {
    for (let i = 0; i < count; i++) out[i] = data.readFloatLE(info.offset + 4 * i)
  } else {
    for (let i = 0; i < count; i++) out[i] = data.readInt8(info.offset + i)
  }
  return out
}

function required(header: CodebookHeader, data: Buffer, name: string, file: string): Float64Array {
  const s = section(header, data, name)
  if (!s) throw new Error(`codebook ${file} lacks section "${name}"`)
  return s
}

/** int8 rows with one float32 scale per row back to float64. */
function dequantise(q: Float64Array, scales: Float64Array, dim: number): Float64Array {
  const out = new Float64Array(q.length)
  for (let r = 0; r < scales.length; r++) {
    for (let j = 0; j < dim; j++) out[r * dim + j] = q[r * dim + j] * scales[r]
  }
  return out
}

export function parseCodebook(bytes: Buffer, file = '<codebook>'): Codebook {
  if (bytes.length < 12 || !bytes.subarray(0, 8).equals(CODEBOOK_MAGIC)) throw new Error(`${file} is not a qis codebook`)
  const headerLength = bytes.readUInt32LE(8)
  const header = JSON.parse(bytes.subarray(12, 12 + headerLength).toString('utf8')) as CodebookHeader
  if (header.format !== 'qis-codebook' || header.version !== 1) throw new Error(`${file}: unsupported codebook format`)
  const data = bytes.subarray(12 + headerLength)
  const digest = createHash('sha256').update(data).digest('hex')
  if (digest !== header.sha256) throw new Error(`${file} is damaged (checksum mismatch)`)
  const d = header.reducedDimension
  const books: Book[] = []
  for (let b = 0; b < header.books; b++) {
    const centroids = dequantise(required(header, data, `book${b}`, file), required(header, data, `book${b}.scale`, file), d)
    let groupCentroids: Float64Array = new Float64Array(0)
    let groupMembers: Int32Array[] = []
    if (header.groups > 0) {
      groupCentroids = required(header, data, `book${b}.groups`, file)
      const assign = required(header, data, `book${b}.group_of`, file)
      const lists: number[][] = Array.from({length: header.groups}, () => [])
      for (let k = 0; k < assign.length; k++) lists[assign[k]].push(k)
      groupMembers = lists.map((l) => Int32Array.from(l))
    }
    books.push({centroids, groupCentroids, groupMembers})
  }
  return {
    header,
    mean: required(header, data, 'mean', file),
    projection: section(header, data, 'projection'),
    books,
  }
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
    for (let i = 0; i < p; i++) {
      let s = 0
      const o = i * d
      for (let j = 0; j < d; j++) s += cb.projection[o + j] * x[j]
      z[i] = s
    }
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
 * Nearest centroids of one book for a reduced vector, best first, as [index, similarity].
 * With groups, only the members of the `probes` nearest groups are scored: far cheaper than a
 * full scan, and still deterministic because every step is plain float64 arithmetic in a fixed
 * order. Ties break on the lower index.
 */
export function nearest(cb: Codebook, book: Book, z: Float64Array, count: number): Array<[number, number]> {
  const p = cb.header.reducedDimension
  const scored: Array<[number, number]> = []
  if (cb.header.groups > 0) {
    const groups: Array<[number, number]> = []
    for (let g = 0; g < cb.header.groups; g++) groups.push([g, dot(book.groupCentroids, g * p, z, p)])
    groups.sort((a, b) => b[1] - a[1] || a[0] - b[0])
    for (let i = 0; i < Math.min(cb.header.probes, groups.length); i++) {
      for (const k of book.groupMembers[groups[i][0]]) scored.push([k, dot(book.centroids, k * p, z, p)])
    }
  } else {
    for (let k = 0; k < cb.header.centroids; k++) scored.push([k, dot(book.centroids, k * p, z, p)])
  }
  scored.sort((a, b) => b[1] - a[1] || a[0] - b[0])
  return scored.slice(0, count)
}

/** Routing keys of one vector: `<book letter><centroid index>` per selected centroid, book by book. */
export function codebookKeys(cb: Codebook, vec: Float32Array): string[] {
  const z = reduce(cb, vec)
  const {margin, maxPerBook, minPerBook} = cb.header.selection
  const keys: string[] = []
  for (let b = 0; b < cb.books.length; b++) {
    const near = nearest(cb, cb.books[b], z, maxPerBook)
    const best = near[0][1]
    for (let i = 0; i < near.length; i++) {
      if (i >= minPerBook && near[i][1] < best - margin) break
      keys.push(`${String.fromCharCode(97 + b)}${near[i][0]}`)
    }
  }
  return keys
}
