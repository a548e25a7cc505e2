// Chooses the domain layer's prior strength (DOMAIN_PRIOR_STRENGTH) of the calibrated rule on a
// split of real LLM outcomes, and checks it on the other half, against the rule without the layer.
// Run after `npm run build`:
//   node bench/weights/fit-domain.mjs [--questions N] [--grid 4,8,16,32,64,128,256] [--no-own] [--region] [--json OUT]
//
// --region: the domain layer reads every record under the home's keys, near its queries or not.
// --summaries CAPS: also score the domain layer fed by domain summaries (docs/protocol.md): every
// deployment's past in the subject as one summary per deployment, under its shard key, capped at
// each of CAPS records (SUMMARY_RECORD_CAP), in place of the records under the home's keys.
// Each run also scores the domain arm (every deployment's past in the subject under one key).
//
// Data: ../shared/data/outcomes (MMLU-Pro questions x 16 open models). As bench/value: each model is
// one deployment; its confidence is its own running accuracy on its logged past; the subject is the
// domain tag. Scenarios: "disjoint" (a question reaches one deployment) and "overlap" (it reaches
// four). A deployment's weights hold, under each routing key of its own past queries and of the
// query being adjusted (live lookup), what its peers logged on questions sharing the key within the
// Hamming threshold, each peer bounded by PUBLISHER_RECORD_CAP as synthesis does; the real
// adjustmentFor() scores each future answer. Questions split by id parity: half A chooses, half B
// checks. Embeddings are cached in /tmp (shared with fit-prior.mjs).
import {writeFileSync} from 'node:fs'

import {keyFingerprint} from '../../dist/packet/fingerprint.js'
import {DOMAIN_SUMMARY_SHARDS, summaryRoutingKey} from '../../dist/packet/summary.js'
import {toLabel} from '../../dist/packet/text.js'
import {DEFAULT_HAMMING_THRESHOLD, DOMAIN_PRIOR_STRENGTH, PUBLISHER_RECORD_CAP, adjustmentFor} from '../../dist/weights/index.js'
import {hexHamming} from '../../dist/weights/synthesize.js'
import {hashedQuestions, loadOutcomes} from './outcomes.mjs'

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : fallback
}
const nQuestions = Number(arg('questions', 2000))
const jsonOut = arg('json')
// pull-weights counts a home's own packets beside its peers' (its default); --no-own leaves them out, as before it did.
const ownEvidence = !process.argv.includes('--no-own')
const region = process.argv.includes('--region')
const GRID = (arg('grid') ?? '4,8,16,32,64,128,256').split(',').map(Number)
const CAPS = arg('summaries') ? arg('summaries').split(',').map(Number) : []
// --variant-grid L: with --summaries, also cross the domain prior strength with the variant's own
// (VARIANT_DOMAIN_STRENGTH), with summaries (first cap) and without; chosen on half A by mean Brier
// with summaries, routing reported. The plain grid uses one strength for both.
const VGRID = arg('variant-grid') ? arg('variant-grid').split(',').map(Number) : []
const PAST = 0.7
const REACH = {disjoint: 1, overlap: 4}

const {chosen, models, outcome} = loadOutcomes(nQuestions)
const {cache, scheme} = await hashedQuestions(chosen)

// A seeded generator, so a run is repeatable.
let seed = 12345
const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000)
const domainOf = (q) => toLabel('domain_tag', q.category) ?? 'general'

function evaluate(half, scenario) {
  const qs = chosen.filter((q) => q.question_id % 2 === half)
  // Events: (question, deployment, time); the first PAST of each deployment's stream is its logged past.
  const events = models.map(() => [])
  for (const q of qs) {
    const targets = models.map((_, m) => m).sort(() => random() - 0.5).slice(0, REACH[scenario])
    for (const m of targets) events[m].push({q, t: random()})
  }
  const past = []
  const future = []
  const confidence = []
  events.forEach((list, m) => {
    list.sort((a, b) => a.t - b.t)
    const cut = Math.floor(list.length * PAST)
    let wins = 0
    list.forEach((e, i) => {
      const y = outcome.get(e.q.question_id)[m]
      if (i < cut) {
        past.push({q: e.q, m, y, c: (wins + 1) / (i + 2)})
        wins += y
      } else future.push({q: e.q, m, y})
    })
    confidence[m] = (wins + 1) / (cut + 2)
  })
  const byKey = new Map()
  for (const e of past) for (const k of cache[e.q.question_id].keys) {
    const fp = keyFingerprint(scheme.id, domainOf(e.q), k)
    ;(byKey.get(fp) ?? byKey.set(fp, []).get(fp)).push(e)
  }
  /** A weights entry from the past events under fp near any of `hashes`: peers', and m's own unless --no-own. */
  const entry = (fp, domain, m, hashes, threshold = DEFAULT_HAMMING_THRESHOLD) => {
    const near = (byKey.get(fp) ?? []).filter((e) => (ownEvidence || e.m !== m) && hashes.some((h) => hexHamming(cache[e.q.question_id].hash, h) <= threshold))
    if (near.length === 0) return undefined
    const per = new Map()
    for (const e of near) (per.get(e.m) ?? per.set(e.m, []).get(e.m)).push(e)
    const variants = {}
    const parts = []
    for (const [pm, list] of per) {
      const mass = Math.min(list.length, PUBLISHER_RECORD_CAP)
      const v = {mass, success: list.reduce((s, e) => s + e.y, 0) / list.length, confidence: list.reduce((s, e) => s + e.c, 0) / list.length, publishers: 1}
      variants[models[pm]] = v
      parts.push(v)
    }
    const mass = parts.reduce((s, p) => s + p.mass, 0)
    const evidence = {mass, success: parts.reduce((s, p) => s + p.mass * p.success, 0) / mass, confidence: parts.reduce((s, p) => s + p.mass * p.confidence, 0) / mass, publishers: parts.length}
    const queries = near.map((e) => ({hash: cache[e.q.question_id].hash, model: models[e.m], mass: 1, success: e.y, confidence: e.c, publishers: 1}))
    return {weight: evidence.success, packets: near.length, publishers: per.size, publisherIds: [...per.keys()].map((x) => x.toString(16).padStart(16, '0')), records: near.length, lastTimestamp: 0, domain, routingKey: 'k', evidence, variants, queries, newShare: 0}
  }
  // Each deployment's pulled file: the keys of its own past queries, closeness centred on them.
  const fileOf = (m, threshold) => {
    const asked = new Map()
    for (const e of past) if (e.m === m) for (const k of cache[e.q.question_id].keys) {
      const fp = keyFingerprint(scheme.id, domainOf(e.q), k)
      const a = asked.get(fp) ?? asked.set(fp, {domain: domainOf(e.q), hashes: []}).get(fp)
      a.hashes.push(cache[e.q.question_id].hash)
    }
    const weights = {}
    for (const [fp, a] of asked) {
      const en = entry(fp, a.domain, m, a.hashes, threshold)
      if (en) weights[fp] = en
    }
    return {version: 2, scheme: scheme.id, generatedAt: new Date().toISOString(), hammingThreshold: DEFAULT_HAMMING_THRESHOLD, weights}
  }
  const files = models.map((_, m) => fileOf(m))
  const regionFiles = models.map((_, m) => fileOf(m, 64))
  const items = future.map((e) => {
    const codes = cache[e.q.question_id]
    const domain = domainOf(e.q)
    const fps = codes.keys.map((k) => keyFingerprint(scheme.id, domain, k))
    const file = files[e.m]
    // Live lookup: keys the file lacks, closeness centred on this query alone.
    const view = {...file, weights: {}}
    for (const fp of fps) {
      const en = file.weights[fp] ?? entry(fp, domain, e.m, [codes.hash])
      if (en) view.weights[fp] = en
    }
    return {e, file, view, fps, domain, h: codes.hash, region: regionFiles[e.m]}
  })
  const candidates = Object.fromEntries(models.map((name, m) => [name, confidence[m]]))
  const score = (opts) => {
    let brier = 0
    let routed = 0
    for (const it of items) {
      const a = adjustmentFor(it.view, it.fps, {confidence: confidence[it.e.m], model: models[it.e.m], queryHash: it.h, candidates, ...opts(it)})
      brier += (a.probability - it.e.y) ** 2
      let best = 0
      models.forEach((name, j) => {
        if (a.candidates[name] > a.candidates[models[best]]) best = j
      })
      routed += outcome.get(it.e.q.question_id)[best]
    }
    return {brier: brier / items.length, routing: routed / items.length}
  }
  const perModel = models.map((_, m) => items.reduce((s, it) => s + outcome.get(it.e.q.question_id)[m], 0) / items.length)
  const result = {
    items: items.length,
    noPeers: items.reduce((s, it) => s + (confidence[it.e.m] - it.e.y) ** 2, 0) / items.length,
    bestSingle: Math.max(...perModel),
    withoutDomain: score(() => ({})),
    byK: {},
  }
  // The domain arm: every deployment's past in the question's domain under one key, no closeness filter.
  const domainEntries = new Map()
  const domainFile = (domain) => {
    if (!domainEntries.has(domain)) {
      const fp = keyFingerprint(scheme.id, domain, 'domain')
      byKey.set(fp, past.filter((e) => domainOf(e.q) === domain))
      const en = entry(fp, domain, -1, [''], Infinity)
      domainEntries.set(domain, {fp, file: {version: 2, scheme: scheme.id, generatedAt: '', hammingThreshold: 64, weights: en ? {[fp]: en} : {}}})
    }
    return domainEntries.get(domain)
  }
  {
    let brier = 0
    for (const it of items) {
      const d = domainFile(it.domain)
      const a = adjustmentFor(d.file, [d.fp], {confidence: confidence[it.e.m], model: models[it.e.m], queryHash: it.h, candidates})
      brier += (a.probability - it.e.y) ** 2
    }
    result.domainArm = brier / items.length
  }
  for (const k of GRID) result.byK[k] = score((it) => ({domain: it.domain, domainSource: region ? it.region : it.file, domainPriorStrength: k, variantDomainStrength: k}))
  if (VGRID.length > 0) {
    result.crossedRecords = {}
    for (const k of GRID) for (const kv of VGRID) result.crossedRecords[`${k}/${kv}`] = score((it) => ({domain: it.domain, domainSource: region ? it.region : it.file, domainPriorStrength: k, variantDomainStrength: kv}))
  }
  if (CAPS.length > 0) {
    // Each deployment's whole logged past per subject: what its distill run summarises.
    const pastByDomain = new Map()
    for (const e of past) {
      const d = domainOf(e.q)
      const byM = pastByDomain.get(d) ?? pastByDomain.set(d, new Map()).get(d)
      ;(byM.get(e.m) ?? byM.set(e.m, []).get(e.m)).push(e)
    }
    /** m's pulled file with every deployment's summary (its own too, unless --no-own) under its shard key, as synthesis files them. */
    const summaryFile = (m, cap) => {
      const weights = {...files[m].weights}
      for (const [domain, byM] of pastByDomain) {
        const shards = new Map()
        for (const [pm, list] of byM) {
          if (!ownEvidence && pm === m) continue
          const v = {mass: Math.min(list.length, cap), success: list.reduce((s, e) => s + e.y, 0) / list.length, confidence: list.reduce((s, e) => s + e.c, 0) / list.length, publishers: 1}
          // A publisher-stable shard, as summaryShard() makes one from a public key.
          const shard = pm % DOMAIN_SUMMARY_SHARDS
          ;(shards.get(shard) ?? shards.set(shard, {}).get(shard))[models[pm]] = v
        }
        for (const [shard, variants] of shards) {
          const parts = Object.values(variants)
          const mass = parts.reduce((s, p) => s + p.mass, 0)
          const evidence = {mass, success: parts.reduce((s, p) => s + p.mass * p.success, 0) / mass, confidence: parts.reduce((s, p) => s + p.mass * p.confidence, 0) / mass, publishers: parts.length}
          const routingKey = summaryRoutingKey(shard)
          weights[keyFingerprint(scheme.id, domain, routingKey)] = {weight: evidence.success, packets: parts.length, publishers: parts.length, publisherIds: parts.map((_, i) => i.toString(16).padStart(16, '0')), records: parts.length, lastTimestamp: 0, domain, routingKey, evidence, variants, queries: [], newShare: 0}
        }
      }
      return {...files[m], weights}
    }
    result.summaries = {}
    for (const cap of CAPS) {
      const sf = models.map((_, m) => summaryFile(m, cap))
      result.summaries[cap] = {}
      for (const k of GRID) result.summaries[cap][k] = score((it) => ({domain: it.domain, domainSource: sf[it.e.m], domainPriorStrength: k, variantDomainStrength: k}))
      if (cap === CAPS[0] && VGRID.length > 0) {
        result.crossed = {}
        for (const k of GRID) for (const kv of VGRID) result.crossed[`${k}/${kv}`] = score((it) => ({domain: it.domain, domainSource: sf[it.e.m], domainPriorStrength: k, variantDomainStrength: kv}))
      }
    }
  }
  return result
}

const out = {scheme: scheme.id, questions: chosen.length, ownEvidence, grid: GRID, current: DOMAIN_PRIOR_STRENGTH, runs: {}}
for (const half of [0, 1]) for (const scenario of ['overlap', 'disjoint']) out.runs[`${half === 0 ? 'A' : 'B'}-${scenario}`] = evaluate(half, scenario)
const f = (x) => x.toFixed(4)
console.log(`scheme ${scheme.id}; ${chosen.length} MMLU-Pro questions x ${models.length} deployments; ${ownEvidence ? "a home's own records count beside its peers'" : "peers' records only (--no-own)"}; half A (even ids) chooses, half B checks`)
for (const [name, r] of Object.entries(out.runs)) {
  console.log(`\n${name}: ${r.items} future answers; Brier no-peers ${f(r.noPeers)}, domain arm ${f(r.domainArm)}, without the domain layer ${f(r.withoutDomain.brier)} (routing ${f(r.withoutDomain.routing)}, best single ${f(r.bestSingle)})`)
  for (const k of GRID) console.log(`  domain prior ${String(k).padStart(4)}: Brier ${f(r.byK[k].brier)}  routing ${f(r.byK[k].routing)}`)
}
const meanOn = (half, k) => (out.runs[`${half}-overlap`].byK[k].brier + out.runs[`${half}-disjoint`].byK[k].brier) / 2
const best = GRID.reduce((a, b) => (meanOn('A', b) < meanOn('A', a) ? b : a))
out.chosen = best
console.log(`\nchosen on half A: ${best}; half B: overlap ${f(out.runs['B-overlap'].byK[best].brier)} (without ${f(out.runs['B-overlap'].withoutDomain.brier)}), disjoint ${f(out.runs['B-disjoint'].byK[best].brier)} (without ${f(out.runs['B-disjoint'].withoutDomain.brier)})`)
if (CAPS.length > 0) {
  console.log('\nwith domain summaries (Brier (routing accuracy)):')
  for (const [name, r] of Object.entries(out.runs)) {
    console.log(`${name}: domain arm ${f(r.domainArm)}, records under keys at K=${DOMAIN_PRIOR_STRENGTH} ${f(r.byK[DOMAIN_PRIOR_STRENGTH]?.brier ?? NaN)}`)
    for (const cap of CAPS) console.log(`  cap ${String(cap).padStart(4)}: ` + GRID.map((k) => `K=${k} ${f(r.summaries[cap][k].brier)} (${f(r.summaries[cap][k].routing)})`).join('  ') + `; best single ${f(r.bestSingle)}`)
  }
  const meanS = (half, cap, k) => (out.runs[`${half}-overlap`].summaries[cap][k].brier + out.runs[`${half}-disjoint`].summaries[cap][k].brier) / 2
  let bestS = [CAPS[0], GRID[0]]
  for (const cap of CAPS) for (const k of GRID) if (meanS('A', cap, k) < meanS('A', ...bestS)) bestS = [cap, k]
  out.chosenSummaries = {cap: bestS[0], k: bestS[1]}
  const [c, k] = bestS
  console.log(`chosen on half A with summaries: cap ${c}, K ${k}; half B: overlap ${f(out.runs['B-overlap'].summaries[c][k].brier)} (records ${f(out.runs['B-overlap'].byK[DOMAIN_PRIOR_STRENGTH]?.brier ?? NaN)}), disjoint ${f(out.runs['B-disjoint'].summaries[c][k].brier)} (records ${f(out.runs['B-disjoint'].byK[DOMAIN_PRIOR_STRENGTH]?.brier ?? NaN)}, domain arm ${f(out.runs['B-disjoint'].domainArm)})`)
}
if (VGRID.length > 0) {
  console.log(`\ndomain prior K x variant strength KV, summaries cap ${CAPS[0]} (Brier (routing accuracy)); best single A ${f(out.runs['A-disjoint'].bestSingle)} / ${f(out.runs['A-overlap'].bestSingle)}, B ${f(out.runs['B-disjoint'].bestSingle)} / ${f(out.runs['B-overlap'].bestSingle)}:`)
  const table = (grid) => {
    console.log('| K / KV | A overlap | A disjoint | B overlap | B disjoint |')
    console.log('|---|---|---|---|---|')
    for (const id of Object.keys(out.runs['A-overlap'][grid])) console.log(`| ${id} | ${['A-overlap', 'A-disjoint', 'B-overlap', 'B-disjoint'].map((n) => `${f(out.runs[n][grid][id].brier)} (${f(out.runs[n][grid][id].routing)})`).join(' | ')} |`)
  }
  table('crossed')
  console.log('\nthe same without summaries (the domain layer from the records under the keys):')
  table('crossedRecords')
  const meanC = (half, id) => (out.runs[`${half}-overlap`].crossed[id].brier + out.runs[`${half}-disjoint`].crossed[id].brier) / 2
  const ids = Object.keys(out.runs['A-overlap'].crossed)
  const routeC = (half, id) => (out.runs[`${half}-overlap`].crossed[id].routing + out.runs[`${half}-disjoint`].crossed[id].routing) / 2
  const minA = Math.min(...ids.map((id) => meanC('A', id)))
  // Brier within 0.0002 of half A's best is a tie (a few answers' worth); of those, the one that routes best on half A.
  const tied = ids.filter((id) => meanC('A', id) <= minA + 0.0002)
  const bestC = tied.reduce((a, b) => (routeC('A', b) > routeC('A', a) ? b : a))
  out.chosenCrossed = bestC
  const was = `${DOMAIN_PRIOR_STRENGTH}/${DOMAIN_PRIOR_STRENGTH}`
  console.log(`half A mean Brier ${f(minA)} at best; tied within 0.0002: ${tied.map((id) => `${id} (routing ${f(routeC('A', id))})`).join(', ')}`)
  console.log(`chosen on half A: K/KV ${bestC}; half B mean Brier ${f(meanC('B', bestC))}, routing ${f(routeC('B', bestC))}${out.runs['A-overlap'].crossed[was] ? ` (K=KV=${DOMAIN_PRIOR_STRENGTH}: ${f(meanC('B', was))}, routing ${f(routeC('B', was))})` : ''}`)
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(out, null, 2) + '\n')
