import {createHash} from 'node:crypto'

/**
 * The reference pattern's semantic fingerprint, qualified by the hash scheme so keys of different
 * schemes never collide: sha256("<scheme>:<domain>:<key>") truncated to 32 hex chars (128 bits).
 * `key` is a routing key (DHT key and weights key) or a packet's fine query hash.
 * This is the only place a fingerprint is computed.
 */
export function semanticFingerprint(scheme: string, domain: string, key: string): string {
  return createHash('sha256').update(`${scheme}:${domain}:${key}`).digest('hex').slice(0, 32)
}

/** The DHT and weights key for one routing key of a query in a domain. */
export const keyFingerprint = semanticFingerprint
