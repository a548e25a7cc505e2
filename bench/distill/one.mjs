#!/usr/bin/env node
// One measurement of bench/distill, run in its own process so peak RSS belongs to it alone.
// Prints one JSON line. Used by run.mjs; runnable by hand:
//
//   node bench/distill/one.mjs bare FILE N            bare model sentences/s on N scrubbed queries of FILE
//   node bench/distill/one.mjs parse-scrub FILE       read + normalise + scrub only, records/s
//   node bench/distill/one.mjs distill FILE [--aggregate]   the whole pipeline (library call), summary + RSS samples
//
// Embedder: use-lite by default; QIS_BENCH_BACKEND=transformers QIS_MODEL_DIR=... to change.
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const dist = (m) => import(path.join(root, 'dist', m))
const [mode, file, ...rest] = process.argv.slice(2)
const backend = process.env.QIS_BENCH_BACKEND ?? 'use-lite'
const modelDir = process.env.QIS_MODEL_DIR
const rssMB = () => process.memoryUsage.rss() / 1048576
const peakMB = () => process.resourceUsage().maxRSS / 1024

async function scrubbedQueries(n) {
  const [{readRecords}, {createScrubber}] = await Promise.all([dist('ingest/index.js'), dist('privacy/index.js')])
  const scrubber = createScrubber()
  const seen = new Set()
  for await (const ev of readRecords(file)) {
    if (ev.kind !== 'record' || !ev.record.query) continue
    seen.add(scrubber.scrub(ev.record.query).text)
    if (seen.size >= n) break
  }
  return [...seen]
}

if (mode === 'bare') {
  const texts = await scrubbedQueries(Number(rest[0] ?? 1000))
  // use-lite: the model straight from its library (bench/hash/bare-model.mjs), timed at 32 texts a
  // call and at one, and the faster counts, so qis is held to the model's best. Other backends:
  // their qis embedder, in calls of 32.
  let embedBatch
  if (backend === 'use-lite') {
    const {loadBareModel} = await import('../hash/bare-model.mjs')
    const model = await loadBareModel()
    embedBatch = (batch) => model.embed(texts, batch)
    await model.embed(texts.slice(0, 8), 8) // warm-up: first call compiles kernels
  } else {
    const {createEmbedder} = await dist('embed/index.js')
    const embedder = await createEmbedder({backend, modelDir})
    await embedder.embed(texts.slice(0, 8))
    embedBatch = async (batch) => {
      for (let i = 0; i < texts.length; i += batch) await embedder.embed(texts.slice(i, i + batch))
    }
  }
  const rates = {}
  for (const batch of backend === 'use-lite' ? [32, 1] : [32]) {
    const t0 = performance.now()
    await embedBatch(batch)
    rates[batch] = texts.length / ((performance.now() - t0) / 1000)
  }
  const sentencesPerSecond = Math.max(...Object.values(rates))
  console.log(JSON.stringify({mode, texts: texts.length, sentencesPerSecond, byBatchSize: rates, peakRssMB: peakMB()}))
} else if (mode === 'parse-scrub') {
  const [{readRecords}, {createScrubber}] = await Promise.all([dist('ingest/index.js'), dist('privacy/index.js')])
  const scrubber = createScrubber()
  let records = 0
  let parseSeconds = 0
  let scrubSeconds = 0
  const t0 = performance.now()
  const it = readRecords(file)[Symbol.asyncIterator]()
  for (;;) {
    const a = performance.now()
    const next = await it.next()
    const b = performance.now()
    parseSeconds += (b - a) / 1000
    if (next.done) break
    records++
    if (next.value.kind === 'record' && next.value.record.query) scrubber.scrub(next.value.record.query)
    scrubSeconds += (performance.now() - b) / 1000
  }
  const seconds = (performance.now() - t0) / 1000
  console.log(JSON.stringify({mode, records, seconds, recordsPerSecond: records / seconds, parsePerSecond: records / parseSeconds, scrubPerSecond: records / scrubSeconds, peakRssMB: peakMB()}))
} else if (mode === 'distill') {
  const [{distill}, {openHome}] = await Promise.all([dist('distill/pipeline.js'), dist('config/home.js')])
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qis-bench-distill-'))
  const home = await openHome(path.join(dir, 'home'))
  const samples = []
  let nextSample = 0
  try {
    const summary = await distill({
      files: [file],
      home,
      aggregate: rest.includes('--aggregate'),
      embedder: {backend, modelDir},
      onProgress: (p) => {
        if (p.seconds >= nextSample) {
          samples.push({read: p.read, rssMB: Math.round(rssMB())})
          nextSample = p.seconds + 2
        }
      },
    })
    console.log(JSON.stringify({mode, summary, rssSamples: samples, peakRssMB: peakMB()}))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
} else {
  console.error('usage: one.mjs bare|parse-scrub|distill FILE [...]')
  process.exit(2)
}
