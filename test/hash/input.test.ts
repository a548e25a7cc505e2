import {describe, expect, it} from 'vitest'

import {embeddingText, embeddingTextHead} from '../../src/hash/input.js'
import {PII_TYPES} from '../../src/privacy/index.js'
import {createScrubber} from '../../src/privacy/index.js'

describe('embeddingText', () => {
  it('replaces every scrubber placeholder with a plain lowercase word', () => {
    for (const type of PII_TYPES) {
      const out = embeddingText(`before <${type}> after`)
      expect(out).toMatch(/^before [a-z]+ after$/)
    }
  })

  it('only lower-cases and drops punctuation in text without known placeholders', () => {
    const cases: Array<[string, string]> = [
      ['plain text', 'plain text'],
      ['a < b > c', 'a b c'],
      ['<html> tags', 'html tags'],
      ['<PERSONS> is not a type', 'persons is not a type'],
      ['x <person> y', 'x person y'],
      ['', ''],
    ]
    for (const [text, want] of cases) expect(embeddingText(text)).toBe(want)
  })

  it('keeps letters of every script, digits, apostrophes and hyphens', () => {
    expect(embeddingText("What's the dose of Advil for a 6-year-old?")).toBe("what's the dose of advil for a 6-year-old")
    expect(embeddingText('Où est l’hôpital, SVP ?')).toBe("où est l'hôpital svp")
    expect(embeddingText('ＧＤＰＲ ﬁnes')).toBe('gdpr fines')
    expect(embeddingText('I´m sure it`s fine ¨ ok')).toBe("i'm sure it's fine ok")
    expect(embeddingText('Ärztliche Schweigepflicht: §203 StGB')).toBe('ärztliche schweigepflicht 203 stgb')
    expect(embeddingText('数据隐私法（2021年）')).toBe('数据隐私法 2021年')
    // Devanagari vowel signs and viramas are combining marks, not letters: they must survive.
    expect(embeddingText('क्या यह दवा सुरक्षित है?')).toBe('क्या यह दवा सुरक्षित है')
  })

  it('gives phrasings that differ only in case, punctuation and spacing the same model input', () => {
    const forms = ['Is GDPR consent needed for cookies?', 'is gdpr consent needed for cookies', '  Is GDPR  consent needed, for cookies!!', 'IS GDPR CONSENT NEEDED FOR COOKIES?']
    expect(new Set(forms.map(embeddingText)).size).toBe(1)
  })

  it('is idempotent, so text that was already prepared is not changed again', () => {
    for (const text of ['Email <EMAIL> about <PERSON>', 'A < b', "Don't panic!", '']) {
      const once = embeddingText(text)
      expect(embeddingText(once)).toBe(once)
    }
  })

  it('turns what the scrubber writes into text with no angle-bracket placeholders', () => {
    const scrubber = createScrubber()
    const {text} = scrubber.scrub('Email jane.doe@example.com or call +1 617 555 0100 about Maria Garcia in Boston')
    expect(text).toContain('<')
    expect(embeddingText(text)).not.toMatch(/[<>]/)
  })
})

describe('embeddingTextHead', () => {
  it('is the whole model input up to a space, whatever the text around the cut', () => {
    // Pieces where a cut could change the model input if embeddingText looked past whitespace.
    const pieces = ['<PERSON>', '<LOCATION>', 'ΟΔΟΣ', 'ΌΣΟΣ\u0301', 'e\u0301', '\u0308', '\u00a0', '\u3000', '\u2003', "I\u2019m", 'ﬁne', '---', '!!', '?', '¨', 'क्या', '数据', 'x', 'Σ', "Σ'", '\n', '\t']
    let seed = 7
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    for (let t = 0; t < 200; t++) {
      let text = ''
      while (text.length < 400) text += pieces[Math.floor(next() * pieces.length)] + (next() < 0.5 ? ' ' : '')
      const full = embeddingText(text)
      for (const chars of [1, 17, 100, 250, 399]) {
        const head = embeddingTextHead(text, chars)
        if (head === undefined) continue
        // An empty head (only punctuation before the cut) is the empty prefix.
        expect(head === '' || full === head || full.startsWith(head + ' ')).toBe(true)
      }
    }
  })

  it('is undefined when no whitespace follows the cut', () => {
    expect(embeddingTextHead('one two three', 8)).toBeUndefined()
    expect(embeddingTextHead('one two three', 3)).toBe('one')
  })
})
