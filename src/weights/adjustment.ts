import type {WeightsFile} from './file.js'

/** The reference pattern's bound on a confidence adjustment. */
export const MAX_ADJUSTMENT = 0.3

export interface MatchedKey {
  fingerprint: string
  domain: string
  routingKey: string
  weight: number
  packets: number
  publishers: number
}

export interface Adjustment {
  /** clamp(weight - 0.5, -0.3, +0.3); 0 when no key is known. Add it to the model's confidence. */
  adjustment: number
  /** The combined weight of the matched keys (publisher-weighted mean), or null when none matched. */
  weight: number | null
  /** How many of the query's keys the weights file knows. */
  keysMatched: number
  keysLookedUp: number
  /** Summed over matched keys: a packet filed under two matched keys counts twice. */
  packets: number
  /** Distinct publishers across the matched keys. */
  publishers: number
  matched: MatchedKey[]
}

const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x))

/**
 * The reference pattern's `get_confidence_adjustment`, over several keys: a query has up to 8
 * routing keys, and the weights of those the file knows are combined as a mean weighted by each
 * key's publisher count. Publishers rather than packets, because synthesis already bounds every
 * publisher to one observation per key; weighting by packets would hand back to a prolific
 * publisher the influence synthesis took away.
 */
export function adjustmentFor(weights: WeightsFile, keyFingerprints: Iterable<string>): Adjustment {
  const matched: MatchedKey[] = []
  const looked = new Set<string>()
  for (const fp of keyFingerprints) {
    if (looked.has(fp)) continue
    looked.add(fp)
    const entry = Object.hasOwn(weights.weights, fp) ? weights.weights[fp] : undefined
    if (!entry) continue
    matched.push({fingerprint: fp, domain: entry.domain, routingKey: entry.routingKey, weight: entry.weight, packets: entry.packets, publishers: entry.publishers})
  }
  if (matched.length === 0) {
    return {adjustment: 0, weight: null, keysMatched: 0, keysLookedUp: looked.size, packets: 0, publishers: 0, matched}
  }
  let sum = 0
  let weightTotal = 0
  let packets = 0
  const publisherIds = new Set<string>()
  for (const m of matched) {
    sum += m.weight * m.publishers
    weightTotal += m.publishers
    packets += m.packets
    for (const id of weights.weights[m.fingerprint].publisherIds) publisherIds.add(id)
  }
  const weight = sum / weightTotal
  return {
    adjustment: clamp(weight - 0.5, -MAX_ADJUSTMENT, MAX_ADJUSTMENT),
    weight,
    keysMatched: matched.length,
    keysLookedUp: looked.size,
    packets,
    publishers: publisherIds.size,
    matched,
  }
}
