import {createHash} from 'node:crypto'

import type {OutcomePacket} from './types.js'

/**
 * Domain summaries (docs/protocol.md, "Domain summaries"): an ordinary signed packet that stands
 * for one publisher's records of one (domain, model variant) in one distill run, so a home can
 * learn how every deployment does in a domain without asking every key of it.
 *
 * One key per domain would put every summary of a domain on the same 3 nodes (a hot spot), so a
 * publisher files its summaries under one of DOMAIN_SUMMARY_SHARDS reserved routing keys,
 * `domain:<s>`, s fixed by its public key: a domain's summaries spread over 8 keys x 3 replicas,
 * and a reader asks 8 keys per domain. Routing keys of the codebooks never contain ':', so these
 * keys cannot collide with a query's.
 */
export const DOMAIN_SUMMARY_SHARDS = 8

const PREFIX = 'domain:'
const SHARD_KEY = /^domain:([0-9]+)$/

/**
 * The fine hash a summary carries: it summarises many queries, so it names none. Receivers know a
 * summary by its routing key, never by this value (a real query could hash to it).
 */
export const DOMAIN_SUMMARY_HASH = '0000000000000000'

/** The shard of a publisher: the first byte of sha256(raw public key) mod DOMAIN_SUMMARY_SHARDS, the same for all its summaries. */
export function summaryShard(publicKey: Uint8Array | string): number {
  const raw = typeof publicKey === 'string' ? Buffer.from(publicKey, 'hex') : publicKey
  return createHash('sha256').update(raw).digest()[0] % DOMAIN_SUMMARY_SHARDS
}

/** The reserved routing key of shard `s`. */
export function summaryRoutingKey(shard: number): string {
  if (!Number.isInteger(shard) || shard < 0 || shard >= DOMAIN_SUMMARY_SHARDS) throw new RangeError(`summary shard must be a whole number from 0 to ${DOMAIN_SUMMARY_SHARDS - 1}, got ${shard}`)
  return `${PREFIX}${shard}`
}

/** Every shard key: what a reader asks, per domain, to find every publisher's summary. */
export function summaryRoutingKeys(): string[] {
  return Array.from({length: DOMAIN_SUMMARY_SHARDS}, (_, s) => summaryRoutingKey(s))
}

/** True for a summary shard key (`domain:0` .. `domain:7`). */
export function isSummaryRoutingKey(routingKey: string): boolean {
  const m = SHARD_KEY.exec(routingKey)
  return m !== null && Number(m[1]) < DOMAIN_SUMMARY_SHARDS && String(Number(m[1])) === m[1]
}

/** A domain summary: a packet filed under exactly one summary shard key. */
export function isDomainSummary(p: Pick<OutcomePacket, 'routing_keys'>): boolean {
  return p.routing_keys.length === 1 && isSummaryRoutingKey(p.routing_keys[0])
}
