#!/usr/bin/env node
// What scrubbing one long prompt costs (issue 21 item 4: no record may cost more than 1 s), apart
// from embedding (bench/hash/long-input.mjs times scrub + embed + hash together).
// Run after `npm run build`:  node bench/pii/long-record.mjs [CHARS...]   (default 32000 128000 900000)
// Each size in a fresh process: the scrubber warmed on one line only, then three calls on the prompt
// (the first includes JIT warm-up), in CPU seconds and wall seconds, with the RSS growth; then the
// hash path's scrub of the same prompt (Scrubber.head at SCRUB_HEAD_CHARS, what distill scrubs of a
// long prompt when the head settles the model input, as it does for use-lite on English), in a
// fresh process of its own.
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import os from 'node:os'
import {fileURLToPath} from 'node:url'

import {SCRUB_HEAD_CHARS} from '../../dist/hash/pipeline.js'
import {createScrubber} from '../../dist/privacy/index.js'
import {sharedData} from './data.mjs'

if (process.argv[2] === '--child') {
  const n = Number(process.argv[3])
  const head = process.argv[4] === 'head'
  const lines = readFileSync(sharedData('queries', 'mmlu-questions.jsonl'), 'utf8').split('\n').filter(Boolean)
  let text = ''
  for (let i = 0; text.length < n; i++) text += JSON.parse(lines[i % lines.length]).text + ' '
  text = text.slice(0, n)
  const scrubber = createScrubber()
  scrubber.scrub('warm up John Smith')
  const rss0 = process.memoryUsage.rss()
  const calls = []
  for (let k = 0; k < 3; k++) {
    const c = process.cpuUsage()
    const t = performance.now()
    if (head) scrubber.head(text, SCRUB_HEAD_CHARS)
    else scrubber.scrub(text)
    const u = process.cpuUsage(c)
    calls.push({cpu: (u.user + u.system) / 1e6, wall: (performance.now() - t) / 1000})
  }
  console.log(JSON.stringify({calls, rssGrowthMB: (process.memoryUsage.rss() - rss0) / 1048576}))
} else {
  const sizes = process.argv.slice(2).map(Number)
  console.log(`bench/pii/long-record, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`)
  console.log('| prompt chars | scrub | 1st call CPU-s (wall) | 2nd | 3rd | RSS growth MB |')
  console.log('|---|---|---|---|---|---|')
  for (const n of sizes.length ? sizes : [32_000, 128_000, 900_000]) {
    for (const what of ['whole', 'head']) {
      if (what === 'head' && n <= SCRUB_HEAD_CHARS) continue
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', String(n), what], {encoding: 'utf8'})
      if (r.status !== 0) throw new Error(r.stderr)
      const m = JSON.parse(r.stdout.trim().split('\n').pop())
      const f = (c) => `${c.cpu.toFixed(3)} (${c.wall.toFixed(3)})`
      const label = what === 'whole' ? 'whole (qis scrub)' : 'head (hash path)'
      console.log(`| ${n.toLocaleString('en')} | ${label} | ${m.calls.map(f).join(' | ')} | ${m.rssGrowthMB.toFixed(0)} |`)
    }
  }
}
