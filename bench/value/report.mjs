// Markdown tables from bench/value result files (final or .partial.json), for docs/value.md and
// docs/privacy.md:  node bench/value/report.mjs bench/value/out/value.json [...]
// --across A.json B.json ...: one table over runs of the same command with other seeds, cell by
// cell: a single seed's difference of 0.002 is noise or not, and only repeats tell which.
import {readFileSync} from 'node:fs'

import {shareOfGain} from './metrics.mjs'

const f = (x, d = 3) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d))
const ARMS = ['no-peers', 'local', 'qis', 'central', 'domain', 'same-question']

const args = process.argv.slice(2)
if (args[0] === '--across') {
  across(args.slice(1))
  process.exit(0)
}

function across(files) {
  const results = files.map((file) => ({file, r: JSON.parse(readFileSync(file, 'utf8'))}))
  const seedOf = ({file, r}) => /--seed (\S+)/.exec(r.command ?? '')?.[1] ?? (r.config?.seed !== undefined ? String(r.config.seed) : file)
  const cells = new Map()
  for (const x of results) for (const run of x.r.runs ?? []) {
    const id = `${run.scenario} ${run.n}`
    if (!cells.has(id)) cells.set(id, [])
    cells.get(id).push({seed: seedOf(x), run})
  }
  const seeds = results.map(seedOf)
  console.log(`Seeds ${seeds.join(', ')}: ${files.join(', ')}\n`)
  console.log('| scenario | N | qis - no-peers Brier per seed [95%] | seeds qis below no-peers (interval below 0) | qis - domain per seed | mean qis - domain | share of central gain per seed | routing - best single per seed |')
  console.log('|---|---:|---|---|---|---:|---|---|')
  for (const [id, list] of cells) {
    const [scenario, n] = id.split(' ')
    const diff = (run) => run.arms.qis.brier - run.arms['no-peers'].brier
    const dom = (run) => run.arms.qis.brier - run.arms.domain.brier
    const iv = (run) => (run.qisMinusNoPeersBrierInterval ? ` [${f(run.qisMinusNoPeersBrierInterval[0], 4)}, ${f(run.qisMinusNoPeersBrierInterval[1], 4)}]` : '')
    const below = list.filter(({run}) => diff(run) < 0).length
    const sure = list.filter(({run}) => run.qisMinusNoPeersBrierInterval?.[1] < 0).length
    const share = ({run}) => f(shareOfGain(run.arms['no-peers'].brier, run.arms.qis.brier, run.arms.central.brier), 2)
    console.log(`| ${scenario} | ${n} | ${list.map(({run}) => `${f(diff(run), 4)}${iv(run)}`).join('; ')} | ${below} of ${list.length} (${sure}) | ${list.map(({run}) => f(dom(run), 4)).join('; ')} | ${f(list.reduce((s, {run}) => s + dom(run), 0) / list.length, 4)} | ${list.map(share).join('; ')} | ${list.map(({run}) => f(run.routing.accuracy - run.routing.bestSingle, 3)).join('; ')} |`)
  }
}

for (const file of args) {
  const r = JSON.parse(readFileSync(file, 'utf8'))
  console.log(`\n### ${file}\n\nCommand: \`${r.command}\`${r.date ? `, ${r.date}` : ''}${r.seconds ? `, ${Math.round(r.seconds)} s` : ''}${r.rule ? `, rule ${r.rule}` : ''}\n`)
  if (r.runs?.length) {
    const extra = Object.keys(r.runs[0].arms).filter((k) => !ARMS.includes(k))
    console.log(`| scenario | N | future answers | ${[...ARMS, ...extra].map((a) => `Brier ${a}`).join(' | ')} | share of central gain [95%] |`)
    console.log(`|---|---:|---:|${[...ARMS, ...extra].map(() => '---:').join('|')}|---|`)
    for (const x of r.runs) {
      // Recomputed from the arms, so files written before "no share when central gains nothing" read the same.
      const share = shareOfGain(x.arms['no-peers'].brier, x.arms.qis.brier, x.arms.central.brier)
      const iv = share !== null && x.shareInterval ? ` [${f(x.shareInterval[0], 2)}, ${f(x.shareInterval[1], 2)}]` : ''
      console.log(`| ${x.scenario} | ${x.n} | ${x.answers.future} | ${[...ARMS, ...extra].map((a) => f(x.arms[a]?.brier, 4)).join(' | ')} | ${f(share, 2)}${iv} |`)
    }
    console.log(`\n| scenario | N | qis log loss | qis AUROC | qis ECE | no-peers AUROC | no-peers ECE | qis - no-peers Brier [95%] | keys matched: qis / qis-past-keys / same-question | routing | routing, past keys | best single | random | oracle |`)
    console.log(`|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|`)
    for (const x of r.runs) {
      const d = x.qisMinusNoPeersBrierInterval
      const m = x.keysMatchedShare
      console.log(`| ${x.scenario} | ${x.n} | ${f(x.arms.qis.logLoss)} | ${f(x.arms.qis.auroc)} | ${f(x.arms.qis.ece)} | ${f(x.arms['no-peers'].auroc)} | ${f(x.arms['no-peers'].ece)} | ${f(x.arms.qis.brier - x.arms['no-peers'].brier, 4)}${d ? ` [${f(d[0], 4)}, ${f(d[1], 4)}]` : ''} | ${f(m.qis, 2)} / ${f(m['qis-past-keys'], 2)} / ${f(m['same-question'], 2)} | ${f(x.routing.accuracy)} | ${f(x.routing.pastKeys)} | ${f(x.routing.bestSingle)} | ${f(x.routing.random)} | ${f(x.routing.oracle)} |`)
    }
  }
  for (const [name, list] of [['privacy', r.privacy], ['poisoning', r.poisoning]]) {
    if (!list?.length) continue
    const base = (x) => list.find((b) => b.scenario === x.scenario && (b.label === 'baseline' || b.label === x.label?.replace(/^poison-\d+/, 'poison-0')))
    const gain = (x) => x.arms['no-peers'].brier - x.arms.qis.brier
    const more = ['qis-past-keys', 'qis-trusted-only'].filter((a) => list.some((x) => x.arms[a]))
    console.log(`\n| ${name} run | scenario | N | packets | Brier no-peers | Brier qis | Brier central |${more.map((a) => ` Brier ${a} |`).join('')} share of central gain | qis gain | gain kept |`)
    console.log(`|---|---|---:|---:|---:|---:|---:|${more.map(() => '---:|').join('')}---:|---:|---:|`)
    for (const x of list) {
      const b = base(x)
      const kept = b && gain(b) > 1e-9 ? gain(x) / gain(b) : null
      console.log(`| ${x.label} | ${x.scenario} | ${x.n} | ${x.distilled.packets} | ${f(x.arms['no-peers'].brier, 4)} | ${f(x.arms.qis.brier, 4)} | ${f(x.arms.central.brier, 4)} |${more.map((a) => ` ${f(x.arms[a]?.brier, 4)} |`).join('')} ${f(shareOfGain(x.arms['no-peers'].brier, x.arms.qis.brier, x.arms.central.brier), 2)} | ${f(gain(x), 4)} | ${f(kept, 2)} |`)
    }
  }
}
