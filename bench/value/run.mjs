// bench/value: does a deployment answer better because its peers shared outcomes? Runs the real
// pipeline (distill, publish to a loopback swarm of `qis node` processes, pull-weights, the library
// adjuster) for N simulated deployments on real LLM outcomes and scores every arm on the same
// future answers. See docs/value.md. Run after `npm run build`:
//
//   node bench/value/run.mjs [--questions F --outcomes F] [--n 2,4,8,16] [--scenario overlap,disjoint] [--json OUT]
//                            [--full | --limit Q] [--privacy] [--poison 1,10,50] [--svg OUT] [--seed S]
import {existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'

import {createScorer} from './adapter.mjs'
import {DataError, loadData} from './data.mjs'
import {createShared, makeDistiller} from './homes.mjs'
import {drawPicture} from './plot.mjs'
import {retried, root} from './processes.mjs'
import {rng, shuffle, subSeed} from './random.mjs'
import {buildRun} from './scenario.mjs'
import {ARMS, simulate} from './simulate.mjs'

const HELP = `node bench/value/run.mjs [options]
  --questions F         questions JSONL (question_id, category, question); default ../shared/data/outcomes/questions.jsonl
  --outcomes F          question x model CSV of 1/0/blank; default ../shared/data/outcomes/correct.csv
  --with-options        each query is the question followed by its options (A) ... (J), as a model is prompted,
                        not the question alone (needs an "options" array in every question record)
  --n LIST              deployments per run (default 2,4,8,16)
  --scenario LIST       overlap,disjoint (default both)
  --limit Q             questions used, a seeded sample (default 400); --full uses every question
  --disjoint-limit Q    questions for the disjoint scenario (default: --limit x --reach, capped at the data, so both
                        scenarios score about as many answers: a disjoint question reaches one deployment, an
                        overlap question --reach); the first --limit of them are the overlap questions
  --reach K             overlap: deployments each question reaches, at most N (default 4)
  --past F              share of each stream that is logged past (default 0.7)
  --corrections F       share of wrong past answers that get a correction record (default 0.3)
  --nodes K             qis node processes in the swarm (default 3)
  --hamming-threshold T pull-weights closeness bound (default: qis's own, 18)
  --extra-thresholds L  also pull with these bounds, reported as arms qis@T (e.g. 64 = no closeness filter)
  --pull-queries        also run \`qis pull-weights --queries\` with each home's future questions (arm qis-pull-queries: a deployment that knows its queue)
  --rule R              weights rule: calibrated or reference (default: the library's default)
  --distill M           shared (default: distill() in this process, one embedding cache for all homes) or cli (a qis distill process per home)
  --privacy             also run the privacy grid (epsilon inf/4/1, --aggregate --min-count 1/5, time resolution 1d) at --privacy-n
  --privacy-runs LIST   only these privacy runs (baseline, epsilon-4, epsilon-1, aggregate-min-count-1, aggregate-min-count-5, time-resolution-1d)
  --privacy-n N         deployments for the privacy and poisoning runs (default 8)
  --poison LIST         also run with K attacker identities publishing inverted outcomes (e.g. 1,10,50), overlap at --privacy-n
  --poison-trust        the poisoning runs again with a trust list (each honest home trusts the others; arm qis-trusted-only too)
  --poison-trust-only   only the runs with a trust list
  --poison-share F      share of the honest past records the attackers copy inverted, the same records for all (default 0.25)
  --poison-established  the poisoning runs again in a swarm the attackers join late: the honest homes published and
                        pulled a week before the attackers came, so they know each other and the attackers are new
  --bootstrap B         bootstrap resamples for intervals (default 1000; 0 = none)
  --concurrency C       CLI processes at once (default 2)
  --seed S              (default 1)
  --json OUT            result file (default bench/value/out/value.json)
  --svg OUT             picture (default bench/value/out/value.svg)
  --work DIR            homes and logs (default a temp folder, removed unless --keep)
  --keep                keep the work folder`

const {values: a} = parseArgs({
  options: {
    questions: {type: 'string'},
    outcomes: {type: 'string'},
    n: {type: 'string', default: '2,4,8,16'},
    scenario: {type: 'string', default: 'overlap,disjoint'},
    limit: {type: 'string', default: '400'},
    'disjoint-limit': {type: 'string'},
    full: {type: 'boolean', default: false},
    reach: {type: 'string', default: '4'},
    past: {type: 'string', default: '0.7'},
    corrections: {type: 'string', default: '0.3'},
    nodes: {type: 'string', default: '3'},
    'hamming-threshold': {type: 'string', default: '18'},
    'extra-thresholds': {type: 'string', default: ''},
    rule: {type: 'string'},
    'pull-queries': {type: 'boolean', default: false},
    distill: {type: 'string', default: 'shared'},
    privacy: {type: 'boolean', default: false},
    'privacy-runs': {type: 'string', default: ''},
    'privacy-n': {type: 'string', default: '8'},
    poison: {type: 'string', default: ''},
    'poison-trust': {type: 'boolean', default: false},
    'poison-trust-only': {type: 'boolean', default: false},
    'poison-share': {type: 'string', default: '0.25'},
    'poison-established': {type: 'boolean', default: false},
    bootstrap: {type: 'string', default: '1000'},
    concurrency: {type: 'string', default: '2'},
    seed: {type: 'string', default: '1'},
    'with-options': {type: 'boolean', default: false},
    json: {type: 'string'},
    svg: {type: 'string'},
    work: {type: 'string'},
    keep: {type: 'boolean', default: false},
    quiet: {type: 'boolean', default: false},
    help: {type: 'boolean', default: false},
  },
})
if (a.help) {
  console.log(HELP)
  process.exit(0)
}

const usage = (msg) => {
  console.error(`bench/value: ${msg}\n\n${HELP}`)
  process.exit(2)
}
const list = (s, flag) => (s === '' ? [] : s.split(',').map((x) => x.trim()).filter(Boolean))
const int = (s, flag, min = 0) => {
  const v = Number(s)
  if (!Number.isInteger(v) || v < min) usage(`${flag} must be a whole number >= ${min} (got "${s}")`)
  return v
}
const frac = (s, flag) => {
  const v = Number(s)
  if (!(v >= 0 && v <= 1)) usage(`${flag} must be a number from 0 to 1 (got "${s}")`)
  return v
}
const sharedData = ['../shared/data/outcomes', '../../shared/data/outcomes'].map((p) => path.resolve(root, p)).find((p) => existsSync(p)) ?? path.resolve(root, '../shared/data/outcomes')
const opts = {
  questions: path.resolve(a.questions ?? path.join(sharedData, 'questions.jsonl')),
  outcomes: path.resolve(a.outcomes ?? path.join(sharedData, 'correct.csv')),
  ns: list(a.n).map((x) => int(x, '--n', 2)),
  scenarios: list(a.scenario),
  limit: a.full ? Infinity : int(a.limit, '--limit', 4),
  disjointLimit: a.full ? Infinity : a['disjoint-limit'] !== undefined ? int(a['disjoint-limit'], '--disjoint-limit', 4) : undefined,
  reach: int(a.reach, '--reach', 2),
  past: frac(a.past, '--past'),
  correctionShare: frac(a.corrections, '--corrections'),
  nodes: int(a.nodes, '--nodes', 1),
  hammingThreshold: int(a['hamming-threshold'], '--hamming-threshold'),
  extraThresholds: list(a['extra-thresholds']).map((x) => int(x, '--extra-thresholds')),
  rule: a.rule,
  pullQueries: a['pull-queries'],
  distill: a.distill,
  privacyN: int(a['privacy-n'], '--privacy-n', 2),
  poison: list(a.poison).map((x) => int(x, '--poison', 1)),
  poisonShare: frac(a['poison-share'], '--poison-share'),
  bootstrap: int(a.bootstrap, '--bootstrap'),
  concurrency: int(a.concurrency, '--concurrency', 1),
  seed: int(a.seed, '--seed'),
  json: path.resolve(a.json ?? path.join(root, 'bench/value/out/value.json')),
  svg: path.resolve(a.svg ?? path.join(root, 'bench/value/out/value.svg')),
}
for (const s of opts.scenarios) if (!['overlap', 'disjoint'].includes(s)) usage(`--scenario: unknown scenario "${s}" (overlap, disjoint)`)
if (!['shared', 'cli'].includes(opts.distill)) usage(`--distill must be shared or cli (got "${opts.distill}")`)
if (!existsSync(path.join(root, 'dist/weights/index.js'))) usage('dist/ is missing: run `npm run build` first')
opts.work = a.work ? path.resolve(a.work) : mkdtempSync(path.join(os.tmpdir(), 'qis-value-'))
mkdirSync(opts.work, {recursive: true})
const log = a.quiet ? () => {} : (m) => console.error(m)

let data
try {
  data = loadData(opts.questions, opts.outcomes, {options: a['with-options']})
} catch (err) {
  if (err instanceof DataError) usage(err.message)
  throw err
}
opts.disjointLimit ??= opts.limit * opts.reach
const sample = shuffle(data.rows, rng(subSeed(opts.seed, 'questions')))
const rows = sample.slice(0, opts.limit)
const disjointRows = opts.scenarios.includes('disjoint') ? sample.slice(0, opts.disjointLimit) : rows
log(`bench/value: ${rows.length} of ${data.rows.length} questions (disjoint: ${disjointRows.length}) (${data.withoutOutcomes} without outcomes, ${data.withoutQuestion} outcome rows without a question), ${data.models.length} models; work ${opts.work}`)

const started = performance.now()
const shared = await createShared({cacheSize: Math.max(10_000, disjointRows.length + 1000)})
const scorer = await createScorer({shared, rule: opts.rule})
const distiller = await makeDistiller(opts.distill, shared, opts.seed)
// Embedding every question once up front: the runs then hit the cache, and the embedding cost is measured on its own.
let t0 = performance.now()
const everyRow = disjointRows.length > rows.length ? disjointRows : rows
await shared.pipeline.hashMany([...new Set(everyRow.map((r) => shared.scrubber.scrub(r.text).text))])
const embedSeconds = (performance.now() - t0) / 1000
log(`embedded ${everyRow.length} questions in ${embedSeconds.toFixed(1)} s`)

const ctx = {shared, scorer, distiller, opts, log}
const build = (scenario, n) =>
  buildRun({rows: scenario === 'disjoint' ? disjointRows : rows, modelNames: data.models, scenario, n, reach: opts.reach, pastShare: opts.past, correctionShare: opts.correctionShare, seed: opts.seed})

const runs = []
const curves = {}
try {
  for (const scenario of opts.scenarios) {
    for (const n of opts.ns) {
      const {record, curves: c} = await simulate(build(scenario, n), ctx)
      runs.push(record)
      curves[`${scenario}-${n}`] = c
      savePartial({runs})
    }
  }
  const privacy = []
  if (a.privacy) {
    const grid = [
      {label: 'baseline', privacy: {timeResolution: '1h'}},
      {label: 'epsilon-4', privacy: {timeResolution: '1h', epsilon: 4}},
      {label: 'epsilon-1', privacy: {timeResolution: '1h', epsilon: 1}},
      {label: 'aggregate-min-count-1', privacy: {timeResolution: '1h', aggregate: true, minCount: 1}},
      {label: 'aggregate-min-count-5', privacy: {timeResolution: '1h', aggregate: true, minCount: 5}},
      {label: 'time-resolution-1d', privacy: {timeResolution: '1d'}},
    ]
    const only = list(a['privacy-runs'])
    for (const name of only) if (!grid.some((g) => g.label === name)) usage(`--privacy-runs: unknown run "${name}"`)
    for (const scenario of opts.scenarios) {
      for (const g of grid.filter((x) => only.length === 0 || only.includes(x.label))) {
        privacy.push((await simulate(build(scenario, opts.privacyN), {...ctx, label: g.label, privacy: g.privacy})).record)
        savePartial({runs, privacy})
      }
    }
  }
  const poisoning = []
  if (opts.poison.length > 0) {
    // Kinds of swarm the attackers meet: brand new (every publisher new to every home), one whose
    // homes trust each other, and one whose homes have known each other for a week.
    const kinds = a['poison-trust-only'] ? ['trust'] : ['open', ...(a['poison-trust'] ? ['trust'] : []), ...(a['poison-established'] ? ['established'] : [])]
    for (const kind of kinds) {
      for (const k of [0, ...opts.poison]) {
        poisoning.push((await simulate(build('overlap', opts.privacyN), {...ctx, label: `poison-${k}${kind === 'open' ? '' : `-${kind}`}`, attackers: k, trust: kind === 'trust', established: kind === 'established'})).record)
        savePartial({runs, privacy, poisoning})
      }
    }
  }
  const seconds = (performance.now() - started) / 1000
  const result = {
    command: `node bench/value/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(),
    machine: {cores: os.cpus().length, node: process.version, load: os.loadavg().map((x) => Number(x.toFixed(2)))},
    rule: scorer.rule,
    config: {...opts, limit: Number.isFinite(opts.limit) ? opts.limit : 'full', disjointLimit: Number.isFinite(opts.disjointLimit) ? opts.disjointLimit : 'full', questionsUsed: rows.length, disjointQuestionsUsed: disjointRows.length, work: undefined, json: undefined, svg: undefined},
    confidence: 'each deployment states its own running accuracy so far, (correct + 1) / (answered + 2), over its logged past; future answers carry the value at the end of the past',
    embedSeconds,
    seconds,
    processesRetried: retried,
    runs,
    ...(privacy.length ? {privacy} : {}),
    ...(poisoning.length ? {poisoning} : {}),
  }
  mkdirSync(path.dirname(opts.json), {recursive: true})
  writeAtomic(opts.json, JSON.stringify(result, null, 2) + '\n')
  if (runs.length > 0) {
    mkdirSync(path.dirname(opts.svg), {recursive: true})
    writeAtomic(opts.svg, drawPicture(runs, curves))
  }
  printTables(result)
  console.log(`\n${runs.length + (result.privacy?.length ?? 0) + (result.poisoning?.length ?? 0)} runs in ${seconds.toFixed(0)} s (embedding ${embedSeconds.toFixed(0)} s); JSON ${path.relative(process.cwd(), opts.json)}, picture ${path.relative(process.cwd(), opts.svg)}`)
} finally {
  await shared.close()
  if (!a.keep && !a.work) rmSync(opts.work, {recursive: true, force: true})
}

/** Results so far, beside the final file, so a run that dies late keeps what it measured. */
function savePartial(part) {
  mkdirSync(path.dirname(opts.json), {recursive: true})
  writeAtomic(`${opts.json.replace(/\.json$/, '')}.partial.json`, JSON.stringify({command: `node bench/value/run.mjs ${process.argv.slice(2).join(' ')}`, partial: true, ...part}, null, 2) + '\n')
}

function writeAtomic(file, text) {
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, text)
  // rename is atomic on one file system: a reader sees the old file or the new one.
  renameSync(tmp, file)
}

function fmt(x, d = 3) {
  return x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d)
}

function printTables(result) {
  const extra = Object.keys(result.runs[0]?.arms ?? {}).filter((k) => !ARMS.includes(k))
  const armCols = [...ARMS, ...extra]
  if (result.runs.length === 0) return printOthers(result)
  console.log(`\nBrier score per arm (lower is better); share = (no-peers - qis) / (no-peers - central), 95% bootstrap interval`)
  console.log(['scenario', 'N', 'future', ...armCols, 'share', 'interval', 'route', 'route-past-keys', 'best1', 'random', 'oracle'].join('\t'))
  for (const r of result.runs) {
    console.log(
      [r.scenario, r.n, r.answers.future, ...armCols.map((k) => fmt(r.arms[k]?.brier)), fmt(r.shareOfCentralGain, 2), r.shareInterval ? `[${fmt(r.shareInterval[0], 2)}, ${fmt(r.shareInterval[1], 2)}]` : 'n/a', fmt(r.routing.accuracy), fmt(r.routing.pastKeys), fmt(r.routing.bestSingle), fmt(r.routing.random), fmt(r.routing.oracle)].join('\t'),
    )
  }
  console.log(`\nqis arm, all metrics`)
  console.log(['scenario', 'N', 'brier', 'logLoss', 'auroc', 'ece', 'no-peers brier', 'qis-no-peers 95%', 'keys matched'].join('\t'))
  for (const r of result.runs) {
    const q = r.arms.qis
    console.log([r.scenario, r.n, fmt(q.brier), fmt(q.logLoss), fmt(q.auroc), fmt(q.ece), fmt(r.arms['no-peers'].brier), r.qisMinusNoPeersBrierInterval ? `[${fmt(r.qisMinusNoPeersBrierInterval[0], 4)}, ${fmt(r.qisMinusNoPeersBrierInterval[1], 4)}]` : 'n/a', fmt(r.keysMatchedShare.qis, 2)].join('\t'))
  }
  printOthers(result)
}

function printOthers(result) {
  for (const [name, list] of [['privacy', result.privacy], ['poisoning', result.poisoning]]) {
    if (!list) continue
    // Value kept: qis's Brier gain over no-peers under the knob, as a share of the gain without it.
    const base = (r) => list.find((b) => b.scenario === r.scenario && (b.label === 'baseline' || b.label === r.label?.replace(/^poison-\d+/, 'poison-0')))
    const gain = (r) => r.arms['no-peers'].brier - r.arms.qis.brier
    console.log(`\n${name}: Brier of no-peers / qis / central, share of central gain, qis gain kept vs baseline, packets`)
    console.log(['scenario', 'N', 'run', 'no-peers', 'qis', 'central', 'share', 'gain', 'kept', 'packets'].join('\t'))
    for (const r of list) {
      const b = base(r)
      const kept = b && Math.abs(gain(b)) > 1e-9 ? gain(r) / gain(b) : null
      console.log([r.scenario, r.n, r.label, fmt(r.arms['no-peers'].brier), fmt(r.arms.qis.brier), fmt(r.arms.central.brier), fmt(r.shareOfCentralGain, 2), fmt(gain(r), 4), fmt(kept, 2), r.distilled.packets].join('\t'))
    }
  }
}
