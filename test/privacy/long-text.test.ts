import {describe, expect, it} from 'vitest'

import {createScrubber} from '../../src/privacy/index.js'
import {wordWindows} from '../../src/privacy/scrubber.js'

const scrubber = createScrubber()

// Sentences of different lengths, so that over many repeats every kind of span lands on, just
// before and just after a window edge.
const SENTENCES = [
  'Please ask Dr. Maria Gonzalez about it. ',
  'She lives at 12 Rue Victor Hugo 40, Paris. ',
  'Call me on 415-555-0132 tomorrow. ',
  'The weather is nice. ',
  'Mr. Piotr van der Voet moved to 55 Školní 645, Kámen u Pacova. ',
  'My email is a.b@example.com and my card is 4539301019673114. ',
  'Então falei com Ana Luísa Ferreira. ',
]

describe('long texts (word rules in windows)', () => {
  it('finds in a 100 KB text exactly what it finds in each sentence alone', () => {
    const parts: string[] = []
    let n = 0
    for (let i = 0; n < 100_000; i++) {
      const s = SENTENCES[i % SENTENCES.length]!
      parts.push(s)
      n += s.length
    }
    const text = parts.join('')
    expect(wordWindows(text).length).toBeGreaterThan(3)
    const expected: string[] = []
    let at = 0
    for (const s of parts) {
      for (const span of scrubber.scrub(s).spans) expected.push(`${at + span.start}-${at + span.end} ${span.type}`)
      at += s.length
    }
    const got = scrubber.scrub(text).spans.map((s) => `${s.start}-${s.end} ${s.type}`)
    // The first difference, not two 100 KB strings, if they differ.
    const i = got.findIndex((g, k) => g !== expected[k])
    expect(i === -1 ? undefined : {at: i, got: got[i], expected: expected[i]}).toBeUndefined()
    expect(got.length).toBe(expected.length)
  })
  it('windows cover the text once, cores in order, with context either side', () => {
    const text = 'word '.repeat(20_000) + 'x'.repeat(5_000) + ' tail'
    const w = wordWindows(text)
    expect(w[0]!.coreStart).toBe(0)
    expect(w[w.length - 1]!.coreEnd).toBe(text.length)
    for (let i = 1; i < w.length; i++) {
      expect(w[i]!.coreStart).toBe(w[i - 1]!.coreEnd)
      expect(w[i]!.from).toBeLessThan(w[i]!.coreStart)
      expect(w[i - 1]!.to).toBeGreaterThan(w[i - 1]!.coreEnd)
    }
  })
})
