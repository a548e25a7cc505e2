// One simulated run: N deployments' logs -> distill -> publish to a loopback swarm of qis nodes ->
// pull-weights -> every arm scored on the same future answers.
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {DOMAIN_KEY, isDomainSummary, askedKeys, groupedWeights, memoryLookup, readHomePackets, rekey, synthesizeTo, weightsFile} from './arms.mjs'
import {privacyFlags, writeLogs} from './homes.mjs'
import {bootstrapDiff, bootstrapShare, reliability, scores, shareOfGain} from './metrics.mjs'
import {pool, qis, startSwarm} from './processes.mjs'
import {rng, subSeed} from './random.mjs'

const dist = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../dist')
const {toLabel, keyFingerprint} = await import(`${dist}/packet/index.js`)
const liveLib = await import(`${dist}/weights/index.js`)
const {writeWeightsFile} = liveLib
const {openHome} = await import(`${dist}/config/home.js`)

export const ARMS = ['no-peers', 'local', 'qis', 'central', 'domain', 'same-question']
const DAY = 86_400_000

const clock = () => {
  const t0 = performance.now()
  return () => Math.round(performance.now() - t0) / 1000
}

/**
 * Inverted copies of honest past records, as a sybil would publish them: same queries and keys,
 * outcome flipped, newest time, full confidence. Every attacker copies the same records (`random`
 * is seeded the same for all), so k identities pile onto the same keys.
 */
function attackerLogs(dir, deployments, share, random, now) {
  mkdirSync(dir, {recursive: true})
  const lines = []
  let i = 0
  for (const d of deployments) {
    for (const e of d.past) {
      if (random() >= share) continue
      lines.push(JSON.stringify({id: `x-${i++}`, timestamp: new Date(now - 600_000).toISOString(), domain: e.question.domain, model: d.model, query: e.question.text, outcome: 1 - e.outcome, confidence: 1}))
    }
  }
  const inference = path.join(dir, 'inference.jsonl')
  writeFileSync(inference, lines.join('\n') + '\n')
  return {inference, corrections: path.join(dir, 'none.jsonl'), records: lines.length, correctionRecords: 0}
}

/** How long before the attackers came the honest homes of an established swarm first saw each other. */
const ESTABLISHED_AGE = 8 * DAY

/**
 * A week passes for a home: every publisher it has seen was first seen `ms` earlier. Only the clock
 * is simulated; the file is the one the home's real pull wrote, in its documented format.
 */
async function ageFirstSeen(home, ms) {
  const file = liveLib.publishersFile(await openHome(home))
  const firstSeen = await liveLib.readFirstSeen(file)
  const aged = Object.fromEntries([...firstSeen].map(([id, t]) => [id, Math.max(0, t - Math.round(ms / 1000))]))
  writeFileSync(file, JSON.stringify({version: 1, firstSeen: aged}, null, 1) + '\n')
}

/**
 * Runs one (scenario, N) simulation. `run` comes from buildRun. Returns the JSON run record plus
 * the per-answer predictions (for pictures), and the timings of each phase.
 */
export async function simulate(run, ctx) {
  const {shared, scorer, distiller, opts, log} = ctx
  const dir = path.join(opts.work, `${run.scenario}-n${run.n}${ctx.label ? `-${ctx.label}` : ''}`)
  const now = Date.now()
  const nowSec = Math.floor(now / 1000)
  const privacy = ctx.privacy ?? {}
  const timings = {}
  let lap = clock()

  // 1. Logs and distill, one home per deployment (and per attacker).
  const homes = run.deployments.map((d) => path.join(dir, `home-${d.index}`))
  const distilled = []
  let suppressed = 0
  for (const d of run.deployments) {
    if (d.past.length === 0) {
      distilled.push(undefined)
      continue
    }
    const logs = writeLogs(path.join(dir, `logs-${d.index}`), d, {now, pastShare: opts.past})
    const summary = await distiller(homes[d.index], logs, privacy)
    // A home whose every record was suppressed (--min-count) has nothing to publish or ask about.
    distilled.push(summary.packets > 0 ? {records: logs.records, corrections: logs.correctionRecords, packets: summary.packets, summaries: summary.summaries?.written ?? 0} : undefined)
    suppressed += summary.packets > 0 ? 0 : logs.records
  }
  const attackers = []
  for (let k = 0; k < (ctx.attackers ?? 0); k++) {
    const home = path.join(dir, `attacker-${k}`)
    const logs = attackerLogs(path.join(dir, `attacker-logs-${k}`), run.deployments, opts.poisonShare, rng(subSeed(opts.seed, 'attacked records')), now)
    if (logs.records === 0) continue
    const summary = await distiller(home, logs, {})
    if (summary.packets > 0) attackers.push(home)
  }
  timings.distill = lap()

  // Trust list (poisoning runs with --poison-trust): every honest home adds every other honest home
  // with the real `qis trust add`, as deployments that know each other would; attackers are on no list.
  if (ctx.trust) {
    lap = clock()
    const keyOf = await Promise.all(homes.map(async (h, i) => (distilled[i] ? (await readHomePackets(h, nowSec))[0]?.packet.public_key : undefined)))
    // One home's adds one after another: `qis trust add` reads, changes and rewrites the home's trust
    // file, so two at once on the same home lose one of the two (seen: every home kept 2 of 3 peers).
    const perHome = homes.flatMap((h, i) => (keyOf[i] ? [[h, keyOf.filter((k, j) => k && j !== i)]] : []))
    await pool(perHome, opts.concurrency, async ([home, keys]) => {
      for (const key of keys) await qis(['trust', 'add', key, '--home', home, '--label', 'honest peer'])
    })
    timings.trust = lap()
  }

  // Future answers, with their fine hash (for the same-question arm): hashed once, the pipeline caches.
  const scheme = shared.scheme
  const futureItems = run.deployments.map((d) =>
    d.future.map((e) => ({query: e.question.text, domain: toLabel('domain_tag', e.question.domain) ?? 'general', confidence: e.confidence, model: d.model, event: e})),
  )
  const allTexts = [...new Set(futureItems.flat().map((it) => shared.scrubber.scrub(it.query).text))]
  const codes = new Map((await shared.pipeline.hashMany(allTexts)).map((c, i) => [allTexts[i], c]))
  const fineHash = (query) => codes.get(shared.scrubber.scrub(query).text).hash
  const emptyWeights = path.join(dir, 'empty-weights.json')
  await writeWeightsFile(emptyWeights, weightsFile(scheme, [], opts.hammingThreshold))
  // Routing: the question's own deployment asks its adjuster for every candidate model, each at that model's own stated confidence.
  const candidates = scorer.perVariant ? Object.fromEntries(run.deployments.map((e) => [e.model, e.pastAccuracy])) : undefined
  const weightsOf = (d) => (distilled[d.index] ? path.join(homes[d.index], 'weights.json') : emptyWeights)

  // 2. A loopback swarm of real qis nodes; every home publishes, then pulls, then adjusts its future answers with live lookup.
  lap = clock()
  const nodes = await startSwarm(Array.from({length: opts.nodes}, (_, i) => path.join(dir, `node-${i}`)))
  const bootstrap = nodes[0].multiaddrs[0]
  const replicas = String(Math.min(3, opts.nodes))
  const publishers = [...homes.filter((_, i) => distilled[i] !== undefined), ...attackers]
  let published
  let pulls
  const publishRuns = {again: 0}
  const qisResults = []
  const trustedResults = []
  const liveTotals = {keysFetched: 0, keysCached: 0, keysUnanswered: 0, failures: 0}
  try {
    timings.swarmStart = lap()
    lap = clock()
    const honestHomes = homes.filter((_, i) => distilled[i] !== undefined)
    published = await pool(ctx.established ? honestHomes : publishers, opts.concurrency, (home) => publishAll(home, bootstrap, replicas, publishRuns))
    timings.publish = lap()
    if (ctx.established) {
      // A swarm the attackers join late: the honest homes pulled from each other (real pulls, which
      // record who they saw), then a week passed, then the attackers came and published.
      lap = clock()
      await pool(honestHomes, opts.concurrency, (home) => qis(['pull-weights', '--home', home, '--bootstrap', bootstrap]))
      for (const home of honestHomes) await ageFirstSeen(home, ESTABLISHED_AGE)
      published.push(...(await pool(attackers, opts.concurrency, (home) => publishAll(home, bootstrap, replicas, publishRuns))))
      timings.established = lap()
    }
    lap = clock()
    pulls = await pool(run.deployments, opts.concurrency, async (d) => {
      if (!distilled[d.index]) return undefined
      const result = {}
      for (const t of [opts.hammingThreshold, ...opts.extraThresholds]) {
        const out = path.join(homes[d.index], t === opts.hammingThreshold ? 'weights.json' : `weights-t${t}.json`)
        result[t] = await qis(['pull-weights', '--home', homes[d.index], '--bootstrap', bootstrap, '--hamming-threshold', String(t), '--out', out])
      }
      if (ctx.trust) result.trusted = await qis(['pull-weights', '--home', homes[d.index], '--bootstrap', bootstrap, '--trusted-only', '--out', path.join(homes[d.index], 'weights-trusted.json')])
      if (opts.pullQueries && futureItems[d.index].length > 0) {
        // The CLI path for a deployment that knows its queue: `pull-weights --queries` with every future question of this home.
        const queries = path.join(dir, `queries-${d.index}.jsonl`)
        writeFileSync(queries, futureItems[d.index].map((it) => JSON.stringify({query: it.query, domain: it.event.question.domain})).join('\n') + '\n')
        result.queries = await qis(['pull-weights', '--home', homes[d.index], '--bootstrap', bootstrap, '--queries', queries, '--out', path.join(homes[d.index], 'weights-queries.json')])
      }
      return result
    })
    timings.pull = lap()
    // The qis arm: each deployment's adjuster over the weights file its pull wrote, asking the swarm
    // (a real client with the home's identity) about the keys of each future question the file lacks.
    lap = clock()
    for (const d of run.deployments) {
      const items = futureItems[d.index]
      if (items.length === 0) {
        qisResults[d.index] = []
        continue
      }
      const live = scorer.live ? await liveLib.swarmLiveLookup({home: await openHome(homes[d.index]), bootstrap: [bootstrap], timeoutMs: 120_000}) : undefined
      qisResults[d.index] = await scorer.scoreFile(weightsOf(d), items, candidates, live)
      if (live) for (const k of Object.keys(liveTotals)) liveTotals[k] += live.totals[k]
      if (ctx.trust && distilled[d.index]) {
        const trustedLive = await liveLib.swarmLiveLookup({home: await openHome(homes[d.index]), bootstrap: [bootstrap], timeoutMs: 120_000, trustedOnly: true})
        trustedResults[d.index] = await scorer.scoreFile(path.join(homes[d.index], 'weights-trusted.json'), items, undefined, trustedLive)
      }
    }
    timings.live = lap()
  } finally {
    await Promise.all(nodes.map((n) => n.stop()))
  }

  // 3. Evidence for the in-process arms, from the homes' own stores.
  lap = clock()
  const packetsOf = await Promise.all(homes.map((h, i) => (distilled[i] ? readHomePackets(h, nowSec) : [])))
  const honest = packetsOf.flat()
  const ownKey = (i) => packetsOf[i][0]?.packet.public_key
  // The domain and same-question arms' evidence: every packet re-keyed by its domain, or by its question.
  // Domain summaries are the same records again (and name no question): these arms read the records.
  const records = honest.filter(({packet}) => !isDomainSummary(packet))
  const byDomainPackets = rekey(records, () => DOMAIN_KEY)
  const byQuestionPackets = rekey(records, (p) => p.query_semantic_hash)

  const predictions = Object.fromEntries(ARMS.map((a) => [a, []]))
  const extra = Object.fromEntries(['qis-past-keys', ...(ctx.trust ? ['qis-trusted-only'] : []), ...(opts.pullQueries ? ['qis-pull-queries'] : []), ...opts.extraThresholds.map((t) => `qis@${t}`), 'qis@query-keys'].map((name) => [name, []]))
  const pastKeyResults = []
  const ys = []
  const sources = []
  /** The deployment's model of each future answer: byModel says whose answers peers help and whose they hurt. */
  const answerModels = []
  const matched = {qis: 0, 'qis-past-keys': 0, local: 0, central: 0, domain: 0, 'same-question': 0, 'qis@query-keys': 0}
  for (const d of run.deployments) {
    const items = futureItems[d.index]
    if (items.length === 0) {
      pastKeyResults[d.index] = []
      continue
    }
    for (const it of items) {
      ys.push(it.event.outcome)
      sources.push(/^ori_mmlu/.test(it.event.question.source ?? '') ? 'ori_mmlu' : 'other')
      answerModels.push(d.model)
    }
    predictions['no-peers'].push(...items.map((it) => it.confidence))
    const home = homes[d.index]
    const has = distilled[d.index] !== undefined
    const push = (arm, results) => {
      ;(predictions[arm] ?? extra[arm]).push(...results.map((r) => r.probability))
      if (arm in matched) matched[arm] += results.filter((r) => r.keysMatched > 0).length
    }
    push('qis', qisResults[d.index])
    // Before: the weights file of the pull alone (keys of the home's own past queries).
    pastKeyResults[d.index] = await scorer.scoreFile(weightsOf(d), items, candidates)
    push('qis-past-keys', pastKeyResults[d.index])
    if (ctx.trust) push('qis-trusted-only', trustedResults[d.index] ?? items.map((it) => ({probability: it.confidence, keysMatched: 0})))
    if (opts.pullQueries) push('qis-pull-queries', await scorer.scoreFile(has ? path.join(home, 'weights-queries.json') : emptyWeights, items))
    for (const t of opts.extraThresholds) extra[`qis@${t}`].push(...(await scorer.scoreFile(has ? path.join(home, `weights-t${t}.json`) : emptyWeights, items)).map((r) => r.probability))
    // local and central get what qis gets, from other packets: the same pull keys, and the same
    // per-query lookup of the keys those lack (own packets only / everyone's, own included).
    const lookup = (packets) => (scorer.live ? memoryLookup(packets, nowSec) : undefined)
    if (has) {
      const asked = (await askedKeys(home, nowSec)).keys
      const localFile = path.join(home, 'bench-local.json')
      await synthesizeTo(localFile, {packets: packetsOf[d.index], asked, scheme, hammingThreshold: opts.hammingThreshold, now: nowSec})
      push('local', await scorer.scoreFile(localFile, items, undefined, lookup(packetsOf[d.index])))
      const centralFile = path.join(home, 'bench-central.json')
      await synthesizeTo(centralFile, {packets: honest, asked, scheme, hammingThreshold: opts.hammingThreshold, now: nowSec})
      push('central', await scorer.scoreFile(centralFile, items, undefined, lookup(honest)))
    } else {
      push('local', await scorer.scoreFile(emptyWeights, items))
      push('central', await scorer.scoreFile(emptyWeights, items, undefined, lookup(honest)))
    }
    const own = ownKey(d.index)
    const peers = honest.filter((p) => p.packet.public_key !== own)
    // Diagnostic, not through the swarm: the peers' packets a lookup of every future query's keys
    // at once would find (closeness to any of this deployment's future queries).
    const askedNow = new Map()
    for (const it of items) {
      const c = codes.get(shared.scrubber.scrub(it.query).text)
      for (const rk of c.keys) {
        const fingerprint = keyFingerprint(scheme, it.domain, rk)
        const k = askedNow.get(fingerprint) ?? {fingerprint, domain: it.domain, routingKey: rk, localHashes: []}
        if (!k.localHashes.includes(c.hash)) k.localHashes.push(c.hash)
        askedNow.set(fingerprint, k)
      }
    }
    const nowFile = path.join(dir, `bench-query-keys-${d.index}.json`)
    await synthesizeTo(nowFile, {packets: peers, asked: [...askedNow.values()], scheme, hammingThreshold: opts.hammingThreshold, now: nowSec, ownPublicKey: own ?? '00'.repeat(32)})
    push('qis@query-keys', await scorer.scoreFile(nowFile, items))
    const peersOnly = (list) => list.filter((p) => p.publisher !== own)
    const domainWeights = await groupedWeights(path.join(dir, `bench-domain-${d.index}.json`), {packets: peersOnly(byDomainPackets), wanted: items.map((it) => ({domain: it.domain, routingKey: DOMAIN_KEY})), scheme, hammingThreshold: opts.hammingThreshold, now: nowSec})
    push('domain', scorer.scoreEntries(domainWeights, items.map((it) => [keyFingerprint(scheme, it.domain, DOMAIN_KEY)]), items))
    const questionWeights = await groupedWeights(path.join(dir, `bench-question-${d.index}.json`), {packets: peersOnly(byQuestionPackets), wanted: items.map((it) => ({domain: it.domain, routingKey: fineHash(it.query)})), scheme, hammingThreshold: opts.hammingThreshold, now: nowSec})
    // Every record here is of this very question: it counts fully, as a close record does for qis (before 2026-12-03 06:20 it counted as region evidence).
    push('same-question', scorer.scoreEntries(questionWeights, items.map((it) => [keyFingerprint(scheme, it.domain, fineHash(it.query))]), items, items.map((it) => fineHash(it.query))))
  }
  timings.arms = lap()

  // 4. Routing: every future answer, which of the N models does peer evidence pick?
  lap = clock()
  const events = futureItems.flat()
  /** estimates[j][i]: how likely deployment j's model answers event i correctly, by the candidates' estimates. */
  const estimatesFrom = (resultsPer) => {
    const estimates = run.deployments.map(() => new Array(events.length).fill(0))
    let offset = 0
    for (const d of run.deployments) {
      const results = resultsPer[d.index] ?? []
      results.forEach((r, i) => {
        run.deployments.forEach((e, j) => {
          const c = r.candidates ?? {}
          estimates[j][offset + i] = c[e.model] ?? c[toLabel('model_variant', e.model)] ?? e.pastAccuracy
        })
      })
      offset += futureItems[d.index].length
    }
    return estimates
  }
  const routeAccuracy = (estimates) => {
    let routed = 0
    for (let i = 0; i < events.length; i++) {
      let best = 0
      for (let j = 1; j < run.deployments.length; j++) if (estimates[j][i] > estimates[best][i]) best = j
      routed += events[i].event.question.correct[run.deployments[best].column] ?? 0
    }
    return routed / Math.max(1, events.length)
  }
  let estimates
  if (scorer.perVariant) {
    estimates = estimatesFrom(qisResults)
  } else {
    estimates = run.deployments.map(() => new Array(events.length).fill(0))
    for (const d of run.deployments) {
      const results = await scorer.scoreFile(weightsOf(d), events.map((it) => ({...it, confidence: d.pastAccuracy, model: d.model})))
      estimates[d.index] = results.map((r) => r.probability)
    }
  }
  let oracle = 0
  const perModel = run.deployments.map(() => 0)
  for (let i = 0; i < events.length; i++) {
    const row = events[i].event.question.correct
    let any = 0
    run.deployments.forEach((d, j) => {
      const v = row[d.column] ?? 0
      perModel[j] += v
      any = Math.max(any, v)
    })
    oracle += any
  }
  const m = Math.max(1, events.length)
  const routing = {
    accuracy: routeAccuracy(estimates),
    ...(scorer.perVariant ? {pastKeys: routeAccuracy(estimatesFrom(pastKeyResults))} : {}),
    bestSingle: Math.max(...perModel) / m,
    bestSingleModel: run.deployments[perModel.indexOf(Math.max(...perModel))].model,
    random: perModel.reduce((a, b) => a + b, 0) / run.deployments.length / m,
    oracle: oracle / m,
    questions: events.length,
    by: scorer.perVariant ? "per-variant estimates from the question's own deployment (candidates), with live lookup; pastKeys: the pull's weights file alone" : "each deployment's own qis estimate",
  }
  timings.routing = lap()

  // 5. Scores.
  const arms = Object.fromEntries(ARMS.map((a) => [a, scores(predictions[a], ys)]))
  for (const [name, ps] of Object.entries(extra)) arms[name] = scores(ps, ys)
  const random = rng(subSeed(opts.seed, 'bootstrap', run.scenario, String(run.n), ctx.label ?? ''))
  const share = shareOfGain(arms['no-peers'].brier, arms.qis.brier, arms.central.brier)
  const record = {
    scenario: run.scenario,
    n: run.n,
    ...(ctx.label ? {label: ctx.label} : {}),
    ...(ctx.privacy ? {privacy: {...ctx.privacy, flags: privacyFlags(ctx.privacy).join(' ')}} : {}),
    ...(ctx.attackers !== undefined ? {attackers: ctx.attackers} : {}),
    ...(ctx.trust ? {trustList: 'every honest home trusts every other honest home (qis trust add); attackers are on no list'} : {}),
    ...(ctx.established ? {established: 'the honest homes published and pulled, and first saw each other, 8 days before the attackers published'} : {}),
    rule: scorer.rule,
    models: run.deployments.map((d) => d.model),
    answers: {past: run.deployments.reduce((s, d) => s + d.past.length, 0), future: ys.length, futureCorrect: ys.reduce((a, b) => a + b, 0)},
    arms,
    shareOfCentralGain: share,
    centralGain: arms['no-peers'].brier - arms.central.brier,
    qisGain: arms['no-peers'].brier - arms.qis.brier,
    shareInterval: opts.bootstrap > 0 ? bootstrapShare(predictions['no-peers'], predictions.qis, predictions.central, ys, {samples: opts.bootstrap, random}) : null,
    qisMinusNoPeersBrierInterval: opts.bootstrap > 0 ? bootstrapDiff(predictions['no-peers'], predictions.qis, ys, {samples: opts.bootstrap, random}) : null,
    // The shipped routing codebook was fitted on MMLU questions, which the ori_mmlu ones are.
    bySource: Object.fromEntries(
      ['ori_mmlu', 'other'].map((src) => {
        const idx = sources.flatMap((x, i) => (x === src ? [i] : []))
        const pick = (arm) => idx.map((i) => (predictions[arm] ?? extra[arm])[i])
        const y = idx.map((i) => ys[i])
        return [src, {answers: idx.length, ...(idx.length ? Object.fromEntries(['no-peers', 'qis', 'qis-past-keys', 'central', 'domain'].map((arm) => [arm, scores(pick(arm), y).brier])) : {})}]
      }),
    ),
    byModel: Object.fromEntries(
      run.deployments.map((d) => {
        const idx = answerModels.flatMap((x, i) => (x === d.model ? [i] : []))
        const y = idx.map((i) => ys[i])
        return [d.model, {answers: idx.length, accuracy: idx.length ? y.reduce((a, b) => a + b, 0) / idx.length : null, ...(idx.length ? Object.fromEntries(['no-peers', 'local', 'qis', 'domain'].map((arm) => [arm, scores(idx.map((i) => predictions[arm][i]), y).brier])) : {})}]
      }),
    ),
    keysMatchedShare: Object.fromEntries(Object.entries(matched).map(([k, v]) => [k, v / Math.max(1, ys.length)])),
    routing,
    swarm: {
      nodes: opts.nodes,
      publishers: publishers.length,
      packetsPublished: published.reduce((s, p) => s + p.published, 0),
      deliveries: published.reduce((s, p) => s + p.deliveries, 0),
      publishFailed: published.reduce((s, p) => s + p.failed, 0),
      // Publish runs repeated because some packets were left (the command's own advice: "run again to finish").
      publishRerun: publishRuns.again,
      pull: summarizePulls(pulls.filter(Boolean).map((p) => p[opts.hammingThreshold])),
      ...(opts.pullQueries ? {pullQueries: summarizePulls(pulls.filter((p) => p?.queries).map((p) => p.queries))} : {}),
      // The qis arm's live lookups: keys asked of the swarm per deployment (once each), from memory, unanswered, failed lookups.
      live: liveTotals,
    },
    distilled: {
      records: distilled.filter(Boolean).reduce((s, x) => s + x.records, 0) + suppressed,
      corrections: distilled.filter(Boolean).reduce((s, x) => s + x.corrections, 0),
      packets: distilled.filter(Boolean).reduce((s, x) => s + x.packets, 0),
      // Domain summaries, published beside the records' packets (docs/protocol.md).
      summaries: distilled.filter(Boolean).reduce((s, x) => s + x.summaries, 0),
      homesWithNothing: distilled.filter((x) => x === undefined).length,
    },
    timings,
  }
  log(`  ${run.scenario} N=${run.n}${ctx.label ? ` [${ctx.label}]` : ''}: ${ys.length} future answers, share ${share === null ? 'n/a' : share.toFixed(3)}; distill ${timings.distill}s publish ${timings.publish}s pull ${timings.pull}s arms ${timings.arms}s`)
  const curves = {noPeers: reliability(predictions['no-peers'], ys), qis: reliability(predictions.qis, ys)}
  record.reliability = curves
  return {record, curves}
}

/**
 * `qis publish` until nothing is left, at most 4 runs: on a loaded machine a fresh swarm's routing
 * tables can still be filling, and publish exits 1 with UNDER_REPLICATED for what it could not place.
 * Its journal makes each re-run send only what is left. Totals are summed over the runs.
 */
async function publishAll(home, bootstrap, replicas, counter) {
  const total = {published: 0, deliveries: 0, failed: 0}
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await qis(['publish', '--home', home, '--bootstrap', bootstrap, '--replicas', replicas, '--yes'])
      return {published: total.published + r.published, deliveries: total.deliveries + r.deliveries, failed: r.failed}
    } catch (err) {
      if (err.exitCode !== 1 || typeof err.result?.published !== 'number' || attempt >= 4) throw err
      total.published += err.result.published
      total.deliveries += err.result.deliveries
      counter.again++
      await new Promise((r) => setTimeout(r, 3000))
    }
  }
}

function summarizePulls(pulls) {
  const sum = (f) => pulls.reduce((s, p) => s + (f(p) ?? 0), 0)
  const refused = {}
  for (const p of pulls) for (const [k, v] of Object.entries(p.refused ?? {})) refused[k] = (refused[k] ?? 0) + v
  return {homes: pulls.length, keysAsked: sum((p) => p.keysAsked), received: sum((p) => p.received), accepted: sum((p) => p.accepted), refused, keysUnanswered: sum((p) => p.keysUnanswered), weightsWritten: sum((p) => p.weightsWritten)}
}

