import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {createScrubber, render, resolve} from '../../src/privacy/index.js'

const scrubber = createScrubber()

describe('createScrubber', () => {
  it('replaces spans with typed placeholders and reports offsets into the original', () => {
    const text = 'Contact Anna Schmidt at anna@example.org or +49 30 901820.'
    const r = scrubber.scrub(text)
    expect(r.text).toBe('Contact <PERSON> at <EMAIL> or <PHONE>.')
    expect(r.spans.map((s) => text.slice(s.start, s.end))).toEqual(['Anna Schmidt', 'anna@example.org', '+49 30 901820'])
  })
  it('two queries differing only in a name become identical', () => {
    const a = scrubber.scrub('What dose of metformin for Maria Gonzalez, age 67?').text
    const b = scrubber.scrub('What dose of metformin for Tihomila Berecz, age 81?').text
    expect(a).toBe(b)
  })
  it('keep option leaves chosen types in place', () => {
    const s = createScrubber({keep: ['DATE']})
    expect(s.scrub('Meet on Monday with Kent Jaworski').text).toBe('Meet on Monday with <PERSON>')
  })
  it('handles empty and non-Latin text', () => {
    expect(scrubber.scrub('')).toEqual({text: '', spans: []})
    expect(scrubber.scrub('日本語のテキスト').text).toBe('日本語のテキスト')
  })
  it('spans are sorted, in range, non-overlapping, and render reproduces the text (property)', () => {
    const pieces = fc.constantFrom(
      'John Smith', 'call', '+1 415 555 0100', 'at', '12 Main Street', 'email', 'a.b@example.com', 'the', 'card',
      '4539301019673114', 'on', '3/13/1956', 'in', 'Berlin', ',', '.', '\n', 'ok', '192.168.0.1', 'Dr.', 'Ünal',
      "Borough's", 'Kingfield', 'Randy', 'Street', 'van', 'Apt.', '12', 'MD', 'Inc.', ':', 'User', 'mr.', 'carmen',
    )
    fc.assert(
      fc.property(fc.array(pieces, {maxLength: 30}), (parts) => {
        const text = parts.join(' ')
        const r = scrubber.scrub(text)
        let prev = 0
        for (const s of r.spans) {
          expect(s.start).toBeGreaterThanOrEqual(prev)
          expect(s.end).toBeGreaterThan(s.start)
          expect(s.end).toBeLessThanOrEqual(text.length)
          prev = s.end
        }
        expect(render(text, r.spans)).toBe(r.text)
        // deterministic
        expect(scrubber.scrub(text)).toEqual(r)
      }),
      {numRuns: 200},
    )
  })
  it('terminates on a possessive before a name (a run that starts before the cursor)', () => {
    const text = "the Borough's Kingfield Street scheme, and Randy Shaw's plan"
    expect(scrubber.scrub(text).text).toBe('the <ADDRESS> scheme, and <PERSON>\'s plan')
  })
  it('resolve prefers priority, then length; word-level candidates are trimmed, not dropped', () => {
    const text = 'Diana Weoeres Apt. 434'
    const spans = resolve(
      [
        {start: 0, end: 17, type: 'PERSON', priority: 40},
        {start: 14, end: 22, type: 'ADDRESS', priority: 60},
      ],
      text,
    )
    expect(spans).toEqual([
      {start: 0, end: 13, type: 'PERSON'},
      {start: 14, end: 22, type: 'ADDRESS'},
    ])
    expect(resolve([{start: 0, end: 5, type: 'PHONE', priority: 80}, {start: 3, end: 9, type: 'CREDIT_CARD', priority: 100}], 'x'.repeat(9))).toEqual([
      {start: 3, end: 9, type: 'CREDIT_CARD'},
    ])
  })
})
