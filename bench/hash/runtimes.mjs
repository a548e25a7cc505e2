#!/usr/bin/env node
// use-lite on onnxruntime (native) against the same model on TF.js, in one run (issue 20).
// Run after `npm run build`:
//
//   node bench/hash/runtimes.mjs [--agree N] [--speed N] [--rounds R] [--skip-e2e] [--e2e-rounds R] [--e2e-runtimes onnx,tfjs]
//
// 1. Agreement: the texts as qis embeds them (embeddingText), on both runtimes: the largest
//    difference in any vector component, and the share of texts whose fine hash and routing keys
//    are identical. N per set (default 2000; `--agree all` for every MSR sentence and MMLU question).
// 2. Speed, in process and end to end, against bare use-lite on TF.js one text a call (the
//    package's own embed([text]), its own tokenizer): N unique texts per set (default 300), MSR
//    sentences and MMLU questions. Native at one and at two onnxruntime threads.
// 3. `qis hash` and distill (library, bench/distill/one.mjs) end to end, as processes, on section
//    2's texts: texts per CPU-second of the process, warm (a run of N other texts then these N,
//    less a run of the N others), with start-up (one text) apart; the older wall-time figures
//    beside them; peak RSS from /usr/bin/time. Each ratio is to section 2's bare TF.js rate of this
//    run. The machine is shared, so the load average is printed.
//
// Data from ../shared/data or $QIS_SHARED/data (MSR: benchmark only; MMLU), never committed.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
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
const agreeN = arg('agree', '2000') === 'all' ? Infinity : Number(arg('agree', '2000'))
const speedN = Number(arg('speed', '300'))
const skipE2e = process.argv.includes('--skip-e2e')
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ')
const f = (x, d = 0) => x.toLocaleString('en', {maximumFractionDigits: d, minimumFractionDigits: d})


const [{createUseLiteEmbedder}, {schemeFor}, {embeddingText}, {createScrubber}, {HashPipeline}] = await Promise.all([
  dist('embed/use-lite.js'),
  dist('hash/index.js'),
  dist('hash/input.js'),
  dist('privacy/index.js'),
  dist('hash/pipeline.js'),
])
const sets = {msr: msrSentences(), mmlu: mmlu(), queries: handWritten()}
console.log(`bench/hash/runtimes on ${os.cpus().length} cores (${os.cpus()[0]?.model}), node ${process.version}; load ${load()}`)
console.log(`sets: ${sets.msr.length} distinct MSR sentences, ${sets.mmlu.length} distinct MMLU questions, ${sets.queries.length} hand-written queries`)

// --- 1. agreement -------------------------------------------------------------------------------
const onnx = await createUseLiteEmbedder({runtime: 'onnx', threads: 1})
const tfjs = await createUseLiteEmbedder({runtime: 'tfjs'})
const scheme = schemeFor(onnx)
console.log(`\n1. agreement (scheme ${scheme.id}; texts as qis embeds them)`)
console.log('| set | texts | max abs diff | mean max diff | fine hash same | keys same | both same |')
console.log('|---|---|---|---|---|---|---|')
for (const [name, all] of Object.entries(sets)) {
  const texts = [...new Set(spread(all, agreeN).map(embeddingText))]
  let worst = 0
  let sumWorst = 0
  let sameHash = 0
  let sameKeys = 0
  let same = 0
  for (let i = 0; i < texts.length; i += 256) {
    const part = texts.slice(i, i + 256)
    const [a, b] = [await onnx.embed(part), await tfjs.embed(part)]
    for (let j = 0; j < part.length; j++) {
      let w = 0
      for (let k = 0; k < 512; k++) w = Math.max(w, Math.abs(a[j][k] - b[j][k]))
      worst = Math.max(worst, w)
      sumWorst += w
      const h = scheme.fineHash(a[j]) === scheme.fineHash(b[j])
      const ks = JSON.stringify(scheme.routingKeys(a[j], part[j])) === JSON.stringify(scheme.routingKeys(b[j], part[j]))
      if (h) sameHash++
      if (ks) sameKeys++
      if (h && ks) same++
    }
  }
  const pct = (x) => `${((100 * x) / texts.length).toFixed(2)}%`
  console.log(`| ${name} | ${texts.length} | ${worst.toExponential(2)} | ${(sumWorst / texts.length).toExponential(2)} | ${pct(sameHash)} | ${pct(sameKeys)} | ${pct(same)} |`)
}
await tfjs.close()
await onnx.close()

// --- 2. in-process speed ------------------------------------------------------------------------
const {loadBareModel} = await import('./bare-model.mjs')
const bare = await loadBareModel()
const onnx1 = await createUseLiteEmbedder({runtime: 'onnx', threads: 1})
const onnx2 = await createUseLiteEmbedder({runtime: 'onnx', threads: 2})
const tfjsOurs = await createUseLiteEmbedder({runtime: 'tfjs'})
// Texts per wall second; `cpuRate` keeps the same run's texts per CPU-second of this process, which
// the machine's load hardly moves (one-thread variants only: TF.js's WASM and onnxruntime at 1 thread
// compute on this thread, so it is their rate on one idle core).
const cpuRate = new Map()
const rate = async (texts, fn) => {
  const c = process.cpuUsage()
  const t = performance.now()
  await fn(texts)
  const used = process.cpuUsage(c)
  cpuRate.set(fn, texts.length / ((used.user + used.system) / 1e6))
  return texts.length / ((performance.now() - t) / 1000)
}
const cpuOf = async (texts, fn) => (await rate(texts, fn), cpuRate.get(fn))
const oneACall = (embed) => async (texts) => {
  for (const t of texts) await embed([t])
}
const viaPipeline = (embedder) => async (texts) => {
  const p = new HashPipeline(embedder, scheme, {workers: 0, cacheSize: 0})
  await p.hashMany(texts)
}
const speed = {}
const cpuRows = []
const scrubber = createScrubber()
const rounds = Number(arg('rounds', '3'))
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
console.log(`\n2. in process, ${speedN} unique texts a set in ${rounds} slices; every variant runs on each slice in turn, and each ratio to bare TF.js one a call is taken within its slice (median over slices); load ${load()}`)
console.log('| set | bare TF.js, 1 a call, texts/s | TF.js + qis grouping | native 1 thread, 1 a call | native 1 thread, grouped | native 2 threads, grouped | HashPipeline native 1 thread (embed + keys) | HashPipeline native 2 threads |')
console.log('|---|---|---|---|---|---|---|---|')
for (const name of ['msr', 'mmlu']) {
  const texts = spread(sets[name], speedN)
  // What `qis hash` and distill embed: scrubbed, then the model input.
  const scrubbed = texts.map((t) => scrubber.scrub(t).text)
  const modelInput = scrubbed.map(embeddingText)
  await bare.embed(modelInput.slice(0, 4), 1)
  for (const e of [onnx1, onnx2, tfjsOurs]) await e.embed(modelInput.slice(0, 4))
  // The scheme's native key search starts on its first call; not part of any slice's time.
  await scheme.codes(await onnx1.embed(modelInput.slice(0, 4)), modelInput.slice(0, 4))
  const ratios = {tfjsGrouped: [], native1One: [], native1: [], native2: [], pipeline1: [], pipeline2: [], cpuNative1: [], cpuPipeline1: []}
  const bases = []
  const cpuBases = []
  for (let r = 0; r < rounds; r++) {
    const lo = Math.floor((r * texts.length) / rounds)
    const hi = Math.floor(((r + 1) * texts.length) / rounds)
    const mi = modelInput.slice(lo, hi)
    const sc = scrubbed.slice(lo, hi)
    const base = await rate(mi, oneACall((b) => bare.embed(b, 1)))
    bases.push(base)
    ratios.tfjsGrouped.push((await rate(mi, (x) => tfjsOurs.embed(x))) / base)
    ratios.native1One.push((await rate(mi, oneACall((b) => onnx1.embed(b)))) / base)
    ratios.native1.push((await rate(mi, (x) => onnx1.embed(x))) / base)
    ratios.native2.push((await rate(mi, (x) => onnx2.embed(x))) / base)
    ratios.pipeline1.push((await rate(sc, viaPipeline(onnx1))) / base)
    ratios.pipeline2.push((await rate(sc, viaPipeline(onnx2))) / base)
    const cpuBase = await cpuOf(mi, oneACall((b) => bare.embed(b, 1)))
    cpuBases.push(cpuBase)
    ratios.cpuNative1.push((await cpuOf(mi, (x) => onnx1.embed(x))) / cpuBase)
    ratios.cpuPipeline1.push((await cpuOf(sc, viaPipeline(onnx1))) / cpuBase)
  }
  speed[name] = {base: median(bases), cpuBase: median(cpuBases), texts}
  const cell = (xs) => `${f(median(xs), 1)}x (${xs.map((x) => f(x, 1)).join(', ')})`
  console.log(`| ${name} | ${f(median(bases), 1)} | ${cell(ratios.tfjsGrouped)} | ${cell(ratios.native1One)} | ${cell(ratios.native1)} | ${cell(ratios.native2)} | ${cell(ratios.pipeline1)} | ${cell(ratios.pipeline2)} |`)
  cpuRows.push(`| ${name} | ${cell(ratios.cpuNative1)} | ${cell(ratios.cpuPipeline1)} |`)
}
console.log('\nPer CPU-second of this process, the same slices again (one thread each: the rate on one idle core):')
console.log('| set | native 1 thread, grouped / bare TF.js 1 a call | HashPipeline native 1 thread / bare TF.js 1 a call |')
console.log('|---|---|---|')
for (const row of cpuRows) console.log(row)
await Promise.all([onnx1.close(), onnx2.close(), tfjsOurs.close()])

// --- 3. end to end ------------------------------------------------------------------------------
// Throughput as throughput: texts per CPU-second of the process (onnxruntime's threads included),
// marginal, and start-up apart. A run of the N texts of section 2 after N others less a run of the N
// others alone is what those N cost a process already going: the model loaded, onnxruntime's arena
// grown, the JIT warm (a process's first few hundred texts pay ~0.5-0.9 CPU-s for that). The others
// are the texts between section 2's in the file (every other one of a 2N spread), so both halves
// are drawn alike, and the ratio is to the bare TF.js CPU rate of section 2 on the same N texts.
// Distill is measured the same way (bench/distill/one.mjs, the library call, a fresh home each
// run). The older figures stay beside them: wall time including start-up, and distill's "steady"
// rate (records / (seconds - setup)), which on a loaded machine moves with the load.
const e2eRuntimes = arg('e2e-runtimes', 'onnx,tfjs').split(',')
if (!skipE2e) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'qis-runtimes-'))
  const e2eRounds = Number(arg('e2e-rounds', String(rounds)))
  // One process under /usr/bin/time: its CPU seconds (user + system), wall seconds, peak RSS.
  const timed = (args, env) => {
    const r = spawnSync('/usr/bin/time', ['-f', 'QISTIME %U %S %e %M', process.execPath, ...args], {env: {...process.env, ...env}, encoding: 'utf8', maxBuffer: 256 << 20})
    const m = /QISTIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr)
    if (r.status !== 0 || !m) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`)
    const [u, sy, wall, kb] = m.slice(1).map(Number)
    return {cpu: u + sy, wall, rssMB: kb / 1024, stdout: r.stdout}
  }
  const medianOf = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  console.log(`\n3. end to end, ${speedN} unique texts a set (section 2's), per CPU-second of each process, marginal: a run of N others then these N, less a run of the N others (median of ${e2eRounds}); ratios to section 2's bare TF.js rate per CPU-second; load ${load()}`)
  console.log('| set | runtime | `qis hash` start-up, 1 text: wall s / CPU s | **`qis hash` texts per CPU-second, warm (ratio)** | `qis hash` N texts incl. start-up: wall s (texts/s, ratio to bare wall) | `qis hash` peak RSS MB | distill start-up, 1 record: wall s / CPU s | **distill records per CPU-second, warm (ratio)** | distill old figure: records / (wall s - setup) (ratio to bare wall) | distill peak RSS MB |')
  console.log('|---|---|---|---|---|---|---|---|---|---|')
  for (const name of ['msr', 'mmlu']) {
    const {base, cpuBase, texts} = speed[name]
    const others = spread(sets[name], 2 * texts.length).filter((_, i) => i % 2 === 1)
    if (others.some((t) => texts.includes(t))) throw new Error(`${name}: the warm-up texts overlap the measured ones`)
    // One file per run serves both: `qis hash` reads "text", distill "prompt" (with the fields a record needs).
    const now = Date.now()
    const record = (text, i) => ({text, prompt: text, request_id: `q${i}`, timestamp: new Date(now - i * 1000).toISOString(), domain: 'general', model: 'gpt-4o', confidence: 0.8, outcome: i % 2})
    const write = (file, list) => {
      writeFileSync(path.join(tmp, file), list.map((text, i) => JSON.stringify(record(text, i))).join('\n') + '\n')
      return path.join(tmp, file)
    }
    const fileOne = write(`${name}-one.jsonl`, texts.slice(0, 1))
    const fileN = write(`${name}-n.jsonl`, texts)
    const fileOthers = write(`${name}-others.jsonl`, others)
    const fileBoth = write(`${name}-both.jsonl`, [...others, ...texts])
    for (const runtime of e2eRuntimes) {
      const env = {QIS_USE_LITE_RUNTIME: runtime, QIS_HOME: path.join(tmp, 'home')}
      const hash = (file) => timed([path.join(root, 'bin/run.js'), 'hash', '--input', file], env)
      const distill = (file, records) => {
        const r = timed([path.join(root, 'bench/distill/one.mjs'), 'distill', file], env)
        const summary = JSON.parse(r.stdout.trim().split('\n').pop()).summary
        if (summary.counts.emitted !== records || summary.cache.embedded !== records) throw new Error(`distill emitted ${summary.counts.emitted} and embedded ${summary.cache.embedded} of ${records}`)
        return {...r, summary}
      }
      const hashOne = hash(fileOne)
      const distillOne = distill(fileOne, 1)
      const hashWarm = []
      const distillWarm = []
      for (let r = 0; r < e2eRounds; r++) {
        hashWarm.push(texts.length / (hash(fileBoth).cpu - hash(fileOthers).cpu))
        distillWarm.push(texts.length / (distill(fileBoth, 2 * texts.length).cpu - distill(fileOthers, texts.length).cpu))
      }
      const hashN = hash(fileN)
      const distillN = distill(fileN, texts.length)
      const oldDistill = distillN.summary.counts.read / (distillN.summary.seconds - distillN.summary.stages.setup)
      const warmCell = (xs) => `**${f(medianOf(xs))} (${f(medianOf(xs) / cpuBase, 1)}x)** (${xs.map((x) => f(x)).join(', ')})`
      console.log(
        `| ${name} | ${runtime} | ${hashOne.wall.toFixed(2)} / ${hashOne.cpu.toFixed(2)} | ${warmCell(hashWarm)} | ${hashN.wall.toFixed(1)} (${f(texts.length / hashN.wall)}, ${f(texts.length / hashN.wall / base, 1)}x) | ${f(hashN.rssMB)} | ${distillOne.wall.toFixed(2)} / ${distillOne.cpu.toFixed(2)} | ${warmCell(distillWarm)} | ${f(oldDistill)} (${f(oldDistill / base, 1)}x) | ${f(distillN.rssMB)} |`,
      )
    }
  }
  rmSync(tmp, {recursive: true, force: true})
}
console.log(`\nload at the end ${load()}`)
