import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {SeededRandom} from '../../src/hash/prng.js'
import {RandomisedResponse, cryptoUniform} from '../../src/distill/ldp.js'

const seeded = (seed: number) => {
  const r = new SeededRandom(seed)
  return () => r.nextUnit()
}

describe('randomised response on the outcome signal', () => {
  it('keeps each bit with probability e^eps/(1+e^eps)', () => {
    const rr = new RandomisedResponse(Math.log(3))
    expect(rr.keepProbability).toBeCloseTo(0.75, 12)
    expect(new RandomisedResponse(800).keepProbability).toBe(1)
  })

  it('adds noise: outcome 1 is reported as 0 about 1-p of the time', () => {
    const rr = new RandomisedResponse(1, seeded(1))
    const n = 20_000
    let zeros = 0
    for (let i = 0; i < n; i++) zeros += rr.respond(1) === 0 ? 1 : 0
    const expected = 1 - rr.keepProbability // 0.269 for eps = 1
    expect(zeros / n).toBeGreaterThan(expected - 0.015)
    expect(zeros / n).toBeLessThan(expected + 0.015)
  })

  it('preserves the mean: the debiased estimate over many records is within tolerance of the true mean', () => {
    for (const [epsilon, seed] of [[0.5, 2], [1, 3], [3, 4]] as const) {
      const rr = new RandomisedResponse(epsilon, seeded(seed))
      const data = new SeededRandom(seed + 100)
      const n = 50_000
      let truth = 0
      let bits = 0
      for (let i = 0; i < n; i++) {
        const x = 0.6 + 0.4 * data.nextUnit() // mostly good answers: mean 0.8, far from 0.5
        truth += x
        bits += rr.respond(x)
      }
      const p = rr.keepProbability
      const se = 1 / (2 * Math.sqrt(n) * (2 * p - 1)) // worst-case standard error
      const estimate = rr.estimateMean(bits, n)
      expect(Math.abs(estimate - truth / n)).toBeLessThan(4 * se)
      // The raw bits alone are biased towards 0.5: the debiasing step is what keeps the mean.
      expect(Math.abs(bits / n - truth / n)).toBeGreaterThan(4 * se)
    }
  })

  it('is eps-LDP: P(report | x) / P(report | x\') never exceeds e^eps', () => {
    fc.assert(
      fc.property(fc.double({min: 0.01, max: 10, noNaN: true}), fc.double({min: 0, max: 1, noNaN: true}), fc.double({min: 0, max: 1, noNaN: true}), (eps, x, y) => {
        const p = new RandomisedResponse(eps).keepProbability
        const one = (v: number) => 1 - p + (2 * p - 1) * v
        for (const [a, b] of [[one(x), one(y)], [1 - one(x), 1 - one(y)]]) {
          expect(a / b).toBeLessThanOrEqual(Math.exp(eps) * (1 + 1e-9))
        }
      }),
    )
  })

  it('packet outcomes stay in [0, 1]; a single record carries its bit', () => {
    const rr = new RandomisedResponse(1)
    expect(rr.packetOutcome(1, 1)).toBe(1)
    expect(rr.packetOutcome(0, 1)).toBe(0)
    fc.assert(
      fc.property(fc.integer({min: 1, max: 1000}), fc.double({min: 0, max: 1, noNaN: true}), (n, share) => {
        const v = rr.packetOutcome(Math.round(share * n), n)
        expect(v).toBeGreaterThanOrEqual(0)
        expect(v).toBeLessThanOrEqual(1)
      }),
    )
  })

  it('refuses a non-positive epsilon and outcomes outside [0, 1]', () => {
    expect(() => new RandomisedResponse(0)).toThrow(/positive/)
    expect(() => new RandomisedResponse(Number.NaN)).toThrow(/positive/)
    expect(() => new RandomisedResponse(1).respond(1.2)).toThrow(/\[0, 1\]/)
  })

  it('draws production noise from a CSPRNG in [0, 1)', () => {
    const u = cryptoUniform()
    const xs = Array.from({length: 5000}, u)
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...xs)).toBeLessThan(1)
    expect(new Set(xs).size).toBeGreaterThan(4990)
  })
})
