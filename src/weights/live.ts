import type {Home} from '../config/home.js'
import {type Identity, loadOrCreateIdentity} from '../identity/identity.js'
import {loadSwarmKey} from '../swarm/pnet.js'
import type {DecodeResult} from '../packet/types.js'
import {raceAbort} from '../util/abort.js'
import {errorMessage} from '../util/errors.js'
import type {FetchedPackets, PacketFetcher} from './pull.js'
import {publishersFile, readFirstSeen} from './publishers.js'
import {readTrustList, trustFile, trustedIds} from './trust.js'
import {type AskedKey, DEFAULT_HAMMING_THRESHOLD, type KeyWeight, type ReceivedPacket, synthesizeWeights} from './synthesize.js'

/**
 * Live lookup: the adjuster asks the swarm about the keys of the query it is adjusting *now*, when
 * the weights file knows none of them. pull-weights asks only about the keys of this node's own
 * past queries, and a new question often falls under other keys (docs/value.md, "the weak link").
 *
 * What leaves the machine is what pull-weights sends: key fingerprints (sha256 of scheme, domain and
 * routing key), here those of the live query; never its text or fine hash (docs/privacy.md).
 */
export interface LiveLookupOptions {
  /** Where packets come from (the swarm's fetchPackets has this shape; tests pass their own). */
  fetch: PacketFetcher
  /** This node's raw ed25519 public key, hex: its own packets are not peer evidence. */
  ownPublicKey: string
  /** How long one lookup may take before the query is adjusted without it. Default LIVE_TIMEOUT_MS. */
  timeoutMs?: number
  /** Closeness bound on the fine hash. Default: the weights file's, else DEFAULT_HAMMING_THRESHOLD. */
  hammingThreshold?: number
  /** Fetched packets are reused for this long (seconds) before a key is asked again. Default LIVE_CACHE_SECONDS. */
  cacheSeconds?: number
  /** Keys whose fetched packets are kept in memory at most (least recently fetched dropped first). Default LIVE_CACHE_KEYS. */
  cacheKeys?: number
  /** The newcomer bound and trust list, as pull-weights applies them (`<home>/publishers.json`, `qis trust`). */
  firstSeen?: Map<string, number>
  trusted?: Set<string>
  trustedOnly?: boolean
  /** Releases what `fetch` holds (a swarm client). */
  close?: () => Promise<void>
  /** Epoch seconds. Default: the clock. */
  now?: () => number
}

/** A lookup that has not answered in this long is given up, and the query adjusted with what is known. */
export const LIVE_TIMEOUT_MS = 10_000
export const LIVE_CACHE_SECONDS = 3600
export const LIVE_CACHE_KEYS = 20_000

/** What a live lookup did for one batch of queries. */
export interface LiveStats {
  /** Keys the weights file did not know and the swarm was asked about now. */
  keysFetched: number
  /** Keys the file did not know whose packets were still in memory from an earlier lookup. */
  keysCached: number
  /** Of the fetched keys, those no peer answered. */
  keysUnanswered: number
  /** Set when the lookup failed or timed out: the queries were adjusted without it. */
  failed?: string
}

interface Cached {
  packets: ReceivedPacket[]
  fetchedAt: number
}

/**
 * The packets fetched for live keys, kept in memory, and a synthesis of them per query: each query's
 * keys are synthesised with the closeness filter centred on that query alone, so what it learns
 * depends only on it and what peers published, never on other queries in the same batch.
 */
export class LiveLookup {
  private readonly cache = new Map<string, Cached>()
  private readonly decoded = new Map<string, DecodeResult>()
  readonly totals: Required<Omit<LiveStats, 'failed'>> & {failures: number} = {keysFetched: 0, keysCached: 0, keysUnanswered: 0, failures: 0}

  constructor(private readonly options: LiveLookupOptions) {}

  private now(): number {
    return this.options.now?.() ?? Math.floor(Date.now() / 1000)
  }

  /** Fetches whichever of `fingerprints` are not in memory (or are stale), once each, within the timeout. */
  async ensure(fingerprints: Iterable<string>, signal?: AbortSignal): Promise<LiveStats> {
    const now = this.now()
    const ttl = this.options.cacheSeconds ?? LIVE_CACHE_SECONDS
    const want = [...new Set(fingerprints)]
    const missing = want.filter((fp) => {
      const c = this.cache.get(fp)
      return !c || now - c.fetchedAt > ttl
    })
    const stats: LiveStats = {keysFetched: missing.length, keysCached: want.length - missing.length, keysUnanswered: 0}
    this.totals.keysCached += stats.keysCached
    if (missing.length === 0) return stats
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? LIVE_TIMEOUT_MS)
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout
    let fetched: FetchedPackets
    try {
      // A fetch that ignores its signal still ends at the deadline.
      fetched = await raceAbort(this.options.fetch(missing, combined), combined)
    } catch (err) {
      // Ctrl-C is the caller's to handle; a slow or absent swarm only costs this query its lookup.
      if (signal?.aborted) throw err
      this.totals.failures++
      return {...stats, keysFetched: 0, failed: timeout.aborted ? `no answer within ${this.options.timeoutMs ?? LIVE_TIMEOUT_MS} ms` : errorMessage(err)}
    }
    this.totals.keysFetched += missing.length
    const byKey = new Map<string, ReceivedPacket[]>(missing.map((fp) => [fp, []]))
    for (const p of fetched.packets) byKey.get(p.key)?.push({key: p.key, bytes: p.bytes})
    // An unanswered key is remembered as empty: asking again for every query would make a swarm
    // that holds nothing under it cost a round trip each time.
    stats.keysUnanswered = fetched.unanswered.length
    this.totals.keysUnanswered += stats.keysUnanswered
    for (const [fp, packets] of byKey) {
      this.cache.delete(fp)
      this.cache.set(fp, {packets, fetchedAt: now})
    }
    const limit = this.options.cacheKeys ?? LIVE_CACHE_KEYS
    for (const fp of this.cache.keys()) {
      if (this.cache.size <= limit) break
      this.cache.delete(fp)
    }
    if (this.decoded.size > 50 * limit) this.decoded.clear()
    return stats
  }

  /** Has packets (possibly none) in memory for this key. */
  has(fingerprint: string): boolean {
    return this.cache.has(fingerprint)
  }

  /** Weights for `keys` synthesised from the packets in memory, closeness measured from `queryHash` alone. */
  weightsFor(scheme: string, keys: Omit<AskedKey, 'localHashes'>[], queryHash: string, hammingThreshold?: number): Map<string, KeyWeight> {
    const asked = keys.filter((k) => this.cache.has(k.fingerprint)).map((k) => ({...k, localHashes: [queryHash]}))
    if (asked.length === 0) return new Map()
    const packets = asked.flatMap((k) => this.cache.get(k.fingerprint)!.packets)
    return synthesizeWeights(packets, {
      scheme,
      ownPublicKey: this.options.ownPublicKey,
      keys: asked,
      hammingThreshold: this.options.hammingThreshold ?? hammingThreshold ?? DEFAULT_HAMMING_THRESHOLD,
      now: this.now(),
      firstSeen: this.options.firstSeen,
      trusted: this.options.trusted,
      trustedOnly: this.options.trustedOnly,
      decodeCache: this.decoded,
    }).weights
  }

  async close(): Promise<void> {
    await this.options.close?.()
  }
}


export interface SwarmLiveOptions {
  home: Home
  bootstrap: string[]
  identity?: Identity
  timeoutMs?: number
  hammingThreshold?: number
  trustedOnly?: boolean
  /** Passed to the swarm client: how long joining may take (default: the timeout). */
  joinTimeoutMs?: number
}

/**
 * Live lookup over the real swarm for a home: its identity (own packets skipped), its newcomer
 * record and trust list, one swarm client opened at the first lookup and kept until close(), so a
 * deployment adjusting many queries joins once. libp2p loads only when a lookup is needed.
 */
export async function swarmLiveLookup(options: SwarmLiveOptions): Promise<LiveLookup> {
  const identity = options.identity ?? (await loadOrCreateIdentity(options.home))
  const [firstSeen, trustList, swarmKey] = await Promise.all([readFirstSeen(publishersFile(options.home)), readTrustList(trustFile(options.home)), loadSwarmKey(options.home)])
  type Client = Awaited<ReturnType<typeof import('../swarm/client.js').openSwarmClient>>
  let opening: Promise<Client> | undefined
  const client = async (signal?: AbortSignal): Promise<Client> => {
    if (!opening) {
      const {openSwarmClient} = await import('../swarm/client.js')
      opening = openSwarmClient({privateKey: identity.privateKey, bootstrap: options.bootstrap, swarmKey: swarmKey?.bytes, signal, joinTimeoutMs: options.joinTimeoutMs ?? options.timeoutMs ?? LIVE_TIMEOUT_MS})
      // A failed join is not remembered: the next lookup tries again.
      opening.catch(() => (opening = undefined))
    }
    return opening
  }
  return new LiveLookup({
    ownPublicKey: Buffer.from(identity.publicKey).toString('hex'),
    timeoutMs: options.timeoutMs,
    hammingThreshold: options.hammingThreshold,
    firstSeen,
    trusted: trustedIds(trustList),
    trustedOnly: options.trustedOnly,
    fetch: async (keys, signal) => {
      const {fetchPackets} = await import('../swarm/client.js')
      const r = await fetchPackets(await client(signal), keys, {signal})
      return {packets: r.packets, peers: r.peers, failures: r.failures, unanswered: r.unanswered, incomplete: r.incomplete}
    },
    close: async () => {
      const c = await opening?.catch(() => undefined)
      await c?.close()
    },
  })
}
