import {randomBytes} from 'node:crypto'

/**
 * Local differential privacy for the outcome signal: randomised response on a Bernoulli draw.
 *
 * Each record's outcome x in [0, 1] is first turned into one bit b ~ Bernoulli(x); that bit is then
 * kept with probability p = e^eps / (1 + e^eps) and flipped otherwise. The reported bit y satisfies
 *
 *   P(y = 1 | x) = (1 - p) + (2p - 1) x        which lies in [1 - p, p] for every x,
 *
 * so for any two outcomes x, x' and any output, P(y | x) / P(y | x') <= p / (1 - p) = e^eps:
 * each record's outcome is eps-LDP, whatever else is known. Everything done to y afterwards
 * (averaging within a group, debiasing, clamping to [0, 1]) is post-processing and keeps the
 * guarantee. Confidence, domain, query hash, time bucket and count are NOT covered: the knob hides
 * how an answer went, not that a query of that kind was asked.
 *
 * Unbiased estimate: E[y] = (1 - p) + (2p - 1) x, so x_hat = (y - (1 - p)) / (2p - 1) has
 * E[x_hat] = x. For a group of n records the mean of x_hat is unbiased with variance at most
 * 1 / (4 n (2p - 1)^2) (e.g. eps = 1: standard error <= 1.08 / sqrt(n)). No mechanism can be eps-LDP for finite eps, keep every output
 * in [0, 1] and be unbiased for every x: unbiased at x = 1 forces output 1 always, at x = 0 output 0
 * always, and those two output distributions are disjoint (infinite privacy loss). So packets carry
 * clamp(mean x_hat, 0, 1): exact in expectation until the clamp bites, which happens for small groups
 * (a single record's x_hat is always outside [0, 1], so a per-record packet carries y itself, a
 * signal shrunk towards 0.5 by the factor 2p - 1) and for groups whose true mean sits near 0 or 1.
 * docs/distill.md spells out the consequences for receivers.
 */

/** A source of uniform numbers in [0, 1). Production noise must come from a CSPRNG. */
export type UniformSource = () => number

/** Uniform [0, 1) from node's CSPRNG, drawn in blocks so the syscall cost is amortised. */
export function cryptoUniform(): UniformSource {
  let block = Buffer.alloc(0)
  let at = 0
  return () => {
    if (at + 4 > block.length) {
      block = randomBytes(4096)
      at = 0
    }
    const v = block.readUInt32BE(at)
    at += 4
    return v / 4294967296
  }
}

export class RandomisedResponse {
  /** Probability that the Bernoulli bit is reported truthfully. */
  readonly keepProbability: number

  constructor(
    readonly epsilon: number,
    private readonly uniform: UniformSource = cryptoUniform(),
  ) {
    if (!Number.isFinite(epsilon) || epsilon <= 0) throw new RangeError(`epsilon must be a positive finite number, got ${epsilon}`)
    // e^eps / (1 + e^eps) written so large eps does not overflow to Infinity / Infinity.
    this.keepProbability = 1 / (1 + Math.exp(-epsilon))
  }

  /** The privatised bit (0 or 1) for one record's outcome in [0, 1]. */
  respond(outcome: number): 0 | 1 {
    if (!(outcome >= 0 && outcome <= 1)) throw new RangeError(`outcome must be in [0, 1], got ${outcome}`)
    const bit = this.uniform() < outcome ? 1 : 0
    return this.uniform() < this.keepProbability ? bit : ((1 - bit) as 0 | 1)
  }

  /** Unbiased (unclamped) estimate of the mean outcome from the sum of n reported bits. */
  estimateMean(sumOfBits: number, n: number): number {
    if (n <= 0) throw new RangeError('estimateMean needs at least one report')
    const p = this.keepProbability
    return (sumOfBits / n - (1 - p)) / (2 * p - 1)
  }

  /** What a packet carries: the unbiased estimate clamped into [0, 1] (the only source of bias). */
  packetOutcome(sumOfBits: number, n: number): number {
    return Math.min(1, Math.max(0, this.estimateMean(sumOfBits, n)))
  }
}
