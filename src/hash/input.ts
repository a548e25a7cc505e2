import type {PiiType} from '../privacy/types.js'

/**
 * What the embedding model is given for a scrubbed text (the model input, part of the hash scheme):
 *
 * 1. each scrubber placeholder (`<PERSON>`, `<LOCATION>`, ...) becomes a plain word of the same
 *    role. A placeholder is an odd token sequence to a sentence encoder (`<LOCATION>` splits into
 *    four or five word pieces), so it costs model time and pulls the embedding towards "text with
 *    angle brackets". Measured on scrubbed MSR sentences with use-lite (bench/hash): the model ran
 *    1.11x faster on the surrogate text, and the meet-rates moved from 0.887 / 0.0245 (paraphrase /
 *    random) to 0.890 / 0.0225 (scheme v3).
 * 2. the text is put in Unicode NFKC form and lower-cased, typographic apostrophes become plain
 *    ones, and every character that is not a letter, combining mark, digit, apostrophe, hyphen or
 *    space becomes a space (scheme v4). Two phrasings of one question often differ in capitals and punctuation
 *    where they do not differ in meaning, and people type queries with or without either.
 *    Measured with the anchors fitted on the same model input (docs/hashing.md, "Model input"):
 *    at a random meet-rate of 0.02 the paraphrase meet-rate went from 0.877 to 0.901 on scrubbed
 *    MSR sentences and from 0.882 to 0.907 on raw ones. The cost: on carefully written queries
 *    the model loses what capitals tell it (Advil, NSAIDs), and the hand-written query pairs meet
 *    a little less often when both sides are neatly typed (more often when one is typed casually).
 *    The scrubber has already run on the original text, so its name detection still sees capitals.
 *
 * The text never leaves the machine either way. NFKC, case mapping and the letter/digit classes
 * come from the JavaScript engine's Unicode tables, so two Node versions could differ only on
 * characters that Unicode adds or reclassifies between them.
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
