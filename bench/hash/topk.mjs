#!/usr/bin/env node
// What onnxruntime's TopK costs the native key search (src/hash/native-search.ts), which takes the 576
// best coarse scores of 15,181 anchors a query (the prefilter's 512 and 64 spare). Random scores, one
// thread, 32 rows a call as the search makes them; CPU µs a row, after 10 warm-up calls:
//
//   node bench/hash/topk.mjs [--calls N]
//
// 1. TopK alone for several k and row widths. 2. A MatMul of the coarse shape ([32, 32] x [32,
// 15181]) with its scores reduced in the graph (what a call costs without TopK) and with all scores
// handed to JS, then the 576th best found there by a histogram pass: the alternative to TopK.
import {createRequire} from 'node:module'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const require = createRequire(path.join(root, 'package.json'))
const ort = require('onnxruntime-node')
const {onnx} = require('onnx-proto')
const i = process.argv.indexOf('--calls')
const calls = i === -1 ? 100 : Number(process.argv[i + 1])
const F = onnx.TensorProto.DataType.FLOAT
const I64 = onnx.TensorProto.DataType.INT64
const ROWS = 32
const ANCHORS = 15181
const io = (name, dims) =>
  onnx.ValueInfoProto.create({name, type: {tensorType: {elemType: F, shape: {dim: dims.map((d) => (typeof d === 'string' ? {dimParam: d} : {dimValue: d}))}}}})
const model = (initializer, node, input, output) =>
  onnx.ModelProto.encode(onnx.ModelProto.create({irVersion: 8, opsetImport: [{domain: '', version: 17}], graph: onnx.GraphProto.create({name: 'g', initializer, node, input, output})})).finish()
// A fixed LCG, so every run scores the same numbers.
let state = 1
const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 4294967296
const session = (bytes) => ort.InferenceSession.create(bytes, {intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential'})
async function perRow(s, feeds, after = () => {}) {
  for (let c = 0; c < 10; c++) after(await s.run(feeds()))
  const t = process.cpuUsage()
  for (let c = 0; c < calls; c++) after(await s.run(feeds()))
  const u = process.cpuUsage(t)
  return (u.user + u.system) / calls / ROWS
}
console.log(`bench/hash/topk: onnxruntime-node, 1 thread, ${ROWS} rows a call, ${calls} calls; ${os.cpus()[0]?.model}, load ${os.loadavg()[0].toFixed(1)}`)
console.log('\n| row width | k | CPU µs a row |\n|---|---|---|')
for (const [n, k] of [[ANCHORS, 16], [ANCHORS, 64], [ANCHORS, 128], [ANCHORS, 256], [ANCHORS, 400], [ANCHORS, 576], [7591, 576], [3796, 576]]) {
  const bytes = model(
    [onnx.TensorProto.create({name: 'k', dims: [1], dataType: I64, int64Data: [k]})],
    [onnx.NodeProto.create({opType: 'TopK', input: ['s', 'k'], output: ['v', 'i'], name: 't'})],
    [io('s', ['b', n])],
    [io('v', ['b', k])],
  )
  const x = new Float32Array(ROWS * n).map(random)
  console.log(`| ${n} | ${k} | ${(await perRow(await session(bytes), () => ({s: new ort.Tensor('float32', x, [ROWS, n])}))).toFixed(1)} |`)
}
const W = new Float32Array(32 * ANCHORS).map(() => random() - 0.5)
const z = new Float32Array(ROWS * 32).map(random)
const feeds = () => ({z: new ort.Tensor('float32', z, [ROWS, 32])})
const weights = () => [onnx.TensorProto.create({name: 'W', dims: [32, ANCHORS], dataType: F, rawData: new Uint8Array(W.buffer)})]
const matmul = onnx.NodeProto.create({opType: 'MatMul', input: ['z', 'W'], output: ['s'], name: 'mm'})
const reduced = model(
  weights(),
  [matmul, onnx.NodeProto.create({opType: 'ReduceMax', input: ['s'], output: ['r'], name: 'r', attribute: [onnx.AttributeProto.create({name: 'keepdims', type: 2, i: 0}), onnx.AttributeProto.create({name: 'axes', type: 7, ints: [1]})]})],
  [io('z', ['b', 32])],
  [io('r', ['b'])],
)
const full = model(weights(), [matmul], [io('z', ['b', 32])], [io('s', ['b', ANCHORS])])
let selectUs = 0
const select = (out) => {
  const t = process.cpuUsage()
  const d = out.s.data
  for (let b = 0; b < ROWS; b++) {
    const row = d.subarray(b * ANCHORS, (b + 1) * ANCHORS)
    let lo = Infinity
    let hi = -Infinity
    for (let k = 0; k < ANCHORS; k++) {
      const v = row[k]
      if (v < lo) lo = v
      if (v > hi) hi = v
    }
    const bins = new Int32Array(1024)
    const scale = 1023.999 / (hi - lo)
    for (let k = 0; k < ANCHORS; k++) bins[((row[k] - lo) * scale) | 0]++
    let seen = 0
    let bin = 1023
    for (; bin > 0 && seen + bins[bin] < 576; bin--) seen += bins[bin]
    const cut = lo + bin / scale
    const kept = []
    for (let k = 0; k < ANCHORS; k++) if (row[k] >= cut) kept.push(k)
  }
  const u = process.cpuUsage(t)
  selectUs += u.user + u.system
}
const reducedUs = await perRow(await session(reduced), feeds)
const fullUs = await perRow(await session(full), feeds, select)
console.log(`\ncoarse MatMul, scores reduced in the graph: ${reducedUs.toFixed(1)} µs a row`)
console.log(`coarse MatMul, all scores to JS and a histogram select there: ${fullUs.toFixed(1)} µs a row, of which the select ${(selectUs / (calls + 10) / ROWS).toFixed(1)}`)
