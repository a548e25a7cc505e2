import {promises as fs} from 'node:fs'
import path from 'node:path'

import {requireLabel} from '../cli/label.js'
import {decodePacket} from '../packet/codec.js'
import {keyFingerprint} from '../packet/fingerprint.js'
import {STORE_EXTENSION, readStoreFile} from '../packet/store.js'
import {isDomainSummary, summaryRoutingKeys} from '../packet/summary.js'
import {QisError, errorMessage} from '../util/errors.js'
import type {AskedKey, ReceivedPacket} from './synthesize.js'

/**
 * What this node is currently asked about, read from its own packet stores: the keys to pull
 * weights for, and under each key the fine hashes of its own queries (for the closeness filter).
 */
export interface LocalKeysOptions {
  /** Folder of .qisp stores (the home's packets folder). */
  packetsDir: string
  /** Keep only packets of this scheme. Default: the scheme of the newest own packet. */
  scheme?: string
  /** Domains to ask about for every own routing key, beyond the domains of the own packets (config `domainFocus`). */
  domainFocus?: string[]
  /** Only this domain (`--domain`). When no own packet is in it, it is asked for every own routing key, like a focus domain. */
  domain?: string
  /** Only packets at least this recent (epoch seconds; `--since`). */
  since?: number
  /** Epoch seconds for expiry. Default: now. */
  now?: number
  /** Also return the packets themselves (`own`), at most OWN_EVIDENCE_PACKETS, the last read kept. */
  packets?: boolean
}

/**
 * At most this many own packets are kept as evidence (about 50 MB of packets): a publisher counts
 * for at most PUBLISHER_RECORD_CAP records under a key anyway, and the last stores read are the newest.
 */
export const OWN_EVIDENCE_PACKETS = 100_000

export type LocalSkipReason = 'EXPIRED' | 'TOO_OLD' | 'OTHER_SCHEME' | 'INVALID' | 'CORRUPT_RECORD'

export interface LocalKeys {
  /** The scheme the keys are in, or undefined when no usable own packet exists. */
  scheme: string | undefined
  keys: AskedKey[]
  stores: number
  /** Own packets read / used / skipped by reason (used + skipped = read, corrupt records aside). */
  packetsRead: number
  packetsUsed: number
  /** Of packetsUsed, the domain summaries (they add their domains' summary keys, not keys of their own). */
  summariesUsed: number
  skipped: Partial<Record<LocalSkipReason, number>>
  /** With `packets`: the used packets of `scheme`, each under the fingerprint of each of its own keys. */
  own?: ReceivedPacket[]
}

interface SchemeQueries {
  newest: number
  /** domain -> routing keys of own packets in it */
  keysByDomain: Map<string, Set<string>>
  /** routing key -> fine hashes of own packets listing it (any domain) */
  hashesByKey: Map<string, Set<string>>
  used: number
  summaries: number
}

async function listStores(dir: string): Promise<string[]> {
  let names: string[]
  try {
    names = await fs.readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new QisError(`cannot read packet folder ${dir}: ${errorMessage(err)}`, {code: 'STORE_UNREADABLE', cause: err})
  }
  return names.filter((n) => n.endsWith(STORE_EXTENSION)).sort().map((n) => path.join(dir, n))
}

/**
 * The shard keys of a domain's summaries (docs/protocol.md, "Domain summaries"): every publisher's
 * summary of the domain is under one of them. No closeness filter: a summary is about the whole
 * domain, not a query near this node's.
 */
export function summaryKeys(scheme: string, domain: string): AskedKey[] {
  return summaryRoutingKeys().map((routingKey) => ({fingerprint: keyFingerprint(scheme, domain, routingKey), domain, routingKey}))
}

/** Adds every domain's summary keys to `asked` (by fingerprint), once each. */
export function askSummaryKeys(asked: Map<string, AskedKey>, scheme: string, domains: Iterable<string>): void {
  for (const domain of domains) for (const k of summaryKeys(scheme, domain)) if (!asked.has(k.fingerprint)) asked.set(k.fingerprint, k)
}

export async function collectLocalKeys(options: LocalKeysOptions): Promise<LocalKeys> {
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const focus = (options.domainFocus ?? []).map((d) => requireLabel('domain_tag', d, 'domain focus (config domainFocus, $QIS_DOMAIN_FOCUS)'))
  const only = options.domain === undefined ? undefined : requireLabel('domain_tag', options.domain, '--domain')
  const skipped: Partial<Record<LocalSkipReason, number>> = {}
  const skip = (reason: LocalSkipReason) => {
    skipped[reason] = (skipped[reason] ?? 0) + 1
  }
  const bySchema = new Map<string, SchemeQueries>()
  const stores = await listStores(options.packetsDir)
  let packetsRead = 0
  // A ring of the last OWN_EVIDENCE_PACKETS packets read, with their scheme.
  const ring: {scheme: string; bytes: Uint8Array; keys: string[]}[] = []
  let ringNext = 0

  for (const store of stores) {
    try {
      await readStore(store)
    } catch (err) {
      throw new QisError(`cannot read packet store ${store}: ${errorMessage(err)}`, {code: 'STORE_UNREADABLE', cause: err})
    }
  }

  async function readStore(store: string): Promise<void> {
    for await (const entry of readStoreFile(store)) {
      if (entry.kind === 'corrupt') {
        skip('CORRUPT_RECORD')
        continue
      }
      packetsRead++
      const decoded = decodePacket(entry.bytes, {now})
      if (!decoded.ok) {
        skip(decoded.error.code === 'EXPIRED' ? 'EXPIRED' : 'INVALID')
        continue
      }
      const p = decoded.packet
      if (options.since !== undefined && p.timestamp < options.since) {
        skip('TOO_OLD')
        continue
      }
      if (options.scheme !== undefined && p.scheme !== options.scheme) {
        skip('OTHER_SCHEME')
        continue
      }
      let q = bySchema.get(p.scheme)
      if (!q) bySchema.set(p.scheme, (q = {newest: 0, keysByDomain: new Map(), hashesByKey: new Map(), used: 0, summaries: 0}))
      q.newest = Math.max(q.newest, p.timestamp)
      q.used++
      if (options.packets) {
        const item = {scheme: p.scheme, bytes: entry.bytes, keys: p.routing_keys.map((rk) => keyFingerprint(p.scheme, p.domain_tag, rk))}
        if (ring.length < OWN_EVIDENCE_PACKETS) ring.push(item)
        else ring[ringNext] = item
        ringNext = (ringNext + 1) % OWN_EVIDENCE_PACKETS
      }
      let keys = q.keysByDomain.get(p.domain_tag)
      if (!keys) q.keysByDomain.set(p.domain_tag, (keys = new Set()))
      // A domain summary's key is not a query's: its domain's shard keys are all asked below.
      if (isDomainSummary(p)) {
        q.summaries++
        continue
      }
      for (const rk of p.routing_keys) {
        keys.add(rk)
        let hashes = q.hashesByKey.get(rk)
        if (!hashes) q.hashesByKey.set(rk, (hashes = new Set()))
        hashes.add(p.query_semantic_hash)
      }
    }
  }

  // Without a scheme given, the newest packet's scheme is the one this node hashes with now;
  // older schemes' packets describe queries in a space peers no longer share with us.
  let scheme = options.scheme
  if (scheme === undefined) {
    let newest = -1
    for (const [s, q] of [...bySchema].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (q.newest > newest) {
        newest = q.newest
        scheme = s
      }
    }
  }
  const q = scheme === undefined ? undefined : bySchema.get(scheme)
  for (const [s, other] of bySchema) if (s !== scheme) skipped.OTHER_SCHEME = (skipped.OTHER_SCHEME ?? 0) + other.used
  if (!q || scheme === undefined) return {scheme, keys: [], stores: stores.length, packetsRead, packetsUsed: 0, summariesUsed: 0, skipped}

  const allKeys = [...q.hashesByKey.keys()].sort()
  const asked = new Map<string, AskedKey>()
  const ask = (domain: string, routingKey: string) => {
    const fingerprint = keyFingerprint(scheme, domain, routingKey)
    if (!asked.has(fingerprint)) {
      asked.set(fingerprint, {fingerprint, domain, routingKey, localHashes: [...q.hashesByKey.get(routingKey)!].sort()})
    }
  }
  const domains = new Set([...q.keysByDomain.keys(), ...focus])
  if (only !== undefined) {
    for (const d of [...domains]) if (d !== only) domains.delete(d)
    domains.add(only)
  }
  for (const domain of [...domains].sort()) {
    const own = q.keysByDomain.get(domain)
    // A focus domain (or a --domain with no own packets in it) is asked for every key this node's
    // queries have: the question is "what do peers in that domain know about what I am asked?".
    const keys = focus.includes(domain) || !own ? allKeys : [...own].sort()
    for (const rk of keys) ask(domain, rk)
    askSummaryKeys(asked, scheme, [domain])
  }
  const own = options.packets ? ring.filter((r) => r.scheme === scheme).flatMap((r) => r.keys.map((key) => ({key, bytes: r.bytes}))) : undefined
  return {scheme, keys: [...asked.values()], stores: stores.length, packetsRead, packetsUsed: q.used, summariesUsed: q.summaries, skipped, ...(own ? {own} : {})}
}
