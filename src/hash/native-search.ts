import {createRequire} from 'node:module'

import {importOrt} from '../embed/ort.js'
import {type Codebook, TopK, dot4i8, kthLargest, scorer} from './codebook.js'

/**
 * The heavy part of the key search on onnxruntime's native kernels: every anchor's score as a
 * float32 MatMul and the best few by TopK, for the coarse (prefilter) pass and the full one. The
 * keys stay those of the float64 search in plain JS (`nearest` in codebook.ts), bit for bit:
 * float32 only picks candidates, every candidate is rescored with the JS arithmetic, and a query
 * is handed back to the JS search unless the float32 margins prove that no anchor outside the
 * candidates could have been chosen (docs/hashing.md, "Key search on native kernels").
 */

/** Bound on |float32 score - float64 score|: the worst case for 128 terms is ~8e-6, so 1e-4 is far outside it. */
const EPSILON = 1e-4
/** Coarse candidates beyond the prefilter's own count, so the cut can be proved from the float32 scores. */
const COARSE_SPARE = 64
/** Full-score candidates: the 16 keys' candidates and room to prove the 16th. */
const FINE_CANDIDATES = 64
/** Queries per onnxruntime call. */
const RUN_SIZE = 32

export interface SearchStats {
  /** Queries whose nearest anchors came from the native candidates. */
  native: number
  /** Queries whose float32 margins proved nothing, searched again in plain JS. */
  rescued: number
}

export interface NativeSearch {
  /** Per reduced query vector: its `count` nearest anchors as `nearest` gives them, or undefined (search it in JS). */
  nearestMany(zs: Float64Array[], count: number): Promise<Array<Array<[number, number]> | undefined>>
  readonly stats: SearchStats
}

const require = createRequire(import.meta.url)
type Onnx = any

/**
 * A native search for a codebook, or undefined when it has none: only one-book codebooks searched
 * with a prefilter and without word scores (the shipped one) have this path; onnxruntime missing
 * or failing to load also gives undefined, and the JS search does all the work.
 */
export async function createNativeSearch(cb: Codebook, threads = 1): Promise<NativeSearch | undefined> {
  const book = cb.books[0]
  const prefilter = cb.header.prefilter
  if (cb.books.length !== 1 || cb.lexicon || !book.quantised || !prefilter) return undefined
  let ort: Awaited<ReturnType<typeof importOrt>>
  let session: import('onnxruntime-node').InferenceSession
  const K = cb.header.centroids
  const p = cb.header.reducedDimension
  const w = prefilter.dimensions
  const coarseCount = Math.min(K, prefilter.candidates + COARSE_SPARE)
  const fineCount = Math.min(coarseCount, FINE_CANDIDATES)
  try {
    ort = await importOrt()
    session = await ort.InferenceSession.create(searchGraph(cb, coarseCount, fineCount), {intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential'})
  } catch {
    return undefined
  }
  const {rows, factors, prefix} = book.quantised
  const score = scorer(cb, book, undefined)
  const exactCoarse = new Float64Array(coarseCount)
  const stats: SearchStats = {native: 0, rescued: 0}

  const one = (z: Float64Array, count: number, cIdx: Int32Array, cVal: Float32Array, fPos: Int32Array, fVal: Float32Array): Array<[number, number]> | undefined => {
    // 1. The prefilter's cut (its `candidates`-th best coarse score, float64) from the float32
    // candidates: exact when every anchor left out scores below all the first `candidates`.
    let cut = -Infinity
    if (prefilter.candidates < K) {
      if (coarseCount < K && !(cVal[coarseCount - 1] + EPSILON < cVal[prefilter.candidates - 1] - EPSILON)) return undefined
      for (let i = 0; i < coarseCount; i++) {
        const k = cIdx[i]
        exactCoarse[i] = score(k, dot4i8(prefix, k * w, z, w) * factors[k])
      }
      cut = kthLargest(Float64Array.from(exactCoarse), prefilter.candidates)
    }
    // 2. The nearest among the fine candidates that pass the prefilter, rescored as `nearest` does.
    const top = new TopK(count)
    for (let i = 0; i < fineCount; i++) {
      const at = fPos[i]
      const k = cIdx[at]
      if (cut === -Infinity || exactCoarse[at] >= cut) top.offer(k, score(k, factors[k] * dot4i8(rows, k * p, z, p)))
    }
    // 3. Proof that no other anchor that passes the prefilter (all are among the coarse
    // candidates) ranks among the `count` best: each scores at most the last fine candidate's.
    if (fineCount < coarseCount && !(top.length === count && top.score[count - 1] > fVal[fineCount - 1] + EPSILON)) return undefined
    const out: Array<[number, number]> = []
    for (let i = 0; i < top.length; i++) out.push([top.index[i], top.score[i]])
    return out
  }

  return {
    stats,
    async nearestMany(zs, count) {
      if (count > fineCount) return zs.map(() => undefined)
      const out: Array<Array<[number, number]> | undefined> = []
      // A run gathers coarseCount rows of p floats per query (295 KB): calls of 32 keep that to
      // ~9 MB of onnxruntime's arena, where a batch of 256 held 75 MB.
      for (let at = 0; at < zs.length; at += RUN_SIZE) out.push(...(await run(zs.slice(at, at + RUN_SIZE), count)))
      return out
    },
  }

  async function run(zs: Float64Array[], count: number): Promise<Array<Array<[number, number]> | undefined>> {
    const flat = new Float32Array(zs.length * p)
    zs.forEach((z, i) => flat.set(z, i * p))
    const out = await session.run({z: new ort.Tensor('float32', flat, [zs.length, p])})
    const cIdx = out.coarse_index.data as Int32Array
    const cVal = out.coarse_score.data as Float32Array
    const fPos = out.fine_position.data as Int32Array
    const fVal = out.fine_score.data as Float32Array
    return zs.map((z, i) => {
      const near = one(
        z,
        count,
        cIdx.subarray(i * coarseCount, (i + 1) * coarseCount),
        cVal.subarray(i * coarseCount, (i + 1) * coarseCount),
        fPos.subarray(i * fineCount, (i + 1) * fineCount),
        fVal.subarray(i * fineCount, (i + 1) * fineCount),
      )
      if (near) stats.native++
      else stats.rescued++
      return near
    })
  }
}

/**
 * z [B, p] float32 in. Every anchor's coarse score (the prefilter's first `w` axes), the best
 * `coarseCount` by TopK; those anchors' full scores (their rows gathered, one MatMul), and the
 * best `fineCount` of them as positions in the coarse list. Only the prefilter's candidates are
 * ever ranked by the full score, so scoring only the coarse list is the search `nearest` does.
 */
function searchGraph(cb: Codebook, coarseCount: number, fineCount: number): Uint8Array {
  const {onnx} = require('onnx-proto') as {onnx: Onnx}
  const FLOAT = onnx.TensorProto.DataType.FLOAT
  const INT64 = onnx.TensorProto.DataType.INT64
  const INT32 = onnx.TensorProto.DataType.INT32
  const INT8 = onnx.TensorProto.DataType.INT8
  const K = cb.header.centroids
  const p = cb.header.reducedDimension
  const w = cb.header.prefilter!.dimensions
  const {rows, factors, prefix} = cb.books[0].quantised!
  const bias = cb.books[0].bias
  // The int8 rows as the file has them (a quarter of float32's bytes to encode and load); each
  // score is the int8 dot product times the row's factor, as in the JS search.
  const prefixColumns = new Int8Array(w * K) // column k: anchor k's first w values, for z x W
  for (let k = 0; k < K; k++) for (let j = 0; j < w; j++) prefixColumns[j * K + k] = prefix[k * w + j]
  const initializer: unknown[] = []
  const nodes: unknown[] = []
  const tensor = (name: string, dims: number[], dataType: number, data: Float32Array | Int8Array): string => {
    initializer.push(onnx.TensorProto.create({name, dims, dataType, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength)}))
    return name
  }
  const floats = (name: string, dims: number[], data: Float32Array): string => tensor(name, dims, FLOAT, data)
  const ints = (name: string, values: number[]): string => {
    initializer.push(onnx.TensorProto.create({name, dims: [values.length], dataType: INT64, int64Data: values}))
    return name
  }
  const node = (opType: string, input: string[], output: string[], attrs: Record<string, number> = {}): void => {
    const attribute = Object.entries(attrs).map(([name, i]) => onnx.AttributeProto.create({name, type: onnx.AttributeProto.AttributeType.INT, i}))
    nodes.push(onnx.NodeProto.create({opType, input, output, attribute, name: output[0]}))
  }
  const factorsName = floats('factors', [K], Float32Array.from(factors))
  node('Cast', [tensor('prefix_q', [w, K], INT8, prefixColumns)], ['prefix_w'], {to: FLOAT})
  node('Cast', [tensor('rows_q', [K, p], INT8, rows)], ['rows_w'], {to: FLOAT})
  const hasBias = bias.some((b) => b !== 0)
  const biasName = hasBias ? floats('bias', [K], Float32Array.from(bias)) : ''
  const topK = {axis: -1, largest: 1, sorted: 1}
  // Coarse: [B, w] x [w, K], TopK.
  node('Slice', ['z', ints('zero', [0]), ints('prefix_end', [w]), ints('axis1', [1])], ['z_prefix'])
  node('MatMul', ['z_prefix', 'prefix_w'], ['coarse_dot'])
  node('Mul', ['coarse_dot', factorsName], ['coarse_cosine'])
  if (hasBias) node('Sub', ['coarse_cosine', biasName], ['coarse_all'])
  node('TopK', [hasBias ? 'coarse_all' : 'coarse_cosine', ints('coarse_k', [coarseCount])], ['coarse_score', 'coarse_index64'], topK)
  node('Cast', ['coarse_index64'], ['coarse_index'], {to: INT32})
  // Fine: the candidates' rows [B, C, p] x z [B, p, 1], TopK.
  node('Gather', ['rows_w', 'coarse_index64'], ['candidate_rows'], {axis: 0})
  node('Unsqueeze', ['z', ints('last', [2])], ['z_column'])
  node('MatMul', ['candidate_rows', 'z_column'], ['candidate_dot3'])
  node('Squeeze', ['candidate_dot3', ints('last_b', [2])], ['candidate_dot'])
  node('Gather', [factorsName, 'coarse_index64'], ['candidate_factors'], {axis: 0})
  node('Mul', ['candidate_dot', 'candidate_factors'], ['candidate_cosine'])
  if (hasBias) {
    node('Gather', [biasName, 'coarse_index64'], ['candidate_bias'], {axis: 0})
    node('Sub', ['candidate_cosine', 'candidate_bias'], ['candidate_all'])
  }
  node('TopK', [hasBias ? 'candidate_all' : 'candidate_cosine', ints('fine_k', [fineCount])], ['fine_score', 'fine_position64'], topK)
  node('Cast', ['fine_position64'], ['fine_position'], {to: INT32})
  const io = (name: string, elemType: number, dims: Array<string | number>) =>
    onnx.ValueInfoProto.create({name, type: {tensorType: {elemType, shape: {dim: dims.map((d) => (typeof d === 'string' ? {dimParam: d} : {dimValue: d}))}}}})
  const graph = onnx.GraphProto.create({
    name: 'qis-key-search',
    initializer,
    input: [io('z', FLOAT, ['batch', p])],
    output: [
      io('coarse_score', FLOAT, ['batch', coarseCount]),
      io('coarse_index', INT32, ['batch', coarseCount]),
      io('fine_score', FLOAT, ['batch', fineCount]),
      io('fine_position', INT32, ['batch', fineCount]),
    ],
    node: nodes,
  })
  return onnx.ModelProto.encode(onnx.ModelProto.create({irVersion: 8, producerName: 'qis src/hash/native-search.ts', opsetImport: [{domain: '', version: 17}], graph})).finish() as Uint8Array
}
