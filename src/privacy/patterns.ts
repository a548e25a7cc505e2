import {isIPv4, isIPv6} from 'node:net'

import {parsePhoneNumberFromString} from 'libphonenumber-js/min'

import {cardIssuerValid, ibanValid, luhnValid, ssnValid} from './checksums.js'
import type {Candidate, PiiType} from './types.js'

/**
 * Recognisers for personal data with a recognisable shape: each proposes candidates with a
 * priority; the scrubber keeps the best non-overlapping set. Checksums (Luhn, mod-97, SSN
 * structure) and context words keep the shape rules from firing on arbitrary numbers.
 */

// Priorities: validated identifiers beat loose shapes; everything beats the word-level name rules.
export const PRIORITY = {
  custom: 120, // the deployment's own recognisers and deny-lists
  secret: 110, // keys, tokens, passwords: never left half-replaced by another type
  exact: 100, // email, URL, IP, IBAN, card, SSN: shape plus checksum
  contextId: 92, // ID numbers introduced by a context word
  date: 85,
  phone: 80,
  address: 60,
  age: 55,
  zip: 50,
  word: 40, // names, places, titles, organisations
} as const

type Push = (start: number, end: number, type: PiiType, priority: number) => void

const EMAIL = /(?<![\w.%+-])[\w.%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])/g
const URL = /\b(?:(?:https?|ftp):\/\/|www\.)[^\s<>"'`]+/gi
/** Top-level domains common enough in prose that a bare `name.tld` is taken as a domain. */
const TLDS =
  'com|org|net|edu|gov|mil|int|info|biz|io|ai|app|dev|co|me|tv|xyz|online|site|tech|store|shop|blog|cloud|' +
  'uk|us|ca|au|nz|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|ie|pt|pl|cz|hu|ro|gr|ru|ua|tr|il|in|jp|cn|kr|br|mx|ar|cl|za|sg|hk|tw|eu'
const DOMAIN = new RegExp(
  `(?<![\\w@.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+(?:${TLDS})(?:\\.(?:uk|au|nz|za|jp|br|in))?(?![\\w-]|\\.[A-Za-z0-9])(?:\\/[^\\s<>"'\`]*)?`,
  'gi',
)
const IPV4 = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]*\d)/g
const IPV6 = /(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])/g
const CARD = /(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d])/g
const CARD_CONTEXT = /\b(?:card|cards|credit|debit|visa|mastercard|amex|discover|maestro|cc|pan|card ?(?:number|no\.?|#))\b[^.\n]{0,30}$/i
const SSN = /(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])/g
const SSN_BARE = /(?<![\d-])\d{9}(?!\d)/g
const SSN_CONTEXT = /\b(?:ssn|social security(?: number| no\.?| #)?|social insurance number|tax id|tin)\b/i
const IBAN = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}(?![A-Za-z0-9])/g

// Every group after the first needs a separator (or follows a closing bracket): with optional
// separators a long digit run could be split in exponentially many ways while backtracking.
const PHONE =
  /(?<![\w+.\/-])(?:\+|00)?(?:\(\d{1,5}\)|\d{1,15})(?:(?:[ .\-\u00a0]{1,2}|(?<=\)))(?:\(\d{1,6}\)|\d{1,10})){0,6}(?:[ ]*(?:x|ext\.?|extension|#)[ ]*\d{1,6})?(?![\w\/]|[.,]\d)/gi
const SHORT_PHONE_CONTEXT = /\b(?:phone|tel|telephone|call|fax|mobile|cell|reach|office|home|work)\b/i
const PHONE_CONTEXT = /\b(?:phone|tel|telephone|call|calling|fax|mobile|cell|cellphone|contact|reach|text|sms|whatsapp|hotline|dial|landline)\b/i

const MONTHS =
  'jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?'
const TIME = String.raw`(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?: ?[ap]\.?m\.?)?(?:Z|[+-]\d{2}:?\d{2})?)?`
const DATE_PATTERNS: RegExp[] = [
  // 2014-02-13, 2014/02/13, with optional time
  new RegExp(String.raw`(?<![\d-])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})${TIME}(?![\d])`, 'gi'),
  // 3/13/1956, 13.03.1956, 13-03-56
  new RegExp(String.raw`(?<![\d/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})${TIME}(?![\d/]|\.\d)`, 'gi'),
  // March 3, 1990 / Mar 3rd 1990 / March 1990 / March 3rd
  new RegExp(String.raw`\b(?:${MONTHS})\.?(?: \d{1,2}(?:st|nd|rd|th)?,?(?: \d{4})?| \d{4})\b`, 'gi'),
  // 3 March 1990 / 3rd of March, 1990 / 3 March
  new RegExp(String.raw`\b\d{1,2}(?:st|nd|rd|th)?(?: of)? (?:${MONTHS})\.?(?:,? \d{4})?\b`, 'gi'),
]
/** Weekdays: part of when something happened (found in texts without digits too). */
const WEEKDAY = /\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b/gi
/** Dates relative to when the text was written: with the log's timestamp they name a day. */
// Only dates finer than a year: a year alone is not an identifier (HIPAA Safe Harbor keeps years and
// removes every other element of a date), so "last year" and "3 years ago" stay. A count of days is
// not part of a larger number ("10,000 days").
const RELATIVE_DATE =
  /\b(?:(?:the )?day (?:before|after) (?:yesterday|tomorrow)|yesterday|tomorrow|(?:last|next|past|coming) (?:week(?:end)?|month|(?:mon|tues|wednes|thurs|fri|satur|sun)day|spring|summer|autumn|fall|winter|january|february|march|april|june|july|august|september|october|november|december)|(?<![\d,.])(?:\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve|a few|several|couple of) (?:days?|weeks?|months?) ago|(?:in|within) (?:\d{1,3}|a|one|two|three|four|five|six|seven|ten) (?:days?|weeks?)(?= time|\b))\b/gi
const DOB_CONTEXT = /\b(?:born|birth|dob|d\.o\.b\.?|birthday|birthdate|b\.)\W{0,3}(?:\w+\W{1,3}){0,3}$/i
const YEAR_OF_BIRTH = /\b(?:born(?: in| on)?|year of birth:?|birth year:?)\s+((?:19|20)\d{2})\b/gi

const AGE = [
  /\b(?:aged?|age:|age is|age of)\s*(\d{1,3})\b/gi,
  /\b(\d{1,3})(?:\s*|-)(?:years?|yrs?|y\.?o\.?)(?:[\s-]+old)\b/gi,
  /\b(\d{1,3})-year-old\b/gi,
  /\b(\d{1,3})\s?(?:y\/o|yo)\b/gi,
  // "turned 60", "I'll turn 23", "turning 40", "60 years of age"
  /\b(?:turned|turning|turns|turn)\s+(\d{1,3})(?!\s*(?:%|percent|degrees|°|times|pages|miles|km|dollars|euros|points|steps|minutes|hours|seconds))\b/gi,
  /\b(\d{1,3})\s+years?\s+of\s+age\b/gi,
]

/** Context words that introduce an identifier, with the type the identifier gets. */
const ID_CONTEXTS: Array<[RegExp, PiiType]> = [
  [/\b(?:driver'?s'? licen[cs]e|driving licen[cs]e|driver licen[cs]e|dl)(?: (?:number|no\.?|#|id))?\W{0,3}(?:is\W{1,2})?$/i, 'DRIVER_LICENSE'],
  [/\b(?:mrn|medical record(?: number| no\.?| #)?|patient (?:id|number|no\.?)|chart (?:number|no\.?)|health (?:card|insurance) (?:number|no\.?)|nhs number)\W{0,3}(?:is\W{1,2})?$/i, 'MEDICAL_RECORD'],
  [/\b(?:zip|zip code|zipcode|postal code|postcode|post code)\W{0,3}(?:is\W{1,2})?$/i, 'ZIP'],
  [/\b(?:account|acct|policy|member|membership|customer|client|employee|passport|licen[cs]e|permit|claim|case|tax|vat|national id|id|identification|student|badge|routing|sort code|reference|ref)\.?(?: (?:number|no\.?|#|id|code))?\W{0,3}(?:is\W{1,2})?$/i, 'ID_NUMBER'],
]
const ID_TOKEN = /^[A-Za-z]{0,3}[- ]?\d[\dA-Za-z-]{3,24}/

function forEach(re: RegExp, text: string, fn: (m: RegExpExecArray) => void): void {
  re.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    fn(m)
    if (m[0].length === 0) re.lastIndex++
  }
}

const digitsOf = (s: string) => s.replace(/\D/g, '')

function before(text: string, at: number, n = 40): string {
  return text.slice(Math.max(0, at - n), at)
}

function validDate(y: number, mo: number, d: number): boolean {
  return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && y >= 0
}

export function findStructured(text: string, push: Push): void {
  const hasDigit = /\d/.test(text)
  if (text.includes('@')) forEach(EMAIL, text, (m) => push(m.index, m.index + m[0].length, 'EMAIL', PRIORITY.exact))

  forEach(URL, text, (m) => {
    const s = m[0].replace(/[.,;:!?)\]}>'"]+$/, '')
    push(m.index, m.index + s.length, 'URL', PRIORITY.exact)
  })
  if (text.includes('.')) {
    forEach(DOMAIN, text, (m) => {
      const s = m[0].replace(/[.,;:!?)\]}>'"]+$/, '')
      // e.g. and i.e. and version numbers are not domains; a domain has a label of 2+ letters.
      if (!/[A-Za-z]{2}/.test(s.split('.')[0] ?? '')) return
      push(m.index, m.index + s.length, 'DOMAIN', PRIORITY.exact - 1)
    })
  }
  forEach(WEEKDAY, text, (m) => push(m.index, m.index + m[0].length, 'DATE', PRIORITY.date))
  // Above weekdays, so "next Monday" is one span.
  forEach(RELATIVE_DATE, text, (m) => push(m.index, m.index + m[0].length, 'DATE', PRIORITY.date + 1))
  if (!hasDigit && !text.includes(':')) return

  forEach(IPV4, text, (m) => {
    if (isIPv4(m[0])) push(m.index, m.index + m[0].length, 'IP_ADDRESS', PRIORITY.exact)
  })
  if (text.includes(':')) {
    forEach(IPV6, text, (m) => {
      if (m[0].length >= 3 && isIPv6(m[0]) && /[0-9a-f]/i.test(m[0]) && (m[0].match(/:/g)?.length ?? 0) >= 2) {
        // 12:40:13 is a time, not an IPv6 address: require a hex letter, 4+ groups or a `::`.
        if (!/[a-f]/i.test(m[0]) && !m[0].includes('::') && m[0].split(':').length < 4) return
        push(m.index, m.index + m[0].length, 'IP_ADDRESS', PRIORITY.exact)
      }
    })
  }
  if (!hasDigit) return

  forEach(CARD, text, (m) => {
    const raw = m[0].replace(/[ -]+$/, '')
    const d = digitsOf(raw)
    if (d.length < 12 || d.length > 19) return
    if (!luhnValid(d)) return
    // A Luhn-valid number the text calls a card is one, whatever its issuer prefix (store cards,
    // regional networks); without such a word it also needs a known issuer prefix and length.
    if (cardIssuerValid(d) || (d.length >= 13 && CARD_CONTEXT.test(before(text, m.index, 40)))) push(m.index, m.index + raw.length, 'CREDIT_CARD', PRIORITY.exact)
  })
  forEach(SSN, text, (m) => {
    if (!ssnValid(m[1] + m[3] + m[4])) return
    // Spaced groups are only an SSN when the text says so; 123 45 6789 is as likely a phone number.
    if (m[2] === ' ' && !SSN_CONTEXT.test(before(text, m.index, 60))) return
    push(m.index, m.index + m[0].length, 'SSN', PRIORITY.exact)
  })
  forEach(SSN_BARE, text, (m) => {
    if (ssnValid(m[0]) && SSN_CONTEXT.test(before(text, m.index, 60))) push(m.index, m.index + 9, 'SSN', PRIORITY.exact)
  })
  forEach(IBAN, text, (m) => {
    // The pattern can run on into the next words ("... 7654 32 please"): drop trailing groups until valid.
    let raw = m[0].replace(/ +$/, '')
    while (raw.replace(/ /g, '').length >= 15) {
      if (ibanValid(raw)) {
        push(m.index, m.index + raw.length, 'IBAN', PRIORITY.exact)
        IBAN.lastIndex = m.index + raw.length
        return
      }
      const cut = raw.lastIndexOf(' ')
      if (cut < 0) return
      raw = raw.slice(0, cut)
    }
  })

  findDates(text, push)
  findPhones(text, push)

  for (const re of AGE) {
    forEach(re, text, (m) => {
      if (Number(m[1]) <= 125) push(m.index, m.index + m[0].length, 'AGE', PRIORITY.age)
    })
  }
  findContextIds(text, push)
}

function findDates(text: string, push: Push): void {
  DATE_PATTERNS.forEach((re, i) => {
    forEach(re, text, (m) => {
      if (i === 0 && !validDate(+m[1], +m[2], +m[3])) return
      if (i === 1) {
        const a = +m[1]
        const b = +m[3]
        // Either order (US month/day or day/month) must give a real date.
        if (!(validDate(0, a, b) || validDate(0, b, a))) return
        // 1.2.3 style version numbers have a 1-2 digit last part; require a 4-digit year there.
        if (m[2] === '.' && m[4].length !== 4) return
      }
      const type: PiiType = DOB_CONTEXT.test(before(text, m.index, 40)) ? 'DATE_OF_BIRTH' : 'DATE'
      push(m.index, m.index + m[0].length, type, PRIORITY.date)
    })
  })
  forEach(YEAR_OF_BIRTH, text, (m) => {
    const start = m.index + m[0].length - 4
    push(start, start + 4, 'DATE_OF_BIRTH', PRIORITY.date)
  })
}

function findPhones(text: string, push: Push): void {
  forEach(PHONE, text, (m) => {
    let raw = m[0].replace(/[ .\-\u00a0(]+$/, '')
    if (raw.startsWith('(') === false && raw.endsWith(')')) raw = raw.slice(0, -1)
    const main = raw.replace(/\s*(?:x|ext\.?|extension|#)\s*\d{1,6}$/i, '')
    const d = digitsOf(main)
    const groups = main.split(/[ .\-\u00a0()]+/).filter(Boolean)
    // Six-digit local numbers (Greenland, Faroes, small exchanges) only in 3 groups beside a phone word.
    const shortLocal = d.length === 6 && groups.length === 3 && SHORT_PHONE_CONTEXT.test(text.slice(Math.max(0, m.index - 40), m.index + raw.length + 12))
    if ((d.length < 7 && !shortLocal) || d.length > 15) return
    const international = /^(?:\+|00)/.test(main)
    if (international) {
      const parsed = parsePhoneNumberFromString('+' + digitsOf(main.replace(/^00/, '')))
      if (!parsed?.isPossible()) return
    } else if (groups.length < 2) {
      // A bare run of digits is a phone number only next to a phone word and when it could be one.
      const near = text.slice(Math.max(0, m.index - 40), m.index + raw.length + 20)
      if (!PHONE_CONTEXT.test(near)) return
      if (d.length < 8 || d.length > 12) return
    } else {
      // Shapes of numbers that are not phones: 1.000.000 amounts, 1837-1843 year ranges, 12345.6789
      // decimals, table columns (double spaces), negative numbers, unbalanced brackets.
      if (/^\d{1,3}(?:\.\d{3})+$/.test(main)) return
      if (/^\(?(?:1[5-9]|20)\d{2}\s*[-–]\s*(?:1[5-9]|20)\d{2}\)?$/.test(main)) return
      if (main.includes('.') && (groups.length < 3 || main.includes(' '))) return
      if (/\s{2,}|\s-/.test(main)) return
      if ((main.match(/\(/g)?.length ?? 0) !== (main.match(/\)/g)?.length ?? 0)) return
      // Space-separated groups with no phone word nearby: a list of numbers unless it looks dialled
      // (leading 0, or a group of 4+ digits as in 481 7531 or 9761 9808).
      if (/^[\d ]+$/.test(main) && !/^0/.test(main) && !groups.some((g) => g.length >= 4)) {
        const near = text.slice(Math.max(0, m.index - 40), m.index + raw.length + 20)
        if (!SHORT_PHONE_CONTEXT.test(near) && !PHONE_CONTEXT.test(near)) return
      }
      // Decimal numbers and scores (3.5, 2-1) are too short to reach here; long groups of one digit are lists.
      if (groups.every((g) => g.length === 1)) return
    }
    push(m.index, m.index + raw.length, 'PHONE', PRIORITY.phone)
  })
}

/** UK (M14 5TR, SW1A 1AA) and Canadian (K1A 0B1) postcodes: shapes distinctive enough without a cue. */
const POSTCODE = /\b(?:[A-PR-UWYZ][A-HK-Y]?\d[A-HJKPSTUW\d]? \d[ABD-HJLNP-UW-Z]{2}|[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d)\b/g
/** A short ZIP or postcode right after a word that names it ("my zip code is 880"). */
const NAMED_ZIP = /\b(?:zip code|zipcode|zip|postal code|postcode|post code)\W{0,3}(?:is\W{1,2})?(\d{3,10}(?:-\d{4})?|[A-Z0-9]{2,4} ?[A-Z0-9]{3})(?![\w-])/gi

function findContextIds(text: string, push: Push): void {
  forEach(POSTCODE, text, (m) => push(m.index, m.index + m[0].length, 'ZIP', PRIORITY.zip))
  forEach(NAMED_ZIP, text, (m) => {
    const v = m[1]!.replace(/[ -]+$/, '')
    if (!/\d/.test(v)) return
    const start = m.index + m[0].length - m[1]!.length
    push(start, start + v.length, 'ZIP', PRIORITY.contextId)
  })
  // Look for a context word, then the identifier that follows it.
  const re = /\d/g
  let last = -1
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) !== null) {
    // The alphanumeric token containing this digit; the scan resumes after it, so each character
    // is visited a bounded number of times however long the token.
    let start = m.index
    while (start > 0 && start > last && /[A-Za-z0-9-]/.test(text[start - 1]!)) start--
    let tokenEnd = m.index
    while (tokenEnd < text.length && /[A-Za-z0-9-]/.test(text[tokenEnd]!)) tokenEnd++
    re.lastIndex = tokenEnd
    if (start <= last || tokenEnd - start > 40) {
      last = tokenEnd
      continue
    }
    last = tokenEnd
    const tok = ID_TOKEN.exec(text.slice(start, start + 40))
    if (!tok) continue
    const value = tok[0].replace(/-+$/, '')
    const end = start + value.length
    if (digitsOf(value).length < 4) continue
    const ctx = text.slice(Math.max(0, start - 50), start)
    for (const [cre, type] of ID_CONTEXTS) {
      if (cre.test(ctx)) {
        push(start, end, type, PRIORITY.contextId)
        break
      }
    }
  }
}
