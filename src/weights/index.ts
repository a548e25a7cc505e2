// Routing weights: synthesis from peers' packets, the weights file, and confidence adjustment.
//
// The API a deployment (and bench/value) uses:
//   const adjuster = await createAdjuster({home, weights?, rule?, model?, embedder?, hasher?, scrubber?})
//   const r = await adjuster.adjust(query, {domain, confidence, model, rule?, candidates?})
//   r.adjustment, r.probability, r.confidence, r.keysMatched, r.evidence, r.variants,
//   r.bestVariants, r.worstVariants, r.candidates (P(success) per candidate variant, for routing)
//   Live lookup of keys the weights file lacks: createAdjuster({..., live: await swarmLiveLookup({home, bootstrap})})
export {
  CORRECTION_PENALTY,
  DEFAULT_HAMMING_THRESHOLD,
  EMA_KEEP,
  NEW_PUBLISHER_AGE,
  NEW_PUBLISHER_SHARE,
  MAX_QUERY_ENTRIES,
  PUBLISHER_RECORD_CAP,
  emaStep,
  observationValue,
  readRecord,
  successValue,
  synthesizeWeights,
  timestampOrderedWeight,
  type AskedKey,
  type Evidence,
  type QueryEvidence,
  type KeyWeight,
  type ReceivedPacket,
  type SynthesisOptions,
  type SynthesisRefusal,
  type SynthesisResult,
} from './synthesize.js'
export {OldWeightsFileError, WEIGHTS_FILE_VERSION, readWeightsFile, readWeightsFileIfExists, validateWeightsFile, writeWeightsFile, type WeightsFile} from './file.js'
export {
  ADJUST_RULES,
  DEFAULT_CONFIDENCE,
  DEFAULT_RULE,
  MAX_ADJUSTMENT,
  CLOSE_BITS,
  PRIOR_STRENGTH,
  DOMAIN_PRIOR_STRENGTH,
  VARIANT_DOMAIN_STRENGTH,
  REGION_WEIGHT,
  adjustmentFor,
  type AdjustRule,
  type Adjustment,
  type AdjustmentOptions,
  type MatchedKey,
  type VariantEstimate,
} from './adjustment.js'
export {adjustConfidence, createAdjuster, type AdjustQueryOptions, type Adjuster, type AdjusterOptions, type QueryAdjustment, type QueryHasher} from './adjust.js'
export {LIVE_CACHE_KEYS, LIVE_CACHE_SECONDS, LIVE_TIMEOUT_MS, LiveLookup, swarmLiveLookup, type LiveLookupOptions, type LiveStats, type SwarmLiveOptions} from './live.js'
export {readQueriesFile, type QueryLine} from './queries.js'
export {collectLocalKeys, type LocalKeys, type LocalKeysOptions, type LocalSkipReason} from './local.js'
export {parseSince} from '../cli/duration.js'
export {pullWeights, type FetchedPackets, type PacketFetcher, type PullWeightsOptions, type PullWeightsResult} from './pull.js'
export {parsePublisher, readTrustList, trustAdd, trustFile, trustRemove, trustedIds, type TrustedPublisher} from './trust.js'
export {publishersFile, readFirstSeen} from './publishers.js'
