#!/usr/bin/env node
// Fuzzes qis's input handlers against the compiled library (npm run build first):
//   node bench/fuzz/run.mjs [--target NAME]... [--runs N] [--seed S] [--hang-ms MS]
// Each target runs in its own worker thread, one after another. Reported per target: inputs run,
// crashes (untyped throws), oracle failures (wrong answers), hangs (an input that did not finish
// within --hang-ms; the watchdog names it), the slowest input, heap after GC at 10% and at 100% of
// the run (growth there means memory that grows with inputs) and process RSS before/peak/after.
// Exit code 1 when anything failed; a failure names its input index, and inputs are a pure function
// of (seed, index), so `--seed S --runs INDEX+1` reproduces it (bench/fuzz/targets.mjs inputRng).
// Time: 100,000 inputs take from ~30 s (swarm message decoders) to ~10 min (log readers, which write and
// read a file per input) per target on this 2-core machine when it is busy; run one target with
// --target when minutes matter.
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {Worker} from 'node:worker_threads'

import {loadLibrary} from './load.mjs'
import {createTargets} from './targets.mjs'

if (typeof globalThis.gc !== 'function') {
  // Heap figures are only comparable after a collection; V8 flags are process-wide, so workers get gc too.
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {stdio: 'inherit'})
  process.exit(r.status ?? 1)
}

const args = process.argv.slice(2)
const opt = {targets: [], runs: 100_000, seed: 1, hangMs: 10_000, memGrowthMb: 32}
for (let i = 0; i < args.length; i++) {
  const a = args[i]
  const value = () => {
    if (i + 1 >= args.length) throw new Error(`${a} needs a value`)
    return args[++i]
  }
  if (a === '--target') opt.targets.push(...value().split(','))
  else if (a === '--runs') opt.runs = Number(value())
  else if (a === '--seed') opt.seed = Number(value())
  else if (a === '--hang-ms') opt.hangMs = Number(value())
  else if (a === '--mem-growth-mb') opt.memGrowthMb = Number(value())
  else if (a === '--help' || a === '-h') {
    console.log('node bench/fuzz/run.mjs [--target NAME[,NAME]]... [--runs N=100000] [--seed S=1] [--hang-ms MS=10000] [--mem-growth-mb MB=32]')
    process.exit(0)
  } else throw new Error(`unknown argument ${a}`)
}
if (!Number.isInteger(opt.runs) || opt.runs < 1) throw new Error('--runs must be a positive whole number')

const lib = await loadLibrary()
const now = Math.floor(Date.now() / 1000)
const available = createTargets(lib, {now})
const missing = ['jsonl', 'csv', 'store-request', 'fetch-request', 'store-response', 'fetch-frame', 'closest-request', 'closest-response', 'fetch-stream', 'store-handler', 'dht-record'].filter((t) => !(t in available))
const names = opt.targets.length > 0 ? opt.targets : Object.keys(available)
for (const n of names) if (!(n in available)) throw new Error(`unknown or unavailable target ${n} (available: ${Object.keys(available).join(', ')})`)
const tmpDir = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir()

const mb = (b) => (b / 1024 / 1024).toFixed(1)
console.log(`qis fuzz: ${opt.runs} inputs per target, seed ${opt.seed}, hang bound ${opt.hangMs} ms, ${os.cpus().length} cpus, node ${process.version}`)
if (missing.length > 0) console.log(`not built yet (skipped): ${missing.join(', ')}`)

function runTarget(name) {
  return new Promise((resolve) => {
    const progress = new SharedArrayBuffer(4)
    const view = new Int32Array(progress)
    // -1 until the worker has loaded the library and set the target up: that is not a hang.
    Atomics.store(view, 0, -1)
    const rssBefore = process.memoryUsage().rss
    let rssPeak = rssBefore
    const worker = new Worker(new URL('./worker.mjs', import.meta.url), {workerData: {target: name, runs: opt.runs, seed: opt.seed, progress, tmpDir, now}})
    let last = -1
    let lastChange = Date.now()
    let settled = false
    const finish = (result) => {
      if (settled) return
      settled = true
      clearInterval(timer)
      resolve({name, rssBefore, rssPeak, rssAfter: process.memoryUsage().rss, ...result})
    }
    const timer = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss)
      const at = Atomics.load(view, 0)
      // A long run should not look stuck: show progress when a person is watching.
      if (process.stdout.isTTY && at !== last && at >= 0) process.stdout.write(`\r${name}: ${Math.floor((100 * at) / opt.runs)}% `)
      if (at !== last) {
        last = at
        lastChange = Date.now()
      } else if (at < 0 && Date.now() - lastChange > 120_000) {
        worker.terminate()
        finish({error: 'the worker did not load the library and set the target up within 120 s', runs: 0, kinds: {}, failures: {crash: 0, oracle: 0}, examples: [], maxMs: 0, maxIndex: -1, slow: 0, seconds: 0, checkpoints: []})
      } else if (at >= 0 && Date.now() - lastChange > opt.hangMs) {
        worker.terminate()
        finish({hang: {index: at}, runs: at, kinds: {}, failures: {crash: 0, oracle: 0}, examples: [], maxMs: Date.now() - lastChange, maxIndex: at, slow: 0, seconds: 0, checkpoints: []})
      }
    }, 200)
    worker.on('message', (m) => finish(m))
    worker.on('error', (err) => finish({error: String(err?.stack ?? err), runs: Math.max(0, Atomics.load(view, 0)), kinds: {}, failures: {crash: 1, oracle: 0}, examples: [], maxMs: 0, maxIndex: -1, slow: 0, seconds: 0, checkpoints: []}))
    worker.on('exit', () => finish({error: 'worker exited without a result', runs: Math.max(0, Atomics.load(view, 0)), kinds: {}, failures: {crash: 1, oracle: 0}, examples: [], maxMs: 0, maxIndex: -1, slow: 0, seconds: 0, checkpoints: []}))
  })
}

let failed = false
const rows = []
for (const name of names) {
  const r = await runTarget(name)
  if (process.stdout.isTTY) process.stdout.write('\r')
  process.stdout.write(`${name}: ${available[name].description} ... `)
  const first = r.checkpoints[0]
  const lastCp = r.checkpoints.at(-1)
  const growth = first && lastCp ? lastCp.heapUsed - first.heapUsed : 0
  const memFailed = growth > opt.memGrowthMb * 1024 * 1024
  const bad = r.failures.crash + r.failures.oracle + (r.hang ? 1 : 0) + (r.error ? 1 : 0) + (memFailed ? 1 : 0)
  failed ||= bad > 0
  console.log(bad > 0 ? 'FAILED' : 'ok')
  for (const e of r.examples) console.log(`  ${e.kind} at input ${e.index} (reproduce: --target ${name} --seed ${opt.seed}): ${e.message}`)
  if (r.hang) console.log(`  hang: input ${r.hang.index} did not finish within ${opt.hangMs} ms`)
  if (r.error) console.log(`  worker error: ${r.error}`)
  if (memFailed) console.log(`  heap grew ${mb(growth)} MB between 10% and 100% of the run`)
  rows.push({
    target: name,
    inputs: r.runs,
    crashes: r.failures.crash,
    oracle: r.failures.oracle,
    hangs: r.hang ? 1 : 0,
    'max ms/input': `${r.maxMs.toFixed(1)} (#${r.maxIndex})`,
    '>100ms': r.slow,
    'inputs/s': r.seconds > 0 ? Math.round(r.runs / r.seconds) : 0,
    'heap MB 10%->100%': first ? `${mb(first.heapUsed)} -> ${mb(lastCp.heapUsed)}` : '-',
    'RSS MB before/peak/after': `${mb(r.rssBefore)} / ${mb(r.rssPeak)} / ${mb(r.rssAfter)}`,
    kinds: Object.entries(r.kinds).map(([k, v]) => `${k}:${v}`).join(' '),
  })
}

console.log('')
const headers = Object.keys(rows[0] ?? {})
const widths = headers.map((h) => Math.max(h.length, ...rows.map((row) => String(row[h]).length)))
for (const line of [headers, ...rows.map((row) => headers.map((h) => String(row[h])))]) console.log(line.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd())
console.log(failed ? '\nFAILURES found (see above)' : `\nno crashes, hangs, oracle failures or heap growth in ${rows.reduce((n, r) => n + r.inputs, 0)} inputs`)
process.exit(failed ? 1 : 0)
