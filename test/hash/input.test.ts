import {describe, expect, it} from 'vitest'

import {embeddingText} from '../../src/hash/input.js'
import {PII_TYPES} from '../../src/privacy/index.js'
import {createScrubber} from '../../src/privacy/index.js'

describe('embeddingText', () => {
  it('replaces every scrubber placeholder with a plain lowercase word', () => {
    for (const type of PII_TYPES) {
      const out = embeddingText(`before <${type}> after`)
      expect(out).toMatch(/^before [a-z]+ after$/)
    }
  })

  it('leaves text without known placeholders as it is', () => {
    for (const text of ['plain text', 'a < b > c', '<html> tags', '<PERSONS> is not a type', 'x <person> y', '']) expect(embeddingText(text)).toBe(text)
  })

  it('turns what the scrubber writes into text with no angle-bracket placeholders', () => {
    const scrubber = createScrubber()
    const {text} = scrubber.scrub('Email jane.doe@example.com or call +1 617 555 0100 about Maria Garcia in Boston')
    expect(text).toContain('<')
    expect(embeddingText(text)).not.toMatch(/<[A-Z_]+>/)
  })
})
