import type {WeightsFile} from './file.js'
import {isSummaryRoutingKey} from '../packet/summary.js'
import {type Evidence, type KeyWeight, type QueryEvidence, hexHamming} from './synthesize.js'

/** The reference pattern's bound on a confidence adjustment (the `reference` rule only). */
export const MAX_ADJUSTMENT = 0.3

/**
 * The rules `qis adjust --rule` knows:
 * - `calibrated` (default): estimates P(success) for this query on this model from the evidence
 *   under its keys; the adjustment is that estimate minus the confidence given.
 * - `reference`: the reference pattern's clamp(weight - 0.5, -0.3, +0.3).
 */
export const ADJUST_RULES = ['calibrated', 'reference'] as const
export type AdjustRule = (typeof ADJUST_RULES)[number]
export const DEFAULT_RULE: AdjustRule = 'calibrated'

/**
 * Prior strength of the calibrated rule, in records: the publishers' own confidence counts as much
 * as this many records of outcomes. Chosen on a split of MMLU-Pro outcomes (docs/weights.md, "How
 * the constants were chosen").
 */
export const PRIOR_STRENGTH = 4

/**
 * A record under one of the query's keys whose own query is farther than CLOSE_BITS counts as this
 * fraction of a record: it says how such queries go, not how this one goes. Fitted with
 * PRIOR_STRENGTH (docs/weights.md).
 */
export const REGION_WEIGHT = 0.1

/**
 * Fine hashes within this many bits of the query count as the same question (fully). 8 bits keeps
 * identical and near-identical questions (a quarter of paraphrases; unrelated queries sharing a key
 * are 2% at 12 bits, fewer here: docs/weights.md, "Choosing the threshold").
 */
export const CLOSE_BITS = 8

/**
 * A record of this very question on this very variant (fine hashes within REPEAT_BITS, i.e. equal:
 * the same text once normalised for case, spacing and punctuation, which is what the hash reads) counts REPEAT_WEIGHT records: a model's answer to a
 * question it has answered before mostly repeats (always, at temperature 0), so one such record
 * moves the estimate as far as the prior pulls it back (REPEAT_WEIGHT = PRIOR_STRENGTH: halfway).
 * A stated choice, not fitted: the MMLU-Pro outcomes hold one answer per model and question, so
 * there every repeat agrees and any fit would say "infinitely many" (docs/weights.md).
 */
export const REPEAT_BITS = 0
export const REPEAT_WEIGHT = 4

/**
 * Prior strength of the domain layer, in records (each record of the domain once, however many of
 * its keys it is filed under): how much a variant's own record across the domain must say before
 * it outweighs what the other variants' surprise in the domain says. Fitted with the others
 * (docs/weights.md, "The domain layer").
 */
export const DOMAIN_PRIOR_STRENGTH = 32

/**
 * With domain summaries: how many records of a variant's own in a domain it takes before its
 * estimate there departs from the other variants' surprise by half as much as its record says.
 * A model's edge over the others in one domain is a smaller effect than the domain's difficulty
 * (DOMAIN_PRIOR_STRENGTH shrinks that), and a few records' worth of it is mostly noise that routing
 * then mistakes for an edge. Summaries hold every publisher's whole record in the domain, so the
 * others' surprise is well measured and the variant can lean on it; without summaries the others'
 * evidence is the slice under the home's own keys while its own record is nearly whole, and the
 * variant's record is shrunk with DOMAIN_PRIOR_STRENGTH as before. Fitted with it
 * (docs/weights.md, "The domain layer").
 */
export const VARIANT_DOMAIN_STRENGTH = 128

/** The confidence assumed when the caller gives none (`qis adjust` without `--confidence`). */
export const DEFAULT_CONFIDENCE = 0.5

/**
 * Probabilities are clamped to [FLOOR, 1 - FLOOR] before taking log-odds: a peer that claimed
 * certainty (confidence 1) and failed would otherwise be an unbounded surprise, and one such
 * claim could drive every estimate to 0. With 0.05 no shift exceeds 2 x logit(0.95) = 5.9.
 */
const FLOOR = 0.05

/** How many variants bestVariants / worstVariants name at most. */
const NAMED_VARIANTS = 3

export interface MatchedKey {
  fingerprint: string
  domain: string
  routingKey: string
  weight: number
  packets: number
  publishers: number
  evidence: Evidence
}

/** What peers' evidence says about one model variant on this query. */
export interface VariantEstimate {
  model: string
  /** Estimated P(success) of this variant on this query, from its own outcomes and the pooled shift. */
  probability: number
  /** Records' worth of its evidence under the matched keys (after the publisher bounds). */
  mass: number
  /** Its raw success rate under those keys. */
  success: number
  publishers: number
}

export interface AdjustmentOptions {
  rule?: AdjustRule
  /** The deployment's own confidence in its answer, [0, 1]. Default DEFAULT_CONFIDENCE. */
  confidence?: number
  /** This deployment's model variant: its own evidence is used where peers have it. */
  model?: string
  /**
   * Variants to estimate (routing): names, or name -> that variant's own base confidence. A name
   * without a base uses its peers' stated confidence where they have evidence, else `confidence`.
   */
  candidates?: string[] | Record<string, number>
  /** The query's fine hash: records of close queries under its keys count fully. Without it every record counts REGION_WEIGHT. */
  queryHash?: string
  /** Constants of the calibrated rule; other values than the defaults are for fitting them (bench/weights/fit-prior.mjs). */
  priorStrength?: number
  regionWeight?: number
  closeBits?: number
  repeatBits?: number
  repeatWeight?: number
  domainPriorStrength?: number
  /** Default VARIANT_DOMAIN_STRENGTH with summaries, domainPriorStrength without. */
  variantDomainStrength?: number
  /**
   * The query's domain: the evidence of every key of this domain in the weights file becomes the
   * prior of the keys' own (docs/weights.md, "The domain layer"). Without it there is no domain layer.
   */
  domain?: string
  /** Where the domain layer's evidence comes from, when `weights` is only the query's own keys (live lookup). Default: `weights`. */
  domainSource?: WeightsFile
}

export interface Adjustment {
  rule: AdjustRule
  /** Add it to the confidence: probability - confidence (calibrated) or the reference clamp. */
  adjustment: number
  /** The estimated probability that this answer is right, in [0, 1]. */
  probability: number
  /** The confidence the adjustment is relative to. */
  confidence: number
  /** The model variant asked about, or null. */
  model: string | null
  /** True when that model's own evidence was found under the keys (else the pooled evidence was used). */
  modelEvidence: boolean
  /** The reference weight of the matched keys (publisher-weighted mean), or null when none matched. */
  weight: number | null
  /** How many of the query's keys the weights file knows. */
  keysMatched: number
  keysLookedUp: number
  /** Summed over matched keys: a packet filed under two matched keys counts twice. */
  packets: number
  /** Distinct publishers across the matched keys. */
  publishers: number
  /**
   * The evidence the estimate used, pooled across the matched keys: records of close queries
   * count fully, the others REGION_WEIGHT each (mass is in those units); success and confidence
   * are mass-weighted means. Null when none matched.
   */
  evidence: Evidence | null
  /** The part of it from queries within CLOSE_BITS of this one (the same question, as far as the hash tells), or null. */
  closeEvidence: Evidence | null
  /**
   * Everything the weights file holds in the query's domain, each record once however many of its
   * keys it is filed under: the prior the keys' evidence refines. Null without a domain or without
   * evidence in it.
   */
  domainEvidence: Evidence | null
  /** Where domainEvidence came from: the domain's summaries (each publisher-variant once), or the records under the file's keys of the domain. Null without it. */
  domainFrom: 'summaries' | 'records' | null
  /** Every variant with evidence, best estimate first. */
  variants: VariantEstimate[]
  /** The variants peers did best with on such queries (best first) ... */
  bestVariants: VariantEstimate[]
  /** ... and worst with (worst first); disjoint from bestVariants. */
  worstVariants: VariantEstimate[]
  /** Estimated P(success) per candidate variant, when candidates were given. */
  candidates?: Record<string, number>
  matched: MatchedKey[]
}

const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x))
const logit = (p: number) => {
  const q = clamp(p, FLOOR, 1 - FLOOR)
  return Math.log(q / (1 - q))
}
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))
/** A probability moved by `d` in log-odds. */
const shifted = (p: number, d: number) => sigmoid(logit(p) + d)

interface Pool {
  mass: number
  success: number
  confidence: number
  publishers: number
}

/**
 * Evidence of several parts as one: means weighted by mass. For keys (`max`), mass is the largest
 * key's, so a record under two keys counts once; for disjoint parts (`sum`), masses add.
 */
function pool(parts: Pool[], mass: 'max' | 'sum' = 'max'): Pool | null {
  let total = 0
  let success = 0
  let confidence = 0
  let largest = 0
  let publishers = 0
  for (const p of parts) {
    if (!(p.mass > 0)) continue
    total += p.mass
    success += p.mass * p.success
    confidence += p.mass * p.confidence
    largest = Math.max(largest, p.mass)
    publishers = Math.max(publishers, p.publishers)
  }
  if (total === 0) return null
  return {mass: mass === 'max' ? largest : total, success: success / total, confidence: confidence / total, publishers}
}

/** Posterior mean of a success rate: `mass` records with mean `success`, and a prior `prior` worth PRIOR_STRENGTH records. */
function posterior(e: Pool, prior: number, k: number): number {
  return (e.mass * e.success + k * prior) / (e.mass + k)
}

/**
 * The peers' surprise in log-odds: how much better (or worse) they did on such queries than they
 * themselves expected, shrunk towards none by how little evidence there is. Transferring the
 * surprise rather than the raw rate lets a strong model learn from a weak one's outcomes: a
 * question a weak model got right against its odds is easy for everyone.
 */
function shift(e: Pool | null, k: number, prior = 0): number {
  if (!e) return prior
  return logit(posterior(e, shifted(e.confidence, prior), k)) - logit(e.confidence)
}

/** A domain's evidence in a weights file: pooled and per variant, each record once. */
interface DomainEvidence {
  pooled: Pool
  variants: Map<string, Pool>
}

/** Running sums of records: what a Pool is before its means are taken. */
interface Sums {
  mass: number
  success: number
  confidence: number
  publishers: number
}

/** A domain's records, once each, and their sums (pooled and per variant). */
interface DomainRecords {
  /** Record id (fine hash NUL variant) -> its largest entry across the domain's keys ... */
  records: Map<string, QueryEvidence>
  /** ... on top of these (a live lookup's entries over the file's domain), which stay unchanged. */
  under?: DomainRecords
  pooled: Sums
  variants: Map<string, Sums>
  /**
   * Set when the domain's evidence is its summaries (docs/weights.md, "The domain layer"), not the
   * records under keys: the publishers (KeyWeight.publisherIds) that sent one.
   */
  summarised?: Set<string>
}

const emptySums = (): Sums => ({mass: 0, success: 0, confidence: 0, publishers: 0})

function addTo(sums: Sums, q: Pool, sign: 1 | -1): void {
  sums.mass += sign * q.mass
  sums.success += sign * q.mass * q.success
  sums.confidence += sign * q.mass * q.confidence
  if (sign > 0) sums.publishers = Math.max(sums.publishers, q.publishers)
}

/**
 * The records an entry holds: its per-query entries; an entry built without them (benches, older
 * files) stands for records of its own, one group per variant, unique to its key.
 */
function recordsOf(fingerprint: string, entry: KeyWeight): [string, QueryEvidence][] {
  if (entry.queries && entry.queries.length > 0) return entry.queries.map((q) => [`${q.hash}\u0000${q.model}`, q])
  const variants = Object.entries(entry.variants ?? {})
  const groups: [string, Evidence][] = variants.length > 0 ? variants : entry.evidence ? [['', entry.evidence]] : []
  return groups.map(([model, e]) => [`\u0001${fingerprint}\u0000${model}`, {...e, hash: '', model}])
}

/**
 * Entries' records added to `base` (copied, never changed), each record once: a record filed
 * under several of the domain's keys is one record, counted at its largest mass. Undefined when
 * nothing has mass.
 */
function withRecords(entries: Iterable<[string, KeyWeight]>, base?: DomainRecords): DomainRecords | undefined {
  const out: DomainRecords = base
    ? {records: new Map(), under: base, pooled: {...base.pooled}, variants: new Map([...base.variants].map(([name, v]) => [name, {...v}])), ...(base.summarised ? {summarised: base.summarised} : {})}
    : {records: new Map(), pooled: emptySums(), variants: new Map()}
  const had = (id: string) => {
    for (let d: DomainRecords | undefined = out; d; d = d.under) {
      const q = d.records.get(id)
      if (q) return q
    }
    return undefined
  }
  for (const [fingerprint, entry] of entries) {
    for (const [id, q] of recordsOf(fingerprint, entry)) {
      if (!(q.mass > 0)) continue
      const old = had(id)
      if (old && old.mass >= q.mass) continue
      let v = out.variants.get(q.model)
      if (!v) out.variants.set(q.model, (v = emptySums()))
      if (old) {
        addTo(out.pooled, old, -1)
        addTo(v, old, -1)
      }
      addTo(out.pooled, q, 1)
      addTo(v, q, 1)
      out.records.set(id, q)
    }
  }
  return out.pooled.mass > 1e-9 ? out : base
}

const meanOf = (s: Sums): Pool => ({mass: s.mass, success: clamp(s.success / s.mass, 0, 1), confidence: clamp(s.confidence / s.mass, 0, 1), publishers: s.publishers})

function evidenceOf(d: DomainRecords): DomainEvidence {
  const variants = new Map<string, Pool>()
  for (const [name, v] of d.variants) if (v.mass > 1e-9) variants.set(name, meanOf(v))
  return {pooled: meanOf(d.pooled), variants}
}

const domainCache = new WeakMap<WeightsFile['weights'], Map<string, DomainRecords>>()

/**
 * Record keys of a summarised domain whose every publisher sent no summary (an older qis, a
 * `--no-domain-summary` run, a summary key that went unanswered): their records are in no
 * summary, so they count as records. A key shared with a summarised publisher cannot be split
 * (a file keeps no publisher per record), so it stays out: the summary holds that publisher.
 */
function unsummarised(entries: [string, KeyWeight][], summarised: Set<string>): [string, KeyWeight][] {
  return entries.filter(([, e]) => !isSummaryRoutingKey(e.routingKey) && (e.publisherIds ?? []).length > 0 && e.publisherIds.every((id) => !summarised.has(id)))
}

/** Every domain's records in a weights file, computed once per weights object. */
function domainsOf(weights: WeightsFile): Map<string, DomainRecords> {
  const had = domainCache.get(weights.weights)
  if (had) return had
  const byDomain = new Map<string, [string, KeyWeight][]>()
  for (const [fingerprint, entry] of Object.entries(weights.weights)) {
    let list = byDomain.get(entry.domain)
    if (!list) byDomain.set(entry.domain, (list = []))
    list.push([fingerprint, entry])
  }
  const out = new Map<string, DomainRecords>()
  for (const [domain, entries] of byDomain) {
    // Where the domain's summaries arrived, they are its evidence: each publisher-variant once, for
    // all of its records in the domain, not only those under the keys this home asked. The records
    // under the keys are the same publishers' records again, so they are left out, not added.
    // Each shard key's per-variant evidence is its own (a publisher is under one shard only).
    const summaries = entries.filter(([, e]) => isSummaryRoutingKey(e.routingKey)).map(([fp, e]): [string, KeyWeight] => [fp, {...e, queries: []}])
    if (summaries.length === 0) {
      const d = withRecords(entries)
      if (d) out.set(domain, d)
      continue
    }
    const summarised = new Set(summaries.flatMap(([, e]) => e.publisherIds ?? []))
    const d = withRecords([...summaries, ...unsummarised(entries, summarised)])
    if (d) out.set(domain, {...d, summarised})
  }
  domainCache.set(weights.weights, out)
  return out
}

/** A key's pooled evidence with one variant's taken out (the variant's own prior must not count its evidence twice). */
function without(total: Pool, part: Pool | undefined): Pool {
  if (!part) return total
  const mass = total.mass - part.mass
  if (!(mass > 1e-9)) return {mass: 0, success: 0, confidence: 0, publishers: 0}
  return {
    mass,
    success: clamp((total.mass * total.success - part.mass * part.success) / mass, 0, 1),
    confidence: clamp((total.mass * total.confidence - part.mass * part.confidence) / mass, 0, 1),
    publishers: total.publishers,
  }
}

function checkProbability(name: string, x: number): number {
  if (typeof x !== 'number' || !(x >= 0 && x <= 1)) throw new RangeError(`${name} must be a number from 0 to 1, got ${String(x)}`)
  return x
}

/**
 * Looks a query's key fingerprints up in a weights file and turns what peers saw under them into
 * an adjustment of this deployment's confidence (docs/weights.md, "qis adjust").
 *
 * calibrated: with d the peers' surprise in log-odds (for `model`, from that variant's own
 * outcomes where peers have any, with the other variants' surprise as its prior),
 * probability = sigmoid(logit(confidence) + d); adjustment = probability - confidence. No evidence
 * gives d = 0, i.e. probability = confidence.
 *
 * reference: clamp(weight - 0.5, -0.3, +0.3) over the publisher-weighted mean of the keys' weights;
 * probability = clamp(confidence + adjustment, 0, 1).
 */
export function adjustmentFor(weights: WeightsFile, keyFingerprints: Iterable<string>, options: AdjustmentOptions = {}): Adjustment {
  const rule = options.rule ?? DEFAULT_RULE
  if (!ADJUST_RULES.includes(rule)) throw new RangeError(`rule must be one of ${ADJUST_RULES.join(', ')}, got ${String(rule)}`)
  const confidence = checkProbability('confidence', options.confidence ?? DEFAULT_CONFIDENCE)
  const model = options.model ?? null
  const k = options.priorStrength ?? PRIOR_STRENGTH
  if (!(k > 0)) throw new RangeError(`priorStrength must be > 0, got ${String(k)}`)

  const matched: MatchedKey[] = []
  const looked = new Set<string>()
  for (const fp of keyFingerprints) {
    if (looked.has(fp)) continue
    looked.add(fp)
    const entry = Object.hasOwn(weights.weights, fp) ? weights.weights[fp] : undefined
    if (!entry) continue
    matched.push({
      fingerprint: fp,
      domain: entry.domain,
      routingKey: entry.routingKey,
      weight: entry.weight,
      packets: entry.packets,
      publishers: entry.publishers,
      evidence: entry.evidence,
    })
  }

  let weight: number | null = null
  let packets = 0
  const publisherIds = new Set<string>()
  if (matched.length > 0) {
    let sum = 0
    let weightTotal = 0
    for (const m of matched) {
      sum += m.weight * m.publishers
      weightTotal += m.publishers
      packets += m.packets
      for (const id of weights.weights[m.fingerprint].publisherIds) publisherIds.add(id)
    }
    weight = sum / weightTotal
  }

  const entries = matched.map((m) => weights.weights[m.fingerprint])
  const rho = options.regionWeight ?? REGION_WEIGHT
  const closeBits = options.closeBits ?? CLOSE_BITS
  // Close queries' entries, once each though they sit under several of the query's keys.
  const close = new Map<string, QueryEvidence>()
  if (options.queryHash !== undefined) {
    for (const e of entries) {
      for (const q of e.queries ?? []) {
        if (hexHamming(q.hash, options.queryHash) > closeBits) continue
        const id = `${q.hash}\u0000${q.model}`
        const had = close.get(id)
        if (!had || had.mass < q.mass) close.set(id, q)
      }
    }
  }
  const repeatBits = options.repeatBits ?? REPEAT_BITS
  const repeatWeight = options.repeatWeight ?? REPEAT_WEIGHT
  if (!(repeatWeight > 0)) throw new RangeError(`repeatWeight must be > 0, got ${String(repeatWeight)}`)
  /**
   * Evidence for a set of variants: close records count fully, the other records under the keys
   * count rho. `logged` is that as logged; `counted` is what the estimate uses, in which a
   * `variant`'s own records of this very question count REPEAT_WEIGHT each (the same as `logged`
   * without a variant or a repeat).
   */
  const weighed = (region: Pool | null, which: (model: string) => boolean, variant?: string): {logged: Pool | null; counted: Pool | null} => {
    const mine = [...close.values()].filter((q) => which(q.model))
    const near = pool(mine.map((q) => ({...q})), 'sum')
    const far = region && near ? without(region as Evidence, near as Evidence) : region
    const farPart: Pool[] = far && far.mass > 0 ? [{...far, mass: far.mass * rho}] : []
    const logged = pool([...(near ? [near] : []), ...farPart], 'sum')
    const repeats = (q: QueryEvidence) => q.model === variant && options.queryHash !== undefined && hexHamming(q.hash, options.queryHash) <= repeatBits
    if (variant === undefined || !mine.some(repeats)) return {logged, counted: logged}
    return {logged, counted: pool([...mine.map((q) => ({...q, mass: repeats(q) ? q.mass * repeatWeight : q.mass})), ...farPart], 'sum')}
  }
  // The domain layer: what the file holds in this domain says how these variants do on such
  // queries; the keys' evidence refines it, the query's close records refine that.
  const kDomain = options.domainPriorStrength ?? DOMAIN_PRIOR_STRENGTH
  if (!(kDomain > 0)) throw new RangeError(`domainPriorStrength must be > 0, got ${String(kDomain)}`)
  const source = options.domainSource ?? weights
  let records = options.domain === undefined ? undefined : domainsOf(source).get(options.domain)
  // Entries of this query that the source lacks (live lookup) count too, as they will once written back.
  const lacked = source === weights ? [] : matched.filter((m) => m.domain === options.domain && m.evidence && !Object.hasOwn(source.weights, m.fingerprint)).map((m): [string, KeyWeight] => [m.fingerprint, weights.weights[m.fingerprint]])
  // Under summaries only the keys of publishers without one add records (see unsummarised()).
  const extra = records?.summarised ? unsummarised(lacked, records.summarised) : lacked
  if (extra.length > 0) records = withRecords(extra, records)
  const domain = records ? evidenceOf(records) : undefined
  const kVariant = options.variantDomainStrength ?? (records?.summarised ? VARIANT_DOMAIN_STRENGTH : kDomain)
  if (!(kVariant > 0)) throw new RangeError(`variantDomainStrength must be > 0, got ${String(kVariant)}`)
  const domainShift = domain ? shift(domain.pooled, kDomain) : 0
  /** The domain's surprise for the variants other than `name`, and for `name` itself (its own record shrunk towards the others'). */
  const domainShifts = (name: string | null): {own: number; others: number} => {
    const mine = name === null ? undefined : domain?.variants.get(name)
    if (!domain || !mine) return {own: domainShift, others: domainShift}
    const rest = without(domain.pooled as Evidence, mine as Evidence)
    const others = shift(rest.mass > 0 ? rest : null, kDomain)
    return {own: logit(posterior(mine, shifted(mine.confidence, others), kVariant)) - logit(mine.confidence), others}
  }
  const regionAll = pool(entries.map((e) => e.evidence).filter((v): v is Evidence => v !== undefined))
  const pooled = weighed(regionAll, () => true).logged
  const pooledShift = shift(pooled, k, domainShift)
  /** A variant without evidence under the keys: its domain surprise plus what the keys say beyond the domain's. */
  const shiftWithoutKeys = (name: string | null) => domainShifts(name).own + pooledShift - domainShift
  // Entries built by hand (benches) may lack variants or queries: read as none.
  const variantNames = [...new Set(entries.flatMap((e) => Object.keys(e.variants ?? {})))].sort()
  const perVariant = new Map<string, {estimate: VariantEstimate; shift: number; confidence: number}>()
  for (const name of variantNames) {
    const region = pool(entries.map((e) => e.variants?.[name]).filter((v): v is Evidence => v !== undefined))
    // What is reported is in records as logged (`seen`): REPEAT_WEIGHT is how much they say, not how many there were.
    const {logged: seen, counted: own} = weighed(region, (m) => m === name, name)
    if (!own || !seen) continue
    const others = weighed(pool(entries.filter((e) => e.evidence !== undefined).map((e) => without(e.evidence, e.variants?.[name]))), (m) => m !== name).logged
    const d = domainShifts(name)
    // The others' surprise under the keys beyond their domain surprise, on top of this variant's own domain surprise.
    const prior = shifted(own.confidence, d.own + shift(others, k, d.others) - d.others)
    const probability = clamp(posterior(own, prior, k), 0, 1)
    perVariant.set(name, {
      estimate: {model: name, probability, mass: seen.mass, success: seen.success, publishers: seen.publishers},
      shift: logit(probability) - logit(own.confidence),
      confidence: own.confidence,
    })
  }
  const variants = [...perVariant.values()].map((v) => v.estimate).sort((a, b) => b.probability - a.probability || (a.model < b.model ? -1 : 1))
  const nBest = Math.min(NAMED_VARIANTS, Math.ceil(variants.length / 2))
  const nWorst = Math.min(NAMED_VARIANTS, Math.floor(variants.length / 2))
  const bestVariants = variants.slice(0, nBest)
  const worstVariants = variants.slice(variants.length - nWorst).reverse()

  const own = model === null ? undefined : perVariant.get(model)
  let adjustment: number
  let probability: number
  if (rule === 'reference') {
    adjustment = weight === null ? 0 : clamp(weight - 0.5, -MAX_ADJUSTMENT, MAX_ADJUSTMENT)
    probability = clamp(confidence + adjustment, 0, 1)
  } else if (matched.length === 0 && !domain) {
    probability = confidence
    adjustment = 0
  } else {
    // Log-odds keep the estimate inside (0, 1) and make the same surprise move a confident answer
    // less. The move is measured from the clamped confidence, so its sign is always the evidence's
    // even for a confidence of 0 or 1.
    const d = own ? own.shift : shiftWithoutKeys(model)
    adjustment = shifted(confidence, d) - clamp(confidence, FLOOR, 1 - FLOOR)
    probability = clamp(confidence + adjustment, 0, 1)
    adjustment = probability - confidence
  }

  let candidates: Record<string, number> | undefined
  if (options.candidates) {
    candidates = {}
    const list = Array.isArray(options.candidates) ? options.candidates.map((name) => [name, undefined] as const) : Object.entries(options.candidates)
    for (const [name, base] of list) {
      const v = perVariant.get(name)
      const b = base === undefined ? (v ? v.confidence : confidence) : checkProbability(`candidates["${name}"]`, base)
      candidates[name] = rule === 'reference'
        ? clamp(b + (weight === null ? 0 : clamp(weight - 0.5, -MAX_ADJUSTMENT, MAX_ADJUSTMENT)), 0, 1)
        : matched.length === 0 && !domain ? b : clamp(b + shifted(b, v ? v.shift : shiftWithoutKeys(name)) - clamp(b, FLOOR, 1 - FLOOR), 0, 1)
    }
  }

  return {
    rule,
    adjustment,
    probability,
    confidence,
    model,
    modelEvidence: own !== undefined,
    weight,
    keysMatched: matched.length,
    keysLookedUp: looked.size,
    packets,
    publishers: publisherIds.size,
    evidence: pooled,
    closeEvidence: pool([...close.values()].map((q) => ({...q})), 'sum'),
    domainEvidence: domain ? {...domain.pooled} : null,
    domainFrom: domain ? (records?.summarised ? 'summaries' : 'records') : null,
    variants,
    bestVariants,
    worstVariants,
    ...(candidates ? {candidates} : {}),
    matched,
  }
}
