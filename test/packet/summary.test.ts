import {describe, expect, it} from 'vitest'

import {renderInspect} from '../../src/commands/inspect/packet.js'
import {decodePacket, encodePacket} from '../../src/packet/codec.js'
import {inspectPacketBytes} from '../../src/packet/inspect.js'
import {keyFingerprint} from '../../src/packet/fingerprint.js'
import {
  DOMAIN_SUMMARY_HASH,
  DOMAIN_SUMMARY_SHARDS,
  isDomainSummary,
  isSummaryRoutingKey,
  summaryRoutingKey,
  summaryRoutingKeys,
  summaryShard,
} from '../../src/packet/summary.js'
import {checkLabel} from '../../src/packet/text.js'
import {NOW, publisher} from '../weights/fixtures.js'

describe('domain summary keys', () => {
  it('are eight reserved labels, domain:0 .. domain:7, that no codebook key can be', () => {
    expect(summaryRoutingKeys()).toEqual(['domain:0', 'domain:1', 'domain:2', 'domain:3', 'domain:4', 'domain:5', 'domain:6', 'domain:7'])
    expect(DOMAIN_SUMMARY_SHARDS).toBe(8)
    for (const rk of summaryRoutingKeys()) {
      expect(checkLabel('routing_key', rk)).toBeUndefined()
      expect(isSummaryRoutingKey(rk)).toBe(true)
    }
    for (const rk of ['domain:8', 'domain:01', 'domain:', 'domain', 'k1', 'c3a1', 'xdomain:1', 'domain:1x']) expect(isSummaryRoutingKey(rk)).toBe(false)
    expect(() => summaryRoutingKey(8)).toThrow(RangeError)
    expect(() => summaryRoutingKey(-1)).toThrow(RangeError)
  })

  it('a publisher has one shard, from its public key (raw bytes or hex alike), and publishers spread over all of them', () => {
    const a = publisher('a')
    expect(summaryShard(a.publicKey)).toBe(summaryShard(a.hex))
    expect(summaryShard(a.publicKey)).toBe(summaryShard(publisher('a').publicKey))
    const shards = new Set(Array.from({length: 200}, (_, i) => summaryShard(publisher(`p${i}`).publicKey)))
    expect([...shards].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    // Eight keys per domain, each its own DHT key.
    expect(new Set(summaryRoutingKeys().map((rk) => keyFingerprint('s.v1', 'legal', rk))).size).toBe(8)
  })
})

describe('a domain summary packet', () => {
  const a = publisher('a')
  const body = {
    scheme: 'use-lite.mmlu-anchors.v6',
    domain_tag: 'legal',
    query_semantic_hash: DOMAIN_SUMMARY_HASH,
    routing_keys: [summaryRoutingKey(summaryShard(a.publicKey))],
    outcome_signal: 0.625,
    confidence_at_inference: 0.7,
    model_variant: 'llama-3-8b',
    correction_applied: false,
    correction_type: null,
    timestamp: NOW - 3600,
    count: 40,
  }

  it('is an ordinary packet: the same codec, version 1, round trip exact', () => {
    const bytes = encodePacket(body, a)
    const d = decodePacket(bytes, {now: NOW})
    expect(d.ok).toBe(true)
    if (!d.ok) return
    expect(d.packet).toMatchObject({...body, version: 1, outcome_epsilon: null, ttl_hours: 168})
    expect(isDomainSummary(d.packet)).toBe(true)
    // Filed under a query key too, it is not a summary (a receiver refuses it under the summary key).
    expect(isDomainSummary({routing_keys: [...body.routing_keys, 'k1']})).toBe(false)
    expect(isDomainSummary({routing_keys: ['k1']})).toBe(false)
  })

  it('inspect says what it is', () => {
    const inspected = inspectPacketBytes(encodePacket(body, a), 0, NOW)
    expect(inspected.kind).toBe('domain-summary')
    const text = renderInspect({source: 'x', kind: 'packet', packets: [inspected], storeErrors: [], total: 1, invalid: 0, summaries: 1}, NOW)
    expect(text).toMatch(/packet #0 {2}valid {2}\d+ bytes {2}domain summary/)
    expect(text).toMatch(/count +40 \(records of this domain and model this summary stands for/)
    expect(text).toMatch(/query_semantic_hash +0000000000000000 \(none: a summary names no query\)/)
    expect(inspectPacketBytes(encodePacket({...body, routing_keys: ['k1']}, a), 0, NOW).kind).toBe('record')
  })
})
