import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {SeededRandom} from '../../src/hash/prng.js'
import {SimHasher, hammingDistance} from '../../src/hash/simhash.js'

function randomUnit(rnd: SeededRandom, d: number): Float32Array {
  const v = new Float32Array(d)
  let n = 0
  for (let i = 0; i < d; i++) {
    v[i] = rnd.nextGaussianish()
    n += v[i] * v[i]
  }
  for (let i = 0; i < d; i++) v[i] /= Math.sqrt(n)
  return v
}

/** A unit vector at cosine `cos` from unit `a`, in a random direction. */
function atCosine(rnd: SeededRandom, a: Float32Array, cos: number): Float32Array {
  const r = randomUnit(rnd, a.length)
  let dot = 0
  for (let i = 0; i < a.length; i++) dot += r[i] * a[i]
  const ortho = new Float32Array(a.length)
  let n = 0
  for (let i = 0; i < a.length; i++) {
    ortho[i] = r[i] - dot * a[i]
    n += ortho[i] * ortho[i]
  }
  const s = Math.sqrt(1 - cos * cos)
  const out = new Float32Array(a.length)
  for (let i = 0; i < a.length; i++) out[i] = cos * a[i] + (s * ortho[i]) / Math.sqrt(n)
  return out
}

describe('SimHasher', () => {
  const hasher = new SimHasher(64)

  it('gives 16 lowercase hex chars and the same hash for the same vector, in any instance', () => {
    const v = randomUnit(new SeededRandom(1), 64)
    const h = hasher.hash(v)
    expect(h).toMatch(/^[0-9a-f]{16}$/)
    expect(new SimHasher(64).hash(v)).toBe(h)
    expect(hasher.hash(Float32Array.from(v))).toBe(h)
  })

  it('depends on the seed: another public seed gives other hyperplanes', () => {
    const v = randomUnit(new SeededRandom(2), 64)
    expect(new SimHasher(64, 'another-seed').hash(v)).not.toBe(hasher.hash(v))
  })

  it('flips every bit for the opposite vector', () => {
    const v = randomUnit(new SeededRandom(3), 64)
    const neg = v.map((x) => -x)
    expect(hammingDistance(hasher.hash(v), hasher.hash(neg))).toBe(64)
  })

  it('tracks the angle: mean Hamming distance is close to 64 * angle / pi', () => {
    const rnd = new SeededRandom(4)
    const h = new SimHasher(128)
    for (const cos of [0.95, 0.8, 0.5, 0]) {
      let total = 0
      const n = 300
      for (let i = 0; i < n; i++) {
        const a = randomUnit(rnd, 128)
        total += hammingDistance(h.hash(a), h.hash(atCosine(rnd, a, cos)))
      }
      const expected = (64 * Math.acos(cos)) / Math.PI
      expect(Math.abs(total / n - expected)).toBeLessThan(1.5)
    }
  })

  it('subtracts the centre before hashing', () => {
    const center = new Float32Array(64).fill(0.1)
    const centred = new SimHasher(64, 'qis.simhash.v1', center)
    const v = randomUnit(new SeededRandom(5), 64)
    const shifted = v.map((x, i) => x - center[i])
    expect(centred.hash(v)).toBe(hasher.hash(shifted))
  })

  it('rejects vectors of the wrong dimension', () => {
    expect(() => hasher.hash(new Float32Array(63))).toThrow(/64 dims/)
  })
})

describe('hammingDistance', () => {
  const hex16 = fc.bigInt({min: 0n, max: (1n << 64n) - 1n}).map((b) => b.toString(16).padStart(16, '0'))

  it('is a metric on 64-bit hashes: zero on itself, symmetric, bounded, triangle inequality', () => {
    fc.assert(
      fc.property(hex16, hex16, hex16, (a, b, c) => {
        expect(hammingDistance(a, a)).toBe(0)
        expect(hammingDistance(a, b)).toBe(hammingDistance(b, a))
        expect(hammingDistance(a, b)).toBeGreaterThanOrEqual(0)
        expect(hammingDistance(a, b)).toBeLessThanOrEqual(64)
        expect(hammingDistance(a, c)).toBeLessThanOrEqual(hammingDistance(a, b) + hammingDistance(b, c))
      }),
    )
  })

  it('counts differing bits', () => {
    fc.assert(
      fc.property(fc.bigInt({min: 0n, max: (1n << 64n) - 1n}), fc.bigInt({min: 0n, max: (1n << 64n) - 1n}), (x, y) => {
        let bits = 0
        for (let z = x ^ y; z; z >>= 1n) bits += Number(z & 1n)
        expect(hammingDistance(x.toString(16).padStart(16, '0'), y.toString(16).padStart(16, '0'))).toBe(bits)
      }),
    )
  })

  it('rejects anything but two 16-char lowercase hex strings', () => {
    expect(() => hammingDistance('abc', '0000000000000000')).toThrow()
    expect(() => hammingDistance('ABCDEF0000000000', '0000000000000000')).toThrow()
  })
})

describe('SeededRandom', () => {
  it('is a pure function of the seed', () => {
    const a = new SeededRandom(42)
    const b = new SeededRandom(42)
    const c = new SeededRandom(43)
    const sa = Array.from({length: 5}, () => a.nextUint32())
    expect(Array.from({length: 5}, () => b.nextUint32())).toEqual(sa)
    expect(Array.from({length: 5}, () => c.nextUint32())).not.toEqual(sa)
  })

  it('draws roughly standard-normal values', () => {
    const r = new SeededRandom(7)
    const xs = Array.from({length: 20000}, () => r.nextGaussianish())
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length
    expect(Math.abs(mean)).toBeLessThan(0.03)
    expect(Math.abs(variance - 1)).toBeLessThan(0.05)
  })
})
