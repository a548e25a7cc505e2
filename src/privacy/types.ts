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

/**
 * What a span can be: a type of personal data, `SECRET` (keys, tokens, passwords: not personal data,
 * but never to leave either), or the type of a user-defined recogniser (uppercase letters, digits, _).
 */
export type SpanType = PiiType | 'SECRET' | (string & {})

/** A detected span: JavaScript string indexes (UTF-16 code units) into the original text, end exclusive. */
export interface PiiSpan {
  start: number
  end: number
  type: SpanType
}

export interface ScrubResult {
  /** The text with every span replaced by `<TYPE>`. */
  text: string
  /** Spans in the original text, sorted by start, never overlapping. */
  spans: PiiSpan[]
}

export interface Scrubber {
  scrub(text: string): ScrubResult
  /**
   * The first part of `scrub(text).text`, from a head of `text` a little over `chars` long (for
   * the hash path, whose model reads only a head); undefined when the whole must be scrubbed.
   */
  head?(text: string, chars: number): string | undefined
}

export interface ScrubberOptions {
  /** Types to leave in the text (e.g. `['DATE']` to keep non-birth dates). Default: none. */
  keep?: SpanType[]
  /** The deployment's own recognisers, deny-lists and allow-lists (config `privacy`). */
  custom?: CustomRecognisers
  /** Raw characters read past a head's cut (Scrubber.head). Default HEAD_MARGIN; smaller only to test that it matters. */
  headMargin?: number
}

/** User-defined detection (config `privacy`; docs/pii.md, "Your own recognisers"). */
export interface CustomRecognisers {
  /** Regular expressions (JavaScript syntax) whose matches become `<TYPE>`. */
  recognizers?: Array<{type: string; pattern: string; flags?: string}>
  /** Words and phrases always replaced by `<TYPE>` (whole words, case-insensitive). */
  deny?: Array<{type: string; words: string[]}>
  /** Words and phrases never replaced (whole words, case-insensitive). */
  allow?: string[]
}

/** A recogniser's proposal; overlaps are resolved by `priority`, then length. */
export interface Candidate {
  start: number
  end: number
  type: PiiType | (string & {})
  priority: number
}
