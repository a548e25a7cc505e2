import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {packetId} from '../../src/packet/codec.js'
import {DEFAULT_HAMMING_THRESHOLD, emaStep, hexHamming, synthesizeWeights, type ReceivedPacket, type SynthesisOptions} from '../../src/weights/synthesize.js'
import {DOMAIN, HASH0, NOW, SCHEME, asked, fp, hashWithBits, packet, publisher, served} from './fixtures.js'

const A = publisher('a')
const B = publisher('b')
const C = publisher('c')
const ME = publisher('me')

function options(over: Partial<SynthesisOptions> = {}): SynthesisOptions {
  return {scheme: SCHEME, ownPublicKey: ME.hex, keys: [asked('k1'), asked('k2')], now: NOW, ...over}
}

function weightOf(received: ReceivedPacket[], over: Partial<SynthesisOptions> = {}, key = 'k1'): number | undefined {
  return synthesizeWeights(received, options(over)).weights.get(fp(key))?.weight
}

describe('synthesizeWeights: the reference rule', () => {
  it('a single packet gives (outcome) x confidence', () => {
    const r = synthesizeWeights([served(packet(A, {outcome: 0.9, confidence: 0.8, timestamp: NOW - 60}))], options())
    expect(r.weights.get(fp('k1'))).toEqual({
      weight: expect.closeTo(0.72, 12),
      packets: 1,
      publishers: 1,
      publisherIds: [A.hex.slice(0, 16)],
      records: 1,
      lastTimestamp: NOW - 60,
      domain: DOMAIN,
      routingKey: 'k1',
    })
    expect(r.accepted).toBe(1)
    expect(r.received).toBe(1)
  })

  it('a correction costs 0.15 of outcome before the confidence factor', () => {
    const w = weightOf([served(packet(A, {outcome: 0.6, confidence: 0.5, corrected: true, timestamp: NOW - 60}))])
    expect(w).toBeCloseTo((0.6 - 0.15) * 0.5, 12)
  })

  it('folds publishers 0.7 old / 0.3 new in timestamp order, whatever the delivery order', () => {
    const pa = served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 300}))
    const pb = served(packet(B, {outcome: 0.5, confidence: 1, timestamp: NOW - 200}))
    const pc = served(packet(C, {outcome: 0, confidence: 1, timestamp: NOW - 100}))
    // 1 -> 0.7*1 + 0.3*0.5 = 0.85 -> 0.7*0.85 + 0.3*0 = 0.595
    expect(weightOf([pc, pa, pb])).toBeCloseTo(0.595, 12)
    expect(weightOf([pa, pb, pc])).toBeCloseTo(0.595, 12)
    // Reversed timestamps give a different weight: order really is by time.
    const qa = served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 100}))
    const qc = served(packet(C, {outcome: 0, confidence: 1, timestamp: NOW - 300}))
    // 0 -> 0.15 -> 0.7*0.15 + 0.3*1 = 0.405
    expect(weightOf([qa, pb, qc])).toBeCloseTo(0.405, 12)
  })

  it('folds one publisher\'s packets in its timestamp order too', () => {
    const p1 = served(packet(A, {outcome: 0.8, confidence: 1, timestamp: NOW - 20}))
    const p2 = served(packet(A, {outcome: 0.2, confidence: 1, timestamp: NOW - 10}))
    expect(weightOf([p2, p1])).toBeCloseTo(0.7 * 0.8 + 0.3 * 0.2, 12)
  })

  it('a packet with count c is c repeated observations: 0.7^c old + (1 - 0.7^c) new', () => {
    const first = served(packet(A, {outcome: 0.8, confidence: 1, timestamp: NOW - 20}))
    const aggregated = served(packet(A, {outcome: 0.2, confidence: 1, timestamp: NOW - 10, count: 2}))
    // 0.49 * 0.8 + 0.51 * 0.2 = 0.494, the same as two separate packets of 0.2.
    expect(weightOf([first, aggregated])).toBeCloseTo(0.494, 12)
    const twoSingles = [
      first,
      served(packet(A, {outcome: 0.2, confidence: 1, timestamp: NOW - 10})),
      served(packet(A, {outcome: 0.2, confidence: 1, timestamp: NOW - 9})),
    ]
    expect(weightOf(twoSingles)).toBeCloseTo(0.494, 12)
    const r = synthesizeWeights([first, aggregated], options())
    expect(r.weights.get(fp('k1'))?.records).toBe(3)
    expect(r.weights.get(fp('k1'))?.packets).toBe(2)
  })

  it('breaks equal timestamps by packet id, so delivery order never matters', () => {
    const x = packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 10})
    const y = packet(A, {outcome: 0, confidence: 1, timestamp: NOW - 10})
    const [first, second] = packetId(x) < packetId(y) ? [1, 0] : [0, 1]
    const expected = 0.7 * first + 0.3 * second
    expect(weightOf([served(x), served(y)])).toBeCloseTo(expected, 12)
    expect(weightOf([served(y), served(x)])).toBeCloseTo(expected, 12)
  })

  it('breaks equal publisher timestamps by public key', () => {
    const x = packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 10})
    const y = packet(B, {outcome: 0, confidence: 1, timestamp: NOW - 10})
    const [first, second] = A.hex < B.hex ? [1, 0] : [0, 1]
    expect(weightOf([served(y), served(x)])).toBeCloseTo(0.7 * first + 0.3 * second, 12)
  })
})

describe('synthesizeWeights: bounded publisher influence', () => {
  it('a publisher with 20 packets counts as one observation against a publisher with one', () => {
    const honest = served(packet(B, {outcome: 1, confidence: 1, timestamp: NOW - 5000}))
    const flood = Array.from({length: 20}, (_, i) => served(packet(A, {outcome: 0, confidence: 1, timestamp: NOW - 1000 + i})))
    // Uncapped, 20 EMA steps toward 0 would leave 0.7^20 = 0.0008. Capped: 1 -> 0.7*1 + 0.3*0.
    const r = synthesizeWeights([honest, ...flood], options())
    expect(r.weights.get(fp('k1'))).toMatchObject({weight: expect.closeTo(0.7, 12), packets: 21, publishers: 2, records: 21})
  })

  it('so does one packet with a huge count', () => {
    const honest = served(packet(B, {outcome: 1, confidence: 1, timestamp: NOW - 5000}))
    const heavy = served(packet(A, {outcome: 0, confidence: 1, timestamp: NOW - 1000, count: 100_000}))
    expect(weightOf([honest, heavy])).toBeCloseTo(0.7, 12)
  })

  it('a publisher\'s own history still moves its single observation', () => {
    const b = served(packet(B, {outcome: 1, confidence: 1, timestamp: NOW - 5000}))
    const a1 = served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 1000}))
    const a2 = served(packet(A, {outcome: 0, confidence: 1, timestamp: NOW - 900}))
    // A's own EMA: 1 -> 0.7; then across publishers B=1 first, A=0.7: 0.7*1 + 0.3*0.7 = 0.91
    expect(weightOf([a2, b, a1])).toBeCloseTo(0.91, 12)
  })
})

describe('synthesizeWeights: what is refused', () => {
  it('keeps only packets within the Hamming threshold of a local query hash', () => {
    const near = served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 10, hash: hashWithBits(22)}))
    const far = served(packet(B, {outcome: 0, confidence: 1, timestamp: NOW - 5, hash: hashWithBits(23)}))
    const r = synthesizeWeights([near, far], options({hammingThreshold: 22}))
    expect(r.accepted).toBe(1)
    expect(r.refused).toEqual({NOT_NEAR: 1})
    expect(r.weights.get(fp('k1'))?.weight).toBeCloseTo(1, 12)
    // A second local hash close to the far packet lets it in.
    const both = synthesizeWeights([near, far], options({hammingThreshold: 22, keys: [asked('k1', [HASH0, hashWithBits(30)])]}))
    expect(both.accepted).toBe(2)
    // Without local hashes the filter is off.
    expect(synthesizeWeights([near, far], options({keys: [asked('k1', null)]})).accepted).toBe(2)
    expect(synthesizeWeights([near], options({hammingThreshold: 5})).refused).toEqual({NOT_NEAR: 1})
    // The default is DEFAULT_HAMMING_THRESHOLD = 18 bits (docs/weights.md).
    const at18 = served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 10, hash: hashWithBits(18)}))
    const at19 = served(packet(B, {outcome: 1, confidence: 1, timestamp: NOW - 10, hash: hashWithBits(19)}))
    expect(synthesizeWeights([at18, at19], options()).refused).toEqual({NOT_NEAR: 1})
    expect(DEFAULT_HAMMING_THRESHOLD).toBe(18)
  })

  it('skips its own packets', () => {
    const mine = served(packet(ME, {outcome: 1, confidence: 1, timestamp: NOW - 10}))
    const theirs = served(packet(A, {outcome: 0.5, confidence: 1, timestamp: NOW - 10}))
    const r = synthesizeWeights([mine, theirs], options())
    expect(r.refused).toEqual({OWN_PACKET: 1})
    expect(r.weights.get(fp('k1'))?.weight).toBeCloseTo(0.5, 12)
  })

  it('refuses another scheme, a key the packet does not list, a key not asked, and replicas', () => {
    const otherScheme = served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 10, scheme: 'other.v1'}))
    const wrongKey = served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 10, keys: ['k7']}), 'k1')
    const wrongDomain = served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 10, domain: 'legal'}), 'k1')
    const unasked = served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 10, keys: ['k9']}), 'k9')
    const good = packet(B, {outcome: 0.4, confidence: 1, timestamp: NOW - 10, keys: ['k1', 'k2']})
    const r = synthesizeWeights([otherScheme, wrongKey, wrongDomain, unasked, served(good, 'k1'), served(good, 'k1'), served(good, 'k2')], options())
    expect(r.refused).toEqual({WRONG_SCHEME: 1, KEY_MISMATCH: 2, NOT_ASKED: 1, DUPLICATE: 1})
    // The same packet under two of its keys counts under each.
    expect(r.accepted).toBe(2)
    expect(r.weights.get(fp('k1'))?.weight).toBeCloseTo(0.4, 12)
    expect(r.weights.get(fp('k2'))?.weight).toBeCloseTo(0.4, 12)
  })

  it('refuses forged, expired and garbage packets with the codec reason', () => {
    const forged = Uint8Array.from(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 10}))
    forged[forged.length - 1] ^= 1
    const expired = packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 169 * 3600, ttlHours: 168})
    const future = packet(A, {outcome: 1, confidence: 1, timestamp: NOW + 2 * 3600})
    const r = synthesizeWeights([served(forged), served(expired), served(future), served(Uint8Array.of(1, 2, 3))], options())
    expect(r.refused).toEqual({BAD_SIGNATURE: 1, EXPIRED: 1, FUTURE_TIMESTAMP: 1, MALFORMED: 1})
    expect(r.accepted).toBe(0)
    expect(r.weights.size).toBe(0)
  })
})

describe('synthesizeWeights: invariants', () => {
  const pool: ReceivedPacket[] = [
    served(packet(A, {outcome: 0.9, confidence: 0.7, timestamp: NOW - 50})),
    served(packet(A, {outcome: 0.1, confidence: 0.9, corrected: true, timestamp: NOW - 50, count: 3})),
    served(packet(B, {outcome: 0.6, confidence: 0.8, timestamp: NOW - 40, keys: ['k1', 'k2']}), 'k2'),
    served(packet(B, {outcome: 0.3, confidence: 0.5, timestamp: NOW - 40, hash: hashWithBits(40)})),
    served(packet(C, {outcome: 0.2, confidence: 0.6, timestamp: NOW - 50})),
    served(packet(ME, {outcome: 1, confidence: 1, timestamp: NOW - 45})),
    served(packet(C, {outcome: 0.7, confidence: 0.6, timestamp: NOW - 30, keys: ['k2']}), 'k2'),
  ]
  const OWN_INDEX = 5
  const reference = synthesizeWeights(pool, options())

  it('any delivery order (with replicas) gives the same weights, and every packet is accounted for', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(pool, {minLength: pool.length}), fc.array(fc.nat(pool.length - 1), {maxLength: 5}), (order, dupes) => {
        const input = [...order, ...dupes.map((i) => pool[i])]
        const r = synthesizeWeights(input, options())
        expect(r.weights).toEqual(reference.weights)
        const refusedTotal = Object.values(r.refused).reduce((s, n) => s + n!, 0)
        expect(r.received).toBe(input.length)
        expect(r.accepted + refusedTotal).toBe(r.received)
        // Own packets are skipped before replicas are looked for.
        expect(r.refused.DUPLICATE ?? 0).toBe(dupes.filter((i) => i !== OWN_INDEX).length)
      }),
      {numRuns: 50},
    )
  })

  it('every weight lies in the range the rule allows', () => {
    for (const w of reference.weights.values()) {
      expect(w.weight).toBeGreaterThanOrEqual(-0.15)
      expect(w.weight).toBeLessThanOrEqual(1)
    }
  })
})

describe('helpers', () => {
  it('emaStep: undefined initialises, count applies the closed form', () => {
    expect(emaStep(undefined, 0.3, 5)).toBe(0.3)
    expect(emaStep(1, 0, 1)).toBeCloseTo(0.7, 12)
    expect(emaStep(1, 0, 3)).toBeCloseTo(0.343, 12)
  })

  it('hexHamming counts differing bits and refuses unequal widths', () => {
    expect(hexHamming('ffffffffffffffff', '0000000000000000')).toBe(64)
    expect(hexHamming('0f00', '0e01')).toBe(2)
    expect(hexHamming('00', '0000')).toBe(Number.POSITIVE_INFINITY)
    fc.assert(
      fc.property(fc.bigInt({min: 0n, max: (1n << 64n) - 1n}), fc.bigInt({min: 0n, max: (1n << 64n) - 1n}), (a, b) => {
        const hex = (x: bigint) => x.toString(16).padStart(16, '0')
        const expected = [...(a ^ b).toString(2)].filter((c) => c === '1').length
        expect(hexHamming(hex(a), hex(b))).toBe(expected)
      }),
    )
  })
})
