#!/usr/bin/env node
// use-lite on 8-bit integers (an experiment, issue 20 third round) against the float32 graph qis
// ships, in one run. Run after `npm run build`:
//
//   node bench/hash/int8.mjs [--agree N] [--speed N] [--rounds R]
//
// 1. Agreement: N texts per set (default 2000; `all` for every one), as qis embeds them
//    (embeddingText), on the float32 ONNX graph (whose keys are TF.js's: bench/hash/runtimes.mjs)
//    and on the int8 graph (src/embed/use-lite-onnx.ts, precision 'int8'): the largest difference
//    in any component, the share of texts whose fine hash, keys, or both are identical under the
//    shipped scheme, and the share whose two key sets still share a key (the two copies would meet).
// 2. Batch independence of the int8 graph: the same texts one a call and in one call, bit for bit.
// 3. Speed per CPU-second of this process (one onnxruntime thread each, so the machine's load hardly
//    enters): the model alone (grouped calls, as qis makes them) and model + keys (HashPipeline),
//    float32 and int8 on the same slices in turn, and bare use-lite on TF.js one text a call (the
//    package's own embed([text])) as the baseline.
//
// Data from ../shared/data or $QIS_SHARED/data (MSR: benchmark only; MMLU), never committed.
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
const rounds = Number(arg('rounds', '3'))
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ')
const f = (x, d = 0) => x.toLocaleString('en', {maximumFractionDigits: d, minimumFractionDigits: d})

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const [{createUseLiteEmbedder}, {schemeFor}, {embeddingText}, {createScrubber}, {HashPipeline}] = await Promise.all([
  dist('embed/use-lite.js'),
  dist('hash/index.js'),
  dist('hash/input.js'),
  dist('privacy/index.js'),
  dist('hash/pipeline.js'),
])
const sets = {mmlu: mmlu(), msr: msrSentences(), queries: handWritten()}
console.log(`bench/hash/int8 on ${os.cpus().length} cores (${os.cpus()[0]?.model}), node ${process.version}; load ${load()}`)

const fp32 = await createUseLiteEmbedder({runtime: 'onnx', threads: 1})
const int8 = await createUseLiteEmbedder({precision: 'int8', threads: 1})
// The shipped scheme (v6) for both: what peers would compute from each runtime's vectors.
const scheme = schemeFor(fp32)

// --- 1. agreement -------------------------------------------------------------------------------
if (agreeN > 0) {
  console.log(`\n1. agreement with the float32 graph (scheme ${scheme.id}); load ${load()}`)
  console.log('| set | texts | max abs diff | mean of each text\'s max | fine hash same | keys same | both same | share a key | mean keys in common | mean angle, rad | fine hash same if 64 independent planes |')
  console.log('|---|---|---|---|---|---|---|---|---|---|---|')
  for (const [name, all] of Object.entries(sets)) {
    const texts = [...new Set(spread(all, agreeN).map(embeddingText))]
    let worst = 0
    let sumWorst = 0
    let sameHash = 0
    let sameKeys = 0
    let same = 0
    let meet = 0
    let common = 0
    let angles = 0
    let predicted = 0
    for (let i = 0; i < texts.length; i += 256) {
      const part = texts.slice(i, i + 256)
      const [a, b] = [await fp32.embed(part), await int8.embed(part)]
      const [ca, cb] = [await scheme.codes(a, part), await scheme.codes(b, part)]
      for (let j = 0; j < part.length; j++) {
        let w = 0
        for (let k = 0; k < 512; k++) w = Math.max(w, Math.abs(a[j][k] - b[j][k]))
        worst = Math.max(worst, w)
        sumWorst += w
        let cos = 0
        for (let k = 0; k < 512; k++) cos += a[j][k] * b[j][k]
        const angle = Math.acos(Math.min(1, cos))
        angles += angle
        // A SimHash bit (a random hyperplane) splits two vectors at angle θ with probability θ/π.
        predicted += (1 - angle / Math.PI) ** 64
        const h = ca[j].hash === cb[j].hash
        const ks = ca[j].keys.join() === cb[j].keys.join()
        const shared = ca[j].keys.filter((k) => cb[j].keys.includes(k)).length
        sameHash += h ? 1 : 0
        sameKeys += ks ? 1 : 0
        same += h && ks ? 1 : 0
        meet += shared > 0 ? 1 : 0
        common += shared / ca[j].keys.length
      }
    }
    const pct = (x) => `${((100 * x) / texts.length).toFixed(2)}%`
    console.log(`| ${name} | ${texts.length} | ${worst.toExponential(2)} | ${(sumWorst / texts.length).toExponential(2)} | ${pct(sameHash)} | ${pct(sameKeys)} | ${pct(same)} | ${pct(meet)} | ${pct(common)} | ${(angles / texts.length).toExponential(2)} | ${pct(predicted)} |`)
  }
}

// --- 2. batch independence ----------------------------------------------------------------------
{
  const texts = spread(sets.mmlu, 200).map(embeddingText)
  const together = await int8.embed(texts)
  let identical = 0
  for (let i = 0; i < texts.length; i++) {
    const [alone] = await int8.embed([texts[i]])
    if (alone.every((x, k) => x === together[i][k])) identical++
  }
  console.log(`\n2. int8: ${identical} of ${texts.length} MMLU questions bit-identical alone and in one call of ${texts.length}`)
}

// --- 3. speed per CPU-second --------------------------------------------------------------------
if (speedN > 0) {
  const {loadBareModel} = await import('./bare-model.mjs')
  const bare = await loadBareModel()
  const scrubber = createScrubber()
  const perCpuSecond = async (n, fn) => {
    const c = process.cpuUsage()
    await fn()
    const u = process.cpuUsage(c)
    return n / ((u.user + u.system) / 1e6)
  }
  const viaPipeline = (embedder) => async (texts) => {
    const p = new HashPipeline(embedder, scheme, {workers: 0, cacheSize: 0})
    await p.hashMany(texts)
  }
  console.log(`\n3. texts per CPU-second, ${speedN} unique texts a set in ${rounds} slices, every variant on each slice in turn (median over slices; ratio to bare TF.js taken within the slice); load ${load()}`)
  console.log('| set | bare TF.js 1 a call | fp32 model, grouped | int8 model, grouped | int8 / fp32 model | HashPipeline fp32 | HashPipeline int8 | int8 / fp32 pipeline |')
  console.log('|---|---|---|---|---|---|---|---|')
  for (const name of ['mmlu', 'msr']) {
    const texts = spread(sets[name], speedN)
    const scrubbed = texts.map((t) => scrubber.scrub(t).text)
    const modelInput = scrubbed.map(embeddingText)
    await bare.embed(modelInput.slice(0, 4), 1)
    for (const e of [fp32, int8]) await scheme.codes(await e.embed(modelInput.slice(0, 4)), modelInput.slice(0, 4))
    const r = {bare: [], fp32: [], int8: [], pFp32: [], pInt8: []}
    const ratio = {fp32: [], int8: [], model: [], pFp32: [], pInt8: [], pipeline: []}
    for (let s = 0; s < rounds; s++) {
      const lo = Math.floor((s * texts.length) / rounds)
      const hi = Math.floor(((s + 1) * texts.length) / rounds)
      const mi = modelInput.slice(lo, hi)
      const sc = scrubbed.slice(lo, hi)
      const b = await perCpuSecond(mi.length, async () => {
        for (const t of mi) await bare.embed([t], 1)
      })
      const x = await perCpuSecond(mi.length, () => fp32.embed(mi))
      const y = await perCpuSecond(mi.length, () => int8.embed(mi))
      const px = await perCpuSecond(sc.length, () => viaPipeline(fp32)(sc))
      const py = await perCpuSecond(sc.length, () => viaPipeline(int8)(sc))
      r.bare.push(b), r.fp32.push(x), r.int8.push(y), r.pFp32.push(px), r.pInt8.push(py)
      ratio.fp32.push(x / b), ratio.int8.push(y / b), ratio.model.push(y / x), ratio.pFp32.push(px / b), ratio.pInt8.push(py / b), ratio.pipeline.push(py / px)
    }
    const cell = (rates, ratios) => `${f(median(rates))} (${f(median(ratios), 1)}x)`
    console.log(
      `| ${name} | ${f(median(r.bare))} | ${cell(r.fp32, ratio.fp32)} | ${cell(r.int8, ratio.int8)} | ${f(median(ratio.model), 2)}x (${ratio.model.map((x) => f(x, 2)).join(', ')}) | ${cell(r.pFp32, ratio.pFp32)} | ${cell(r.pInt8, ratio.pInt8)} | ${f(median(ratio.pipeline), 2)}x |`,
    )
  }
}
await Promise.all([fp32.close(), int8.close()])
console.log(`\nload at the end ${load()}`)
