import {describe, expect, it} from 'vitest'

import {createScrubber} from '../../src/privacy/index.js'
import {HEAD_MARGIN} from '../../src/privacy/scrubber.js'
import type {Scrubber} from '../../src/privacy/types.js'

// Scrubber.head must give exactly the start of scrub(text).text. Spans whose decision reads past
// their own end (a surname, "disease" after an eponym, an address's next lines, the END of a key
// block, the password after a curl's -u) are planted at every offset around the cut, so each is
// cut through, just caught and just missed by the head.

const FILLER = [
  'Which of the following best describes the function of the enzyme in this reaction? ',
  'The court held that the contract was void for lack of consideration. ',
  'A ball is thrown upward with an initial speed of ten metres per second. ',
  'Compute the derivative of the function at the given point. ',
  'The policy reduced unemployment but raised inflation over the period. ',
]

const KEY_BLOCK = `-----BEGIN RSA PRIVATE KEY-----\n${Array.from({length: 30}, (_, i) => 'MIIEpAIBAAKCAQEA7V' + String(i).padStart(2, '0') + 'x4Kq9Zr3LmQ2bT8yWfN6hJpD1sVcE0uRgHiOaY5X').join('\n')}\n-----END RSA PRIVATE KEY-----`

const PLANTS = [
  'Please ask Dr. Maria Gonzalez about it.',
  'Is it Alzheimer disease or Parkinson disease?',
  'She lives at 12 Rue Victor Hugo 40,\nParis 75001,\nFrance.',
  'Send it to 2450 Crown St, Springfield, IL 62704 please.',
  'my password is S3cr3tPa55! and the token is sk-proj-Ab3dE5gH7jK9mN1pQ3rS5tU7',
  'connect to postgres://app:S3cr3tPa55@db.example.com:5432/main now',
  `the key is\n${KEY_BLOCK}\nthanks`,
  'run curl https://api.example.com/v1/items \\\n  -H "Accept: json" \\\n  -u "admin user:very secret pass"',
  'I was born on March 3, 1990 in Newcastle upon Tyne.',
  'Call +44 20 7946 0958 or email a.b@example.com today.',
  'Keychain Logistics Corp. hired Penny Cavalcanti last week.',
  'hi im john smith and i turned 60 on Tuesday',
  'The code 4155550132 is the one to call.',
  'The word Erasmus,     and    Smith wrote of Erasmus      and      More.',
]

function filler(n: number, seed: number): string {
  let s = ''
  for (let i = seed; s.length < n; i++) s += FILLER[i % FILLER.length]
  return s.slice(0, n)
}

/** Texts with `plant` starting at each offset from `from` to `to` (step `step`), filler around it. */
function* planted(plant: string, from: number, to: number, step: number, length: number): Generator<string> {
  for (let at = from; at <= to; at += step) {
    const before = filler(at, at)
    yield before + plant + ' ' + filler(Math.max(0, length - at - plant.length), at + 1)
  }
}

/** How many texts' heads are not the start of their whole scrub (undefined heads count as fine). */
function mismatches(scrubber: Scrubber, chars: number, margin: number, stopAtFirst = false): {n: number; checked: number; first?: string} {
  let n = 0
  let checked = 0
  let first: string | undefined
  const length = chars + 2 * margin + 1500
  for (const plant of PLANTS) {
    // Across the cut, and across where the head's reading ends (cut + 2 x margin).
    const ranges: Array<[number, number, number]> = [
      [chars - plant.length - 10, chars + 10, 2],
      [chars + margin - plant.length, chars + margin + 10, 9],
      [chars + 2 * margin - plant.length - 10, chars + 2 * margin + 10, 9],
    ]
    for (const [from, to, step] of ranges) {
      for (const text of planted(plant, Math.max(0, from), to, step, length)) {
        const head = scrubber.head!(text, chars)
        if (head === undefined) continue
        checked++
        const whole = scrubber.scrub(text).text
        if (!whole.startsWith(head)) {
          n++
          first ??= `${JSON.stringify(plant.slice(0, 30))}: head ends ${JSON.stringify(head.slice(-60))}, whole there ${JSON.stringify(whole.slice(head.length - 60, head.length + 20))}`
          if (stopAtFirst) return {n, checked, first}
        }
      }
    }
  }
  return {n, checked, first}
}

describe('Scrubber.head', () => {
  const scrubber = createScrubber()

  it('is exactly the start of the whole scrub, whatever is planted across the cut', () => {
    const r = mismatches(scrubber, 3000, HEAD_MARGIN)
    expect(r.first).toBeUndefined()
    expect(r.checked).toBeGreaterThan(300)
  }, 120_000)

  it('fails that with too small a margin (so the test above can fail)', () => {
    // The plants' rules read at most a few words past a span: a margin of 4 non-space characters breaks them, 6 does not.
    const r = mismatches(createScrubber({headMargin: 4}), 3000, 4, true)
    expect(r.n).toBeGreaterThan(0)
  }, 120_000)

  it('covers a head and stops at a cut outside every span', () => {
    const text = filler(5000, 0) + 'Ask Dr. Maria Gonzalez. ' + filler(20_000, 3)
    const head = scrubber.head!(text, 5000 + 'Ask Dr. Maria Gon'.length)!
    expect(head).toBeDefined()
    expect(head.endsWith('Ask <TITLE> <PERSON>.')).toBe(true)
    expect(scrubber.scrub(text).text.startsWith(head)).toBe(true)
  })

  it('is undefined when the text ends within the margin, or has no whitespace after the head', () => {
    expect(scrubber.head!(filler(6000, 0), 3000)).toBeUndefined()
    expect(scrubber.head!(filler(3000, 0) + 'x'.repeat(20_000), 3100)).toBeUndefined()
  })

  it('runs the deployment\'s own recognisers over the whole text', () => {
    const custom = createScrubber({custom: {recognizers: [{type: 'TICKET', pattern: 'TKT<[^>]*>'}]}})
    const text = filler(3000, 0) + ' TKT<' + 'a '.repeat(8000) + '> ' + filler(20_000, 2)
    const head = custom.head!(text, 3010)
    expect(head === undefined || custom.scrub(text).text.startsWith(head)).toBe(true)
  })

  it('takes capitals from the whole text, not the head', () => {
    // In all-lowercase text lowercase names are taken; one capital later changes that everywhere.
    const text = filler(3000, 0).toLowerCase() + 'hi im john smith ' + filler(12_000, 1).toLowerCase() + ' Paris'
    const head = scrubber.head!(text, 3020)
    expect(head).toBeDefined()
    expect(scrubber.scrub(text).text.startsWith(head!)).toBe(true)
  })
})
