#!/usr/bin/env node
// The cost of the worst single records the readers can meet (issue 21 item 4): a CSV with one 50 MB
// field, a .csv.gz with a quote that never closes, a JSONL line just under the 1 MiB limit and one
// far over it. Each case is read in its own process; prints wall time and peak RSS.
// Run after `npm run build`:  node bench/ingest/records.mjs [--dist DIR]   (DIR: a dist/ to measure, e.g. an older build)
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync, statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {gzipSync} from 'node:zlib'

const here = path.dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const dist = path.resolve(args.includes('--dist') ? args[args.indexOf('--dist') + 1] : path.join(here, '../../dist'))
const limitSeconds = Number(process.env.QIS_BENCH_LIMIT ?? 120)

if (args[0] === '--child') {
  const {readRecords} = await import(path.join(args[2], 'ingest/index.js'))
  const t0 = performance.now()
  const counts = {record: 0, reject: 0}
  const reasons = new Set()
  for await (const ev of readRecords(args[1])) {
    counts[ev.kind]++
    if (ev.kind === 'reject') reasons.add(ev.reason)
  }
  const peak = process.resourceUsage().maxRSS / 1024
  console.log(JSON.stringify({seconds: (performance.now() - t0) / 1000, peakMB: peak, ...counts, reasons: [...reasons]}))
  process.exit(0)
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'qis-bench-records-'))
try {
  const cases = {}
  const header = 'id,query,outcome,confidence\n'
  cases['CSV, one 50 MB field'] = path.join(dir, 'field.csv')
  writeFileSync(cases['CSV, one 50 MB field'], `${header}r1,"${'lorem ipsum '.repeat(50 * 1024 * 1024 / 12)}",1,0.5\nr2,fine,1,0.5\n`)
  // Rows after an unclosed quote: a few MB of compressible text, about 900 KB gzipped.
  const rows = []
  for (let i = 0; i < 200_000; i++) rows.push(`r${i},how do I configure the thing number ${i % 1000},1,0.5`)
  cases['.csv.gz, unclosed quote'] = path.join(dir, 'unclosed.csv.gz')
  writeFileSync(cases['.csv.gz, unclosed quote'], gzipSync(`${header}bad,"never closed,1,0.5\n${rows.join('\n')}\n`, {level: 9}))
  cases['JSONL, one 900 KB line'] = path.join(dir, 'line.jsonl')
  writeFileSync(cases['JSONL, one 900 KB line'], JSON.stringify({id: 'a', query: 'x'.repeat(900 * 1024), outcome: 1, confidence: 0.5}) + '\n')
  cases['JSONL, one 50 MB line'] = path.join(dir, 'long.jsonl')
  writeFileSync(cases['JSONL, one 50 MB line'], JSON.stringify({id: 'a', query: 'x'.repeat(50 * 1024 * 1024)}) + '\n{"id":"b","query":"ok"}\n')

  console.log(`readers from ${dist}`)
  for (const [name, file] of Object.entries(cases)) {
    const size = statSync(file).size
    const t0 = performance.now()
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', file, dist], {encoding: 'utf8', timeout: limitSeconds * 1000})
    const wall = (performance.now() - t0) / 1000
    const out = r.status === 0 ? JSON.parse(r.stdout) : undefined
    console.log(
      `${name.padEnd(26)} ${(size / 1024 / 1024).toFixed(1).padStart(5)} MB on disk: ` +
        (out
          ? `${out.seconds.toFixed(2)} s reading, peak RSS ${out.peakMB.toFixed(0)} MB, ${out.record} record(s), ${out.reject} reject(s) ${JSON.stringify(out.reasons)}`
          : `did not finish: ${r.signal ? `killed after ${wall.toFixed(0)} s (limit ${limitSeconds} s)` : `exit ${r.status}: ${(r.stderr || '').split('\n').slice(-3).join(' ')}`}`),
    )
  }
} finally {
  rmSync(dir, {recursive: true, force: true})
}
