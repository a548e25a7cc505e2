import {createHash} from 'node:crypto'

import {encodePacket} from '../../src/packet/codec.js'
import type {PacketBody} from '../../src/packet/types.js'
import {keyFingerprint} from '../../src/packet/fingerprint.js'
import {type Signer, signerFromSeed} from '../../src/packet/signer.js'
import type {AskedKey, ReceivedPacket} from '../../src/weights/synthesize.js'

export const SCHEME = 'test.cb16.v1'
export const DOMAIN = 'clinical.oncology'
/** A fixed "now" so TTL checks do not depend on the clock. */
export const NOW = 1_764_000_000

/** A deterministic publisher: the same name always gives the same key pair. */
export function publisher(name: string): Signer & {hex: string} {
  const signer = signerFromSeed(createHash('sha256').update(name).digest())
  return Object.assign(signer, {hex: Buffer.from(signer.publicKey).toString('hex')})
}

/** A 64-bit fine hash with the lowest `bits` bits set: exactly `bits` away from HASH0. */
export function hashWithBits(bits: number): string {
  return ((1n << BigInt(bits)) - 1n).toString(16).padStart(16, '0')
}
export const HASH0 = hashWithBits(0)

export function fp(routingKey: string, domain = DOMAIN, scheme = SCHEME): string {
  return keyFingerprint(scheme, domain, routingKey)
}

/** `localHashes` null: no closeness filter for this key. */
export function asked(routingKey: string, localHashes: string[] | null = [HASH0], domain = DOMAIN): AskedKey {
  return {fingerprint: fp(routingKey, domain), domain, routingKey, localHashes: localHashes ?? undefined}
}

export interface PacketSpec {
  outcome: number
  confidence: number
  corrected?: boolean
  timestamp: number
  count?: number
  keys?: string[]
  hash?: string
  scheme?: string
  domain?: string
  ttlHours?: number
  model?: string
  /** Randomised-response epsilon the outcome was noised with (v2 packet), or none. */
  epsilon?: number
}

export function packet(signer: Signer, spec: PacketSpec): Uint8Array {
  const body: PacketBody = {
    scheme: spec.scheme ?? SCHEME,
    domain_tag: spec.domain ?? DOMAIN,
    query_semantic_hash: spec.hash ?? HASH0,
    routing_keys: spec.keys ?? ['k1'],
    outcome_signal: spec.outcome,
    confidence_at_inference: spec.confidence,
    model_variant: spec.model ?? 'llama3-8b-instruct',
    correction_applied: spec.corrected ?? false,
    correction_type: spec.corrected ? 'factual' : null,
    timestamp: spec.timestamp,
    ttl_hours: spec.ttlHours ?? 168,
    count: spec.count ?? 1,
    outcome_epsilon: spec.epsilon ?? null,
  }
  return encodePacket(body, signer)
}

/** As served under routing key `routingKey` (default the packet's first key). */
export function served(bytes: Uint8Array, routingKey = 'k1', domain = DOMAIN): ReceivedPacket {
  return {key: fp(routingKey, domain), bytes}
}
