// Routing weights: synthesis from peers' packets, the weights file, and confidence adjustment.
export {
  CORRECTION_PENALTY,
  DEFAULT_HAMMING_THRESHOLD,
  EMA_KEEP,
  emaStep,
  observationValue,
  synthesizeWeights,
  type AskedKey,
  type KeyWeight,
  type ReceivedPacket,
  type SynthesisOptions,
  type SynthesisRefusal,
  type SynthesisResult,
} from './synthesize.js'
export {WEIGHTS_FILE_VERSION, readWeightsFile, readWeightsFileIfExists, validateWeightsFile, writeWeightsFile, type WeightsFile} from './file.js'
export {MAX_ADJUSTMENT, adjustmentFor, type Adjustment, type MatchedKey} from './adjustment.js'
export {adjustConfidence, createAdjuster, type Adjuster, type AdjusterOptions, type QueryAdjustment, type QueryHasher} from './adjust.js'
export {collectLocalKeys, type LocalKeys, type LocalKeysOptions, type LocalSkipReason} from './local.js'
export {parseSince} from './since.js'
export {pullWeights, type FetchedPackets, type PacketFetcher, type PullWeightsOptions, type PullWeightsResult} from './pull.js'
