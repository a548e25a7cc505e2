// Chooses the calibrated rule's prior strength (PRIOR_STRENGTH) on a split of real LLM outcomes,
// and checks it on the other half. Run after `npm run build`:
//   node bench/weights/fit-prior.mjs [--questions N] [--json OUT]
//
// Data: ../shared/data/outcomes (MMLU-Pro questions x 16 open models, 1 = right). Every model is
// one deployment whose confidence is its own accuracy on the past questions (the data has no
// confidence; a deployment's running accuracy is the honest stand-in). Questions are hashed with
// the real pipeline (scrub + use-lite + codebook). For each future (question, deployment), the
// evidence under each of the question's routing keys is what peers (the other 15 models) logged on
// past questions sharing that key within the Hamming threshold of the question's fine hash, each
// peer bounded by PUBLISHER_RECORD_CAP as synthesis does; the real adjustmentFor() turns it into a
// probability. Scenarios as bench/value: "overlap" (peers also answered this very question in the
// past) and "disjoint" (they did not). Questions are split in two halves by id parity: the prior
// strength is chosen on half A and reported on half B, so the choice is not fitted to what it is
// judged on. The embeddings are cached in /tmp so a re-run costs seconds.
import {writeFileSync} from 'node:fs'

import {keyFingerprint} from '../../dist/packet/fingerprint.js'
import {DEFAULT_HAMMING_THRESHOLD, PRIOR_STRENGTH, PUBLISHER_RECORD_CAP, REGION_WEIGHT, adjustmentFor} from '../../dist/weights/index.js'
import {hexHamming} from '../../dist/weights/synthesize.js'
import {hashedQuestions, loadOutcomes} from './outcomes.mjs'

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : fallback
}
const nQuestions = Number(arg('questions', 2000))
const jsonOut = arg('json')
const GRID = [1, 2, 4, 8, 16, 32]
const RHO = [0.05, 0.1, 0.25, 0.5, 1]
const PAST = 0.7

const {chosen, models, outcome} = loadOutcomes(nQuestions)
const {cache, scheme} = await hashedQuestions(chosen, (done, total, seconds) => process.stderr.write(`\rhashed ${done}/${total} (${seconds.toFixed(0)} s)${done === total ? '\n' : ''}`))

// ---- simulation
const DOMAIN = 'mmlu-pro'
function evaluate(half, scenario) {
  const qs = chosen.filter((q) => q.question_id % 2 === half)
  const cut = Math.floor(qs.length * PAST)
  const past = qs.slice(0, cut)
  const future = qs.slice(cut)
  // Each deployment's confidence: its accuracy on the past questions.
  const accuracy = models.map((_, m) => past.reduce((s, q) => s + outcome.get(q.question_id)[m], 0) / past.length)
  // routing key -> past questions listing it
  const byKey = new Map()
  for (const q of past) for (const k of cache[q.question_id].keys) (byKey.get(k) ?? byKey.set(k, []).get(k)).push(q)
  const pairs = []
  for (const q of future) {
    const codes = cache[q.question_id]
    const fine = codes.hash
    // Evidence per key: per peer model, its past records on near questions sharing the key (+ this question in overlap).
    const weights = {}
    const fps = []
    for (const k of codes.keys) {
      const fp = keyFingerprint(scheme.id, DOMAIN, k)
      fps.push(fp)
      const near = (byKey.get(k) ?? []).filter((p) => hexHamming(cache[p.question_id].hash, fine) <= DEFAULT_HAMMING_THRESHOLD)
      if (scenario === 'overlap') near.push(q)
      if (near.length === 0) continue
      weights[fp] = near
    }
    for (let d = 0; d < models.length; d++) {
      const file = {version: 2, scheme: scheme.id, generatedAt: new Date().toISOString(), hammingThreshold: DEFAULT_HAMMING_THRESHOLD, weights: {}}
      for (const [fp, near] of Object.entries(weights)) {
        const variants = {}
        let mass = 0
        let success = 0
        let confidence = 0
        let value = 0
        for (let m = 0; m < models.length; m++) {
          if (m === d) continue // own packets are not peer evidence
          const n = near.length
          const s = near.reduce((acc, p) => acc + outcome.get(p.question_id)[m], 0) / n
          const mm = Math.min(n, PUBLISHER_RECORD_CAP)
          variants[models[m]] = {mass: mm, success: s, confidence: accuracy[m], publishers: 1}
          mass += mm
          success += mm * s
          confidence += mm * accuracy[m]
          // The reference value is outcome x confidence; its EMA is approximated by the mean (order-free).
          value += mm * s * accuracy[m]
        }
        // Per query and model: one record each (every model answered each question once).
        const queries = []
        for (const p of near) for (let m = 0; m < models.length; m++) if (m !== d) queries.push({hash: cache[p.question_id].hash, model: models[m], mass: 1, success: outcome.get(p.question_id)[m], confidence: accuracy[m], publishers: 1})
        file.weights[fp] = {weight: value / mass, packets: 1, publishers: 1, publisherIds: ['0000000000000001'], records: 1, lastTimestamp: 0, domain: DOMAIN, routingKey: 'k', evidence: {mass, success: success / mass, confidence: confidence / mass, publishers: models.length - 1}, variants, queries, newShare: 0}
      }
      pairs.push({file, fps, d, y: outcome.get(q.question_id)[d], c: accuracy[d], h: fine})
    }
  }
  const brier = (f) => pairs.reduce((s, p) => s + (f(p) - p.y) ** 2, 0) / pairs.length
  const result = {pairs: pairs.length, matched: pairs.filter((p) => Object.keys(p.file.weights).length > 0).length / pairs.length, noPeers: brier((p) => p.c), byK: {}}
  for (const k of GRID) {
    for (const rho of RHO) {
      result.byK[`${k}/${rho}`] = brier((p) => adjustmentFor(p.file, p.fps, {confidence: p.c, priorStrength: k, regionWeight: rho, queryHash: p.h}).probability)
    }
  }
  result.reference = brier((p) => adjustmentFor(p.file, p.fps, {confidence: p.c, rule: 'reference'}).probability)
  return result
}

const out = {scheme: scheme.id, questions: chosen.length, models: models.length, grid: GRID, rho: RHO, current: {priorStrength: PRIOR_STRENGTH, regionWeight: REGION_WEIGHT}, runs: {}}
for (const half of [0, 1]) for (const scenario of ['overlap', 'disjoint']) out.runs[`${half === 0 ? 'A' : 'B'}-${scenario}`] = evaluate(half, scenario)

console.log(`scheme ${scheme.id}; ${chosen.length} MMLU-Pro questions x ${models.length} models; confidence = own past accuracy; half A (even ids) fits, half B checks`)
for (const [name, r] of Object.entries(out.runs)) {
  console.log(`\n${name}: ${r.pairs} (question, deployment) pairs, ${(r.matched * 100).toFixed(0)}% with evidence; Brier no-peers ${r.noPeers.toFixed(4)}, reference rule ${r.reference.toFixed(4)}`)
  console.log(['  K \\ rho', ...RHO.map((x) => String(x).padStart(7))].join(' '))
  for (const k of GRID) console.log([`  ${String(k).padStart(6)}`, ...RHO.map((rho) => r.byK[`${k}/${rho}`].toFixed(4).padStart(7))].join(' '))
}
// Choice on half A: the lowest mean Brier over both scenarios among the pairs never worse than no-peers in either.
const keys = GRID.flatMap((k) => RHO.map((rho) => `${k}/${rho}`))
const score = (half, key) => (out.runs[`${half}-overlap`].byK[key] + out.runs[`${half}-disjoint`].byK[key]) / 2
const safe = keys.filter((key) => ['overlap', 'disjoint'].every((sc) => out.runs[`A-${sc}`].byK[key] <= out.runs[`A-${sc}`].noPeers))
const best = (safe.length ? safe : keys).reduce((a, b) => (score('A', b) < score('A', a) ? b : a))
out.chosen = best
const line = (half) => ['overlap', 'disjoint'].map((sc) => `${sc} ${out.runs[`${half}-${sc}`].byK[best].toFixed(4)} (no-peers ${out.runs[`${half}-${sc}`].noPeers.toFixed(4)})`).join(', ')
console.log(`\nchosen on half A (K/rho, never worse than no-peers there): ${best}: ${line('A')}`)
console.log(`checked on half B: ${line('B')}`)
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(out, null, 2) + '\n')
