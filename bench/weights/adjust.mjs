// In-process confidence adjustment: what a deployment pays per answer once createAdjuster() holds
// the scrubber, the model and the weights. Run after `npm run build`:
//   node bench/weights/adjust.mjs [QUERIES]
// Uses the configured default embedder (use-lite) and MMLU questions as queries; the weights file
// holds an entry for every other query's first key, so half the lookups hit.
import {existsSync, readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {mkdtempSync} from 'node:fs'

import {createHashPipeline} from '../../dist/embed/pipeline.js'
import {keyFingerprint} from '../../dist/packet/fingerprint.js'
import {createScrubber} from '../../dist/privacy/index.js'
import {createAdjuster, writeWeightsFile} from '../../dist/weights/index.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const n = Number(process.argv[2] ?? 200)
// ../shared beside the checkout (a worktree sits one level deeper).
const shared = [path.resolve(root, '../shared'), path.resolve(root, '../../shared')].find((d) => existsSync(d)) ?? path.resolve(root, '../shared')
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
t = performance.now()
let hits = 0
for (const q of queries) if ((await adjuster.adjust(q, {domain, confidence: 0.6, model: 'llama-3-8b'})).keysMatched > 0) hits++
const oneByOne = (performance.now() - t) / queries.length

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
console.log(`adjust(), one query at a time:        ${oneByOne.toFixed(1)} ms/query (${hits} of ${queries.length} matched a key)`)
console.log(`adjustMany(), one batch:              ${batched.toFixed(1)} ms/query`)
console.log(`repeated queries (pipeline cache):    ${repeated.toFixed(2)} ms/query`)
