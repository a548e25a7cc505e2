import type {Candidate} from './types.js'

/**
 * Historical register: people, places and organisations named in writing dated more than a century
 * ago are history, not anyone's personal data. The youngest person a document dated 1919 can name
 * was born by then, and would be over 105 today; privacy law stops at far less (HIPAA protects the
 * records of the dead for 50 years). Two forms date a name, and neither reads anything about the
 * name itself (no list of famous people):
 *
 * - a source line: the text credits what it quotes to an author or work and a year before
 *   HISTORICAL_BEFORE, on a line of its own after the quoted text ("—Thomas Paine, Common Sense,
 *   1776", "Otto von Bismarck, 1884"). Every name in such a text (the quote, its credit, a question
 *   about it) belongs to the document;
 * - a historical date in the name's own sentence ("In 1776, Jefferson wrote", "Louis XIV
 *   (1643–1715)", "in the 1850s", "the sixteenth century", "c. 1450", "600 BCE").
 *
 * A year of birth never dates a name this way: "Jane Doe, born in 1915" stays personal. What is
 * spared is only what the word rules found (PERSON, LOCATION, TITLE, ORGANIZATION) and dates that
 * are themselves that old; addresses, dates of birth, other dates, numbers and secrets are scrubbed
 * in any text, and the deployment's own recognisers always apply.
 */
export const HISTORICAL_BEFORE = 1920

const YEAR = '(?:1[0-8]\\d\\d|19[01]\\d)'
const ERA_YEAR = '(?:[1-9]\\d\\d|1[0-8]\\d\\d|19[01]\\d)'
const MONTH = '(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\\.?'

/**
 * A source line: optional dash, a credit without digits (author, role, work, addressee), a comma,
 * then an optional c./ca., month and day, and a year before HISTORICAL_BEFORE, ending the line.
 */
const SOURCE_LINE = new RegExp(
  `\\n[ \\t]*(?:[—–―]|--?)?[ \\t]*([^\\n\\d]{2,200}?),["”’]?[ \\t]*(?:(?:c|ca)\\.[ \\t]*|circa[ \\t]+)?(?:${MONTH}[ \\t]+(?:\\d{1,2},?[ \\t]+)?)?${YEAR}[ \\t]*[.)\\]]?[ \\t]*(?=\\n|$)`,
  'g',
)

/** Words of a street address (Rua Augusta, 1508; Main Street, 1850): such a line is an address, not a credit. */
const STREETISH = /\b(?:street|st|road|rd|avenue|ave|av|avenida|boulevard|blvd|lane|drive|court|way|place|square|terrace|rua|via|calle|rue|strada|travessa|largo|praça|piazza|corso|carrer|paseo|apt|suite|unit|box|floor)\b\.?/i

/** A line ending in a comma and a number: a row of a list, not a credit. */
const ROW = /,\s*\d[\d,.]*\s*$/

/** Whether `text` credits a source dated before HISTORICAL_BEFORE (see above). */
export function citesHistoricalSource(text: string): boolean {
  if (!text.includes('\n')) return false
  SOURCE_LINE.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = SOURCE_LINE.exec(text)) !== null) {
    const credit = m[1]!
    // A credit names someone or something (a capital), and an address line is no credit.
    if (!/\p{Lu}/u.test(credit) || STREETISH.test(credit)) continue
    // It follows the text it credits, which ends a sentence or a quote; a line of a list or table
    // ("Sales:\nMariana Kowalczyk, 1200\nTomasz Wierzbicki, 1350") does not, and has a neighbour
    // of its own shape.
    const end = m.index + m[0].length
    const prev = text.slice(text.lastIndexOf('\n', m.index - 1) + 1, m.index).trimEnd()
    const nextEnd = text.indexOf('\n', end + 1)
    const next = text.slice(end + 1, nextEnd < 0 ? text.length : nextEnd)
    if (/[.!?"”’…)\]]$/.test(prev) && !ROW.test(next)) return true
  }
  return false
}

/**
 * Historical dates inside a sentence. A bare year is read as one only where the grammar makes it a
 * year and it ends there (a preposition of time before, punctuation after), so "in 1500 patients",
 * "at 1850 Main St" and "box 1684" are not dates; "until", "till" and "around" are left out
 * because they take times of day as often ("until 1130.").
 */
const HISTORICAL_DATE = new RegExp(
  [
    `\\b(?:in|since|circa|during|year)\\s+${YEAR}(?=\\s*(?:[,.;:!?)\\]]|$|[-–—]\\s*\\d))`,
    `\\b(?:c|ca)\\.\\s*${YEAR}\\b`,
    `\\b${MONTH}\\s+(?:\\d{1,2}(?:st|nd|rd|th)?,?\\s+)?${YEAR}\\b`,
    `\\b\\d{1,2}\\s+${MONTH}\\s+${YEAR}\\b`,
    `\\(\\s*(?:(?:c|ca)\\.\\s*)?${YEAR}\\s*[-–—]\\s*(?:(?:c|ca)\\.\\s*)?\\d{2,4}\\s*\\)`,
    `\\b(?:1[0-8]\\d0|190\\d|191\\d)s\\b`,
    // Centuries up to the nineteenth (the 21st century dates nothing).
    `\\b(?:1?[1-9](?:st|nd|rd|th)|10th|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth)[- ]century\\b`,
  ].join('|'),
  'giu',
)
/**
 * Eras, in their own case (lowercase "ad" is advertising): any year before Christ; after him, three
 * or four digits before 1920 ("stage 3 AD" is Alzheimer's disease, "BC" also British Columbia).
 */
const HISTORICAL_ERA = new RegExp(
  [
    `\\b\\d{1,4}\\s*(?:BCE|B\\.C\\.E\\.|B\\.C\\.)(?![\\p{L}\\p{N}])`,
    `\\b\\d{3,4}\\s*BC\\b`,
    `\\b${ERA_YEAR}\\s*(?:CE|C\\.E\\.|AD|A\\.D\\.)(?![\\p{L}\\p{N}])`,
    `\\b(?:AD|A\\.D\\.)\\s*${ERA_YEAR}\\b`,
  ].join('|'),
  'gu',
)
/** What makes a year a year of birth: such a date makes a name more personal, not less. */
const BIRTH = /\b(?:born|birth|b\.|dob|d\.o\.b\.?)\W{0,12}(?:\w+\W{1,3}){0,3}$/i

/** How far either side of a name its sentence is read for a date (bounded, so a head decides as the whole text does). */
const FRAME_CHARS = 160

/** Whether the sentence around [start, end) holds a historical date (see above). */
export function historicalSentence(text: string, start: number, end: number): boolean {
  let from = Math.max(0, start - FRAME_CHARS)
  let to = Math.min(text.length, end + FRAME_CHARS)
  for (let i = start - 1; i >= from; i--) {
    const c = text[i]!
    if (c === '\n' || ((c === '.' || c === '!' || c === '?') && /\s/.test(text[i + 1] ?? ' ') && !/\b(?:c|ca|[A-Z]|Mr|Mrs|Ms|Dr|St|B\.C|A\.D|B\.C\.E)$/.test(text.slice(Math.max(0, i - 6), i)))) {
      from = i + 1
      break
    }
  }
  for (let i = end; i < to; i++) {
    const c = text[i]!
    if (c === '\n' || ((c === '.' || c === '!' || c === '?') && /\s/.test(text[i + 1] ?? ' ') && !/\b(?:c|ca|[A-Z]|Mr|Mrs|Ms|Dr|St|B\.C|A\.D|B\.C\.E)$/.test(text.slice(Math.max(0, i - 6), i)))) {
      to = i
      break
    }
  }
  const sentence = text.slice(from, to)
  if (!/\d|century/i.test(sentence)) return false
  for (const re of [HISTORICAL_DATE, HISTORICAL_ERA]) {
    re.lastIndex = 0
    let m: RegExpExecArray | null
    while ((m = re.exec(sentence)) !== null) {
      if (!BIRTH.test(sentence.slice(0, m.index))) return true
    }
  }
  return false
}

/**
 * A name the text introduces as someone's own (my name is, I'm, call me, Hi, Dear, Regards,
 * Patient:) is personal whatever else the text quotes: a prompt that pastes a historical source
 * still carries its writer's name.
 */
const INTRODUCED = /(?:\bmy name is|\bname\s*:|\bcall me|\bi['’]?m|\bi am|\bthis is|\b(?:hi|hello|hey|dear)|\b(?:regards|thanks|cheers|sincerely|best)\s*,?\s*\n|\bpatient\s*:?|\bsigned\s*:?)[ \t,]*$/i
function introduced(text: string, start: number): boolean {
  return INTRODUCED.test(text.slice(Math.max(0, start - 24), start))
}

const WORD_TYPES = new Set(['PERSON', 'LOCATION', 'TITLE', 'ORGANIZATION'])
const OLD_YEAR = new RegExp(`(?<!\\d)${YEAR}(?!\\d)`)

/**
 * Drops the word-level candidates (names, places, titles, organisations) that historical writing
 * dates (see above), and the dates (not dates of birth) that are themselves older than
 * HISTORICAL_BEFORE in such writing ("—Patrick Henry, March 23, 1775"). `whole`: `text` is a head
 * of it, and whether the text cites a historical source is asked of the whole.
 */
export function dropHistorical(text: string, candidates: Candidate[], wordBelow: number, whole = text): Candidate[] {
  const word = (c: Candidate) => c.priority < wordBelow && WORD_TYPES.has(c.type)
  const oldDate = (c: Candidate) => c.type === 'DATE' && OLD_YEAR.test(text.slice(c.start, c.end))
  if (!candidates.some((c) => word(c) || oldDate(c))) return candidates
  const cited = citesHistoricalSource(whole)
  // Most texts hold no year and no century at all: then no sentence is dated.
  if (!cited && !/\d|century/i.test(text)) return candidates
  return candidates.filter((c) => !(word(c) || oldDate(c)) || introduced(text, c.start) || !(cited || historicalSentence(text, c.start, c.end)))
}
