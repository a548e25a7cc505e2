import type {PiiType} from '../privacy/types.js'

/**
 * What the embedding model is given for a scrubbed text (the model input, part of the hash
 * scheme): placeholders as plain words of the same role, NFKC, lower case, and only letters,
 * combining marks, digits, apostrophes, hyphens and spaces. Both moved the MSR meet-rates the right
 * way (docs/hashing.md, "Model input"). Unicode tables are the JS engine's, so Node versions could
 * differ only on characters Unicode adds or reclassifies.
 */
const SURROGATES: Record<PiiType, string> = {
  PERSON: 'someone',
  EMAIL: 'email',
  PHONE: 'phone',
  CREDIT_CARD: 'card',
  SSN: 'number',
  IBAN: 'account',
  IP_ADDRESS: 'address',
  URL: 'link',
  DOMAIN: 'website',
  DATE: 'date',
  DATE_OF_BIRTH: 'birthday',
  ADDRESS: 'address',
  ZIP: 'zip',
  LOCATION: 'somewhere',
  AGE: 'age',
  MEDICAL_RECORD: 'record',
  ID_NUMBER: 'number',
  DRIVER_LICENSE: 'license',
  TITLE: 'title',
  ORGANIZATION: 'company',
}

const PLACEHOLDER = /<([A-Z_]{2,20})>/g
// Typographic apostrophes (phone keyboards type them) and accents typed as apostrophes ("I´m")
// count as the plain one; replaced before NFKC, which would turn the accents into a space and a
// combining mark.
const APOSTROPHES = /[\u2018\u2019\u02BC\u00B4\u0060]/g
// Combining marks stay: in Devanagari, Thai or Arabic they are part of the word (NFKC cannot
// compose them into letters the way it does for Latin accents).
const NOT_WORD = /[^\p{L}\p{M}\p{N}\s'-]/gu
// ...but a mark left with no letter to sit on (NFKC of a spacing accent such as "¨") goes.
const LONE_MARKS = /(^|[\s'-])\p{M}+/gu
const SPACES = /\s+/g

export function embeddingText(scrubbed: string): string {
  const plain = scrubbed.includes('<')
    ? scrubbed.replace(PLACEHOLDER, (whole, type: string) => (Object.hasOwn(SURROGATES, type) ? SURROGATES[type as PiiType] : whole))
    : scrubbed
  return plain.replace(APOSTROPHES, "'").normalize('NFKC').toLowerCase().replace(NOT_WORD, ' ').replace(LONE_MARKS, '$1').replace(SPACES, ' ').trim()
}

const WHITESPACE = /\s/g

/**
 * embeddingText of a scrubbed text's head: its first `chars` characters or so, cut just before
 * whitespace; undefined when there is no whitespace after `chars` (use the whole text). Every step
 * of embeddingText looks no further than the next whitespace (placeholders hold none; NFKC does not
 * compose across a space; a final sigma is decided before it), so the result is the whole text's
 * model input up to a space, which a model that reads only its first tokens needs no more of.
 */
export function embeddingTextHead(scrubbed: string, chars: number): string | undefined {
  WHITESPACE.lastIndex = chars
  const cut = WHITESPACE.exec(scrubbed)
  return cut ? embeddingText(scrubbed.slice(0, cut.index)) : undefined
}
