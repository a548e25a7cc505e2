#!/usr/bin/env node
// Semantic hashing benchmark (issue 4). Run after `npm run build`:
//
//   node bench/hash/run.mjs [--pairs N] [--cache FILE] [--speed N] [--no-speed] [--no-quality]
//
// Quality, on MSR paraphrase pairs (../shared/data/paraphrase, train+val; research licence, never
// fitted on): meet-rate (the two texts share at least one routing key) for paraphrase pairs,
// non-paraphrase pairs and random pairs; keys per query; Hamming distance of the fine hash.
// Embeddings can be cached (--cache) because embedding 8k sentences is the slow part.
//
// Speed, in one run on the same sentences: the bare use-lite model (sentences/s after load), the
// in-process HashPipeline (scrub + embed + hash), and `qis hash` end to end as a separate
// process, whose steady rate is (N - 1) / (time for N - time for 1) so start-up and model load
// are reported apart, plus its peak RSS; finally the same input repeated, to show cache hits.
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const {values: opt} = parseArgs({
  options: {
    data: {type: 'string', default: path.resolve(root, '../shared/data/paraphrase')},
    pairs: {type: 'string'},
    cache: {type: 'string'},
    codebook: {type: 'string'},
    speed: {type: 'string', default: '400'},
    'random-pairs': {type: 'string', default: '20000'},
    'no-speed': {type: 'boolean', default: false},
    'no-quality': {type: 'boolean', default: false},
  },
})

const {createEmbedder} = await import(path.join(root, 'dist/embed/index.js'))
const {HashPipeline} = await import(path.join(root, 'dist/embed/pipeline.js'))
const {schemeFor, schemeFromCodebookFile, hammingDistance} = await import(path.join(root, 'dist/hash/index.js'))
const {SeededRandom} = await import(path.join(root, 'dist/hash/prng.js'))
const {createScrubber} = await import(path.join(root, 'dist/privacy/index.js'))

const pairs = []
for (const split of ['train', 'val']) {
  const lines = readFileSync(path.join(opt.data, `msr-para-${split}.tsv`), 'utf8').replace(/^\uFEFF/, '').split('\n').slice(1)
  for (const line of lines) {
    if (!line.trim()) continue
    const [quality, , , a, b] = line.split('\t')
    pairs.push({paraphrase: quality === '1', a, b})
  }
}
const used = opt.pairs ? pairs.slice(0, Number(opt.pairs)) : pairs
const fmt = (x, d = 3) => x.toFixed(d)
const pct = (xs, ps) => {
  const s = [...xs].sort((a, b) => a - b)
  return ps.map((p) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))])
}
console.log(`# bench/hash  ${new Date().toISOString()}  node ${process.version}  ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`)

const embedder = await createEmbedder({backend: 'use-lite'})
const scheme = opt.codebook ? schemeFromCodebookFile(embedder, opt.codebook) : schemeFor(embedder)
console.log(`scheme ${scheme.id}`)

if (!opt['no-quality']) {
  const sentences = [...new Set(used.flatMap((p) => [p.a, p.b]))]
  const digest = createHash('sha256').update(embedder.id + '\n' + sentences.join('\n')).digest('hex')
  let vecs
  if (opt.cache && existsSync(opt.cache)) {
    const buf = readFileSync(opt.cache)
    if (buf.subarray(0, 64).toString('latin1') !== digest) throw new Error(`${opt.cache} caches other sentences; delete it`)
    const all = new Float32Array(buf.buffer.slice(buf.byteOffset + 64, buf.byteOffset + buf.length))
    vecs = sentences.map((_, i) => all.subarray(i * embedder.dimension, (i + 1) * embedder.dimension))
  } else {
    vecs = []
    for (let i = 0; i < sentences.length; i += 32) vecs.push(...(await embedder.embed(sentences.slice(i, i + 32))))
    if (opt.cache) {
      const all = new Float32Array(sentences.length * embedder.dimension)
      vecs.forEach((v, i) => all.set(v, i * embedder.dimension))
      writeFileSync(opt.cache, Buffer.concat([Buffer.from(digest, 'latin1'), Buffer.from(all.buffer)]))
    }
  }
  const t0 = performance.now()
  const codes = new Map(sentences.map((s, i) => [s, {hash: scheme.fineHash(vecs[i]), keys: scheme.routingKeys(vecs[i])}]))
  const hashMs = (performance.now() - t0) / sentences.length
  const meets = (x, y) => {
    const kx = codes.get(x).keys
    return codes.get(y).keys.some((k) => kx.includes(k))
  }
  const ham = (x, y) => hammingDistance(codes.get(x).hash, codes.get(y).hash)
  const rnd = new SeededRandom(20261126)
  const randomPairs = []
  while (randomPairs.length < Number(opt['random-pairs'])) {
    const i = Math.floor(rnd.nextUnit() * used.length)
    const j = Math.floor(rnd.nextUnit() * used.length)
    if (i === j) continue
    randomPairs.push([rnd.nextUnit() < 0.5 ? used[i].a : used[i].b, used[j].b])
  }
  const para = used.filter((p) => p.paraphrase).map((p) => [p.a, p.b])
  const non = used.filter((p) => !p.paraphrase).map((p) => [p.a, p.b])
  const keyCounts = [...codes.values()].map((c) => c.keys.length)
  const hist = Array.from({length: 9}, (_, n) => keyCounts.filter((c) => c === n).length)
  console.log(`\n## quality: MSR train+val, ${used.length} pairs (${para.length} paraphrase, ${non.length} not), ${randomPairs.length} random pairs, ${sentences.length} sentences`)
  console.log(`meet-rate  paraphrase ${fmt(para.filter(([a, b]) => meets(a, b)).length / para.length)}  non-paraphrase ${fmt(non.filter(([a, b]) => meets(a, b)).length / non.length)}  random ${fmt(randomPairs.filter(([a, b]) => meets(a, b)).length / randomPairs.length, 4)}`)
  console.log(`keys/query mean ${fmt(keyCounts.reduce((s, x) => s + x, 0) / keyCounts.length, 2)}  max ${Math.max(...keyCounts)}  histogram 1..8: ${hist.slice(1).join(' ')}`)
  for (const [name, set] of [['paraphrase', para], ['non-paraphrase', non], ['random', randomPairs]]) {
    const d = set.map(([a, b]) => ham(a, b))
    console.log(`hamming ${name.padEnd(15)} p5/p25/p50/p75/p95 ${pct(d, [5, 25, 50, 75, 95]).join('/')}  mean ${fmt(d.reduce((s, x) => s + x, 0) / d.length, 1)}`)
  }
  console.log(`hashing cost (SimHash + keys, no model) ${fmt(hashMs, 3)} ms/sentence`)
}

if (!opt['no-speed']) {
  const n = Number(opt.speed)
  const texts = [...new Set(pairs.flatMap((p) => [p.a, p.b]))].slice(-n) // the tail: val sentences first
  console.log(`\n## speed: ${texts.length} distinct MSR sentences, batch 32, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`)
  const bare = await createEmbedder({backend: 'use-lite'})
  await bare.embed(texts.slice(0, 8)) // warm-up: first call compiles kernels
  let t = performance.now()
  for (let i = 0; i < texts.length; i += 32) await bare.embed(texts.slice(i, i + 32))
  const bareRate = texts.length / ((performance.now() - t) / 1000)
  const scrubber = createScrubber()
  const pipeline = new HashPipeline(bare, scheme, {batchSize: 32, workers: 0})
  await pipeline.hashMany(['warm up'])
  t = performance.now()
  for (let i = 0; i < texts.length; i += 64) await pipeline.hashMany(texts.slice(i, i + 64).map((s) => scrubber.scrub(s).text))
  const pipeRate = texts.length / ((performance.now() - t) / 1000)
  t = performance.now()
  await pipeline.hashMany(texts.map((s) => scrubber.scrub(s).text))
  const repeatMs = performance.now() - t
  await pipeline.close()
  console.log(`bare model                      ${fmt(bareRate, 1)} sentences/s`)
  console.log(`HashPipeline (scrub+embed+hash) ${fmt(pipeRate, 1)} sentences/s  = ${fmt(pipeRate / bareRate, 2)}x bare`)
  console.log(`same ${texts.length} texts again (cache)  ${fmt(repeatMs, 0)} ms total (scrub only)`)

  const dir = mkdtempSync(path.join(os.tmpdir(), 'qis-bench-hash-'))
  const file = path.join(dir, 'in.jsonl')
  const one = path.join(dir, 'one.jsonl')
  writeFileSync(file, texts.map((text) => JSON.stringify({text})).join('\n') + '\n')
  writeFileSync(one, JSON.stringify({text: texts[0]}) + '\n')
  const cli = (input) => {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, path.join(root, 'bin/run.js'), 'hash', '--input', input, '--workers', '0'], {encoding: 'utf8', maxBuffer: 1 << 28})
    if (r.status !== 0) throw new Error(`qis hash failed: ${r.stderr}`)
    const [secs, kb] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number)
    return {secs, rssMb: kb / 1024, lines: r.stdout.trim().split('\n').length}
  }
  const small = cli(one)
  const full = cli(file)
  if (full.lines !== texts.length) throw new Error(`qis hash printed ${full.lines} lines for ${texts.length} inputs`)
  const steady = (texts.length - 1) / (full.secs - small.secs)
  console.log(`qis hash (process) start-up + model load ${fmt(small.secs, 2)} s; ${texts.length} texts in ${fmt(full.secs, 2)} s wall`)
  console.log(`qis hash steady rate            ${fmt(steady, 1)} sentences/s  = ${fmt(steady / bareRate, 2)}x bare; wall-clock incl. start-up ${fmt(texts.length / full.secs, 1)}/s`)
  console.log(`qis hash peak RSS               ${fmt(full.rssMb, 0)} MB`)
}
await embedder.close()
