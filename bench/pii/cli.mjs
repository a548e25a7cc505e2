#!/usr/bin/env node
// `qis scrub` throughput, end to end (process start, JSON parse, scrub, JSON out) on short records.
// Run after `npm run build`:  node bench/pii/cli.mjs [N]   (default 50,000 records)
// Records are the presidio texts (mean ~83 chars) repeated, and MMLU questions (mean ~270 chars).
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {sharedData} from './data.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '../..')
const shared = sharedData()
const n = Number(process.argv[2] ?? 50000)
const dir = mkdtempSync(path.join(os.tmpdir(), 'qis-scrub-bench-'))

const sets = {
  'presidio texts': JSON.parse(readFileSync(path.join(shared, 'pii/presidio_generated_large.json'), 'utf8')).map((r) => r.full_text),
  'MMLU questions': readFileSync(path.join(shared, 'queries/mmlu-questions.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).text),
}
try {
  for (const [name, texts] of Object.entries(sets)) {
    const file = path.join(dir, 'in.jsonl')
    let body = ''
    let chars = 0
    for (let i = 0; i < n; i++) {
      const t = texts[i % texts.length]
      chars += t.length
      body += JSON.stringify({text: t}) + '\n'
    }
    writeFileSync(file, body)
    // bash's `times` reports the CPU time of the child (user, system): the figure that does not depend
    // on what else the machine is running. Wall time is printed too.
    const cmd = `"${process.execPath}" "${path.join(repo, 'bin/run.js')}" scrub "${file}" > /dev/null; times`
    const t0 = process.hrtime.bigint()
    const r = spawnSync('bash', ['-c', cmd], {encoding: 'utf8'})
    const s = Number(process.hrtime.bigint() - t0) / 1e9
    if (r.status !== 0) throw new Error(`qis scrub exited ${r.status}: ${r.stderr}`)
    const child = r.stdout.trim().split('\n')[1] ?? ''
    const cpu = [...child.matchAll(/(\d+)m([\d.]+)s/g)].reduce((a, m) => a + Number(m[1]) * 60 + Number(m[2]), 0)
    console.log(
      `${name}: ${n} records (mean ${(chars / n).toFixed(0)} chars): ${(n / cpu).toFixed(0)} records per CPU-second end to end ` +
        `(process start, JSON in and out included; ${cpu.toFixed(2)} CPU-s); wall ${s.toFixed(2)} s = ${(n / s).toFixed(0)}/s`,
    )
  }
  console.log(`machine load average (1 min) during the run: ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} cores`)
} finally {
  rmSync(dir, {recursive: true, force: true})
}
