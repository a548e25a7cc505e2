/**
 * A tiny seeded PRNG (splitmix32) using only 32-bit integer arithmetic, so the same seed gives
 * the same numbers on every engine and machine: no Math.random, no transcendental functions.
 */
export class SeededRandom {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0
    let z = this.state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }

  /** Uniform in [0, 1), a multiple of 2^-32 (exact in a double). */
  nextUnit(): number {
    return this.nextUint32() / 4294967296
  }

  /**
   * Approximately standard normal: the centred sum of 4 uniforms (Irwin-Hall), scaled to unit
   * variance. Exact arithmetic on dyadic numbers, so it is bit-identical everywhere, and for
   * random hyperplanes the difference from a true Gaussian does not matter.
   */
  nextGaussianish(): number {
    const s = this.nextUnit() + this.nextUnit() + this.nextUnit() + this.nextUnit() - 2
    return s * 1.7320508075688772 // sqrt(12 / 4)
  }
}

/** Derive a 32-bit seed from a public string (FNV-1a), so seeds can be named, e.g. 'qis.simhash.v1'. */
export function seedFromString(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}
