import {describe, expect, it} from 'vitest'

import {describeLabelProblem, labelProblem, requireLabel} from '../../src/cli/label.js'
import {QisError} from '../../src/util/errors.js'

describe('the one label rule', () => {
  it('accepts a valid label as it is', () => {
    expect(labelProblem('domain_tag', 'clinical.oncology')).toBeUndefined()
    expect(requireLabel('domain_tag', 'legal.contract_review', '--domain')).toBe('legal.contract_review')
  })

  it('refuses anything else and names the normalised form instead of silently using it', () => {
    expect(labelProblem('domain_tag', 'Clinical Oncology')).toEqual({
      message: 'domain "Clinical Oncology" may contain only lowercase a-z, 0-9 and . _ - : (found "C")',
      suggestion: 'clinical_oncology',
    })
    expect(describeLabelProblem(labelProblem('domain_tag', 'Bad Domain!')!)).toBe(
      'domain "Bad Domain!" may contain only lowercase a-z, 0-9 and . _ - : (found "B"); did you mean "bad_domain"?',
    )
    let err: unknown
    try {
      requireLabel('domain_tag', 'Bad Domain!', '--domain')
    } catch (error) {
      err = error
    }
    expect(err).toBeInstanceOf(QisError)
    expect(err).toMatchObject({code: 'BAD_LABEL', exitCode: 2, hint: 'Use --domain bad_domain. Labels are lowercase a-z, 0-9 and . _ - : (at most 64 characters).'})
  })

  it('names a source that is not a flag without offering it as one, and is the rule the weights library uses', async () => {
    expect(() => requireLabel('domain_tag', 'Bad Domain!', 'domain focus')).toThrow(expect.objectContaining({code: 'BAD_LABEL', message: 'domain focus: domain "Bad Domain!" may contain only lowercase a-z, 0-9 and . _ - : (found "B")', hint: expect.stringMatching(/^Use bad_domain\. /)}))
    const {createAdjuster} = await import('../../src/weights/adjust.js')
    const adjuster = await createAdjuster({
      weights: {version: 2, scheme: 's', generatedAt: new Date(0).toISOString(), hammingThreshold: 8, weights: {}},
      hasher: {scheme: 's', pipeline: {hashMany: async (t: string[]) => t.map(() => ({hash: '0'.repeat(16), keys: []})), close: async () => {}}},
      scrubber: {scrub: (text: string) => ({text})},
    })
    await expect(adjuster.adjust('a query', 'Bad Domain!')).rejects.toMatchObject({code: 'BAD_LABEL', exitCode: 2, hint: expect.stringMatching(/^Use bad_domain\. /)})
  })

  it('has no suggestion when nothing valid is left', () => {
    expect(labelProblem('domain_tag', '!!!')).toEqual({message: 'domain "!!!" may contain only lowercase a-z, 0-9 and . _ - : (found "!")'})
    expect(labelProblem('domain_tag', 'x'.repeat(65))?.message).toMatch(/is 65 characters; at most 64 allowed$/)
    expect(() => requireLabel('model_variant', '', '--model')).toThrow('--model: model "" must not be empty')
  })
})
