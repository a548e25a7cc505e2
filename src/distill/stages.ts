import {type TextHasher, scrubbedForHash} from '../hash/pipeline.js'
import type {CorrectionIndex} from '../ingest/corrections.js'
import type {CorrectionInfo, IngestEvent, NormalisedRecord, RecordLocation} from '../ingest/types.js'
import {PacketEncodeError, encodePacket, packetId} from '../packet/codec.js'
import {DOMAIN_SUMMARY_HASH, summaryRoutingKey, summaryShard} from '../packet/summary.js'
import type {Signer} from '../packet/signer.js'
import type {PacketStoreWriter} from '../packet/store.js'
import {toLabel} from '../packet/text.js'
import {MAX_TTL_HOURS, type PacketBody} from '../packet/types.js'
import type {Scrubber} from '../privacy/types.js'
import {type Accounting, SKIP} from './accounting.js'
import {type Group, type GroupKey, GroupTable} from './aggregate.js'
import type {FileTally} from './inputs.js'
import type {RandomisedResponse} from './ldp.js'
import {type ModelNameResult, publicModelName} from './model-name.js'
import type {SlicedHasher} from './slices.js'
import {coarsen} from './time.js'

/**
 * The stages of distill, in order: read (join) -> label -> scrub -> hash -> emit. Each takes one
 * record and gives the record for the next stage, or a Drop saying why it goes no further; distill()
 * in pipeline.ts composes them and does the accounting of drops. Hashing runs on batches (the
 * embedder is fastest so), still one record in, one out.
 */

/** Why a record goes no further: rejected (a value is invalid; listed in the rejects file) or skipped (valid, but no packet can or should carry it). */
export type Drop = {drop: 'reject'; reason: string; field?: string} | {drop: 'skip'; reason: string}

export const isDrop = (x: object): x is Drop => 'drop' in x
const reject = (reason: string, field?: string): Drop => (field === undefined ? {drop: 'reject', reason} : {drop: 'reject', reason, field})
const skip = (reason: string): Drop => ({drop: 'skip', reason})

/** A record joined with the correction (score, feedback, batch output) that names it. */
export interface Joined {
  at: RecordLocation
  record: NormalisedRecord
  correction?: CorrectionInfo
}

/** A record with its packet labels settled; `query` is still the raw text. */
export interface Labelled {
  at: RecordLocation
  query: string
  key: Omit<GroupKey, 'hash'>
  /** The outcome as it enters aggregation: the raw value, or the randomised-response bit. */
  outcome: number
  confidence: number
}

export interface Scrubbed extends Omit<Labelled, 'query'> {
  text: string
}

export interface Hashed extends Omit<Scrubbed, 'text' | 'key'> {
  key: GroupKey
  routingKeys: string[]
}

/** Read: a reader's event, joined with its correction; reader rejects, non-inference rows and join rows stop here. */
export function join(event: IngestEvent, corrections: CorrectionIndex | undefined): Joined | Drop {
  if (event.kind === 'reject') return reject(event.reason, event.field)
  const r = event.record
  if (r.skip !== undefined) return skip(r.skip)
  if (r.join) return skip(SKIP.joinRow)
  const correction = findJoin(corrections, r)
  return correction ? {at: event.at, record: r, correction} : {at: event.at, record: r}
}

/** The join entry for a record: by its id, else by its trace (a Langfuse observation's score may sit on the trace). */
function findJoin(corrections: CorrectionIndex | undefined, r: NormalisedRecord): CorrectionInfo | undefined {
  if (!corrections) return undefined
  for (const id of r.id === undefined ? (r.joinIds ?? []) : [r.id, ...(r.joinIds ?? [])]) {
    const hit = corrections.take(id)
    if (hit) return hit
  }
  return undefined
}

export interface LabelSettings {
  /** For records that carry no domain. */
  fallbackDomain: string
  defaultConfidence?: number
  modelAliases: Map<string, string>
  timeResolutionSeconds: number
  ttlHours: number
  nowSeconds: number
  rr?: RandomisedResponse
  /** Category fields (domain, correction type) must come through it unchanged. */
  scrubber: Scrubber
  tally: FileTally
}

/** A record may be at most this far ahead of the clock (the packet decoder allows an hour of skew). */
const MAX_FUTURE_SECONDS = 3600
const PERSONAL = Symbol('personal data')
const LABEL_CACHE_ENTRIES = 10_000

/** Label: domain, model, correction, outcome, confidence and time bucket. Invalid values are rejects; a record lacking a signal is a skip. */
export class LabelStage {
  private readonly categories = new Map<string, string | typeof PERSONAL | undefined>()
  private readonly models = new Map<string, ModelNameResult>()

  constructor(private readonly s: LabelSettings) {}

  run(j: Joined): Labelled | Drop {
    const {record: r, correction: c, at} = j
    const s = this.s
    const domain = r.domain === undefined || r.domain === '' ? s.fallbackDomain : this.category('domain_tag', r.domain)
    if (domain === PERSONAL) return reject('domain looks like it contains personal data', 'domain')
    if (domain === undefined) return reject('domain cannot be made a valid label (lowercase a-z, 0-9, . _ - :, at most 64 characters)', 'domain')
    const model = this.model(r.modelVariant ?? c?.modelVariant)
    if (!model.ok) return reject(model.reason, 'model')
    const correctionApplied = Boolean(r.correctionApplied) || Boolean(c?.correctionApplied) || (r.correctionType !== undefined && r.correctionType !== '')
    const rawType = c?.correctionType ?? r.correctionType
    let correctionType: string | null = null
    if (correctionApplied && rawType !== undefined && rawType !== '') {
      const label = this.category('correction_type', rawType)
      if (label === PERSONAL) return reject('correction type looks like it contains personal data', 'correction_type')
      if (label === undefined) return reject('correction type cannot be made a valid label (lowercase a-z, 0-9, . _ - :, at most 24 characters)', 'correction_type')
      correctionType = label
    }
    const outcome = r.outcome ?? c?.outcome
    if (outcome === undefined) return this.lacking(at, 'outcome', SKIP.noOutcome)
    const confidence = r.confidence ?? c?.confidence ?? s.defaultConfidence
    if (confidence === undefined) return this.lacking(at, 'confidence', SKIP.noConfidence)
    if (r.query === undefined || r.query.trim() === '') return this.lacking(at, 'query', SKIP.noQuery)
    s.tally.emit(at.file)
    const timestamp = r.timestamp ?? c?.timestamp
    const seconds = timestamp === undefined ? s.nowSeconds : Math.floor(timestamp / 1000)
    if (seconds > s.nowSeconds + MAX_FUTURE_SECONDS) return skip(SKIP.future)
    const bucket = coarsen(Math.max(0, seconds), s.timeResolutionSeconds)
    if (ttlFor(bucket, s.ttlHours, s.nowSeconds) > MAX_TTL_HOURS) return skip(SKIP.tooOld)
    return {
      at,
      query: r.query,
      key: {domain, modelVariant: model.name, correctionApplied, correctionType, bucket},
      outcome: s.rr ? s.rr.respond(outcome) : outcome,
      confidence,
    }
  }

  private lacking(at: RecordLocation, field: 'outcome' | 'confidence' | 'query', reason: string): Drop {
    this.s.tally.lacked(at.file, field)
    return skip(reason)
  }

  // Domains and correction types are categories, but a log may put free text there ("Dr Smith's
  // ward"), which toLabel would happily make a valid label: so they pass the scrubber too and are
  // rejected when it finds anything. Distinct values are few, so results are cached.
  private category(field: 'domain_tag' | 'correction_type', raw: string): string | typeof PERSONAL | undefined {
    const key = `${field}\u0000${raw}`
    if (this.categories.has(key)) return this.categories.get(key)
    const label = this.s.scrubber.scrub(raw).text !== raw ? PERSONAL : toLabel(field, raw)
    if (this.categories.size >= LABEL_CACHE_ENTRIES) this.categories.clear()
    this.categories.set(key, label)
    return label
  }

  // Model names are not scrubbed (names such as "Meta-Llama" trip the person detector); they are
  // cut down to a public name instead, so an organisation in a fine-tune id never leaves.
  private model(raw: string | undefined): ModelNameResult {
    if (raw === undefined || raw === '') return {ok: true, name: 'unknown'}
    let hit = this.models.get(raw)
    if (hit) return hit
    const pub = publicModelName(raw, this.s.modelAliases)
    const label = pub.ok ? toLabel('model_variant', pub.name) : undefined
    hit = !pub.ok ? pub : label === undefined ? {ok: false, reason: 'model variant cannot be made a valid label (lowercase a-z, 0-9, . _ - :, at most 48 characters)'} : {ok: true, name: label}
    if (this.models.size >= LABEL_CACHE_ENTRIES) this.models.clear()
    this.models.set(raw, hit)
    return hit
  }
}

/** Hours a packet of this time bucket lives: the TTL from now, plus the bucket's age. */
export function ttlFor(bucket: number, ttlHours: number, nowSeconds: number): number {
  return ttlHours + Math.max(0, Math.ceil((nowSeconds - bucket) / 3600))
}

const SCRUB_CACHE_ENTRIES = 20_000
const MAX_CACHED_QUERY_CHARS = 2_000

/** Scrub: the query's personal data replaced; nothing raw goes further. Never drops. */
export class ScrubStage {
  // Logs repeat queries verbatim (FAQ-like traffic) and scrubbing costs more than parsing, so exact
  // repeats reuse the scrubbed text; bounded, in memory only.
  private readonly cache = new Map<string, string>()

  constructor(private readonly scrubber: Scrubber) {}

  /** `hasher`: the pipeline the text goes to, which lets a long query be scrubbed from a head (scrubbedForHash). */
  run(l: Labelled, hasher?: Pick<TextHasher, 'modelInputOfHead'>): Scrubbed {
    const {query, ...rest} = l
    return {...rest, text: this.scrub(query, hasher)}
  }

  private scrub(raw: string, hasher: Pick<TextHasher, 'modelInputOfHead'> | undefined): string {
    const hit = this.cache.get(raw)
    if (hit !== undefined) return hit
    const text = scrubbedForHash(this.scrubber, raw, hasher)
    if (raw.length <= MAX_CACHED_QUERY_CHARS) {
      if (this.cache.size >= SCRUB_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string)
      this.cache.set(raw, text)
    }
    return text
  }
}

/** Hash: the fine hash and routing keys of each scrubbed text, for a batch, in order. Never drops. */
export async function hashBatch(hasher: SlicedHasher, batch: Scrubbed[]): Promise<Hashed[]> {
  const codes = await hasher.hash(batch.map((b) => b.text))
  return batch.map(({text: _, key, ...rest}, i) => ({...rest, key: {...key, hash: codes[i]!.hash}, routingKeys: codes[i]!.keys}))
}

export interface EmitSettings {
  scheme: string
  ttlHours: number
  nowSeconds: number
  rr?: RandomisedResponse
  /** With --aggregate. */
  table?: GroupTable
  minCount: number
  /** Also write one domain summary per (domain, model variant) of the records written (default on; `--no-domain-summary`). */
  domainSummary?: boolean
  /** The store and the signer, opened on first use. */
  open(): Promise<{store: PacketStoreWriter; signer: Signer}>
  accounting: Accounting
}

/**
 * Emit: a signed packet appended to the store, or (with --aggregate) the record added to its group,
 * whose packet is written when the group closes. A packet byte-identical to one already written is
 * skipped: nodes would store it once anyway (they de-duplicate by packet id), and counting it
 * would leave publish's figure unexplained. Records a packet carries are counted here.
 */
export class Emitter {
  /** Packet ids written so far (first 12 bytes, base64): ~60 bytes of memory per packet. */
  private readonly written = new Set<string>()
  /** Per domain NUL variant: the records written so far, for the domain summaries (one entry per pair, so memory is tiny). */
  private readonly perDomain = new Map<string, {domain: string; modelVariant: string; count: number; outcomeSum: number; confidenceSum: number; newest: number}>()

  constructor(private readonly s: EmitSettings) {}

  /** Undefined when the record is written or held in its group. */
  async add(h: Hashed): Promise<Drop | undefined> {
    const {table} = this.s
    if (table) {
      for (const g of table.add(h.key, h.routingKeys, h.outcome, h.confidence)) await this.emitGroup(g)
      return undefined
    }
    const {signer, store} = await this.s.open()
    let bytes: Uint8Array
    try {
      bytes = encodePacket(this.body(h.key, h.routingKeys, h.outcome, h.confidence, 1), signer)
    } catch (err) {
      if (err instanceof PacketEncodeError) return reject(err.message, err.error.field)
      throw err
    }
    if (!this.firstOf(bytes)) return skip(SKIP.duplicate)
    await store.append(bytes)
    this.s.accounting.emit(h.key.domain, 1)
    this.summarise(h.key, 1, h.outcome, h.confidence)
    return undefined
  }

  /** Writes the groups still open (with --aggregate), then the domain summaries of everything written. */
  async finish(): Promise<void> {
    if (this.s.table) for (const g of this.s.table.drain()) await this.emitGroup(g)
    if (this.s.domainSummary !== false) await this.emitSummaries()
  }

  /** Records written, added to their (domain, variant)'s summary: only what the store holds is summarised. */
  private summarise(key: GroupKey, count: number, outcomeSum: number, confidenceSum: number): void {
    const id = `${key.domain}\u0000${key.modelVariant}`
    let d = this.perDomain.get(id)
    if (!d) this.perDomain.set(id, (d = {domain: key.domain, modelVariant: key.modelVariant, count: 0, outcomeSum: 0, confidenceSum: 0, newest: 0}))
    d.count += count
    d.outcomeSum += outcomeSum
    d.confidenceSum += confidenceSum
    d.newest = Math.max(d.newest, key.bucket)
  }

  /**
   * One summary per (domain, variant) of the records written (docs/protocol.md, "Domain
   * summaries"), under this publisher's shard key. None has fewer than --min-count records, since
   * only written packets are summarised and each stands for at least that many (a summary of fewer
   * would say more about each record than the aggregates the flag allowed). Under --epsilon the
   * mean is of the randomised bits, read back as an aggregate's is.
   */
  private async emitSummaries(): Promise<void> {
    const acc = this.s.accounting
    for (const d of [...this.perDomain.values()].sort((a, b) => (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : a.modelVariant < b.modelVariant ? -1 : 1))) {
      const {signer, store} = await this.s.open()
      const outcome = this.s.rr ? this.s.rr.packetOutcome(d.outcomeSum, d.count) : d.outcomeSum / d.count
      const key: GroupKey = {domain: d.domain, hash: DOMAIN_SUMMARY_HASH, modelVariant: d.modelVariant, correctionApplied: false, correctionType: null, bucket: d.newest}
      const bytes = encodePacket(this.body(key, [summaryRoutingKey(summaryShard(signer.publicKey))], outcome, d.confidenceSum / d.count, d.count), signer)
      // The same records summarised again (a store distilled twice) make the same bytes: not stored twice.
      if (!this.firstOf(bytes, false)) continue
      await store.append(bytes)
      acc.summaries++
    }
  }

  private async emitGroup(g: Group): Promise<void> {
    const acc = this.s.accounting
    if (g.count < this.s.minCount) {
      acc.suppressedGroups++
      acc.skip(SKIP.belowMinCount, g.count)
      return
    }
    const outcome = this.s.rr ? this.s.rr.packetOutcome(g.outcomeSum, g.count) : g.outcomeSum / g.count
    const {signer, store} = await this.s.open()
    // Group fields were validated per record; a failure here is a bug, not bad input, so it throws.
    const bytes = encodePacket(this.body(g, g.routingKeys, outcome, g.confidenceSum / g.count, g.count), signer)
    if (!this.firstOf(bytes)) {
      acc.skip(SKIP.duplicate, g.count)
      return
    }
    await store.append(bytes)
    acc.emit(g.domain, g.count)
    this.summarise(g, g.count, g.outcomeSum, g.confidenceSum)
  }

  /** `record`: a record's packet (a repeat counts as a duplicate packet); a summary's repeat is not one. */
  private firstOf(bytes: Uint8Array, record = true): boolean {
    const id = Buffer.from(packetId(bytes).slice(0, 24), 'hex').toString('base64')
    if (this.written.has(id)) {
      if (record) this.s.accounting.duplicatePackets++
      return false
    }
    this.written.add(id)
    return true
  }

  private body(key: GroupKey, routingKeys: string[], outcome: number, confidence: number, count: number): PacketBody {
    return {
      scheme: this.s.scheme,
      domain_tag: key.domain,
      query_semantic_hash: key.hash,
      routing_keys: routingKeys,
      outcome_signal: outcome,
      confidence_at_inference: confidence,
      model_variant: key.modelVariant,
      correction_applied: key.correctionApplied,
      correction_type: key.correctionType,
      timestamp: key.bucket,
      ttl_hours: ttlFor(key.bucket, this.s.ttlHours, this.s.nowSeconds),
      count,
      outcome_epsilon: this.s.rr ? this.s.rr.epsilon : null,
    }
  }
}
