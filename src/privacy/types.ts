/** Kinds of personal data the scrubber recognises; the placeholder for a span is `<TYPE>`. */
export type PiiType =
  | 'PERSON'
  | 'EMAIL'
  | 'PHONE'
  | 'CREDIT_CARD'
  | 'SSN'
  | 'IBAN'
  | 'IP_ADDRESS'
  | 'URL'
  | 'DOMAIN'
  | 'DATE'
  | 'DATE_OF_BIRTH'
  | 'ADDRESS'
  | 'ZIP'
  | 'LOCATION'
  | 'AGE'
  | 'MEDICAL_RECORD'
  | 'ID_NUMBER'
  | 'DRIVER_LICENSE'
  | 'TITLE'
  | 'ORGANIZATION'

export const PII_TYPES: readonly PiiType[] = [
  'PERSON', 'EMAIL', 'PHONE', 'CREDIT_CARD', 'SSN', 'IBAN', 'IP_ADDRESS', 'URL', 'DOMAIN', 'DATE',
  'DATE_OF_BIRTH', 'ADDRESS', 'ZIP', 'LOCATION', 'AGE', 'MEDICAL_RECORD', 'ID_NUMBER', 'DRIVER_LICENSE',
  'TITLE', 'ORGANIZATION',
]

/** A detected span: JavaScript string indexes (UTF-16 code units) into the original text, end exclusive. */
export interface PiiSpan {
  start: number
  end: number
  type: PiiType
}

export interface ScrubResult {
  /** The text with every span replaced by `<TYPE>`. */
  text: string
  /** Spans in the original text, sorted by start, never overlapping. */
  spans: PiiSpan[]
}

export interface Scrubber {
  scrub(text: string): ScrubResult
}

export interface ScrubberOptions {
  /** Types to leave in the text (e.g. `['DATE']` to keep non-birth dates). Default: none. */
  keep?: PiiType[]
}

/** A recogniser's proposal; overlaps are resolved by `priority`, then length. */
export interface Candidate {
  start: number
  end: number
  type: PiiType
  priority: number
}
