// Who is asked what, when: N deployments (one model each), a question stream split into a logged past
// and an evaluated future, and the honest confidence each deployment states.
import {rng, shuffle, subSeed} from './random.mjs'

/** N models spread over the column order (which groups families), so small N still mixes strong and weak. */
export function pickModels(models, n) {
  if (n > models.length) throw new Error(`--n ${n} is more than the ${models.length} models in the outcome data`)
  return Array.from({length: n}, (_, i) => models[Math.floor((i * models.length) / n)])
}

/**
 * Builds the events of one run.
 *
 * - overlap: each question reaches `reach` deployments (min(N, reach)), as common questions do;
 * - disjoint: each question reaches exactly one deployment.
 * Each (deployment, question) event gets a time in [0, 1); the first `pastShare` is the logged past.
 *
 * Confidence, stated because the data has none: the deployment's own running accuracy on its
 * logged past, Laplace-smoothed, (correct + 1) / (answered + 2), computed before the answer is
 * known. A future answer carries the value at the end of the past (its outcome is not known yet).
 * It is what a deployment without a calibrated model score honestly knows about itself.
 */
export function buildRun({rows, models, modelNames, scenario, n, reach, pastShare, correctionShare, seed}) {
  const random = rng(subSeed(seed, scenario, String(n)))
  const chosen = pickModels(modelNames, n)
  const column = new Map(modelNames.map((m, i) => [m, i]))
  const deployments = chosen.map((model, index) => ({index, model, column: column.get(model), events: []}))
  const perQuestion = scenario === 'overlap' ? Math.min(n, reach) : 1
  let notAsked = 0
  for (const row of rows) {
    const targets = shuffle(deployments, random).slice(0, perQuestion)
    for (const d of targets) {
      const t = random()
      const outcome = row.correct[d.column]
      if (outcome === null) {
        notAsked++
        continue
      }
      d.events.push({question: row, t, past: t < pastShare, outcome})
    }
  }
  for (const d of deployments) {
    d.events.sort((a, b) => a.t - b.t)
    let wins = 0
    let answered = 0
    for (const e of d.events) {
      e.confidence = (wins + 1) / (answered + 2)
      if (e.past) {
        wins += e.outcome
        answered++
        e.corrected = e.outcome === 0 && random() < correctionShare
      }
    }
    d.pastAccuracy = (wins + 1) / (answered + 2)
    for (const e of d.events) if (!e.past) e.confidence = d.pastAccuracy
    d.past = d.events.filter((e) => e.past)
    d.future = d.events.filter((e) => !e.past)
  }
  void models
  return {scenario, n, deployments, notAsked}
}
