// Hamming distances of the fine hash (64-bit SimHash) on MSR paraphrase pairs, to choose the
// closeness threshold pull-weights applies (DEFAULT_HAMMING_THRESHOLD). Run after `npm run build`:
//   node bench/weights/hamming.mjs [PAIRS]
// Prints, per threshold T, the share of paraphrase pairs kept (recall), of non-paraphrase pairs
// (lexically close, different meaning) kept, and of random pairs that share a routing key kept:
// the last is what the filter exists to cut, since only key-sharing packets ever reach it.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {createHashPipeline} from '../../dist/hash/pipeline.js'
import {createEmbedder} from '../../dist/embed/index.js'
import {SimHasher} from '../../dist/hash/simhash.js'
import {hexHamming} from '../../dist/weights/synthesize.js'
import {createScrubber} from '../../dist/privacy/index.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const dataDir = path.resolve(root, '../shared/data/paraphrase')
const limit = Number(process.argv[2] ?? 600)

function readPairs(file) {
  const lines = readFileSync(path.join(dataDir, file), 'utf8').split('\n').slice(1).filter(Boolean)
  return lines.map((l) => l.split('\t')).filter((c) => c.length >= 5).map((c) => ({para: c[0] === '1', a: c[3], b: c[4]}))
}
const pairs = [...readPairs('msr-para-val.tsv'), ...readPairs('msr-para-train.tsv')].slice(0, limit)
const scrubber = createScrubber()
const texts = pairs.flatMap((p) => [scrubber.scrub(p.a).text, scrubber.scrub(p.b).text])

const t0 = performance.now()
let codes
let schemeName
try {
  const {pipeline, scheme} = await createHashPipeline({backend: 'use-lite', workers: 0})
  codes = await pipeline.hashMany(texts)
  await pipeline.close()
  schemeName = scheme.id
} catch (err) {
  // Before the codebook ships: the same SimHash, centred on the mean of 600 MMLU questions
  // (the corpus a codebook is fitted on) instead of the codebook's mean; no routing keys.
  console.log(`(no hash pipeline: ${err.message}; using SimHash centred on an MMLU sample, keys unavailable)`)
  const embedder = await createEmbedder({backend: 'use-lite'})
  const mmlu = readFileSync(path.resolve(root, '../shared/data/queries/mmlu-questions.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 600).map((l) => JSON.parse(l).text)
  const mean = new Float64Array(embedder.dimension)
  for (let i = 0; i < mmlu.length; i += 64) for (const v of await embedder.embed(mmlu.slice(i, i + 64))) for (let j = 0; j < v.length; j++) mean[j] += v[j] / mmlu.length
  const hasher = new SimHasher(embedder.dimension, 'qis.simhash.v1', mean)
  codes = []
  for (let i = 0; i < texts.length; i += 64) for (const v of await embedder.embed(texts.slice(i, i + 64))) codes.push({hash: hasher.hash(v), keys: []})
  await embedder.close()
  schemeName = 'use-lite + SimHash centred on MMLU sample'
}
const secs = (performance.now() - t0) / 1000

const dist = (i, j) => hexHamming(codes[i].hash, codes[j].hash)
const shareKey = (i, j) => codes[i].keys.some((k) => codes[j].keys.includes(k))
const para = []
const nonPara = []
for (let p = 0; p < pairs.length; p++) (pairs[p].para ? para : nonPara).push(dist(2 * p, 2 * p + 1))
// Random pairs: sentence a of pair p against sentence b of a different pair, kept when they share a key.
let randomTried = 0
const randomAll = []
const randomKeyShared = []
let seed = 12345
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296)
for (let n = 0; n < 200_000; n++) {
  const i = 2 * Math.floor(rnd() * pairs.length)
  const j = 2 * Math.floor(rnd() * pairs.length) + 1
  if (j === i + 1) continue
  randomTried++
  const d = dist(i, j)
  randomAll.push(d)
  if (shareKey(i, j)) randomKeyShared.push(d)
}
const paraShared = []
for (let p = 0; p < pairs.length; p++) if (pairs[p].para && shareKey(2 * p, 2 * p + 1)) paraShared.push(dist(2 * p, 2 * p + 1))

const pct = (arr, q) => [...arr].sort((x, y) => x - y)[Math.min(arr.length - 1, Math.floor(q * arr.length))]
const kept = (arr, t) => arr.filter((d) => d <= t).length / arr.length
const summary = (name, arr) =>
  `${name.padEnd(28)} n=${String(arr.length).padStart(6)}  p5=${pct(arr, 0.05)} p25=${pct(arr, 0.25)} median=${pct(arr, 0.5)} p75=${pct(arr, 0.75)} p95=${pct(arr, 0.95)}`

console.log(`scheme ${schemeName}; ${pairs.length} MSR pairs (${para.length} paraphrase), ${texts.length} sentences hashed in ${secs.toFixed(1)} s`)
console.log(summary('paraphrase pairs', para))
console.log(summary('paraphrase, sharing a key', paraShared))
console.log(summary('non-paraphrase pairs', nonPara))
console.log(summary('random pairs', randomAll))
if (randomKeyShared.length) console.log(summary('random, sharing a key', randomKeyShared))
console.log(`random pairs sharing a key: ${randomKeyShared.length} of ${randomTried} (${((100 * randomKeyShared.length) / randomTried).toFixed(2)}%)`)
console.log('\n  T  para kept  para&key kept  non-para kept  random kept  random&key kept')
for (const t of [12, 14, 16, 18, 20, 22, 24, 26, 28]) {
  const f = (x) => (100 * x).toFixed(1).padStart(6) + '%'
  console.log(`${String(t).padStart(3)}  ${f(kept(para, t))}  ${f(kept(paraShared, t))}      ${f(kept(nonPara, t))}    ${f(kept(randomAll, t))}      ${f(kept(randomKeyShared, t))}`)
}
