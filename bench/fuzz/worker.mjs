// Runs one fuzz target in a worker thread. The index of the input being processed is kept in
// shared memory so the parent can name the exact input if the worker hangs.
import v8 from 'node:v8'
import {parentPort, workerData} from 'node:worker_threads'

import {loadLibrary} from './load.mjs'
import {createTargets, inputRng} from './targets.mjs'

const {target: name, runs, seed, progress: shared, tmpDir, now} = workerData
const progress = new Int32Array(shared)
const lib = await loadLibrary()
const target = createTargets(lib, {tmpDir, now})[name]
if (!target) throw new Error(`unknown target ${name}`)

const memory = () => {
  globalThis.gc?.()
  return {heapUsed: v8.getHeapStatistics().used_heap_size, rss: process.memoryUsage().rss}
}

await target.setup?.()
const kinds = {}
const failures = {crash: 0, oracle: 0}
const examples = []
let maxMs = 0
let maxIndex = -1
let slow = 0
const checkpoints = []
const every = Math.max(1, Math.floor(runs / 10))
const started = performance.now()
for (let i = 0; i < runs; i++) {
  Atomics.store(progress, 0, i)
  const t0 = performance.now()
  try {
    const kind = await target.run(inputRng(seed, i))
    kinds[kind] = (kinds[kind] ?? 0) + 1
  } catch (err) {
    const kind = err?.name === 'FuzzFailure' ? err.kind : 'crash'
    failures[kind]++
    if (examples.length < 5) examples.push({index: i, kind, message: String(err?.message ?? err).slice(0, 400)})
  }
  const ms = performance.now() - t0
  if (ms > maxMs) {
    maxMs = ms
    maxIndex = i
  }
  if (ms > 100) slow++
  if ((i + 1) % every === 0) checkpoints.push({at: i + 1, ...memory()})
}
const seconds = (performance.now() - started) / 1000
await target.teardown?.()
Atomics.store(progress, 0, runs)
parentPort.postMessage({runs, kinds, failures, examples, maxMs, maxIndex, slow, seconds, checkpoints})
