import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {packetId} from '../../src/packet/codec.js'
import {
  DEFAULT_HAMMING_THRESHOLD,
  NEW_PUBLISHER_AGE,
  NEW_PUBLISHER_SHARE,
  PUBLISHER_RECORD_CAP,
  emaStep,
  hexHamming,
  readRecord,
  synthesizeWeights,
  timestampOrderedWeight,
  type ReceivedPacket,
  type SynthesisOptions,
} from '../../src/weights/synthesize.js'
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
  it('a single packet gives (outcome) x confidence, with its evidence pooled and per variant', () => {
    const r = synthesizeWeights([served(packet(A, {outcome: 0.9, confidence: 0.8, timestamp: NOW - 60}))], options())
    const evidence = {mass: 1, success: expect.closeTo(0.9, 12), confidence: expect.closeTo(0.8, 12), publishers: 1}
    expect(r.weights.get(fp('k1'))).toEqual({
      weight: expect.closeTo(0.72, 12),
      packets: 1,
      publishers: 1,
      publisherIds: [A.hex.slice(0, 16)],
      records: 1,
      lastTimestamp: NOW - 60,
      domain: DOMAIN,
      routingKey: 'k1',
      evidence,
      variants: {'llama3-8b-instruct': evidence},
      queries: [{hash: HASH0, model: 'llama3-8b-instruct', ...evidence}],
      newShare: 0,
    })
    expect(r.accepted).toBe(1)
    expect(r.received).toBe(1)
    expect(r.packets).toEqual({received: 1, accepted: 1})
    expect(r.publishers).toEqual([A.hex.slice(0, 16)])
  })

  it('a correction costs 0.15 of outcome before the confidence factor', () => {
    const w = weightOf([served(packet(A, {outcome: 0.6, confidence: 0.5, corrected: true, timestamp: NOW - 60}))])
    expect(w).toBeCloseTo((0.6 - 0.15) * 0.5, 12)
    const r = synthesizeWeights([served(packet(A, {outcome: 0.1, confidence: 0.5, corrected: true, timestamp: NOW - 60}))], options())
    expect(r.weights.get(fp('k1'))!.evidence.success).toBe(0)
  })

  it('combines publishers by their evidence, not in timestamp order: dating packets ahead buys nothing', () => {
    const pa = served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 300}))
    const pb = served(packet(B, {outcome: 0.5, confidence: 1, timestamp: NOW - 200}))
    const pc = served(packet(C, {outcome: 0, confidence: 1, timestamp: NOW - 100}))
    expect(weightOf([pc, pa, pb])).toBeCloseTo(0.5, 12)
    expect(weightOf([pa, pb, pc])).toBeCloseTo(0.5, 12)
    // C dated last or first: the same weight.
    const late = served(packet(C, {outcome: 0, confidence: 1, timestamp: NOW + 3480}))
    expect(weightOf([pa, pb, late])).toBeCloseTo(0.5, 12)
  })

  it('folds one publisher\'s packets in its timestamp order (it can only reorder itself)', () => {
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
    expect(r.weights.get(fp('k1'))).toMatchObject({records: 3, packets: 2, evidence: {mass: 3, success: expect.closeTo(0.4, 12)}})
  })

  it('breaks equal timestamps by packet id, so delivery order never matters', () => {
    const x = packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 10})
    const y = packet(A, {outcome: 0, confidence: 1, timestamp: NOW - 10})
    const [first, second] = packetId(x) < packetId(y) ? [1, 0] : [0, 1]
    const expected = 0.7 * first + 0.3 * second
    expect(weightOf([served(x), served(y)])).toBeCloseTo(expected, 12)
    expect(weightOf([served(y), served(x)])).toBeCloseTo(expected, 12)
  })

  it('keeps evidence per model variant beside the pooled evidence', () => {
    const r = synthesizeWeights(
      [
        served(packet(A, {outcome: 1, confidence: 0.6, timestamp: NOW - 10, model: 'llama-3-70b', count: 3})),
        served(packet(B, {outcome: 0, confidence: 0.4, timestamp: NOW - 10, model: 'mistral-7b'})),
        served(packet(C, {outcome: 1, confidence: 0.4, timestamp: NOW - 10, model: 'mistral-7b'})),
      ],
      options(),
    )
    const w = r.weights.get(fp('k1'))!
    expect(w.evidence).toEqual({mass: 5, success: expect.closeTo(0.8, 12), confidence: expect.closeTo(0.52, 12), publishers: 3})
    expect(w.variants).toEqual({
      'llama-3-70b': {mass: 3, success: 1, confidence: expect.closeTo(0.6, 12), publishers: 1},
      'mistral-7b': {mass: 2, success: 0.5, confidence: expect.closeTo(0.4, 12), publishers: 2},
    })
  })
})

describe('synthesizeWeights: randomised outcomes (outcome_epsilon)', () => {
  const evidenceOf = (received: ReceivedPacket[]) => synthesizeWeights(received, options()).weights.get(fp('k1'))!

  it('a randomised record counts 2p - 1 of a record, its bit read without bias', () => {
    const keep = 1 / (1 + Math.exp(-1))
    expect(readRecord({outcome_signal: 1, correction_applied: false, outcome_epsilon: 1, count: 1})).toEqual({share: expect.closeTo(2 * keep - 1, 12), success: expect.closeTo(keep / (2 * keep - 1), 12)})
    expect(readRecord({outcome_signal: 0, correction_applied: true, outcome_epsilon: 1, count: 1}).success).toBeCloseTo(-(1 - keep) / (2 * keep - 1) - 0.15, 12)
    // An aggregate already carries the unbiased mean: only its weight changes.
    expect(readRecord({outcome_signal: 0.7, correction_applied: false, outcome_epsilon: 1, count: 50})).toEqual({share: expect.closeTo(2 * keep - 1, 12), success: 0.7})
    expect(readRecord({outcome_signal: 0.7, correction_applied: false, outcome_epsilon: null, count: 1})).toEqual({share: 1, success: 0.7})
  })

  it('randomised bits of a 75% success rate pool to about 75%, not the 62% they show, at 2p - 1 of the mass', () => {
    // 16 records from each of 8 publishers at epsilon 1: 12 true successes each, randomised as
    // distill would with a fixed pattern (keep 73%: 3 of 12 successes and 1 of 4 failures flipped).
    const bits = [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1]
    const signers = Array.from({length: 8}, (_, i) => publisher(`ldp${i}`))
    const received = signers.flatMap((s) => bits.map((b, j) => served(packet(s, {outcome: b, confidence: 0.5, timestamp: NOW - 60 - j, epsilon: 1, hash: hashWithBits(j % 3)}))))
    const e = evidenceOf(received)
    const shown = bits.reduce((a, b) => a + b, 0) / bits.length
    expect(shown).toBeCloseTo(0.625, 12)
    const keep = 1 / (1 + Math.exp(-1))
    expect(e.evidence.success).toBeCloseTo((shown - (1 - keep)) / (2 * keep - 1), 9)
    expect(e.evidence.success).toBeGreaterThan(0.7)
    expect(e.evidence.mass).toBeCloseTo(8 * Math.min(16 * (2 * keep - 1), 16), 9)
    expect(e.records).toBe(8 * 16)
    // The same bits stated exact count fully, at face value.
    const exact = evidenceOf(signers.flatMap((s) => bits.map((b, j) => served(packet(s, {outcome: b, confidence: 0.5, timestamp: NOW - 60 - j, hash: hashWithBits(j % 3)})))))
    expect(exact.evidence).toMatchObject({mass: 8 * 16, success: expect.closeTo(0.625, 12)})
  })

  it('a single randomised record stays a rate in [0, 1] wherever it is reported', () => {
    const e = evidenceOf([served(packet(A, {outcome: 1, confidence: 0.5, timestamp: NOW - 60, epsilon: 1}))])
    expect(e.evidence.success).toBe(1)
    expect(e.queries[0].success).toBe(1)
    expect(e.variants['llama3-8b-instruct'].success).toBe(1)
  })
})

describe('synthesizeWeights: bounded publisher influence', () => {
  it(`a publisher counts for at most PUBLISHER_RECORD_CAP (${PUBLISHER_RECORD_CAP}) records, however many it publishes`, () => {
    const honest = served(packet(B, {outcome: 1, confidence: 1, timestamp: NOW - 5000}))
    const flood = Array.from({length: 40}, (_, i) => served(packet(A, {outcome: 0, confidence: 1, timestamp: NOW - 1000 + i})))
    const r = synthesizeWeights([honest, ...flood], options())
    expect(r.weights.get(fp('k1'))).toMatchObject({
      weight: expect.closeTo(1 / (1 + PUBLISHER_RECORD_CAP), 12),
      packets: 41,
      publishers: 2,
      records: 41,
      evidence: {mass: 1 + PUBLISHER_RECORD_CAP, success: expect.closeTo(1 / (1 + PUBLISHER_RECORD_CAP), 12)},
    })
  })

  it('so does one packet with a huge count', () => {
    const honest = served(packet(B, {outcome: 1, confidence: 1, timestamp: NOW - 5000}))
    const heavy = served(packet(A, {outcome: 0, confidence: 1, timestamp: NOW - 1000, count: 100_000}))
    expect(weightOf([honest, heavy])).toBeCloseTo(1 / (1 + PUBLISHER_RECORD_CAP), 12)
  })

  it(`publishers first seen recently share at most NEW_PUBLISHER_SHARE (${NEW_PUBLISHER_SHARE}) of a key, however many`, () => {
    const honest = [A, B].map((p) => served(packet(p, {outcome: 1, confidence: 1, timestamp: NOW - 5000, count: 4})))
    const firstSeen = new Map([A, B].map((p) => [p.hex.slice(0, 16), NOW - NEW_PUBLISHER_AGE - 1]))
    for (const k of [1, 3, 10, 50]) {
      const sybils = Array.from({length: k}, (_, i) => served(packet(publisher(`sybil-${i}`), {outcome: 0, confidence: 1, timestamp: NOW + 3480, count: 16})))
      const w = synthesizeWeights([...honest, ...sybils], options({firstSeen})).weights.get(fp('k1'))!
      expect(w.newShare).toBeCloseTo(Math.min(NEW_PUBLISHER_SHARE, (16 * k) / (16 * k + 8)), 12)
      expect(w.newShare).toBeLessThanOrEqual(NEW_PUBLISHER_SHARE + 1e-12)
      expect(1 - w.evidence.success).toBeCloseTo(w.newShare, 12)
    }
    // Without established publishers under the key, nobody is discounted.
    const alone = synthesizeWeights([served(packet(C, {outcome: 0, confidence: 1, timestamp: NOW - 10}))], options({firstSeen})).weights.get(fp('k1'))!
    expect(alone).toMatchObject({newShare: 1, evidence: {mass: 1}})
  })

  it('own evidence sits beside the newcomer bound: it neither bounds new peers nor is bounded, and the bound among peers still holds', () => {
    const own = [{key: fp('k1'), bytes: packet(ME, {outcome: 1, confidence: 1, timestamp: NOW - 100, count: 16})}]
    const sybils = Array.from({length: 10}, (_, i) => served(packet(publisher(`sybil-${i}`), {outcome: 0, confidence: 1, timestamp: NOW - 10, count: 16})))
    // Beside its own record alone, a node's first peers are not held down (as without own evidence).
    const fresh = synthesizeWeights(sybils, options({firstSeen: new Map(), own})).weights.get(fp('k1'))!
    expect(fresh.evidence.mass).toBeCloseTo(16 + 160, 12)
    // With an established peer, all new identities together hold at most NEW_PUBLISHER_SHARE of the peers' mass.
    const honest = served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 5000, count: 16}))
    const w = synthesizeWeights([honest, ...sybils], options({firstSeen: new Map([[A.hex.slice(0, 16), NOW - NEW_PUBLISHER_AGE - 1]]), own})).weights.get(fp('k1'))!
    const sybilMass = (NEW_PUBLISHER_SHARE / (1 - NEW_PUBLISHER_SHARE)) * 16
    expect(w.evidence.mass).toBeCloseTo(16 + 16 + sybilMass, 9)
    expect(w.evidence.success).toBeCloseTo(32 / (32 + sybilMass), 9)
  })

  it('fails on the timestamp-ordered EMA it replaces: 3 identities dated last held >= 60%', () => {
    // The synthesis before issue 21 folded publishers in order of their newest timestamp.
    const honest = [{publicKey: 'a', value: 1, lastTimestamp: NOW - 5000}, {publicKey: 'b', value: 1, lastTimestamp: NOW - 4000}]
    const attackers = [0, 1, 2].map((i) => ({publicKey: `s${i}`, value: 0, lastTimestamp: NOW + 3480}))
    const before = timestampOrderedWeight([...honest, ...attackers])!
    expect(1 - before).toBeGreaterThanOrEqual(0.6) // 1 - 0.7^3 = 0.657
    // The same five publishers now, each with one record and the attackers new: at most 20%.
    const packets = [
      ...[A, B].map((p) => served(packet(p, {outcome: 1, confidence: 1, timestamp: NOW - 5000}))),
      ...[0, 1, 2].map((i) => served(packet(publisher(`s${i}`), {outcome: 0, confidence: 1, timestamp: NOW + 3480}))),
    ]
    const firstSeen = new Map([A, B].map((p) => [p.hex.slice(0, 16), NOW - 30 * 86400]))
    expect(1 - weightOf(packets, {firstSeen})!).toBeLessThanOrEqual(NEW_PUBLISHER_SHARE + 1e-12)
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
