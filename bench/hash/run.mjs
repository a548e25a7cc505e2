#!/usr/bin/env node
// Semantic hashing benchmark (issue 4). Run after `npm run build`:
//
//   node bench/hash/run.mjs [--pairs N] [--cache FILE] [--scrub] [--codebook FILE] [--dump DIR] [--speed N] [--rounds R] [--no-speed] [--no-quality]
//
// Quality, on MSR paraphrase pairs (../shared/data/paraphrase, train+val; research licence, never
// fitted on): meet-rate (the two texts share at least one routing key) for paraphrase pairs,
// non-paraphrase pairs and random pairs; keys per query; Hamming distance of the fine hash.
// Embeddings can be cached (--cache) because embedding 8k sentences is the slow part.
//
// Speed, in one run on the same sentences, repeated --rounds times (medians reported, because a
// shared machine's load moves the rates by 10-20% from one minute to the next): the bare use-lite
// model straight from its library (sentences/s after load and warm-up, called with 32 texts and
// with 1 text at a time; "bare" is the faster of the two in each round), the in-process
// HashPipeline (scrub + embed + hash), the bare model in its own process (bench/hash/bare.mjs,
// again the faster batch size) and `qis hash` end to end; a process's
// steady rate is (N - 1) / (time for N - time for 1) so start-up and model load are reported
// apart. Also peak RSS and the same input repeated, to show cache hits.
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {fileURLToPath} from 'node:url'
import {meetPairs, msrPairs} from './texts.mjs'

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
    dump: {type: 'string'},
    scrub: {type: 'boolean', default: false},
    rounds: {type: 'string', default: '3'},
  },
})

const {createEmbedder} = await import(path.join(root, 'dist/embed/index.js'))
const {HashPipeline} = await import(path.join(root, 'dist/hash/pipeline.js'))
const {schemeFor, schemeFromCodebookFile, hammingDistance, embeddingText} = await import(path.join(root, 'dist/hash/index.js'))
const {SeededRandom} = await import(path.join(root, 'dist/hash/prng.js'))
const {loadBareModel} = await import('./bare-model.mjs')
const {createScrubber} = await import(path.join(root, 'dist/privacy/index.js'))

const pairs = msrPairs(opt.data)
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
  // The model input of a query (embeddingText: lower case, no punctuation, placeholders as plain
  // words); --scrub scrubs first, as qis hash and distill do. Pairs are still matched on the
  // original sentences.
  const scrubQuality = opt.scrub ? createScrubber() : undefined
  const embedded = sentences.map((s) => embeddingText(scrubQuality ? scrubQuality.scrub(s).text : s))
  const digest = createHash('sha256').update(embedder.id + '\n' + embedded.join('\n')).digest('hex')
  let vecs
  if (opt.cache && existsSync(opt.cache)) {
    const buf = readFileSync(opt.cache)
    if (buf.subarray(0, 64).toString('latin1') !== digest) throw new Error(`${opt.cache} caches other sentences; delete it`)
    const all = new Float32Array(buf.buffer.slice(buf.byteOffset + 64, buf.byteOffset + buf.length))
    vecs = sentences.map((_, i) => all.subarray(i * embedder.dimension, (i + 1) * embedder.dimension))
  } else {
    vecs = []
    for (let i = 0; i < embedded.length; i += 32) vecs.push(...(await embedder.embed(embedded.slice(i, i + 32))))
    if (opt.cache) {
      const all = new Float32Array(sentences.length * embedder.dimension)
      vecs.forEach((v, i) => all.set(v, i * embedder.dimension))
      writeFileSync(opt.cache, Buffer.concat([Buffer.from(digest, 'latin1'), Buffer.from(all.buffer)]))
    }
  }
  const t0 = performance.now()
  const codes = new Map(sentences.map((s, i) => [s, {hash: scheme.fineHash(vecs[i]), keys: scheme.routingKeys(vecs[i], embedded[i])}]))
  const hashMs = (performance.now() - t0) / sentences.length
  const meets = (x, y) => {
    const kx = codes.get(x).keys
    return codes.get(y).keys.some((k) => kx.includes(k))
  }
  const ham = (x, y) => hammingDistance(codes.get(x).hash, codes.get(y).hash)
  const {para, non, random: randomPairs} = meetPairs(used, Number(opt['random-pairs']), SeededRandom)
  if (opt.dump) {
    // For bench/hash/explore-keys.py: the sentence embeddings and every evaluated pair as indexes.
    mkdirSync(opt.dump, {recursive: true})
    const all = new Float32Array(sentences.length * embedder.dimension)
    vecs.forEach((v, i) => all.set(v, i * embedder.dimension))
    writeFileSync(path.join(opt.dump, 'msr.f32'), Buffer.from(all.buffer))
    const id = new Map(sentences.map((s, i) => [s, i]))
    const idx = (list) => list.map(([a, b]) => [id.get(a), id.get(b)])
    writeFileSync(path.join(opt.dump, 'pairs.json'), JSON.stringify({dimension: embedder.dimension, sentences: sentences.length, para: idx(para), non: idx(non), random: idx(randomPairs)}))
    console.log(`dumped embeddings and pairs to ${opt.dump}`)
  }
  const keyCounts = [...codes.values()].map((c) => c.keys.length)
  const hist = Array.from({length: 9}, (_, n) => keyCounts.filter((c) => c === n).length)
  console.log(`\n## quality: MSR train+val${opt.scrub ? ', scrubbed before embedding' : ''}, ${used.length} pairs (${para.length} paraphrase, ${non.length} not), ${randomPairs.length} random pairs, ${sentences.length} sentences`)
  console.log(`meet-rate  paraphrase ${fmt(para.filter(([a, b]) => meets(a, b)).length / para.length)}  non-paraphrase ${fmt(non.filter(([a, b]) => meets(a, b)).length / non.length)}  random ${fmt(randomPairs.filter(([a, b]) => meets(a, b)).length / randomPairs.length, 4)}`)
  console.log(`keys/query mean ${fmt(keyCounts.reduce((s, x) => s + x, 0) / keyCounts.length, 2)}  max ${Math.max(...keyCounts)}  histogram 1..8: ${hist.slice(1).join(' ')}`)
  for (const [name, set] of [['paraphrase', para], ['non-paraphrase', non], ['random', randomPairs]]) {
    const d = set.map(([a, b]) => ham(a, b))
    console.log(`hamming ${name.padEnd(15)} p5/p25/p50/p75/p95 ${pct(d, [5, 25, 50, 75, 95]).join('/')}  mean ${fmt(d.reduce((s, x) => s + x, 0) / d.length, 1)}`)
  }
  // Meet-rate by how many content words a paraphrase pair shares (Jaccard of the word sets of the
  // two sentences as embedded): shows whether a candidate with word scores (src/hash/lexical.ts,
  // --codebook) keeps the pairs that were reworded, not only those that kept their wording.
  const {lexicalTokens} = await import(path.join(root, 'dist/hash/lexical.js'))
  const words = new Map(sentences.map((s, i) => [s, new Set(lexicalTokens(embedded[i]))]))
  const jaccard = (a, b) => {
    const x = words.get(a)
    const y = words.get(b)
    let both = 0
    for (const w of x) if (y.has(w)) both++
    return both / Math.max(1, x.size + y.size - both)
  }
  const edges = [0, 0.2, 0.3, 0.4, 0.5, 0.6, 1.01]
  const bins = edges.slice(1).map((hi, i) => {
    const inBin = para.filter(([a, b]) => jaccard(a, b) >= edges[i] && jaccard(a, b) < hi)
    return `[${edges[i]},${Math.min(hi, 1)}${hi > 1 ? ']' : ')'} n=${inBin.length} ${inBin.length ? fmt(inBin.filter(([a, b]) => meets(a, b)).length / inBin.length) : '-'}`
  })
  console.log(`paraphrase meet-rate by word overlap (Jaccard)  ${bins.join('  ')}`)
  console.log(`hashing cost (SimHash + keys, no model) ${fmt(hashMs, 3)} ms/sentence`)
}

if (!opt['no-speed']) {
  const n = Number(opt.speed)
  const rounds = Math.max(1, Number(opt.rounds))
  const texts = [...new Set(pairs.flatMap((p) => [p.a, p.b]))].slice(-n) // the tail: val sentences first
  console.log(`\n## speed: ${texts.length} distinct MSR sentences, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}, ${rounds} round(s)`)
  // Each round measures every variant once, back to back, so a change in machine load (this
  // machine is shared) hits all of them alike; ratios are taken within a round, then the median.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qis-bench-hash-'))
  const file = path.join(dir, 'in.jsonl')
  const one = path.join(dir, 'one.jsonl')
  writeFileSync(file, texts.map((text) => JSON.stringify({text})).join('\n') + '\n')
  writeFileSync(one, JSON.stringify({text: texts[0]}) + '\n')
  const timed = (args) => {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, ...args], {encoding: 'utf8', maxBuffer: 1 << 28})
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`)
    const [secs, user, sys, kb] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number)
    return {secs, cpu: user + sys, rssMb: kb / 1024, lines: r.stdout.trim().split('\n').length}
  }
  const cli = (input) => timed([path.join(root, 'bin/run.js'), 'hash', '--input', input, '--workers', '0'])
  const bareProcess = (input, batch) => timed([path.join(root, 'bench/hash/bare.mjs'), input, String(batch)])
  // Steady rate of a process: (N - 1) / (time for N - time for 1), so start-up and model load drop
  // out; in wall-clock time, and in CPU time (user + sys), which a busy neighbour disturbs less.
  const steady = (full, small, key = 'secs') => (texts.length - 1) / (full[key] - small[key])

  const bare = await loadBareModel()
  await bare.embed(texts.slice(0, 8), 8) // warm-up: first call compiles kernels
  const scrubber = createScrubber()
  const rows = []
  let repeatMs = 0
  let rssMb = 0
  for (let r = 0; r < rounds; r++) {
    // In process, bare model and HashPipeline alternate chunk by chunk on the same texts, a
    // pipeline batch (256 for use-lite) at a time, so a load change between them is seconds old
    // and the pipeline gets calls of the size it is built for.
    const pipeline = new HashPipeline(embedder, scheme, {workers: 0})
    await pipeline.hashMany(['warm up'])
    // The bare model also runs on exactly what the pipeline embeds (embeddingText of the scrubbed
    // text), again at its faster batch size: that text is shorter or longer than the raw one, which
    // moves model time that is not hashing overhead.
    const ms = {bare32: 0, bare1: 0, scrubbed32: 0, scrubbed1: 0, pipe: 0}
    const timed = async (name, work) => {
      const t = performance.now()
      await work()
      ms[name] += performance.now() - t
    }
    for (let i = 0; i < texts.length; i += pipeline.batchSize) {
      const chunk = texts.slice(i, i + pipeline.batchSize)
      await timed('bare32', () => bare.embed(chunk, 32))
      await timed('bare1', () => bare.embed(chunk, 1))
      const scrubbedChunk = chunk.map((s) => embeddingText(scrubber.scrub(s).text))
      await timed('scrubbed32', () => bare.embed(scrubbedChunk, 32))
      await timed('scrubbed1', () => bare.embed(scrubbedChunk, 1))
      await timed('pipe', () => pipeline.hashMany(chunk.map((s) => scrubber.scrub(s).text)))
    }
    const rate = (...names) => texts.length / (Math.min(...names.map((n) => ms[n])) / 1000)
    const bare32Rate = rate('bare32')
    const bare1Rate = rate('bare1')
    const bareRate = rate('bare32', 'bare1')
    const scrubbedRate = rate('scrubbed32', 'scrubbed1')
    const pipeRate = rate('pipe')
    const t = performance.now()
    await pipeline.hashMany(texts.map((s) => scrubber.scrub(s).text))
    repeatMs = performance.now() - t
    // The bare-model and qis processes run in alternating order from round to round.
    const bareRuns = [() => bareProcess(one, 32), () => bareProcess(file, 32), () => bareProcess(one, 1), () => bareProcess(file, 1)]
    const cliRuns = [() => cli(one), () => cli(file)]
    const got = (r % 2 === 0 ? [...bareRuns, ...cliRuns] : [...cliRuns, ...bareRuns]).map((f) => f())
    const [bare32One, bare32Full, bare1One, bare1Full, small, full] = r % 2 === 0 ? got : [...got.slice(2), ...got.slice(0, 2)]
    // The faster batch size of the bare process, by wall-clock rate; its CPU rate goes with it.
    const [bareOne, bareFull] = steady(bare32Full, bare32One) >= steady(bare1Full, bare1One) ? [bare32One, bare32Full] : [bare1One, bare1Full]
    if (full.lines !== texts.length) throw new Error(`qis hash printed ${full.lines} lines for ${texts.length} inputs`)
    rssMb = Math.max(rssMb, full.rssMb)
    const row = {
      bare32Rate,
      bare1Rate,
      bareRate,
      scrubbedRate,
      pipeRate,
      bareProc: steady(bareFull, bareOne),
      cliRate: steady(full, small),
      cpuRatio: steady(full, small, 'cpu') / steady(bareFull, bareOne, 'cpu'),
      startup: small.secs,
      bareStartup: bareOne.secs,
    }
    rows.push(row)
    console.log(
      `round ${r + 1}: bare model ${fmt(row.bare32Rate, 1)}/s in 32s, ${fmt(row.bare1Rate, 1)}/s one at a time (on scrubbed texts ${fmt(row.scrubbedRate, 1)}/s) | HashPipeline ${fmt(row.pipeRate, 1)}/s (${fmt(row.pipeRate / row.bareRate, 2)}x) | ` +
        `bare model process ${fmt(row.bareProc, 1)}/s | qis hash ${fmt(row.cliRate, 1)}/s (${fmt(row.cliRate / row.bareRate, 2)}x bare, ` +
        `${fmt(row.cliRate / row.bareProc, 2)}x bare process; CPU time ${fmt(row.cpuRatio, 2)}x) | load ${os.loadavg()[0].toFixed(1)}`,
    )
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]
  console.log(`bare model (in process, warm)      median ${fmt(median(rows.map((x) => x.bareRate)), 1)} sentences/s at its faster batch size (32 at a time ${fmt(median(rows.map((x) => x.bare32Rate)), 1)}/s, one at a time ${fmt(median(rows.map((x) => x.bare1Rate)), 1)}/s)`)
  console.log(`bare model on the scrubbed texts    median ${fmt(median(rows.map((x) => x.scrubbedRate / x.bareRate)), 2)}x bare (the model's own speed on what qis hash embeds, its faster batch size)`)
  console.log(`HashPipeline (scrub+embed+hash)    median ${fmt(median(rows.map((x) => x.pipeRate / x.bareRate)), 2)}x bare; ${fmt(median(rows.map((x) => x.pipeRate / x.scrubbedRate)), 2)}x the bare model on the same scrubbed texts`)
  console.log(`same ${texts.length} texts again (cache)     ${fmt(repeatMs, 0)} ms total (scrub only)`)
  console.log(`qis hash steady rate               median ${fmt(median(rows.map((x) => x.cliRate / x.bareRate)), 2)}x bare; ${fmt(median(rows.map((x) => x.cliRate / x.bareProc)), 2)}x the bare model run the same way in its own process (CPU time: ${fmt(median(rows.map((x) => x.cpuRatio)), 2)}x)`)
  console.log(`qis hash start-up + model load     median ${fmt(median(rows.map((x) => x.startup)), 2)} s (bare model process: ${fmt(median(rows.map((x) => x.bareStartup)), 2)} s)`)
  console.log(`qis hash peak RSS                  ${fmt(rssMb, 0)} MB`)
}
await embedder.close()
