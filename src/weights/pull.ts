import {requireLabel} from '../cli/label.js'
import type {Home} from '../config/home.js'
import {type Identity, loadOrCreateIdentity} from '../identity/identity.js'
import type {EmbedderConfig} from '../embed/types.js'
import {keyFingerprint} from '../packet/fingerprint.js'
import {QisError} from '../util/errors.js'
import type {QueryHasher, QueryScrubber} from './adjust.js'
import {loadSwarmKey} from '../swarm/pnet.js'
import {OldWeightsFileError, WEIGHTS_FILE_VERSION, type WeightsFile, readWeightsFileIfExists, writeWeightsFile} from './file.js'
import {type LocalSkipReason, askSummaryKeys, collectLocalKeys} from './local.js'
import {isSummaryRoutingKey} from '../packet/summary.js'
import {publishersFile, readFirstSeen, recordSeen} from './publishers.js'
import {readTrustList, trustFile, trustedIds} from './trust.js'
import {type AskedKey, DEFAULT_HAMMING_THRESHOLD, type KeyWeight, type ReceivedPacket, type SynthesisRefusal, synthesizeWeights} from './synthesize.js'

/** What a packet source returns for a set of key fingerprints (the swarm's fetchPackets has this shape). */
export interface FetchedPackets {
  packets: ReceivedPacket[]
  /** Distinct peers that answered. */
  peers: number
  /** Failed lookups or requests by reason. */
  failures: Record<string, number>
  /** Keys no peer answered for: their previous weights are kept rather than dropped. */
  unanswered: string[]
  /** Keys some peer answered only in part (it held more than it sent): their previous weights are kept too. */
  incomplete?: string[]
}

export type PacketFetcher = (keyFingerprints: string[], signal?: AbortSignal) => Promise<FetchedPackets>

export interface PullWeightsOptions {
  home: Home
  /** Default: the home's identity. */
  identity?: Identity
  /** Only this domain. */
  domain?: string
  /** Domains asked for every own routing key (config `domainFocus`). */
  domainFocus?: string[]
  /** Own packets older than this (epoch seconds) do not say what this node is asked about now. */
  since?: number
  /** Default: the home's weights file. */
  out?: string
  hammingThreshold?: number
  /** Use only publishers on the home's trust list (`qis trust`). */
  trustedOnly?: boolean
  /**
   * Count this node's own packets as evidence beside its peers' (default true): its own record on its
   * own model is what it knows best. False gives weights from peers alone.
   */
  ownEvidence?: boolean
  /** Where packets come from. Default: the swarm, joined through `bootstrap`. */
  fetch?: PacketFetcher
  bootstrap?: string[]
  signal?: AbortSignal
  now?: number
  /**
   * Queries this node is answering now or about to answer (`--queries`): their keys are asked too,
   * with the closeness filter centred on them. They are scrubbed and hashed here exactly as adjust
   * does; only key fingerprints leave the machine, as for the own packets' keys.
   */
  queries?: {query: string; domain: string}[]
  /** Hashes the queries (default: a pipeline from `embedder`, else use-lite), and the scrubber to run first. */
  hasher?: {pipeline: QueryHasher; scheme: string}
  embedder?: EmbedderConfig
  scrubber?: QueryScrubber
}

export interface PullWeightsResult {
  scheme: string
  out: string
  /** Key fingerprints asked for. */
  keysAsked: number
  /** Of them, domain summary shard keys (DOMAIN_SUMMARY_SHARDS per domain asked about; docs/protocol.md, "Domain summaries"). */
  summaryKeys: number
  /** With `queries`: how many were given (after --domain), and the distinct keys they asked (some shared with the own packets'). */
  queries?: {read: number; keys: number}
  /** Own packets the keys were read from. */
  local: {stores: number; packetsRead: number; packetsUsed: number; summariesUsed: number; skipped: Partial<Record<LocalSkipReason, number>>}
  peers: number
  /** Distinct packets received, and of those accepted under at least one key. */
  packets: {received: number; accepted: number}
  /** This node's own packets used as evidence (distinct, and packet x key), beside the peers'. */
  own: {packets: number; accepted: number}
  /** Packet x key deliveries: a packet filed under three asked keys arrives three times. */
  received: number
  accepted: number
  refused: Partial<Record<SynthesisRefusal, number>>
  /** Failed lookups or requests by reason, and keys no peer answered for. */
  fetchFailures: Record<string, number>
  keysUnanswered: number
  /** Keys whose answers were incomplete: a previous weight for them was kept, not replaced or dropped. */
  keysIncomplete: number
  /** Entries synthesised now. */
  weightsWritten: number
  /** Entries carried over from the previous file: keys not asked this time, or asked but unanswered. */
  weightsKept: number
  /** What became of the previous weights file. */
  previous: 'none' | 'merged' | 'replaced-other-scheme' | 'replaced-old-version'
  /** Publishers seen for the first time by this home in this pull (they count as new for NEW_PUBLISHER_AGE). */
  publishersNew: number
  /** Publishers on the home's trust list, and whether only they were used. */
  trust: {listed: number; only: boolean}
}

/**
 * pull-weights as a library call: read what this node is asked about from its own packets, fetch
 * peers' packets for those keys, synthesise, and write the weights file atomically.
 *
 * The new file holds the fresh synthesis for every key that was asked and answered, plus the
 * previous file's entries for keys not asked this time (another `--domain`) or not answered (peers
 * down), so a partial pull never throws away what an earlier one learnt. A key that was answered
 * but yielded no accepted packet is dropped: what peers knew about it has expired or moved away.
 */
export async function pullWeights(options: PullWeightsOptions): Promise<PullWeightsResult> {
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const out = options.out ?? options.home.weightsFile
  const only = options.domain === undefined ? undefined : requireLabel('domain_tag', options.domain, '--domain')
  const queries = (options.queries ?? []).filter((q) => only === undefined || q.domain === only)
  const fromQueries = queries.length > 0 || options.queries !== undefined ? await queryKeys(queries, options) : undefined
  const local = await collectLocalKeys({
    packetsDir: options.home.packetsDir,
    domainFocus: options.domainFocus,
    domain: options.domain,
    since: options.since,
    now,
    // Queries hashed now are in the scheme this node hashes with now; own packets of another are not comparable.
    scheme: fromQueries?.scheme,
    packets: options.ownEvidence !== false,
  })
  if ((local.scheme === undefined || local.keys.length === 0) && !fromQueries?.keys.length) {
    const why = local.packetsRead === 0 ? `no packets in ${options.home.packetsDir} (run \`qis distill\` first)` : `none of the ${local.packetsRead} packets in ${options.home.packetsDir} is recent and valid${options.domain ? ` for domain ${options.domain}` : ''}`
    throw new QisError(`nothing to ask the swarm: pull-weights asks about this node's own recent queries${options.queries ? ' and the --queries given' : ''}, and there are ${why}${options.queries ? `, and ${queries.length === 0 ? 'no queries' : 'no keys for the queries'}` : ''}`, {code: 'NOTHING_TO_ASK'})
  }
  // Own packets' keys and the queries' keys, once each; a key both ask about is near either's queries.
  const askedKeys = new Map(local.keys.map((k) => [k.fingerprint, k]))
  for (const k of fromQueries?.keys ?? []) {
    const had = askedKeys.get(k.fingerprint)
    askedKeys.set(k.fingerprint, had ? {...had, localHashes: [...new Set([...(had.localHashes ?? []), ...(k.localHashes ?? [])])].sort()} : k)
  }
  const scheme = fromQueries?.scheme ?? local.scheme!
  // Every domain asked about is asked for its domain summaries too (the own packets' domains already are).
  askSummaryKeys(askedKeys, scheme, new Set([...askedKeys.values()].map((k) => k.domain)))
  const allKeys = [...askedKeys.values()]
  const trustList = await readTrustList(trustFile(options.home))
  if (options.trustedOnly && trustList.length === 0) {
    throw new QisError(`--trusted-only, but the trust list ${trustFile(options.home)} is empty: add peers with \`qis trust add PEER_ID\``, {code: 'BAD_FLAG'})
  }
  const identity = options.identity ?? (await loadOrCreateIdentity(options.home))
  const fingerprints = allKeys.map((k) => k.fingerprint)
  const fetch = options.fetch ?? (await swarmFetcher(identity, options.bootstrap ?? [], options.signal, (await loadSwarmKey(options.home))?.bytes))
  let fetched: FetchedPackets
  try {
    fetched = await fetch(fingerprints, options.signal)
  } catch (err) {
    // Ctrl-C mid-fetch: nothing was synthesised, so the weights file is untouched.
    if (options.signal?.aborted) throw new QisError(`interrupted; ${out} was not changed`, {code: 'INTERRUPTED', cause: err})
    throw err
  }

  const seenFile = publishersFile(options.home)
  const firstSeen = await readFirstSeen(seenFile)
  const synthesis = synthesizeWeights(fetched.packets, {
    scheme,
    firstSeen,
    trusted: trustedIds(trustList),
    trustedOnly: options.trustedOnly,
    ownPublicKey: Buffer.from(identity.publicKey).toString('hex'),
    keys: allKeys,
    hammingThreshold: options.hammingThreshold ?? DEFAULT_HAMMING_THRESHOLD,
    now,
    own: local.own,
  })

  let previousFile: WeightsFile | undefined
  let oldVersion = false
  try {
    previousFile = await readWeightsFileIfExists(out)
  } catch (err) {
    // A version 1 file has no per-variant evidence to merge; it is replaced, not a reason to fail.
    if (!(err instanceof OldWeightsFileError)) throw err
    oldVersion = true
  }
  const asked = new Set(fingerprints)
  const unanswered = new Set(fetched.unanswered)
  // Partial evidence neither replaces nor drops what an earlier, complete pull learnt.
  const incomplete = new Set(fetched.incomplete ?? [])
  const weights: Record<string, KeyWeight> = {}
  let kept = 0
  let previous: PullWeightsResult['previous'] = oldVersion ? 'replaced-old-version' : 'none'
  if (previousFile) {
    previous = previousFile.scheme === scheme ? 'merged' : 'replaced-other-scheme'
    if (previous === 'merged') {
      for (const [fp, entry] of Object.entries(previousFile.weights)) {
        if (!asked.has(fp) || unanswered.has(fp) || incomplete.has(fp)) {
          weights[fp] = entry
          kept++
        }
      }
    }
  }
  let written = 0
  for (const [fp, entry] of synthesis.weights) {
    if (incomplete.has(fp) && fp in weights) continue
    weights[fp] = entry
    written++
  }
  const file: WeightsFile = {
    version: WEIGHTS_FILE_VERSION,
    scheme,
    generatedAt: new Date(now * 1000).toISOString(),
    hammingThreshold: options.hammingThreshold ?? DEFAULT_HAMMING_THRESHOLD,
    weights: Object.fromEntries(Object.entries(weights).sort(([a], [b]) => (a < b ? -1 : 1))),
  }
  await writeWeightsFile(out, file)
  // After the weights: a crash in between leaves these publishers unrecorded, i.e. new for longer.
  const publishersNew = await recordSeen(seenFile, firstSeen, synthesis.publishers, now)
  return {
    scheme,
    out,
    keysAsked: fingerprints.length,
    summaryKeys: allKeys.filter((k) => isSummaryRoutingKey(k.routingKey)).length,
    ...(fromQueries ? {queries: {read: queries.length, keys: fromQueries.keys.length}} : {}),
    local: {stores: local.stores, packetsRead: local.packetsRead, packetsUsed: local.packetsUsed, summariesUsed: local.summariesUsed, skipped: local.skipped},
    peers: fetched.peers,
    packets: synthesis.packets,
    own: synthesis.own,
    received: synthesis.received,
    accepted: synthesis.accepted,
    refused: synthesis.refused,
    fetchFailures: fetched.failures,
    keysUnanswered: fetched.unanswered.length,
    keysIncomplete: incomplete.size,
    weightsWritten: written,
    weightsKept: kept,
    previous,
    publishersNew,
    trust: {listed: trustList.length, only: options.trustedOnly ?? false},
  }
}

/** The queries' keys, each with the fine hashes of the queries under it (the closeness filter's centres). */
async function queryKeys(queries: {query: string; domain: string}[], options: PullWeightsOptions): Promise<{scheme: string; keys: AskedKey[]}> {
  for (const q of queries) requireLabel('domain_tag', q.domain)
  let hasher = options.hasher
  let close = async () => {}
  if (!hasher) {
    const {createHashPipeline} = await import('../hash/pipeline.js')
    const made = await createHashPipeline({...(options.embedder ?? {backend: 'use-lite'}), workers: 0})
    hasher = {pipeline: made.pipeline, scheme: made.scheme.id}
    close = () => made.pipeline.close()
  }
  try {
    const scrubber = options.scrubber ?? (await import('../privacy/index.js')).createScrubber()
    // Exactly what distill and adjust do to a query before hashing it.
    const {scrubbedForHash} = await import('../hash/pipeline.js')
    const codes = queries.length ? await hasher.pipeline.hashMany(queries.map((q) => scrubbedForHash(scrubber, q.query, hasher!.pipeline))) : []
    const keys = new Map<string, {domain: string; routingKey: string; hashes: Set<string>}>()
    queries.forEach((q, i) => {
      for (const routingKey of codes[i].keys) {
        const fingerprint = keyFingerprint(hasher!.scheme, q.domain, routingKey)
        let k = keys.get(fingerprint)
        if (!k) keys.set(fingerprint, (k = {domain: q.domain, routingKey, hashes: new Set()}))
        k.hashes.add(codes[i].hash)
      }
    })
    return {scheme: hasher.scheme, keys: [...keys].map(([fingerprint, k]) => ({fingerprint, domain: k.domain, routingKey: k.routingKey, localHashes: [...k.hashes].sort()}))}
  } finally {
    await close()
  }
}

/** A fetcher over the real swarm: joins as a client, fetches, leaves. libp2p loads only here. */
async function swarmFetcher(identity: Identity, bootstrap: string[], signal?: AbortSignal, swarmKey?: Uint8Array): Promise<PacketFetcher> {
  return async (keyFingerprints) => {
    const {openSwarmClient, fetchPackets} = await import('../swarm/client.js')
    const client = await openSwarmClient({privateKey: identity.privateKey, bootstrap, signal, swarmKey})
    try {
      const result = await fetchPackets(client, keyFingerprints, {signal})
      return {packets: result.packets, peers: result.peers, failures: result.failures, unanswered: result.unanswered, incomplete: result.incomplete}
    } finally {
      await client.close()
    }
  }
}
