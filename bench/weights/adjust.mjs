// In-process confidence adjustment: what a deployment pays per answer once createAdjuster() holds
// the scrubber, the model and the weights. Run after `npm run build`:
//   node bench/weights/adjust.mjs [QUERIES]
// Uses the configured default embedder (use-lite; QIS_USE_LITE_RUNTIME=tfjs for the TF.js runtime)
// and MMLU questions as queries; the weights file holds an entry for every other query's first key,
// so half the lookups hit. Prints one-query latency p50/p99 after warm-up, and `qis adjust`'s
// wall time as a process (start-up, model load, one query) with its peak RSS.
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {mkdtempSync} from 'node:fs'

import {createHashPipeline} from '../../dist/hash/pipeline.js'
import {keyFingerprint} from '../../dist/packet/fingerprint.js'
import {createScrubber} from '../../dist/privacy/index.js'
import {createAdjuster, writeWeightsFile} from '../../dist/weights/index.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const n = Number(process.argv[2] ?? 200)
// QIS_SHARED, else ../shared beside the checkout (a worktree sits one level deeper).
const shared = process.env.QIS_SHARED ?? [path.resolve(root, '../shared'), path.resolve(root, '../../shared')].find((d) => existsSync(d)) ?? path.resolve(root, '../shared')
const lines = readFileSync(path.join(shared, 'data/queries/mmlu-questions.jsonl'), 'utf8').split('\n').filter(Boolean)
// Spread over the file so subjects vary.
const queries = Array.from({length: n}, (_, i) => JSON.parse(lines[Math.floor((i * lines.length) / n)]).text)
const domain = 'general'

let t = performance.now()
const scrubber = createScrubber()
const {pipeline, scheme} = await createHashPipeline({backend: 'use-lite', workers: 0})
await pipeline.hashMany(['warm-up sentence'])
const loadSeconds = (performance.now() - t) / 1000

// Weights for every other query (hashed by a separate pipeline so the adjuster's cache starts cold).
const {pipeline: keyer} = await createHashPipeline({backend: 'use-lite', workers: 0})
const codes = await keyer.hashMany(queries.filter((_, i) => i % 2 === 0).map((q) => scrubber.scrub(q).text))
await keyer.close()
const weights = {}
for (const c of codes) {
  const evidence = {mass: 4, success: 0.75, confidence: 0.6, publishers: 2}
  weights[keyFingerprint(scheme.id, domain, c.keys[0])] = {
    weight: 0.7, packets: 4, publishers: 2, publisherIds: ['00000000000000a1', '00000000000000a2'], records: 4, lastTimestamp: 1764000000, domain, routingKey: c.keys[0],
    evidence, variants: {'llama-3-8b': {...evidence, mass: 2, publishers: 1}, 'mistral-7b': {...evidence, mass: 2, success: 0.5, publishers: 1}},
    queries: [{hash: c.hash, model: 'llama-3-8b', ...evidence, mass: 2, publishers: 1}, {hash: c.hash, model: 'mistral-7b', ...evidence, mass: 2, success: 0.5, publishers: 1}],
    newShare: 0,
  }
}
const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'qis-bench-')), 'weights.json')
await writeWeightsFile(file, {version: 2, scheme: scheme.id, generatedAt: new Date().toISOString(), hammingThreshold: 22, weights})

const adjuster = await createAdjuster({weightsFile: file, hasher: {pipeline, scheme: scheme.id}, scrubber})
// Warm-up on other questions (the model's first calls at each new length are slower).
for (let i = 0; i < 20; i++) await adjuster.adjust(JSON.parse(lines[(i * 7919) % lines.length]).text + ' (warm-up)', {domain, confidence: 0.6, model: 'llama-3-8b'})
t = performance.now()
let hits = 0
const latencies = []
for (const q of queries) {
  const a = performance.now()
  if ((await adjuster.adjust(q, {domain, confidence: 0.6, model: 'llama-3-8b'})).keysMatched > 0) hits++
  latencies.push(performance.now() - a)
}
const oneByOne = (performance.now() - t) / queries.length
latencies.sort((a, b) => a - b)
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]

t = performance.now()
await adjuster.adjustMany(queries.map((query) => ({query, domain})))
const repeated = (performance.now() - t) / queries.length

await adjuster.close()
// A fresh adjuster for the batch figure, so nothing is cached.
const fresh = await createHashPipeline({backend: 'use-lite', workers: 0})
const batchAdjuster = await createAdjuster({weightsFile: file, hasher: {pipeline: fresh.pipeline, scheme: fresh.scheme.id}, scrubber})
t = performance.now()
await batchAdjuster.adjustMany(queries.map((query) => ({query, domain})))
const batched = (performance.now() - t) / queries.length
await batchAdjuster.close()

console.log(`scheme ${scheme.id}, ${queries.length} MMLU questions, ${os.cpus().length} cores`)
console.log(`load (scrubber + model + first embed): ${loadSeconds.toFixed(1)} s, once per adjuster`)
console.log(`adjust(), one query at a time:        ${oneByOne.toFixed(1)} ms/query (${hits} of ${queries.length} matched a key); p50 ${pct(50).toFixed(2)} ms, p99 ${pct(99).toFixed(2)} ms, max ${latencies.at(-1).toFixed(2)} ms`)
console.log(`adjustMany(), one batch:              ${batched.toFixed(1)} ms/query`)
console.log(`repeated queries (pipeline cache):    ${repeated.toFixed(2)} ms/query`)

// `qis adjust` as a person runs it: a process that loads everything for one query.
const home = path.join(path.dirname(file), 'home')
const walls = []
let rss = 0
for (let i = 0; i < 3; i++) {
  const a = performance.now()
  const r = spawnSync('/usr/bin/time', ['-f', 'RSSKB=%M', process.execPath, path.join(root, 'bin/run.js'), 'adjust', queries[0], '--domain', domain, '--weights', file, '--home', home], {encoding: 'utf8'})
  walls.push((performance.now() - a) / 1000)
  if (r.status !== 0) throw new Error(`qis adjust failed: ${r.stderr}`)
  rss = Math.max(rss, Number(/RSSKB=(\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024)
}
walls.sort((a, b) => a - b)
console.log(`qis adjust (process, one query):      ${walls[1].toFixed(2)} s median of 3 (${walls.map((w) => w.toFixed(2)).join(', ')}), peak RSS ${rss.toFixed(0)} MB`)
console.log(`runtime ${process.env.QIS_USE_LITE_RUNTIME || 'default (onnx)'}; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`)
