// One qis home per deployment: its logs, then the real distill pipeline over them.
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {qis} from './processes.mjs'
import {rng, subSeed} from './random.mjs'

const DAY = 86_400_000

/**
 * Writes a deployment's past as the logs a deployment keeps: an inference JSONL (query text, subject
 * as domain, model, outcome 1/0, stated confidence, time) and a correction log for the corrected
 * wrong answers. Past times spread over the `spanDays` before `now`.
 */
export function writeLogs(dir, deployment, {now, spanDays = 5, pastShare}) {
  mkdirSync(dir, {recursive: true})
  const inference = []
  const corrections = []
  for (const [i, e] of deployment.past.entries()) {
    const id = `d${deployment.index}-${i}`
    const at = new Date(now - spanDays * DAY + (e.t / pastShare) * spanDays * DAY).toISOString()
    inference.push(JSON.stringify({id, timestamp: at, domain: e.question.domain, model: deployment.model, query: e.question.text, outcome: e.outcome, confidence: Number(e.confidence.toFixed(4))}))
    if (e.corrected) corrections.push(JSON.stringify({id, correction_type: 'factual'}))
  }
  const files = {inference: path.join(dir, 'inference.jsonl'), corrections: path.join(dir, 'corrections.jsonl')}
  writeFileSync(files.inference, inference.join('\n') + '\n')
  writeFileSync(files.corrections, corrections.join('\n') + (corrections.length ? '\n' : ''))
  return {...files, records: inference.length, correctionRecords: corrections.length}
}

/** Privacy knobs as distill flags and as library options. */
export function privacyFlags(p) {
  const flags = ['--time-resolution', p.timeResolution ?? '1h']
  if (p.epsilon !== undefined) flags.push('--epsilon', String(p.epsilon))
  if (p.aggregate) flags.push('--aggregate', '--min-count', String(p.minCount ?? 1))
  return flags
}

const dist = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../dist')

/** One scrubber and one hash pipeline for the whole bench: distill (shared mode) and every adjuster use them. */
export async function createShared({cacheSize}) {
  const [{loadDistillDeps}, {createHashPipeline}] = await Promise.all([import(`${dist}/distill/load-deps.js`), import(`${dist}/hash/pipeline.js`)])
  const real = await loadDistillDeps()
  const made = await createHashPipeline({backend: 'use-lite', workers: 0, cacheSize})
  const scrubber = real.createScrubber()
  // close() is the bench's to call once, not each distill run's or adjuster's.
  const pipeline = {hashMany: (t) => made.pipeline.hashMany(t), stats: () => made.pipeline.stats(), close: async () => {}}
  return {real, scrubber, pipeline, scheme: made.scheme.id, hasher: {pipeline, scheme: made.scheme.id}, close: () => made.pipeline.close()}
}

/**
 * The distill step, two ways, both the real pipeline:
 * - 'cli': one `qis distill` process per home (each loads the model and embeds its own queries);
 * - 'shared': the same `distill()` the command calls, in this process, every home given the one hash
 *   pipeline through distill's DistillDeps injection point, so a question that reaches 8 homes is
 *   embedded once (the pipeline's in-memory cache) instead of 8 times. Scrubbing, hashing, packet
 *   building, signing with the home's own identity and the atomic store write are distill's own.
 */
export async function makeDistiller(mode, shared, seed = 1) {
  if (mode === 'cli') {
    return async (home, logs, privacy) => {
      const args = ['distill', logs.inference, '--home', home, '--domain', 'general', ...privacyFlags(privacy)]
      if (logs.correctionRecords > 0) args.push('--corrections', logs.corrections)
      try {
        return await qis(args)
      } catch (err) {
        // Everything suppressed (--min-count): exit 3, no store; the same as the library's packets: 0.
        if (err.code === 'NOTHING_PRODUCED') return {packets: 0}
        throw err
      }
    }
  }
  const [{distill}, {openHome}, {parseDuration}] = await Promise.all([
    import(`${dist}/distill/pipeline.js`),
    import(`${dist}/config/home.js`),
    import(`${dist}/cli/duration.js`),
  ])
  const deps = {...shared.real, createScrubber: () => shared.scrubber, createHashPipeline: async () => ({pipeline: shared.pipeline, scheme: shared.scheme})}
  return async (homeDir, logs, privacy) => {
    const home = await openHome(homeDir)
    return distill(
      {
        files: [logs.inference],
        corrections: logs.correctionRecords > 0 ? [logs.corrections] : undefined,
        domain: 'general',
        home,
        timeResolutionSeconds: parseDuration(privacy.timeResolution ?? '1h'),
        epsilon: privacy.epsilon,
        aggregate: privacy.aggregate ?? false,
        minCount: privacy.minCount ?? 1,
        // --epsilon's coin flips seeded per home, so two builds (or rules) meet the same flips and
        // their difference is the rule's, not the noise's. The CLI mode draws from the CSPRNG.
        uniform: rng(subSeed(seed, 'epsilon', path.basename(homeDir))),
      },
      deps,
    )
  }
}
