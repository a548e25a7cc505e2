import path from 'node:path'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {DOMAIN_PRIOR_STRENGTH, VARIANT_DOMAIN_STRENGTH, adjustmentFor} from '../../src/weights/adjustment.js'
import {adjustConfidence, createAdjuster, type QueryHasher} from '../../src/weights/adjust.js'
import {type WeightsFile, readWeightsFile, validateWeightsFile, writeWeightsFile} from '../../src/weights/file.js'
import type {KeyWeight} from '../../src/weights/synthesize.js'
import {tempDir} from '../helpers/cli.js'
import {decodePacket} from '../../src/packet/codec.js'
import {DOMAIN_SUMMARY_HASH, summaryRoutingKey, summaryShard} from '../../src/packet/summary.js'
import {summaryKeys} from '../../src/weights/local.js'
import {synthesizeWeights} from '../../src/weights/synthesize.js'
import {DOMAIN, NOW, SCHEME, asked, fp, hashWithBits, packet, publisher} from './fixtures.js'

/** Publisher i's id; keys built with the same count share publishers 0..n-1. */
const pid = (i: number) => (i + 1).toString(16).padStart(16, '0')

const entry = (routingKey: string, weight: number, publishers: number, packets = publishers): KeyWeight => ({
  weight,
  packets,
  publishers,
  publisherIds: Array.from({length: publishers}, (_, i) => pid(i)),
  records: packets,
  lastTimestamp: 1_764_000_000,
  domain: DOMAIN,
  routingKey,
  evidence: {mass: packets, success: Math.max(0, weight), confidence: 0.5, publishers},
  variants: {'llama3-8b-instruct': {mass: packets, success: Math.max(0, weight), confidence: 0.5, publishers}},
  queries: [],
  newShare: 0,
})

function weightsFile(entries: KeyWeight[], scheme = SCHEME): WeightsFile {
  return {
    version: 2,
    scheme,
    generatedAt: '2026-11-26T03:00:00.000Z',
    hammingThreshold: 22,
    weights: Object.fromEntries(entries.map((e) => [fp(e.routingKey, e.domain, scheme), e])),
  }
}

describe('adjustmentFor', () => {
  it('is the reference clamp(weight - 0.5, -0.3, 0.3) for one key', () => {
    const w = weightsFile([entry('k1', 0.61, 3, 12)])
    const reference = {rule: 'reference'} as const
    expect(adjustmentFor(w, [fp('k1')], reference)).toMatchObject({adjustment: expect.closeTo(0.11, 12), weight: 0.61, keysMatched: 1, packets: 12, publishers: 3})
    expect(adjustmentFor(weightsFile([entry('k1', 0.95, 1)]), [fp('k1')], reference).adjustment).toBeCloseTo(0.3, 12)
    expect(adjustmentFor(weightsFile([entry('k1', -0.1, 1)]), [fp('k1')], reference).adjustment).toBeCloseTo(-0.3, 12)
  })

  it('is 0 when nothing is known', () => {
    for (const rule of ['reference', 'calibrated'] as const) {
      expect(adjustmentFor(weightsFile([entry('k1', 0.9, 2)]), [fp('k2'), fp('k3')], {rule, confidence: 0.42})).toEqual({
        rule,
        adjustment: 0,
        probability: 0.42,
        confidence: 0.42,
        model: null,
        modelEvidence: false,
        weight: null,
        keysMatched: 0,
        keysLookedUp: 2,
        packets: 0,
        publishers: 0,
        evidence: null,
        closeEvidence: null,
        domainEvidence: null,
        domainFrom: null,
        variants: [],
        bestVariants: [],
        worstVariants: [],
        matched: [],
      })
    }
  })

  it('combines several keys as a publisher-weighted mean, not a packet-weighted one', () => {
    // k1: 1 publisher with 100 packets at 0.2; k2: 3 publishers with 3 packets at 0.8.
    const w = weightsFile([entry('k1', 0.2, 1, 100), entry('k2', 0.8, 3, 3)])
    const r = adjustmentFor(w, [fp('k1'), fp('k2'), fp('k1'), fp('k9')], {rule: 'reference'})
    // (0.2 x 1 + 0.8 x 3) / 4 = 0.65
    expect(r.weight).toBeCloseTo(0.65, 12)
    expect(r.adjustment).toBeCloseTo(0.15, 12)
    // k1's one publisher is also one of k2's three: 3 distinct publishers, packets summed per key.
    expect(r).toMatchObject({keysMatched: 2, keysLookedUp: 3, packets: 103, publishers: 3})
  })

  it('does not match inherited object properties', () => {
    expect(adjustmentFor(weightsFile([]), ['constructor', '__proto__']).keysMatched).toBe(0)
  })
})

describe('adjustmentFor: the calibrated rule', () => {
  /** One key whose evidence is `mass` records at `success`, from peers who expected `peerConfidence`. */
  const one = (mass: number, success: number, peerConfidence: number, variants: Record<string, {mass: number; success: number; confidence: number}> = {}) => {
    const e = entry('k1', 0.5, 2, 10)
    e.evidence = {mass, success, confidence: peerConfidence, publishers: 2}
    e.variants = Object.fromEntries(Object.entries(variants).map(([m, v]) => [m, {...v, publishers: 1}]))
    return weightsFile([e])
  }
  const p = (w: WeightsFile, confidence: number, model?: string) => adjustmentFor(w, [fp('k1')], {confidence, model}).probability
  const unit = fc.double({min: 0, max: 1, noNaN: true})
  const mass = fc.double({min: 0.001, max: 500, noNaN: true})

  it('never leaves [0, 1], and adjustment = probability - confidence', () => {
    fc.assert(
      fc.property(mass, unit, unit, unit, (m, s, pc, c) => {
        const r = adjustmentFor(one(m, s, pc), [fp('k1')], {confidence: c})
        expect(r.probability).toBeGreaterThanOrEqual(0)
        expect(r.probability).toBeLessThanOrEqual(1)
        expect(r.adjustment).toBeCloseTo(r.probability - c, 12)
      }),
    )
  })

  it('shrinks to the confidence as evidence vanishes, and is the confidence with none', () => {
    fc.assert(
      fc.property(unit, unit, unit, (s, pc, c) => {
        expect(Math.abs(p(one(1e-9, s, pc), c) - c)).toBeLessThan(1e-6)
      }),
    )
    expect(adjustmentFor(one(5, 1, 0.5), [fp('k9')], {confidence: 0.3})).toMatchObject({probability: 0.3, adjustment: 0})
    // Peers that did exactly as they expected move nothing.
    expect(p(one(40, 0.7, 0.7), 0.3)).toBeCloseTo(0.3, 12)
  })

  it('is monotone in evidence: a higher success rate, or one more success, never lowers the estimate', () => {
    fc.assert(
      fc.property(mass, unit, unit, unit, unit, (m, s1, s2, pc, c) => {
        const [lo, hi] = s1 <= s2 ? [s1, s2] : [s2, s1]
        expect(p(one(m, hi, pc), c)).toBeGreaterThanOrEqual(p(one(m, lo, pc), c) - 1e-12)
        // One more record that succeeded / failed.
        const up = one(m + 1, (m * lo + 1) / (m + 1), (m * pc + pc) / (m + 1))
        const down = one(m + 1, (m * lo) / (m + 1), (m * pc + pc) / (m + 1))
        expect(p(up, c)).toBeGreaterThanOrEqual(p(one(m, lo, pc), c) - 1e-12)
        expect(p(down, c)).toBeLessThanOrEqual(p(one(m, lo, pc), c) + 1e-12)
      }),
    )
  })

  it('moves further with more evidence of the same surprise, and its sign is the surprise\'s', () => {
    const c = 0.4
    const moves = [1, 4, 16, 64, 256].map((m) => p(one(m, 0.9, 0.6), c) - c)
    for (let i = 1; i < moves.length; i++) expect(moves[i]).toBeGreaterThan(moves[i - 1])
    expect(moves[0]).toBeGreaterThan(0)
    expect(p(one(16, 0.2, 0.6), c)).toBeLessThan(c)
    // Even from a confidence of 1 or 0, evidence moves the estimate its own way.
    expect(p(one(16, 0.2, 0.6), 1)).toBeLessThan(1)
    expect(p(one(16, 0.9, 0.6), 0)).toBeGreaterThan(0)
  })

  it('uses the model\'s own evidence where peers have it, and estimates every candidate', () => {
    const w = one(24, 0.5, 0.5, {'llama-3-70b': {mass: 12, success: 0.9, confidence: 0.5}, 'mistral-7b': {mass: 12, success: 0.1, confidence: 0.5}})
    // The same question (hash) was answered by both models: those records count fully.
    w.weights[fp('k1')].queries = [
      {hash: '00000000000000ff', model: 'llama-3-70b', mass: 12, success: 0.9, confidence: 0.5, publishers: 1},
      {hash: '00000000000000ff', model: 'mistral-7b', mass: 12, success: 0.1, confidence: 0.5, publishers: 1},
    ]
    const queryHash = '00000000000000fe'
    const strong = adjustmentFor(w, [fp('k1')], {confidence: 0.5, model: 'llama-3-70b', candidates: ['llama-3-70b', 'mistral-7b', 'gpt-x'], queryHash})
    const weak = adjustmentFor(w, [fp('k1')], {confidence: 0.5, model: 'mistral-7b', queryHash})
    // Without the query's hash (or far from it) the same records count REGION_WEIGHT each: a smaller move.
    const regionOnly = adjustmentFor(w, [fp('k1')], {confidence: 0.5, model: 'llama-3-70b', queryHash: 'ffff0000000000ff'})
    expect(regionOnly.probability).toBeGreaterThan(0.5)
    expect(regionOnly.probability).toBeLessThan(strong.probability)
    expect(strong.closeEvidence).toMatchObject({mass: 24, success: expect.closeTo(0.5, 12)})
    expect(regionOnly.closeEvidence).toBeNull()
    expect(strong.modelEvidence).toBe(true)
    expect(strong.probability).toBeGreaterThan(0.6)
    expect(weak.probability).toBeLessThan(0.4)
    expect(strong.bestVariants.map((v) => v.model)).toEqual(['llama-3-70b'])
    expect(strong.worstVariants.map((v) => v.model)).toEqual(['mistral-7b'])
    expect(strong.candidates!['llama-3-70b']).toBeCloseTo(strong.probability, 12)
    expect(strong.candidates!['mistral-7b']).toBeCloseTo(weak.probability, 12)
    // No evidence of its own: the pooled shift (none here) applied to the confidence.
    expect(strong.candidates!['gpt-x']).toBeCloseTo(0.5, 12)
    // Unknown model: pooled evidence.
    expect(adjustmentFor(w, [fp('k1')], {confidence: 0.5, model: 'gpt-x', queryHash})).toMatchObject({modelEvidence: false, probability: expect.closeTo(0.5, 12)})
  })
  it('counts a variant\'s record of this very question REPEAT_WEIGHT times, a merely close one once', () => {
    // One failure of llama-3-70b on a question: the same text (the same hash), or a close other question (6 bits away).
    const at = (hash: string) => {
      const w = one(24, 0.75, 0.75, {'llama-3-70b': {mass: 1, success: 0, confidence: 0.75}, 'mistral-7b': {mass: 23, success: 0.8, confidence: 0.75}})
      w.weights[fp('k1')].queries = [{hash, model: 'llama-3-70b', mass: 1, success: 0, confidence: 0.75, publishers: 1}]
      return w
    }
    const queryHash = '00000000000000ff'
    const ask = (w: WeightsFile, extra: object = {}) => adjustmentFor(w, [fp('k1')], {confidence: 0.75, model: 'llama-3-70b', candidates: ['llama-3-70b', 'mistral-7b'], queryHash, ...extra})
    const repeat = ask(at(queryHash))
    const close = ask(at('00000000000000c0'))
    expect(repeat.probability).toBeLessThan(close.probability - 0.1)
    // Halfway: prior and the one repeated record weigh the same (REPEAT_WEIGHT = PRIOR_STRENGTH).
    expect(repeat.candidates!['llama-3-70b']).toBeLessThan(0.5)
    expect(repeat.candidates!['mistral-7b']).toBeGreaterThan(repeat.candidates!['llama-3-70b'])
    // With repeatWeight 1 a repeat is just another close record.
    expect(ask(at(queryHash), {repeatWeight: 1}).probability).toBeCloseTo(close.probability, 12)
    // One bit away is another text: close, not a repeat.
    expect(ask(at('00000000000000fe')).probability).toBeCloseTo(ask(at('00000000000000fe'), {repeatWeight: 1}).probability, 12)
    expect(() => ask(at(queryHash), {repeatWeight: 0})).toThrow(/repeatWeight/)
  })
})

describe('adjustmentFor: the domain layer', () => {
  /** Key `rk` in `domain` whose peers succeeded at `success` where they expected 0.6 (variant `model`). */
  const keyIn = (rk: string, domain: string, success: number, model = 'mistral-7b', mass = 16): KeyWeight => ({
    ...entry(rk, success, 1, mass),
    domain,
    evidence: {mass, success, confidence: 0.6, publishers: 1},
    variants: {[model]: {mass, success, confidence: 0.6, publishers: 1}},
  })
  // Twenty keys of clinical.oncology where peers did far worse than they expected, and one of law where they did as expected.
  const w = weightsFile([...Array.from({length: 20}, (_, i) => keyIn(`o${i}`, DOMAIN, 0.2)), keyIn('l0', 'law.contracts', 0.6)])
  const newKey = fp('unseen')

  it('moves a query under keys peers never saw by what peers saw in its domain, and only with the domain given', () => {
    const withDomain = adjustmentFor(w, [newKey], {confidence: 0.6, domain: DOMAIN})
    expect(withDomain.keysMatched).toBe(0)
    expect(withDomain.probability).toBeLessThan(0.5)
    expect(withDomain.domainEvidence).toMatchObject({mass: 320, success: expect.closeTo(0.2, 12)})
    expect(adjustmentFor(w, [newKey], {confidence: 0.6})).toMatchObject({probability: 0.6, domainEvidence: null})
    // Another domain's evidence says nothing about this one.
    expect(adjustmentFor(w, [fp('unseen', 'law.contracts')], {confidence: 0.6, domain: 'law.contracts'}).probability).toBeCloseTo(0.6, 12)
    expect(adjustmentFor(w, [newKey], {confidence: 0.6, domain: 'no.such.domain'}).probability).toBe(0.6)
  })

  it('shrinks the domain towards none by its prior strength, and lets the keys\' own evidence refine it', () => {
    const moves = [1, 64, 4096].map((k) => adjustmentFor(w, [newKey], {confidence: 0.6, domain: DOMAIN, domainPriorStrength: k}).adjustment)
    expect(moves[0]).toBeLessThan(moves[1])
    expect(moves[1]).toBeLessThan(moves[2])
    expect(moves[2]).toBeLessThan(0)
    // A key of this query where peers did better than expected pulls the estimate back up.
    const good = weightsFile([...Object.values(w.weights), keyIn('mine', DOMAIN, 0.95)])
    const domainOnly = adjustmentFor(good, [newKey], {confidence: 0.6, domain: DOMAIN}).probability
    const withKey = adjustmentFor(good, [fp('mine')], {confidence: 0.6, domain: DOMAIN}).probability
    expect(withKey).toBeGreaterThan(domainOnly)
    // The domain layer can come from another object than the query's own keys (live lookup).
    const onlyMine = weightsFile([keyIn('mine', DOMAIN, 0.95)])
    expect(adjustmentFor(onlyMine, [fp('mine')], {confidence: 0.6, domain: DOMAIN, domainSource: good}).probability).toBeCloseTo(withKey, 12)
  })

  it('counts a record once however many of the domain\'s keys it is filed under, a live lookup\'s keys included', () => {
    const record = (hash: string, success: number) => ({hash, model: 'mistral-7b', mass: 1, success, confidence: 0.6, publishers: 1})
    // One failed record under eight keys (a packet's routing keys), and one success under one key.
    const keys = Array.from({length: 8}, (_, i) => ({...keyIn(`r${i}`, DOMAIN, 0, 'mistral-7b', 1), queries: [record('00000000000000aa', 0)]}))
    const other = {...keyIn('s0', DOMAIN, 1, 'mistral-7b', 1), queries: [record('00000000000000bb', 1)]}
    const file = weightsFile([...keys, other])
    expect(adjustmentFor(file, [newKey], {confidence: 0.6, domain: DOMAIN}).domainEvidence).toMatchObject({mass: 2, success: 0.5})
    // The same failure met again under a key the file lacks (live lookup) is still one record; a new one adds.
    const live = weightsFile([{...keyIn('live', DOMAIN, 0, 'mistral-7b', 1), queries: [record('00000000000000aa', 0), record('00000000000000cc', 0)]}])
    const r = adjustmentFor(live, [fp('live')], {confidence: 0.6, domain: DOMAIN, domainSource: file})
    expect(r.domainEvidence).toMatchObject({mass: 3, success: expect.closeTo(1 / 3, 12)})
  })

  it('estimates a candidate from its own record in the domain, shrunk towards the other variants\'', () => {
    const mixed = weightsFile([
      ...Array.from({length: 10}, (_, i) => keyIn(`a${i}`, DOMAIN, 0.9, 'llama-3-70b')),
      ...Array.from({length: 10}, (_, i) => keyIn(`b${i}`, DOMAIN, 0.3, 'mistral-7b')),
    ])
    const r = adjustmentFor(mixed, [newKey], {confidence: 0.6, domain: DOMAIN, candidates: {'llama-3-70b': 0.6, 'mistral-7b': 0.6}, domainPriorStrength: 16})
    expect(r.candidates!['llama-3-70b']).toBeGreaterThan(0.6)
    expect(r.candidates!['mistral-7b']).toBeLessThan(0.6)
  })
})

describe('adjustmentFor: the domain layer with domain summaries', () => {
  // Publishers with different summary shards, so their summaries sit under different keys.
  const A = publisher('a')
  const others = Array.from({length: 40}, (_, i) => publisher(`other-${i}`))
  const B = others.find((p) => summaryShard(p.publicKey) !== summaryShard(A.publicKey))!
  const shardOf = (p: typeof A) => summaryRoutingKey(summaryShard(p.publicKey))
  const summary = (p: typeof A, count: number, outcome: number, confidence = 0.6) =>
    packet(p, {outcome, confidence, count, timestamp: NOW - 600, hash: DOMAIN_SUMMARY_HASH, keys: [shardOf(p)]})
  const record = (p: typeof A, outcome: number, i: number) => packet(p, {outcome, confidence: 0.6, timestamp: NOW - 600 - i, keys: ['k1', 'k2'], hash: hashWithBits(i % 4)})
  /** The weights a pull would write from `packets` for `queryKeys` (default k1, k2) and the domain's summary keys. */
  const synthesise = (packets: Uint8Array[], queryKeys = ['k1', 'k2']): WeightsFile => {
    const keys = [...queryKeys.map((k) => asked(k, null)), ...summaryKeys(SCHEME, DOMAIN)]
    const received = packets.flatMap((bytes) => {
      const d = decodePacket(bytes, {now: NOW})
      return d.ok ? d.packet.routing_keys.map((rk) => ({key: fp(rk), bytes})) : []
    })
    const r = synthesizeWeights(received, {scheme: SCHEME, ownPublicKey: '00'.repeat(32), keys, now: NOW})
    return {version: 2, scheme: SCHEME, generatedAt: new Date(NOW * 1000).toISOString(), hammingThreshold: 18, weights: Object.fromEntries(r.weights)}
  }
  const newKey = fp('unseen')
  // A's 6 records (2 right) under the keys; its summary says 40 records at 0.25; B's summary 10 at 0.9.
  const records = Array.from({length: 6}, (_, i) => record(A, i < 2 ? 1 : 0, i))

  it('counts each publisher-variant once: its records and its summary say what its summary alone says', () => {
    const both = synthesise([...records, summary(A, 40, 0.25)])
    const alone = synthesise([summary(A, 40, 0.25)])
    const a = adjustmentFor(both, [newKey], {confidence: 0.6, domain: DOMAIN})
    const b = adjustmentFor(alone, [newKey], {confidence: 0.6, domain: DOMAIN})
    expect(a.domainEvidence).toEqual(b.domainEvidence)
    expect(a.domainEvidence).toMatchObject({mass: 40, success: expect.closeTo(0.25, 12)})
    expect(a.domainFrom).toBe('summaries')
    expect(a.probability).toBeCloseTo(b.probability, 12)
    // Summaries of publishers in different shards add up; the records under the keys still refine the estimate for their queries.
    const two = adjustmentFor(synthesise([...records, summary(A, 40, 0.25), summary(B, 10, 0.9)]), [newKey], {confidence: 0.6, domain: DOMAIN})
    expect(two.domainEvidence).toMatchObject({mass: 50, success: expect.closeTo((40 * 0.25 + 10 * 0.9) / 50, 12)})
    expect(adjustmentFor(both, [fp('k1')], {confidence: 0.6, domain: DOMAIN, queryHash: hashWithBits(0)}).evidence).toMatchObject({mass: 6, success: expect.closeTo(1 / 3, 12)})
  })

  it('without summaries the domain layer reads the records under the keys, as before', () => {
    const only = synthesise(records)
    expect(adjustmentFor(only, [newKey], {confidence: 0.6, domain: DOMAIN})).toMatchObject({domainEvidence: {mass: 6, success: expect.closeTo(1 / 3, 12)}, domainFrom: 'records'})
  })

  it('holds new identities to the newcomer share across the whole domain, not per shard key', () => {
    // A is established; ten fresh identities in every other shard say the opposite. Per shard key
    // no established publisher would be beside them there, so nothing would bound them.
    const fresh = others.filter((p) => summaryShard(p.publicKey) !== summaryShard(A.publicKey)).slice(0, 10)
    expect(new Set(fresh.map((p) => summaryShard(p.publicKey))).size).toBeGreaterThan(1)
    const keys = summaryKeys(SCHEME, DOMAIN)
    const packets = [summary(A, 64, 0.9), ...fresh.map((p) => summary(p, 64, 0, 1))]
    const received = packets.map((bytes) => ({key: fp(decodePacket(bytes, {now: NOW}).packet!.routing_keys[0]), bytes}))
    const firstSeen = Object.fromEntries([[A.hex.slice(0, 16), NOW - 30 * 86_400], ...fresh.map((p) => [p.hex.slice(0, 16), NOW - 60])])
    const r = synthesizeWeights(received, {scheme: SCHEME, ownPublicKey: '00'.repeat(32), keys, now: NOW, firstSeen})
    const file: WeightsFile = {version: 2, scheme: SCHEME, generatedAt: new Date(NOW * 1000).toISOString(), hammingThreshold: 18, weights: Object.fromEntries(r.weights)}
    const d = adjustmentFor(file, [newKey], {confidence: 0.6, domain: DOMAIN}).domainEvidence!
    // The new identities together hold NEW_PUBLISHER_SHARE (10%) of the domain's evidence: success 0.9 x 0.9 + 0 x 0.1.
    expect(d.mass).toBeCloseTo(64 / 0.9, 9)
    expect(d.success).toBeCloseTo(0.81, 9)
  })

  it('shrinks a variant\'s own record in a summarised domain with VARIANT_DOMAIN_STRENGTH, towards the others\' surprise', () => {
    // A's model right 10 of 10 in the domain; B's model as right as it expected (surprise 0).
    const file = synthesise([
      packet(A, {outcome: 1, confidence: 0.5, count: 10, timestamp: NOW - 600, hash: DOMAIN_SUMMARY_HASH, keys: [shardOf(A)], model: 'strong'}),
      packet(B, {outcome: 0.5, confidence: 0.5, count: 60, timestamp: NOW - 600, hash: DOMAIN_SUMMARY_HASH, keys: [shardOf(B)], model: 'other'}),
    ])
    const estimate = (o: {variantDomainStrength?: number} = {}) => adjustmentFor(file, [newKey], {confidence: 0.5, domain: DOMAIN, candidates: {strong: 0.5}, ...o}).candidates!.strong
    // The others' surprise is 0, so the prior is the confidence itself: (10 x 1 + KV x 0.5) / (10 + KV).
    expect(VARIANT_DOMAIN_STRENGTH).toBe(128)
    expect(estimate()).toBeCloseTo((10 + VARIANT_DOMAIN_STRENGTH * 0.5) / (10 + VARIANT_DOMAIN_STRENGTH), 12)
    expect(estimate({variantDomainStrength: DOMAIN_PRIOR_STRENGTH})).toBeCloseTo((10 + DOMAIN_PRIOR_STRENGTH * 0.5) / (10 + DOMAIN_PRIOR_STRENGTH), 12)
    expect(() => estimate({variantDomainStrength: 0})).toThrow(RangeError)
  })

  it('counts the records of a publisher that sent no summary, on keys no summarised publisher shares', () => {
    const C = others.find((p) => p !== B)!
    const cRecords = Array.from({length: 5}, (_, i) => packet(C, {outcome: 1, confidence: 0.6, timestamp: NOW - 700 - i, keys: ['k3'], hash: hashWithBits(i % 4)}))
    const pull = (packets: Uint8Array[]) => synthesise(packets, ['k1', 'k2', 'k3'])
    // A: 6 records under k1, k2 and a summary of 40 at 0.25; C: 5 right answers under k3 and no summary.
    const r = adjustmentFor(pull([...records, summary(A, 40, 0.25), ...cRecords]), [newKey], {confidence: 0.6, domain: DOMAIN})
    expect(r.domainFrom).toBe('summaries')
    expect(r.domainEvidence).toMatchObject({mass: 45, success: expect.closeTo((40 * 0.25 + 5) / 45, 12)})
    // C's records under a key A's records share are not split out: A's summary already holds A, and the file keeps no publisher per record.
    const shared = Array.from({length: 5}, (_, i) => packet(C, {outcome: 1, confidence: 0.6, timestamp: NOW - 800 - i, keys: ['k1'], hash: hashWithBits(i % 4)}))
    expect(adjustmentFor(pull([...records, summary(A, 40, 0.25), ...shared]), [newKey], {confidence: 0.6, domain: DOMAIN}).domainEvidence).toMatchObject({mass: 40})
    // The same through a live lookup: the file has A's summary, the lookup finds C's key.
    const live = adjustmentFor(pull(cRecords), [fp('k3')], {confidence: 0.6, domain: DOMAIN, domainSource: pull([summary(A, 40, 0.25)])})
    expect(live.domainFrom).toBe('summaries')
    expect(live.domainEvidence).toMatchObject({mass: 45, success: expect.closeTo((40 * 0.25 + 5) / 45, 12)})
  })

  it('a live lookup\'s keys add nothing to a domain that has summaries (the summaries already hold those publishers)', () => {
    const file = synthesise([summary(A, 40, 0.25)])
    const live = synthesise(records)
    const r = adjustmentFor(live, [fp('k1')], {confidence: 0.6, domain: DOMAIN, domainSource: file})
    expect(r.domainEvidence).toMatchObject({mass: 40, success: expect.closeTo(0.25, 12)})
  })
})

/** A hasher whose codes are fixed per (scrubbed) text, recording what it was given. */
function fakeHasher(codes: Record<string, string[]>) {
  const seen: string[] = []
  let closed = 0
  const pipeline: QueryHasher = {
    async hashMany(texts) {
      seen.push(...texts)
      return texts.map((t) => ({hash: '0000000000000000', keys: codes[t] ?? []}))
    },
    async close() {
      closed++
    },
  }
  return {pipeline, seen, closed: () => closed}
}

describe('createAdjuster', () => {
  it('scrubs the query before hashing, and looks its keys up under the domain', async () => {
    const file = path.join(tempDir(), 'weights.json')
    await writeWeightsFile(file, weightsFile([entry('k1', 0.7, 2), entry('k2', 0.4, 2)]))
    const hasher = fakeHasher({'scrubbed query': ['k1', 'k2', 'k3']})
    const scrubber = {scrub: (t: string) => ({text: t === 'Mail jane@example.com please' ? 'scrubbed query' : t})}
    const adjuster = await createAdjuster({weights: file, rule: 'reference', hasher: {pipeline: hasher.pipeline, scheme: SCHEME}, scrubber})
    const r = await adjuster.adjust('Mail jane@example.com please', DOMAIN)
    expect(hasher.seen).toEqual(['scrubbed query'])
    expect(r).toMatchObject({domain: DOMAIN, scheme: SCHEME, weight: expect.closeTo(0.55, 12), adjustment: expect.closeTo(0.05, 12), keysMatched: 2, keysLookedUp: 3})
    // Another domain has other fingerprints: nothing known there.
    expect((await adjuster.adjust('Mail jane@example.com please', 'legal')).adjustment).toBe(0)
    await expect(adjuster.adjust('  ', DOMAIN)).rejects.toThrow(/query is empty/)
    await expect(adjuster.adjust('x', 'Bad Domain')).rejects.toThrow(/domain "Bad Domain"/)
    // reload() picks up a new pull.
    await writeWeightsFile(file, weightsFile([entry('k1', 1, 2)]))
    await adjuster.reload()
    expect((await adjuster.adjust('Mail jane@example.com please', DOMAIN)).adjustment).toBeCloseTo(0.3, 12)
    await adjuster.close()
    expect(hasher.closed()).toBe(1)
  })

  it('refuses weights of another scheme, and a missing file, with what to do', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'weights.json')
    await writeWeightsFile(file, weightsFile([entry('k1', 0.7, 2)], 'other.v1'))
    const hasher = fakeHasher({})
    await expect(createAdjuster({weightsFile: file, hasher: {pipeline: hasher.pipeline, scheme: SCHEME}, scrubber: {scrub: (t) => ({text: t})}})).rejects.toThrow(
      /holds weights for scheme other\.v1, but queries here hash under scheme test\.cb16\.v1/,
    )
    expect(hasher.closed()).toBe(1)
    await expect(adjustConfidence('q', DOMAIN, {weightsFile: path.join(dir, 'none.json')})).rejects.toThrow(/no weights file at .*none\.json: run `qis pull-weights` first/)
  })
})

describe('weights file', () => {
  it('round-trips and names the bad field', async () => {
    const file = path.join(tempDir(), 'w.json')
    const w = weightsFile([entry('k1', 0.5, 1), entry('k2', 0.25, 2)])
    w.weights[fp('k1')].queries = [{hash: '00000000000000ff', model: 'llama3-8b-instruct', mass: 1, success: 0.5, confidence: 0.5, publishers: 1}]
    await writeWeightsFile(file, w)
    // Per-variant and per-query evidence survive the round trip.
    expect(await readWeightsFile(file)).toEqual(w)
    await writeWeightsFile(file, weightsFile([]))
    expect((await readWeightsFile(file)).weights).toEqual({})
    await writeWeightsFile(file, w)
    const badQuery = structuredClone(w) as unknown as {weights: Record<string, {queries: {hash: string}[]}>}
    badQuery.weights[fp('k1')].queries[0].hash = 'xyz'
    expect(() => validateWeightsFile(badQuery, 'w.json')).toThrow(`weights file w.json: weights["${fp('k1')}"].queries[0].hash: must be 16 lowercase hex characters`)
    const broken = structuredClone(w) as unknown as {weights: Record<string, {publishers: number}>}
    broken.weights[fp('k1')].publishers = 5
    expect(() => validateWeightsFile(broken, 'w.json')).toThrow(`weights file w.json: weights["${fp('k1')}"].publishers: cannot exceed packets`)
    expect(() => validateWeightsFile({...w, weights: {nothex: entry('k1', 0.5, 1)}}, 'w.json')).toThrow(/weights\["nothex"\]: key must be a 32-character/)
    expect(() => validateWeightsFile({...w, version: 3}, 'w.json')).toThrow(/field "version": must be 2/)
    expect(() => validateWeightsFile({...w, version: 1}, 'w.json')).toThrow(/field "version": is 1, written before per-model evidence .*run `qis pull-weights` to replace it/)
    const noEvidence = structuredClone(w) as unknown as {weights: Record<string, {evidence: {success: number}}>}
    noEvidence.weights[fp('k1')].evidence.success = 1.5
    expect(() => validateWeightsFile(noEvidence, 'w.json')).toThrow(`weights file w.json: weights["${fp('k1')}"].evidence.success: must be a number from 0 to 1`)
    const noIds = structuredClone(w) as unknown as {weights: Record<string, {publisherIds: string[]}>}
    noIds.weights[fp('k1')].publisherIds = ['xyz']
    expect(() => validateWeightsFile(noIds, 'w.json')).toThrow(/\.publisherIds: must list 1 publisher ids of 16 lowercase hex/)
  })
})
