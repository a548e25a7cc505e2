// The one place the bench touches the weights rule. Today (main): the reference rule,
// clamp(weight - 0.5, +-0.3), added to the deployment's confidence. When the calibrated rule and
// per-variant evidence land, only this file changes: `createAdjuster({..., rule, model})` and
// `probability` straight from the library.
import path from 'node:path'

const dist = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../dist')
const clamp01 = (x) => Math.min(1, Math.max(0, x))

export const RULES = ['reference']

export async function createScorer({shared, rule = 'reference'}) {
  if (!RULES.includes(rule)) throw new Error(`--rule ${rule}: this build has ${RULES.join(', ')}`)
  const {createAdjuster, adjustmentFor} = await import(`${dist}/weights/index.js`)
  const toResult = (item, a) => ({probability: clamp01(item.confidence + a.adjustment), adjustment: a.adjustment, keysMatched: a.keysMatched})
  return {
    rule,
    /** Scores items {query, domain, confidence, model} through the library adjuster over a weights file. */
    async scoreFile(weightsFile, items) {
      const adjuster = await createAdjuster({weightsFile, hasher: shared.hasher, scrubber: shared.scrubber})
      try {
        const out = await adjuster.adjustMany(items.map(({query, domain}) => ({query, domain})))
        return out.map((a, i) => toResult(items[i], a))
      } finally {
        await adjuster.close()
      }
    },
    /** Scores items against weights the bench synthesised under its own keys (domain, same-question arms). */
    scoreEntries(weights, fingerprintsPerItem, items) {
      return items.map((item, i) => toResult(item, adjustmentFor(weights, fingerprintsPerItem[i])))
    },
    /**
     * Routing: the estimate that deployment `d`'s model answers each item correctly. The reference
     * rule has no per-variant evidence, so this is d's own qis estimate (its confidence moved by its
     * peers' evidence under the query's keys).
     */
    async estimateFor(weightsFile, items) {
      return (await this.scoreFile(weightsFile, items)).map((r) => r.probability)
    },
  }
}
