// PII detection and replacement: what leaves this module is safe to embed and hash.
export {createScrubber, render, resolve} from './scrubber.js'
export {PII_TYPES} from './types.js'
export type {PiiSpan, PiiType, ScrubResult, Scrubber, ScrubberOptions} from './types.js'
export {cardIssuerValid, ibanValid, luhnValid, ssnValid} from './checksums.js'
