import {decodePacket, packetId} from '../packet/codec.js'
import {keyFingerprint} from '../packet/fingerprint.js'
import {isDomainSummary, isSummaryRoutingKey, summaryRoutingKey, summaryShard} from '../packet/summary.js'
import type {DecodeResult, OutcomePacket, PacketErrorCode} from '../packet/types.js'

/**
 * Weight synthesis: peers' outcome packets in, one routing weight per key fingerprint out.
 *
 * The reference pattern (`receive_insight`): value = (outcome - 0.15 if a correction was applied)
 * x confidence; weight = 0.7 x old + 0.3 x new in timestamp order, the first observation
 * initialising it. This module adds what a swarm of strangers needs on top (docs/weights.md):
 *
 * - A packet with `count` c stands for c records with that mean outcome. It is applied as c
 *   repeated observations of its value, whose closed form is w <- 0.7^c w + (1 - 0.7^c) v.
 * - One publisher, one observation per key: each publisher's packets under a key are first folded
 *   into that publisher's own EMA (the rule above, in its timestamp order), and only that result
 *   enters the key's EMA across publishers, ordered by each publisher's latest timestamp. A peer that
 *   publishes 10,000 packets (or one packet with count 10,000) moves the weight exactly as much as a
 *   peer that publishes one, so no single peer can outvote the rest.
 * - Closeness: a packet only counts if its fine hash (`query_semantic_hash`) is within
 *   `hammingThreshold` bits of one of this node's own query hashes under that key. Sharing a coarse
 *   routing key says the queries are in the same region; the fine hash says they are about the same thing.
 * - Ties in timestamp are broken by packet id (and, across publishers, by public key), so the same
 *   packets always give the same weight whatever order the network delivered them in.
 */

/** The reference pattern's EMA: share kept by the old weight per observation. */
export const EMA_KEEP = 0.7
/** The reference pattern's penalty on the outcome of a corrected answer. */
export const CORRECTION_PENALTY = 0.15

/**
 * Default closeness bound on the 64-bit fine hash, in differing bits. Measured on MSR paraphrase
 * pairs (docs/weights.md, bench/weights/hamming.mjs): among pairs that share a routing key, 18 bits
 * keeps 91% of paraphrases and drops 82% of unrelated sentences, near the best separation; looser
 * bounds let in unrelated outcomes much faster than they add paraphrases.
 */
export const DEFAULT_HAMMING_THRESHOLD = 18

/** Hex chars of a publisher's public key kept in the weights file (64 bits: collisions are negligible). */
export const PUBLISHER_ID_CHARS = 16

/**
 * A publisher counts for at most this many records under one key, however many it publishes (or
 * however large its `count`): one deployment cannot outweigh many. 16 records of one deployment
 * already pin its success rate on such queries to about +-0.12; beyond that more of the same
 * publisher adds little, while more publishers add independent evidence.
 */
export const PUBLISHER_RECORD_CAP = 16

/**
 * A publisher's domain summaries (one model variant, one domain) count for at most this many
 * records: the cap PUBLISHER_RECORD_CAP is for one key, a small region of a domain; a domain
 * summary stands for a deployment's whole record in the domain, which the domain layer weighs
 * against the other variants' surprise with a prior of VARIANT_DOMAIN_STRENGTH = 128 records, so a
 * cap below that would keep a deployment with thousands of records in a domain from ever saying
 * more about its own model there than the others' surprise. 256 = twice that prior: its own record
 * can outweigh the others', and no one deployment outweighs more than a handful of others
 * (docs/weights.md, "The domain layer").
 */
export const SUMMARY_RECORD_CAP = 256

/** A publisher this home first saw less than this long ago (seconds) is new. */
export const NEW_PUBLISHER_AGE = 7 * 24 * 3600

/**
 * New publishers together hold at most this share of a key's evidence whenever publishers seen
 * for longer exist under it, however many identities they are (docs/weights.md, "The bound").
 */
export const NEW_PUBLISHER_SHARE = 0.1

/** A packet as it arrived from the swarm: its bytes and the key fingerprint it was fetched under. */
export interface ReceivedPacket {
  key: string
  bytes: Uint8Array
}

/** A key this node asked the swarm about. */
export interface AskedKey {
  /** keyFingerprint(scheme, domain, routingKey): the DHT key and the weights-file key. */
  fingerprint: string
  domain: string
  routingKey: string
  /**
   * Fine hashes of this node's own queries under this key. A received packet must be within the
   * Hamming threshold of at least one. Undefined turns the closeness filter off for this key.
   */
  localHashes?: string[]
}

export interface SynthesisOptions {
  /** The local hash scheme; packets of any other scheme are refused (their keys and hashes mean something else). */
  scheme: string
  /** This node's raw ed25519 public key, hex: its own packets are skipped. */
  ownPublicKey: string
  keys: AskedKey[]
  hammingThreshold?: number
  /** Epoch seconds for TTL checks and publisher ages. Default: now. */
  now?: number
  /**
   * When this home first saw each publisher (16-hex id -> epoch seconds; `<home>/publishers.json`).
   * Publishers missing from it are new. Without it no publisher is treated as new.
   */
  firstSeen?: Map<string, number> | Record<string, number>
  /** 16-hex ids of publishers on this home's trust list: never new. */
  trusted?: Set<string>
  /** Use only trusted publishers' packets; the others are refused as NOT_TRUSTED. */
  trustedOnly?: boolean
  /**
   * Decoded packets by packet id, shared across calls: a live adjuster synthesises the same cached
   * packets again for every query, and checking a signature costs far more than the rest. Only for
   * callers whose `now` moves little between calls (expiry is judged when a packet is first decoded).
   */
  decodeCache?: Map<string, DecodeResult>
  /**
   * This node's own packets, each under the fingerprint of one of its keys (from its packet stores,
   * not the swarm): its own record on its own model counts as evidence beside its peers', as a
   * publisher that is never new and always trusted (docs/weights.md, "Own evidence"). Copies of them
   * that the swarm serves stay OWN_PACKET. Not counted in `received`; see `own` in the result.
   */
  own?: Iterable<ReceivedPacket>
}

/**
 * Why a received packet was not used. Decode failures keep the packet codec's code; KEY_MISMATCH
 * means what it means to a storing node (src/swarm/protocol.ts).
 */
export type SynthesisRefusal =
  | PacketErrorCode
  /** Served under a key this node did not ask for. */
  | 'NOT_ASKED'
  /** Hashed under another scheme: its keys and fine hash live in another space. */
  | 'WRONG_SCHEME'
  /** None of the packet's routing keys has the fingerprint it was served under. */
  | 'KEY_MISMATCH'
  /** Signed by this node: its own outcomes are not peer evidence. */
  | 'OWN_PACKET'
  /** The same packet again under the same key (replicas on several peers). */
  | 'DUPLICATE'
  /** Fine hash farther than the Hamming threshold from every local query hash under the key. */
  | 'NOT_NEAR'
  /** Not on the trust list, with trustedOnly. */
  | 'NOT_TRUSTED'
  /** Under a domain summary key, but not a domain summary of its publisher's own shard (docs/protocol.md). */
  | 'NOT_SUMMARY'

/**
 * Evidence about a key (pooled) or about one model variant under it, after the publisher bounds
 * (docs/weights.md "Robust synthesis"): every publisher counts for at most PUBLISHER_RECORD_CAP
 * records, and publishers this home first saw recently share at most NEW_PUBLISHER_SHARE of a key.
 */
export interface Evidence {
  /** Records' worth of evidence left after the bounds (may be fractional). */
  mass: number
  /** Mass-weighted mean success (outcome minus the correction penalty, clamped to [0, 1]). */
  success: number
  /** Mass-weighted mean of the publishers' own confidence at inference: what they expected. */
  confidence: number
  /** Publishers contributing. */
  publishers: number
}

/** Evidence about one query (fine hash) on one model variant under a key. */
export interface QueryEvidence extends Evidence {
  /** The packets' `query_semantic_hash`. */
  hash: string
  model: string
}

/** Per key, the weights file keeps at most this many per-query entries (the bulk of the file). */
export const MAX_QUERY_ENTRIES = 256

export interface KeyWeight {
  /**
   * The reference routing weight, in [-0.15, 1]: each publisher's packets folded by the reference
   * EMA, then combined across publishers as a mean weighted by their bounded evidence (not in
   * timestamp order, so the order cannot be bought with timestamps).
   */
  weight: number
  /** Accepted packets under this key. */
  packets: number
  /** Distinct publishers among them. */
  publishers: number
  /**
   * Their public keys' first 16 hex chars (64 bits), sorted: lets a reader of several keys count
   * distinct publishers across them without storing whole keys.
   */
  publisherIds: string[]
  /** Records those packets stand for (sum of `count`). */
  records: number
  /** Newest accepted packet's timestamp, epoch seconds. */
  lastTimestamp: number
  domain: string
  routingKey: string
  /** All variants together. */
  evidence: Evidence
  /** Per model variant (the packets' `model_variant`). */
  variants: Record<string, Evidence>
  /**
   * Per query (fine hash) and model variant: lets adjust weight evidence by how close each query is
   * to the one being adjusted. At most MAX_QUERY_ENTRIES per key, those with the most mass.
   */
  queries: QueryEvidence[]
  /** Share of `evidence.mass` held by publishers first seen less than NEW_PUBLISHER_AGE ago. */
  newShare: number
  /** Share of `evidence.mass` held by publishers on the trust list; absent when there is no trust list. */
  trustedShare?: number
}

export interface SynthesisResult {
  weights: Map<string, KeyWeight>
  received: number
  accepted: number
  /** received = accepted + sum of refused, always. */
  refused: Partial<Record<SynthesisRefusal, number>>
  /** 16-hex ids of every publisher with an accepted packet (to record as seen). */
  publishers: string[]
  /** Distinct packets (by id) received, and accepted under at least one key; `received` counts packet x key deliveries. */
  packets: {received: number; accepted: number}
  /** Own packets (options.own) used as evidence, by id, and packet x key deliveries of them. */
  own: {packets: number; accepted: number}
}

/** A packet's observation value per the reference pattern. */
export function observationValue(p: Pick<OutcomePacket, 'outcome_signal' | 'correction_applied' | 'confidence_at_inference'>): number {
  return (p.outcome_signal - (p.correction_applied ? CORRECTION_PENALTY : 0)) * p.confidence_at_inference
}

/** What a packet says about success on its query: the outcome, less the correction penalty, in [0, 1]. */
export function successValue(p: Pick<OutcomePacket, 'outcome_signal' | 'correction_applied'>): number {
  return Math.max(0, Math.min(1, p.outcome_signal - (p.correction_applied ? CORRECTION_PENALTY : 0)))
}

/** What one record of a packet tells the calibrated rule: its share of a record's information, and its success read without bias. */
export interface RecordReading {
  share: number
  success: number
}

/**
 * An exact outcome is a whole record, read as successValue. A randomised one (`outcome_epsilon`,
 * src/distill/ldp.ts) reports the true bit with probability p = e^eps / (1 + e^eps) and its
 * opposite otherwise. A single record's bit y reads back as (y - (1 - p)) / (2p - 1), outside
 * [0, 1] on purpose (only means are clamped, or the bias would return); an aggregate already
 * carries that estimate. It counts as 2p - 1 of a record (0.46 at epsilon 1, 0.96 at 4): chosen on
 * bench/value's epsilon-1 runs over three seeds of the same flips against reading it at face value
 * (mean gain 0.0086 vs 0.0084 Brier, and the only reading never worse than no-peers on any seed)
 * and against (2p - 1)^2, the unbiased reading's share of a true record's information (0.0059):
 * the rule's constants were fitted on exact records, and the full discount starves it
 * (docs/weights.md, "Randomised outcomes").
 */
export function readRecord(p: Pick<OutcomePacket, 'outcome_signal' | 'correction_applied' | 'outcome_epsilon' | 'count'>): RecordReading {
  if (p.outcome_epsilon === null) return {share: 1, success: successValue(p)}
  const keep = 1 / (1 + Math.exp(-p.outcome_epsilon))
  const signal = 2 * keep - 1
  const outcome = p.count === 1 ? (p.outcome_signal - (1 - keep)) / signal : p.outcome_signal
  return {share: signal, success: outcome - (p.correction_applied ? CORRECTION_PENALTY : 0)}
}

/** A mean success from sums that may hold unbiased readings outside [0, 1]. */
const meanSuccess = (sum: number, mass: number) => Math.max(0, Math.min(1, sum / mass))

/** Folds `count` repeated observations of `value` into `weight` (closed form of `count` EMA steps). */
export function emaStep(weight: number | undefined, value: number, count = 1): number {
  if (weight === undefined) return value
  const keep = EMA_KEEP ** count
  return keep * weight + (1 - keep) * value
}

const HEX_NIBBLE_BITS = [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4]

/**
 * Differing bits between two equal-length lowercase hex hashes; Infinity when the lengths differ
 * (hashes of different widths are not comparable, so they are never "near").
 */
export function hexHamming(a: string, b: string): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY
  let dist = 0
  for (let i = 0; i < a.length; i++) dist += HEX_NIBBLE_BITS[parseInt(a[i], 16) ^ parseInt(b[i], 16)]
  return dist
}

interface Accepted {
  id: string
  packet: OutcomePacket
}

const byTimeThenId = (a: Accepted, b: Accepted) =>
  a.packet.timestamp - b.packet.timestamp || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** What one publisher said under one key, before the bounds. */
interface PublisherSummary {
  id: string
  /** The reference EMA over its own packets, in its own timestamp order (it can only reorder itself). */
  value: number
  /** Records as logged (the sum of `count`). */
  records: number
  /** Records' worth of information (RecordReading.share x count); masses and means are in these. */
  information: number
  successSum: number
  confidenceSum: number
  variants: Map<string, {information: number; successSum: number; confidenceSum: number}>
  /** hash + NUL + variant -> the same sums for that query */
  queries: Map<string, {hash: string; model: string; information: number; successSum: number; confidenceSum: number}>
  isNew: boolean
}

/**
 * How much a publisher's summary counts: its records' information up to the cap, times the newcomer factor.
 * The newcomer factor shrinks all publishers first seen recently together, so that they hold at
 * most NEW_PUBLISHER_SHARE of the key whenever established publishers exist under it, however
 * many identities they are.
 */
function newcomerFactor(summaries: PublisherSummary[], ownId?: string, cap = PUBLISHER_RECORD_CAP): number {
  let established = 0
  let fresh = 0
  for (const p of summaries) {
    // This node's own record is neither: a peer is not new relative to it, only to other peers.
    if (p.id === ownId) continue
    const m = Math.min(p.information, cap)
    if (p.isNew) fresh += m
    else established += m
  }
  if (established === 0 || fresh === 0) return 1
  const allowed = (NEW_PUBLISHER_SHARE / (1 - NEW_PUBLISHER_SHARE)) * established
  return fresh > allowed ? allowed / fresh : 1
}

function combine(parts: {mass: number; success: number; confidence: number}[]): Evidence {
  let mass = 0
  let success = 0
  let confidence = 0
  for (const p of parts) {
    mass += p.mass
    success += p.mass * p.success
    confidence += p.mass * p.confidence
  }
  return mass > 0
    ? {mass: (mass), success: (success / mass), confidence: (confidence / mass), publishers: parts.length}
    : {mass: 0, success: 0, confidence: 0, publishers: parts.length}
}

/**
 * Verifies, filters and folds received packets into one weight per asked key. Pure: same inputs,
 * same output, whatever the input order.
 */
export function synthesizeWeights(received: Iterable<ReceivedPacket>, options: SynthesisOptions): SynthesisResult {
  const threshold = options.hammingThreshold ?? DEFAULT_HAMMING_THRESHOLD
  if (!Number.isInteger(threshold) || threshold < 0) throw new RangeError(`hammingThreshold must be a whole number >= 0, got ${threshold}`)
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const asked = new Map(options.keys.map((k) => [k.fingerprint, k]))
  const ownKey = options.ownPublicKey.toLowerCase()
  const refused: Partial<Record<SynthesisRefusal, number>> = {}
  const refuse = (reason: SynthesisRefusal) => {
    refused[reason] = (refused[reason] ?? 0) + 1
  }
  // key fingerprint -> publisher -> accepted packets
  const byKey = new Map<string, Map<string, Accepted[]>>()
  const seen = new Set<string>()
  const decodedById = new Map<string, DecodeResult>()
  const shared = options.decodeCache
  let receivedCount = 0
  let accepted = 0
  const acceptedIds = new Set<string>()

  // A packet filed under several asked keys arrives once per key; its signature is checked once
  // (verification dominates the cost: ~0.6 ms per packet on a slow core).
  const decode = (bytes: Uint8Array): DecodeResult => {
    const bytesId = packetId(bytes)
    let decoded = decodedById.get(bytesId)
    if (!decoded) {
      decoded = shared?.get(bytesId) ?? decodePacket(bytes, {now: options.now})
      decodedById.set(bytesId, decoded)
      shared?.set(bytesId, decoded)
    }
    return decoded
  }
  /**
   * Files a packet under the key it came under, or says why not. `own` packets come from this
   * node's stores: not refused for being its own, nor by the trust list.
   */
  const admit = (item: ReceivedPacket, decoded: DecodeResult, own: boolean): SynthesisRefusal | undefined => {
    if (!decoded.ok) return decoded.error.code
    const {packet, info} = decoded
    const key = asked.get(item.key)
    if (!key) return 'NOT_ASKED'
    if (packet.scheme !== options.scheme) return 'WRONG_SCHEME'
    // The packet must itself claim the key it was served under; otherwise a peer could file any
    // packet under any key and pull unrelated outcomes into this weight.
    if (!packet.routing_keys.some((rk) => keyFingerprint(packet.scheme, packet.domain_tag, rk) === item.key)) return 'KEY_MISMATCH'
    if (!own && packet.public_key === ownKey) return 'OWN_PACKET'
    // Replicas on several peers serve the same packet; it counts once per key.
    const seenId = `${item.key}:${info.id}`
    if (seen.has(seenId)) return 'DUPLICATE'
    seen.add(seenId)
    // A summary key holds only summaries, each under its publisher's own shard: one publisher, one summary key per domain.
    if (isSummaryRoutingKey(key.routingKey) && (!isDomainSummary(packet) || packet.routing_keys[0] !== summaryRoutingKey(summaryShard(packet.public_key)))) return 'NOT_SUMMARY'
    if (key.localHashes !== undefined && !key.localHashes.some((h) => hexHamming(h, packet.query_semantic_hash) <= threshold)) return 'NOT_NEAR'
    if (!own && options.trustedOnly && !options.trusted?.has(packet.public_key.slice(0, PUBLISHER_ID_CHARS))) return 'NOT_TRUSTED'
    let publishers = byKey.get(item.key)
    if (!publishers) byKey.set(item.key, (publishers = new Map()))
    let list = publishers.get(packet.public_key)
    if (!list) publishers.set(packet.public_key, (list = []))
    list.push({id: info.id, packet})
    return undefined
  }

  for (const item of received) {
    receivedCount++
    const decoded = decode(item.bytes)
    const reason = admit(item, decoded, false)
    if (reason) {
      refuse(reason)
      continue
    }
    accepted++
    if (decoded.ok) acceptedIds.add(decoded.info.id)
  }
  const receivedDistinct = decodedById.size

  // Own packets: checked as a peer's would be (signature, scheme, key claimed, closeness). A bad
  // one is skipped, not counted: it is a local store's problem, not a peer's. Copies the swarm
  // served were refused above as OWN_PACKET, so none is counted twice.
  const ownIds = new Set<string>()
  let ownAccepted = 0
  for (const item of options.own ?? []) {
    const decoded = decode(item.bytes)
    if (!decoded.ok || decoded.packet.public_key !== ownKey || admit(item, decoded, true)) continue
    ownAccepted++
    ownIds.add(decoded.info.id)
  }
  const ownId = ownKey.slice(0, PUBLISHER_ID_CHARS)

  const firstSeen = options.firstSeen
  const isNew = (id: string): boolean => {
    if (id === ownId && ownAccepted > 0) return false
    if (!firstSeen || options.trusted?.has(id)) return false
    const t = firstSeen instanceof Map ? firstSeen.get(id) : Object.hasOwn(firstSeen, id) ? firstSeen[id] : undefined
    return t === undefined || now - t < NEW_PUBLISHER_AGE
  }

  const weights = new Map<string, KeyWeight>()
  const allPublishers = new Set<string>()
  const perKey: {fingerprint: string; key: AskedKey; summaries: PublisherSummary[]; packets: number; records: number; lastTimestamp: number}[] = []
  for (const fingerprint of [...byKey.keys()].sort()) {
    const publishers = byKey.get(fingerprint)!
    const key = asked.get(fingerprint)!
    const summaries: PublisherSummary[] = []
    let packets = 0
    let records = 0
    let lastTimestamp = 0
    for (const [publicKey, list] of [...publishers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      list.sort(byTimeThenId)
      const id = publicKey.slice(0, PUBLISHER_ID_CHARS)
      // This node is not a peer to record as seen.
      if (publicKey !== ownKey) allPublishers.add(id)
      const summary: PublisherSummary = {id, value: 0, records: 0, information: 0, successSum: 0, confidenceSum: 0, variants: new Map(), queries: new Map(), isNew: isNew(id)}
      let w: number | undefined
      for (const {packet} of list) {
        w = emaStep(w, observationValue(packet), packet.count)
        const {share, success: s} = readRecord(packet)
        const n = packet.count * share
        summary.records += packet.count
        let v = summary.variants.get(packet.model_variant)
        if (!v) summary.variants.set(packet.model_variant, (v = {information: 0, successSum: 0, confidenceSum: 0}))
        const qk = `${packet.query_semantic_hash}\u0000${packet.model_variant}`
        let q = summary.queries.get(qk)
        if (!q) summary.queries.set(qk, (q = {hash: packet.query_semantic_hash, model: packet.model_variant, information: 0, successSum: 0, confidenceSum: 0}))
        for (const sums of [summary, v, q]) {
          sums.information += n
          sums.successSum += n * s
          sums.confidenceSum += n * packet.confidence_at_inference
        }
      }
      summary.value = w!
      records += summary.records
      packets += list.length
      lastTimestamp = Math.max(lastTimestamp, list[list.length - 1].packet.timestamp)
      summaries.push(summary)
    }
    perKey.push({fingerprint, key, summaries, packets, records, lastTimestamp})
  }

  // A domain's summaries are one body of evidence spread over DOMAIN_SUMMARY_SHARDS keys by
  // publisher, so the newcomer share holds across all of them: bounded per shard, new identities
  // would own every shard no established publisher happens to hash to (with 4 honest homes, most of
  // the 8), and through them the domain layer of every query in the domain.
  const ownForBound = ownAccepted > 0 ? ownId : undefined
  const summaryFactors = new Map<string, number>()
  const summariesByDomain = new Map<string, PublisherSummary[]>()
  for (const k of perKey) {
    if (!isSummaryRoutingKey(k.key.routingKey)) continue
    let list = summariesByDomain.get(k.key.domain)
    if (!list) summariesByDomain.set(k.key.domain, (list = []))
    list.push(...k.summaries)
  }
  for (const [domain, list] of summariesByDomain) summaryFactors.set(domain, newcomerFactor(list, ownForBound, SUMMARY_RECORD_CAP))

  for (const {fingerprint, key, summaries, packets, records, lastTimestamp} of perKey) {
    const summaryKey = isSummaryRoutingKey(key.routingKey)
    const cap = summaryKey ? SUMMARY_RECORD_CAP : PUBLISHER_RECORD_CAP
    const factor = summaryKey ? summaryFactors.get(key.domain)! : newcomerFactor(summaries, ownForBound, cap)
    const massOf = (information: number, p: PublisherSummary) => Math.min(information, cap) * (p.isNew ? factor : 1)
    const part = (sums: {information: number; successSum: number; confidenceSum: number}, p: PublisherSummary) => ({
      mass: massOf(sums.information, p),
      success: meanSuccess(sums.successSum, sums.information),
      confidence: sums.confidenceSum / sums.information,
    })
    const pooled = summaries.map((p) => part(p, p))
    const evidence = combine(pooled)
    let weightSum = 0
    let newMass = 0
    let trustedMass = 0
    summaries.forEach((p, i) => {
      weightSum += pooled[i].mass * p.value
      if (p.isNew) newMass += pooled[i].mass
      if (options.trusted?.has(p.id) || (p.id === ownId && ownAccepted > 0)) trustedMass += pooled[i].mass
    })
    const perVariant = new Map<string, {mass: number; success: number; confidence: number}[]>()
    for (const p of summaries) {
      for (const [variant, v] of p.variants) {
        let parts = perVariant.get(variant)
        if (!parts) perVariant.set(variant, (parts = []))
        parts.push(part(v, p))
      }
    }
    const variants: Record<string, Evidence> = {}
    for (const variant of [...perVariant.keys()].sort()) variants[variant] = combine(perVariant.get(variant)!)
    const perQuery = new Map<string, {hash: string; model: string; parts: {mass: number; success: number; confidence: number}[]}>()
    for (const p of summaries) {
      for (const [qk, q] of p.queries) {
        let entry = perQuery.get(qk)
        if (!entry) perQuery.set(qk, (entry = {hash: q.hash, model: q.model, parts: []}))
        entry.parts.push(part(q, p))
      }
    }
    // A summary names no query (its hash is DOMAIN_SUMMARY_HASH): its evidence is per variant only.
    const queries: QueryEvidence[] = summaryKey ? [] : [...perQuery.values()]
      .map(({hash, model, parts}) => ({hash, model, ...combine(parts)}))
      .sort((a, b) => b.mass - a.mass || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : a.model < b.model ? -1 : a.model > b.model ? 1 : 0))
      .slice(0, MAX_QUERY_ENTRIES)
      .sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : a.model < b.model ? -1 : a.model > b.model ? 1 : 0))
    let massTotal = 0
    for (const p of pooled) massTotal += p.mass
    weights.set(fingerprint, {
      weight: (weightSum / massTotal),
      packets,
      publishers: summaries.length,
      publisherIds: summaries.map((p) => p.id).sort(),
      records,
      lastTimestamp,
      domain: key.domain,
      routingKey: key.routingKey,
      evidence,
      variants,
      queries,
      newShare: (newMass / massTotal),
      ...(options.trusted && options.trusted.size > 0 ? {trustedShare: trustedMass / massTotal} : {}),
    })
  }
  return {weights, received: receivedCount, accepted, refused, publishers: [...allPublishers].sort(), packets: {received: receivedDistinct, accepted: acceptedIds.size}, own: {packets: ownIds.size, accepted: ownAccepted}}
}

/**
 * The synthesis before issue 21: per-publisher EMAs folded across publishers by the reference EMA in
 * order of each publisher's newest timestamp. Kept for bench/weights/sybil.mjs ("before"), because
 * a publisher who dates its packets last holds 1 - 0.7^k of the weight with k identities.
 */
export function timestampOrderedWeight(perPublisher: {publicKey: string; value: number; lastTimestamp: number}[]): number | undefined {
  const sorted = [...perPublisher].sort((a, b) => a.lastTimestamp - b.lastTimestamp || (a.publicKey < b.publicKey ? -1 : a.publicKey > b.publicKey ? 1 : 0))
  let weight: number | undefined
  for (const p of sorted) weight = emaStep(weight, p.value, 1)
  return weight
}
