// Regenerates fixtures/packets/reference.qisp: the reference pattern's example packet plus a few
// others. Signed with a fixed, published test seed so the output is byte-for-byte reproducible;
// that key is a fixture, not a secret.  Run: npx tsx scripts/make-fixture-packets.ts
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {PacketStoreWriter, encodePacket, signerFromSeed, type PacketBody} from '../src/packet/index.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const signer = signerFromSeed(Buffer.from('qis fixture key: not a secret!!!', 'utf8'))
const scheme = 'use-lite.example.v1'
const t = Date.UTC(2026, 10, 1, 9) / 1000 // 2026-11-01T09:00:00Z

const packets: PacketBody[] = [
  // The reference pattern's example, field for field.
  {scheme, domain_tag: 'clinical.oncology', query_semantic_hash: 'a3f7c9d1b2e4', outcome_signal: 0.91, confidence_at_inference: 0.84, model_variant: 'llama3-70b-instruct', correction_applied: false, timestamp: t, ttl_hours: 168, routing_keys: ['k:0412', 'k:1733']},
  {scheme, domain_tag: 'clinical.oncology', query_semantic_hash: 'a3f7c9d1b2e40f11', outcome_signal: 0.35, confidence_at_inference: 0.9, model_variant: 'llama3-70b-instruct', correction_applied: true, correction_type: 'factual', timestamp: t + 3600, ttl_hours: 8760, routing_keys: ['k:0412']},
  {scheme, domain_tag: 'legal.contract_review', query_semantic_hash: '5e0c2b9a7d113f48', outcome_signal: 0.72, confidence_at_inference: 0.66, model_variant: 'mistral-7b-v0.3', correction_applied: false, timestamp: t + 7200, ttl_hours: 8760, count: 14, routing_keys: ['k:0087', 'k:2950', 'k:3001']},
  {scheme, domain_tag: 'code.python', query_semantic_hash: 'c4d2e6f8091a3b5c', outcome_signal: 0.1, confidence_at_inference: 0.95, model_variant: 'phi-3-mini', correction_applied: true, correction_type: 'reasoning', timestamp: t + 10_800, ttl_hours: 8760, routing_keys: ['k:3999']},
]

const target = path.join(root, 'fixtures', 'packets', 'reference.qisp')
const writer = await PacketStoreWriter.create(target)
for (const body of packets) await writer.append(encodePacket(body, signer))
await writer.commit()
console.log(`wrote ${writer.count} packets (${writer.bytes} bytes) to ${path.relative(root, target)}`)
