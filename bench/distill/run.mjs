#!/usr/bin/env node
// bench/distill: throughput per stage and overall, the bare model's throughput in the same run, and
// peak RSS. Run after `npm run build`:
//
//   node bench/distill/run.mjs            all-unique 2k, 100k with repeats (~3-4 minutes here)
//   node bench/distill/run.mjs --big      adds 1M records with repeats (~15 more minutes here)
//
// Logs are generated into bench/out/ (git-ignored) from ../shared/data/queries (never committed).
// Each measurement runs in its own process (one.mjs) so its peak RSS is its own.
import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {generate} from './generate.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '../..')
const outDir = path.join(root, 'bench/out')
const big = process.argv.includes('--big')

const SCENARIOS = [
  // Every query distinct: the model is the limit; compare with the bare model.
  {name: 'unique-2k', records: 2_000, repeatShare: 0, pool: 1, bare: 1_000},
  // Repeated queries (hot pool of 200 questions asked with varying names/emails/MRNs, which
  // scrubbing makes identical): cache hits, so parse/scrub/sign dominate.
  {name: 'repeat-100k', records: 100_000, repeatShare: 0.99, pool: 200, aggregateToo: true},
  // 1M unique queries would take ~3 hours of embedding here, so the 1M run repeats 99.9%.
  ...(big ? [{name: 'repeat-1m', records: 1_000_000, repeatShare: 0.999, pool: 200}] : []),
]

function one(...args) {
  const out = execFileSync(process.execPath, [path.join(here, 'one.mjs'), ...args], {encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit']})
  return JSON.parse(out.trim().split('\n').pop())
}

const f0 = (x) => Math.round(x).toLocaleString('en')
const perSecond = (n, s) => (s > 0 ? f0(n / s) : '-')

function report(name, r) {
  const s = r.summary
  const st = s.stages
  const steady = s.seconds - st.setup
  console.log(`\n${name}${s.aggregate ? ' --aggregate' : ''}: ${f0(s.counts.read)} records, ${f0(s.cache.embedded)} embedded, ${f0(s.cache.cacheHits)} cache hits, ${f0(s.packets)} packets`)
  console.log(`  overall      ${perSecond(s.counts.read, s.seconds)} records/s (${s.seconds.toFixed(1)} s incl. ${st.setup.toFixed(1)} s setup/model load); steady ${perSecond(s.counts.read, steady)} records/s`)
  console.log(`  per stage    parse ${perSecond(s.counts.read, st.parse)}/s, scrub ${perSecond(s.counts.read, st.scrub)}/s, embed ${perSecond(s.counts.read, st.embed)}/s (${perSecond(s.cache.embedded, st.embed)} texts/s), sign+write ${perSecond(s.counts.read, st.signWrite)}/s`)
  console.log(`  stage secs   parse ${st.parse.toFixed(1)}, scrub ${st.scrub.toFixed(1)}, embed ${st.embed.toFixed(1)}, sign+write ${st.signWrite.toFixed(1)}`)
  console.log(`  peak RSS     ${f0(r.peakRssMB)} MB; RSS over the run (records read: MB): ${r.rssSamples.filter((_, i, a) => i % Math.max(1, Math.floor(a.length / 8)) === 0).map((x) => `${f0(x.read)}: ${x.rssMB}`).join(', ')}`)
  if (s.aggregate) console.log(`  aggregate    ${f0(s.aggregate.packets)} packets, compression ${s.aggregate.compressionRatio.toFixed(1)}x`)
}

console.log(`bench/distill on ${process.arch}, node ${process.version}; backend ${process.env.QIS_BENCH_BACKEND ?? 'use-lite'}`)
for (const sc of SCENARIOS) {
  const file = path.join(outDir, `distill-${sc.name}.jsonl`)
  if (!existsSync(file)) {
    const facts = await generate({records: sc.records, repeatShare: sc.repeatShare, pool: sc.pool, out: file})
    console.log(`\ngenerated ${path.relative(root, file)}: ${JSON.stringify(facts)}`)
  }
  if (sc.bare) {
    const bare = one('bare', file, String(sc.bare))
    const run = one('distill', file)
    report(sc.name, run)
    const steady = run.summary.counts.read / (run.summary.seconds - run.summary.stages.setup)
    const overall = run.summary.counts.read / run.summary.seconds
    const byBatch = Object.entries(bare.byBatchSize).map(([n, r]) => `${r.toFixed(1)}/s at ${n} a call`).join(', ')
    console.log(`  bare model   ${bare.sentencesPerSecond.toFixed(1)} sentences/s on ${bare.texts} of these queries, its faster batch size (${byBatch}; same machine, same run)`)
    console.log(`  ratio        end to end ${(overall / bare.sentencesPerSecond).toFixed(2)}x bare (incl. model load), ${(steady / bare.sentencesPerSecond).toFixed(2)}x steady state  [target >= 0.85x]`)
  } else {
    const ps = one('parse-scrub', file)
    console.log(`\n${sc.name} parse + scrub only: ${f0(ps.recordsPerSecond)} records/s (parse ${f0(ps.parsePerSecond)}/s, scrub ${f0(ps.scrubPerSecond)}/s; every record scrubbed, no cache)  [target >= 5,000]`)
    report(sc.name, one('distill', file))
    if (sc.aggregateToo) report(sc.name, one('distill', file, '--aggregate'))
  }
}
