// The one place the bench touches the weights rule and the adjuster's API.
//
// - A library with the calibrated rule (`ADJUST_RULES` exported): `createAdjuster({weights, rule,
//   hasher, scrubber})`, `adjustMany([{query, domain, confidence, model, candidates}])`, and
//   `probability` / `candidates` straight from the library. Routing asks the question's own
//   deployment's adjuster for every candidate variant's estimate.
// - The older library (reference rule only): the adjustment clamp(weight - 0.5, +-0.3) is added to
//   the deployment's confidence; routing compares each deployment's own qis estimate.
import path from 'node:path'

const dist = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../dist')
const clamp01 = (x) => Math.min(1, Math.max(0, x))

export async function createScorer({shared, rule}) {
  const lib = await import(`${dist}/weights/index.js`)
  const modern = Array.isArray(lib.ADJUST_RULES)
  const rules = modern ? [...lib.ADJUST_RULES] : ['reference']
  const chosen = rule ?? (modern ? lib.DEFAULT_RULE : 'reference')
  if (!rules.includes(chosen)) throw new Error(`--rule ${chosen}: this build has ${rules.join(', ')}`)

  const toResult = (item, a) => ({
    probability: modern ? a.probability : clamp01(item.confidence + a.adjustment),
    adjustment: a.adjustment,
    keysMatched: a.keysMatched,
    candidates: a.candidates,
    live: a.live,
  })
  const open = (weightsFile, live) =>
    lib.createAdjuster(modern ? {weights: weightsFile, rule: chosen, hasher: shared.hasher, scrubber: shared.scrubber, ...(live ? {live} : {})} : {weightsFile, hasher: shared.hasher, scrubber: shared.scrubber})
  const asked = (item, candidates) =>
    modern ? {query: item.query, domain: item.domain, confidence: item.confidence, model: item.model, ...(candidates ? {candidates} : {})} : {query: item.query, domain: item.domain}

  return {
    rule: chosen,
    /** Per-variant estimates (routing from one adjuster) exist only with the calibrated library. */
    perVariant: modern,
    /** Live lookup (keys the weights file lacks asked of a fetcher per query) exists only in a library that has it. */
    live: typeof lib.LiveLookup === 'function',
    /**
     * Scores items {query, domain, confidence, model} through the library adjuster over a weights
     * file, with `live` (a LiveLookup, closed with the adjuster) asking about the keys it lacks.
     */
    async scoreFile(weightsFile, items, candidates, live) {
      const adjuster = await open(weightsFile, live)
      try {
        const out = await adjuster.adjustMany(items.map((it) => asked(it, candidates)))
        return out.map((a, i) => toResult(items[i], a))
      } finally {
        await adjuster.close()
      }
    },
    /** Scores items against weights the bench synthesised under its own keys (domain, same-question arms). */
    scoreEntries(weights, fingerprintsPerItem, items, queryHashes) {
      // With the query's fine hash, records of the same question count fully (the rule's CLOSE_BITS); without, every record is region evidence.
      return items.map((item, i) =>
        toResult(item, modern ? lib.adjustmentFor(weights, fingerprintsPerItem[i], {rule: chosen, confidence: item.confidence, model: item.model, ...(queryHashes ? {queryHash: queryHashes[i]} : {})}) : lib.adjustmentFor(weights, fingerprintsPerItem[i])),
      )
    },
  }
}
