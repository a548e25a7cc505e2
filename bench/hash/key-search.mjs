#!/usr/bin/env node
// The key search on native kernels against the plain-JS search: identical keys, and the time of each.
// Run after `npm run build`:
//
//   node bench/hash/key-search.mjs [--n N] [--extra-random N]
//
// Embeds N texts per set (default 2000; `all` for every one) as qis does (embeddingText, use-lite),
// then computes every text's keys with `codebookKeys` (plain JS, float64: the definition) and with
// the scheme's batch path (`codes`: float32 candidates from onnxruntime, rescored in float64), and
// counts texts whose keys differ (must be 0) and texts the native path handed back to JS. Also
// checks vectors that sit on anchors and on the midpoints between neighbouring anchors (ties), and
// random unit vectors. Data from ../shared/data or $QIS_SHARED/data (MSR: benchmark only), never committed.
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {handWritten, mmlu, msrSentences, shared, spread} from './texts.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const dist = (m) => import(path.join(root, 'dist', m))
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : process.argv[i + 1]
}
const n = arg('n', '2000') === 'all' ? Infinity : Number(arg('n', '2000'))
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ')


const [{createUseLiteEmbedder}, {schemeFor}, {embeddingText}, {codebookKeys, loadCodebook}, {SeededRandom}] = await Promise.all([
  dist('embed/use-lite.js'),
  dist('hash/index.js'),
  dist('hash/input.js'),
  dist('hash/codebook.js'),
  dist('hash/prng.js'),
])
console.log(`bench/hash/key-search on ${os.cpus().length} cores, node ${process.version}; load ${load()}`)
const embedder = await createUseLiteEmbedder({runtime: 'onnx', threads: 1})
const scheme = schemeFor(embedder)
const cb = loadCodebook(path.join(root, 'assets/codebook/use-lite.mmlu-anchors.qcb'))

async function compare(name, vecs, texts) {
  const before = {...((await scheme.searchStats()) ?? {native: 0, rescued: 0})}
  // Warm both paths on the first vectors, then time each over all of them, in batches of 256 as the pipeline calls.
  await scheme.codes(vecs.slice(0, 8), texts.slice(0, 8))
  for (const v of vecs.slice(0, 8)) codebookKeys(cb, v, '')
  const w = {...(await scheme.searchStats())}
  // CPU time of this process (the search session runs on this thread), so the machine's load counts less than in wall time.
  const cpuMs = (c) => (c.user + c.system) / 1000
  let c0 = process.cpuUsage()
  const js = vecs.map((v, i) => (scheme.fineHash(v), codebookKeys(cb, v, texts[i]).slice(0, 8).join(' ')))
  const jsMs = cpuMs(process.cpuUsage(c0))
  c0 = process.cpuUsage()
  const nat = []
  for (let i = 0; i < vecs.length; i += 256) nat.push(...(await scheme.codes(vecs.slice(i, i + 256), texts.slice(i, i + 256))))
  const natMs = cpuMs(process.cpuUsage(c0))
  const after = await scheme.searchStats()
  let differ = 0
  nat.forEach((c, i) => {
    if (c.keys.join(' ') !== js[i]) {
      differ++
      if (differ <= 3) console.log(`  DIFFER ${name} #${i}: js ${js[i]} / native ${c.keys.join(' ')}`)
    }
  })
  const rescued = after.rescued - w.rescued
  console.log(`| ${name} | ${vecs.length} | ${differ} | ${rescued} | ${(jsMs / vecs.length).toFixed(3)} | ${(natMs / vecs.length).toFixed(3)} | ${(jsMs / natMs).toFixed(1)}x |`)
  void before
}

console.log('\n| vectors | count | keys differ | handed back to JS | JS search + fine hash, CPU ms/vector | native path + fine hash, CPU ms/vector | speed-up |')
console.log('|---|---|---|---|---|---|---|')
for (const [name, texts] of [
  ['MSR sentences', spread(msrSentences(), n)],
  ['MMLU questions', spread(mmlu(), n)],
  ['hand-written queries', handWritten()],
]) {
  const inputs = [...new Set(texts.map(embeddingText))]
  const vecs = await embedder.embed(inputs)
  await compare(name, vecs, inputs)
}
// Vectors that sit exactly where ties are most likely: on the anchors themselves (back through the
// projection's transpose) and halfway between an anchor and its neighbours.
{
  const {mean, projection} = cb
  const {rows, factors} = cb.books[0].quantised
  const p = cb.header.reducedDimension
  const d = cb.header.dimension
  const K = cb.header.centroids
  const lift = (zr) => {
    const v = new Float32Array(d)
    for (let j = 0; j < d; j++) {
      let s = 0
      for (let i = 0; i < p; i++) s += projection[i * d + j] * zr[i]
      v[j] = mean[j] + 0.35 * s
    }
    let q = 0
    for (const x of v) q += x * x
    return v.map((x) => x / Math.sqrt(q))
  }
  const anchor = (k) => Float64Array.from({length: p}, (_, j) => rows[k * p + j] * factors[k])
  const onAnchors = []
  const between = []
  const rnd = new SeededRandom(7)
  const m = Math.min(n, 1000)
  for (let i = 0; i < m; i++) {
    const k = Math.floor((i * K) / m)
    onAnchors.push(lift(anchor(k)))
    const a = anchor(k)
    const b = anchor(Math.floor(rnd.nextUnit() * K))
    between.push(lift(a.map((x, j) => x + b[j])))
  }
  await compare('on anchors', onAnchors, onAnchors.map(() => ''))
  await compare('between anchors', between, between.map(() => ''))
  const random = Array.from({length: m}, () => {
    const v = Float32Array.from({length: d}, () => rnd.nextGaussianish())
    let q = 0
    for (const x of v) q += x * x
    return v.map((x) => x / Math.sqrt(q))
  })
  await compare('random unit vectors', random, random.map(() => ''))
  await compare('zero vector', [new Float32Array(d)], [''])
}
console.log(`load ${load()}`)
await embedder.close()
