import fc from 'fast-check'
import {describe, expect, it} from 'vitest'

import {
  MAX_PACKET_BYTES,
  PacketEncodeError,
  checkLabel,
  decodePacket,
  encodePacket,
  normaliseBody,
  semanticFingerprint,
  signerFromSeed,
  toLabel,
  type PacketBody,
} from '../../src/packet/index.js'

const signer = signerFromSeed(new Uint8Array(32).fill(3))
const NOW = 1_800_000_000

const label = (max: number) => fc.stringMatching(new RegExp(`^[a-z0-9._:-]{1,${max}}$`))
const permille = fc.integer({min: 0, max: 1000}).map((n) => n / 1000)

const bodyArb: fc.Arbitrary<PacketBody> = fc
  .record({
    scheme: label(40),
    domain_tag: label(64),
    query_semantic_hash: fc.uint8Array({minLength: 4, maxLength: 16}).map((b) => Buffer.from(b).toString('hex')),
    routing_keys: fc.uniqueArray(label(16), {maxLength: 8}),
    outcome_signal: permille,
    confidence_at_inference: permille,
    model_variant: label(48),
    correction_applied: fc.boolean(),
    correction_type: fc.option(label(24), {nil: null}),
    timestamp: fc.integer({min: NOW - 3600 * 24 * 30, max: NOW}),
    ttl_hours: fc.integer({min: 24 * 31, max: 8760}),
    count: fc.integer({min: 1, max: 0xffffffff}),
    outcome_epsilon: fc.option(fc.integer({min: 1, max: 1_000_000}).map((n) => n / 100), {nil: null}),
  })
  .map((b) => ({...b, correction_type: b.correction_applied ? b.correction_type : null}))

/** Encodes, or undefined when the random body is legitimately over 512 bytes. */
function tryEncode(body: PacketBody): Uint8Array | undefined {
  try {
    return encodePacket(body, signer)
  } catch (err) {
    if (err instanceof PacketEncodeError && err.error.code === 'TOO_LARGE') return undefined
    throw err
  }
}

const reference: PacketBody = {
  scheme: 'use-lite.example.v1',
  domain_tag: 'clinical.oncology',
  query_semantic_hash: 'a3f7c9d1b2e4',
  outcome_signal: 0.91,
  confidence_at_inference: 0.84,
  model_variant: 'llama3-70b-instruct',
  correction_applied: false,
  timestamp: NOW - 60,
  routing_keys: ['k:1', 'k:2'],
}

describe('packet codec', () => {
  it('names non-minimal integer and length headers MALFORMED and a float for an integer NOT_CANONICAL, as docs/protocol.md says (issue 21 item 13)', () => {
    const buf = Buffer.from(encodePacket({...reference, ttl_hours: 10}, signer))
    const code = (b: Buffer) => {
      const r = decodePacket(b, {now: NOW})
      return r.ok ? 'ok' : r.error.code
    }
    // The body array (0x8d, 13 elements) starts with version 1: as 0x18 0x01 it takes two bytes.
    const v = buf.indexOf(Buffer.from([0x8d, 0x01]))
    expect(code(Buffer.concat([buf.subarray(0, v + 1), Buffer.from([0x18, 0x01]), buf.subarray(v + 2)]))).toBe('MALFORMED')
    // The scheme's text header (0x73 = 19 chars) written with a one-byte length argument.
    const t = buf.indexOf(Buffer.from([0x73, ...Buffer.from('use-lite')]))
    expect(code(Buffer.concat([buf.subarray(0, t), Buffer.from([0x78, 19]), buf.subarray(t + 1)]))).toBe('MALFORMED')
    // ttl_hours 10 then count 1, then the public key's byte-string header: 10 as a half float.
    const f = buf.indexOf(Buffer.from([0x0a, 0x01, 0x58]))
    expect(code(Buffer.concat([buf.subarray(0, f), Buffer.from([0xf9, 0x49, 0x00]), buf.subarray(f + 1)]))).toBe('NOT_CANONICAL')
  })

  it('encodes the reference example well under 512 bytes and decodes it exactly', () => {
    const bytes = encodePacket(reference, signer)
    expect(bytes.length).toBeLessThan(256)
    const result = decodePacket(bytes, {now: NOW})
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.packet).toMatchObject({...normaliseBody(reference), public_key: Buffer.from(signer.publicKey).toString('hex')})
    expect(result.info.signatureValid).toBe(true)
    expect(result.info.fingerprint).toBe(semanticFingerprint(reference.scheme, reference.domain_tag, reference.query_semantic_hash))
    expect(result.info.expiresAt).toBe(reference.timestamp + 168 * 3600)
  })

  it('round-trips random valid packets exactly', () => {
    fc.assert(
      fc.property(bodyArb, (body) => {
        const bytes = tryEncode(body)
        if (!bytes) return
        expect(bytes.length).toBeLessThanOrEqual(MAX_PACKET_BYTES)
        const result = decodePacket(bytes, {now: NOW})
        expect(result.ok).toBe(true)
        if (result.ok) {
          const {public_key, signature, ...fields} = result.packet
          expect(fields).toEqual(normaliseBody(body))
          expect(public_key).toHaveLength(64)
          expect(signature).toHaveLength(128)
        }
      }),
      {numRuns: 300},
    )
  })

  it('catches any single flipped byte', () => {
    fc.assert(
      fc.property(bodyArb, fc.nat(), fc.integer({min: 1, max: 255}), (body, at, mask) => {
        const bytes = tryEncode(body)
        if (!bytes) return
        const tampered = new Uint8Array(bytes)
        tampered[at % tampered.length] ^= mask
        const result = decodePacket(tampered, {now: NOW})
        expect(result.ok).toBe(false)
      }),
      {numRuns: 500},
    )
  })

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 700}), (bytes) => {
        const result = decodePacket(bytes)
        expect(result.ok).toBe(false)
        if (!result.ok) expect(typeof result.error.message).toBe('string')
      }),
      {numRuns: 2000},
    )
  })

  it('enforces 512 bytes on encode and decode', () => {
    const big: PacketBody = {
      ...reference,
      scheme: 's'.repeat(40),
      domain_tag: 'd'.repeat(64),
      model_variant: 'm'.repeat(48),
      correction_applied: true,
      correction_type: 'c'.repeat(24),
      query_semantic_hash: 'ab'.repeat(16),
      routing_keys: Array.from({length: 8}, (_, i) => `${i}`.padEnd(16, 'k')),
    }
    // The largest legal packet still fits: limits were chosen so that it does.
    const largest = encodePacket(big, signer)
    expect(largest.length).toBeLessThanOrEqual(MAX_PACKET_BYTES)
    const oversized = new Uint8Array(MAX_PACKET_BYTES + 1)
    oversized.set(largest)
    const result = decodePacket(oversized)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error.code).toBe('TOO_LARGE')
    // Trailing bytes within the limit are refused too (not canonical / malformed).
    const trailing = new Uint8Array(largest.length + 1)
    trailing.set(largest)
    expect(decodePacket(trailing).ok).toBe(false)
  })

  it('reports expiry, future timestamps and bad signatures with typed errors', () => {
    const bytes = encodePacket(reference, signer)
    const later = decodePacket(bytes, {now: reference.timestamp + 169 * 3600})
    expect(later.ok).toBe(false)
    if (!later.ok) {
      expect(later.error.code).toBe('EXPIRED')
      expect(later.packet?.domain_tag).toBe('clinical.oncology')
    }
    expect(decodePacket(bytes, {now: reference.timestamp + 169 * 3600, allowExpired: true}).ok).toBe(true)
    const early = decodePacket(bytes, {now: reference.timestamp - 7200})
    expect(!early.ok && early.error.code).toBe('FUTURE_TIMESTAMP')
    // Re-sign with another key but keep the first key in the packet: signature must fail.
    const other = signerFromSeed(new Uint8Array(32).fill(9))
    const forged = encodePacket(reference, {publicKey: signer.publicKey, sign: other.sign})
    const r = decodePacket(forged, {now: NOW})
    expect(!r.ok && r.error.code).toBe('BAD_SIGNATURE')
  })

  it('writes version 1 without outcome_epsilon (nodes that know only v1 keep every such packet) and version 2 with it', () => {
    const plain = encodePacket(reference, signer)
    const r1 = decodePacket(plain, {now: NOW})
    expect(r1.ok && [r1.packet.version, r1.packet.outcome_epsilon]).toEqual([1, null])
    // The 13-element body (0x8d) starting with version 1, as before the field existed.
    expect(Buffer.from(plain).indexOf(Buffer.from([0x8d, 0x01]))).toBeGreaterThan(0)
    const noisy = encodePacket({...reference, outcome_signal: 1, outcome_epsilon: 1.234}, signer)
    const r2 = decodePacket(noisy, {now: NOW})
    expect(r2.ok && [r2.packet.version, r2.packet.outcome_epsilon]).toEqual([2, 1.23])
    expect(Buffer.from(noisy).indexOf(Buffer.from([0x8e, 0x02]))).toBeGreaterThan(0)
    expect(noisy.length - plain.length).toBeLessThanOrEqual(4)
  })

  it('refuses a body whose length does not match its version, and names unknown versions', async () => {
    const {encode} = await import('cborg')
    const body = (version: number, extra: unknown[]) => [version, 's', 'd', Buffer.from('a3f7c9d1', 'hex'), [], 500, 500, 'm', false, null, NOW - 60, 168, 1, ...extra]
    const packet = (b: unknown[]) => encode([b, new Uint8Array(32), new Uint8Array(64)])
    const code = (b: unknown[]) => {
      const r = decodePacket(packet(b), {now: NOW})
      return r.ok ? 'ok' : r.error.code
    }
    expect(code(body(1, [100]))).toBe('MALFORMED')
    expect(code(body(2, []))).toBe('MALFORMED')
    expect(code(body(2, [0]))).toBe('INVALID_FIELD')
    expect(code(body(2, [1.5]))).toBe('INVALID_FIELD')
    const r = decodePacket(packet(body(3, [1, 2])), {now: NOW})
    expect(!r.ok && [r.error.code, r.error.message]).toEqual(['UNSUPPORTED_VERSION', 'packet version 3 is not supported (this qis reads versions 1 and 2)'])
  })

  it('validates ranges on encode with a typed error', () => {
    for (const [patch, field] of [
      [{outcome_signal: 1.2}, 'outcome_signal'],
      [{confidence_at_inference: -0.1}, 'confidence_at_inference'],
      [{ttl_hours: 0}, 'ttl_hours'],
      [{query_semantic_hash: 'xyz'}, 'query_semantic_hash'],
      [{correction_type: 'factual'}, 'correction_type'],
      [{routing_keys: ['a', 'a']}, 'routing_keys'],
      [{count: 0}, 'count'],
      [{outcome_epsilon: 0.001}, 'outcome_epsilon'],
      [{outcome_epsilon: 20_000}, 'outcome_epsilon'],
    ] as const) {
      try {
        encodePacket({...reference, ...patch} as PacketBody, signer)
        expect.unreachable(`${field} should be refused`)
      } catch (err) {
        expect(err).toBeInstanceOf(PacketEncodeError)
        expect((err as PacketEncodeError).error.field).toBe(field)
      }
    }
  })
})

describe('text field rules', () => {
  it('accepts labels and refuses free text', () => {
    expect(checkLabel('domain_tag', 'clinical.oncology')).toBeUndefined()
    expect(checkLabel('domain_tag', "Dr Smith's ward")).toMatch(/only lowercase/)
    expect(checkLabel('domain_tag', 'clinical oncology')).toMatch(/" "/)
    expect(checkLabel('domain_tag', 'x'.repeat(65))).toMatch(/at most 64/)
    expect(checkLabel('domain_tag', '')).toMatch(/empty/)
    expect(checkLabel('model_variant', 'llama3-70b-instruct')).toBeUndefined()
    expect(checkLabel('correction_type', 'fäctual')).toMatch(/only lowercase/)
  })

  it('refuses any character outside the allowlist, in every text field', () => {
    fc.assert(
      fc.property(fc.constantFrom('domain_tag', 'model_variant', 'correction_type', 'scheme', 'routing_key' as const), fc.string({minLength: 1, maxLength: 10}), (field, s) => {
        const ok = /^[a-z0-9._:-]+$/.test(s)
        expect(checkLabel(field, s) === undefined).toBe(ok)
      }),
    )
  })

  it('packets cannot be built with free text', () => {
    expect(() => encodePacket({...reference, domain_tag: "Dr Smith's ward"}, signer)).toThrow(/domain_tag may contain only/)
  })

  it('turns log labels into valid ones or gives up', () => {
    expect(toLabel('domain_tag', 'Clinical Oncology')).toBe('clinical_oncology')
    expect(toLabel('domain_tag', 'légal/contracts')).toBe('legal_contracts')
    expect(toLabel('domain_tag', '!!!')).toBeUndefined()
    expect(toLabel('domain_tag', 'x'.repeat(80))).toBeUndefined()
  })
})
