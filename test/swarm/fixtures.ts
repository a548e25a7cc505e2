import {createHash} from 'node:crypto'

import {encodePacket, keyFingerprint, packetId, PacketStoreWriter, signerFromSeed, type PacketBody, type Signer} from '../../src/packet/index.js'

export const SCHEME = 'test-scheme-v1'
export const DOMAIN = 'clinical'

export function signerFor(name: string): Signer {
  return signerFromSeed(createHash('sha256').update(`qis-test-signer:${name}`).digest())
}

export interface TestPacket {
  bytes: Uint8Array
  id: string
  /** Key fingerprints of its routing keys. */
  keys: string[]
  routingKeys: string[]
}

/** A valid signed packet; `i` varies the hash, `routingKeys` default to two of `keyCount` labels. */
export function makePacket(signer: Signer, i: number, options: {routingKeys?: string[]; keyCount?: number; timestamp?: number; ttlHours?: number; domain?: string; epsilon?: number} = {}): TestPacket {
  const keyCount = options.keyCount ?? 10
  const routingKeys = options.routingKeys ?? [`rk${i % keyCount}`, `rk${(i + 3) % keyCount}`].filter((k, j, a) => a.indexOf(k) === j)
  const domain = options.domain ?? DOMAIN
  const body: PacketBody = {
    scheme: SCHEME,
    domain_tag: domain,
    query_semantic_hash: createHash('sha256').update(`q${i}`).digest('hex').slice(0, 16),
    routing_keys: routingKeys,
    outcome_signal: (i % 10) / 10,
    confidence_at_inference: 0.5 + (i % 5) / 10,
    model_variant: 'llama-3-8b',
    correction_applied: i % 3 === 0,
    correction_type: i % 3 === 0 ? 'factual' : null,
    timestamp: options.timestamp ?? Math.floor(Date.now() / 1000) - 60,
    ttl_hours: options.ttlHours ?? 168,
    outcome_epsilon: options.epsilon ?? null,
  }
  const bytes = encodePacket(body, signer)
  return {bytes, id: packetId(bytes), keys: routingKeys.map((k) => keyFingerprint(SCHEME, domain, k)), routingKeys}
}

export function makePackets(signer: Signer, count: number, options: {keyCount?: number; offset?: number} = {}): TestPacket[] {
  return Array.from({length: count}, (_, i) => makePacket(signer, i + (options.offset ?? 0), {keyCount: options.keyCount}))
}

export async function writeStore(file: string, packets: TestPacket[]): Promise<void> {
  const w = await PacketStoreWriter.create(file)
  for (const p of packets) await w.append(p.bytes)
  await w.commit()
}
