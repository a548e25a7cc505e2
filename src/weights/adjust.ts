import path from 'node:path'

import {requireLabel} from '../cli/label.js'
import {type Home, homeLayout} from '../config/home.js'
import type {EmbedderConfig} from '../embed/types.js'
import {type TextHasher, scrubbedForHash} from '../hash/pipeline.js'
import type {Scrubber} from '../privacy/types.js'
import {normaliseAliases, publicModelName} from '../distill/model-name.js'
import {keyFingerprint} from '../packet/fingerprint.js'
import {toLabel} from '../packet/text.js'
import {QisError} from '../util/errors.js'
import {ADJUST_RULES, type AdjustRule, type Adjustment, adjustmentFor} from './adjustment.js'
import {WEIGHTS_FILE_VERSION, type WeightsFile, readWeightsFile, readWeightsFileIfExists, validateWeightsFile, writeWeightsFile} from './file.js'
import type {LiveLookup, LiveStats} from './live.js'
import {DEFAULT_HAMMING_THRESHOLD, type KeyWeight} from './synthesize.js'

/** The part of the hash pipeline adjust needs (src/hash/pipeline.ts); with modelInputOfHead a long query is scrubbed from a head only. */
export type QueryHasher = Pick<TextHasher, 'hashMany' | 'close' | 'modelInputOfHead'>

/** The scrubber a query goes through before hashing; with `head`, a long query's head only (scrubbedForHash). */
export type QueryScrubber = Pick<Scrubber, 'head'> & {scrub(text: string): {text: string}}

export interface AdjusterOptions {
  /** A qis home (folder or opened): its weights file, and its config's embedder unless `embedder` is given. */
  home?: string | Home
  /** The weights: a file `qis pull-weights` wrote, or one already read. Default: the home's weights file. */
  weights?: string | WeightsFile
  /** Same as a string `weights` (kept for callers written before `weights`). */
  weightsFile?: string
  /** Default rule for adjust() calls that do not name one. Default: calibrated. */
  rule?: AdjustRule
  /** Default model variant for adjust() calls that do not name one (this deployment's model). */
  model?: string
  /** Model name aliases as distill's `--model-alias` / config `modelAlias`. Default: the home's config. */
  modelAlias?: Record<string, string>
  /** Embedder to hash queries with; must be the one whose scheme the weights were pulled under. Default: the home's config, else use-lite. */
  embedder?: EmbedderConfig
  /** A ready hasher and its scheme id instead of building one from `embedder` (tests, or sharing distill's). */
  hasher?: {pipeline: QueryHasher; scheme: string}
  /** A ready PII scrubber instead of building one (the word lists cost ~0.5 s once). */
  scrubber?: QueryScrubber
  /**
   * Live lookup (`swarmLiveLookup()`, or a LiveLookup over any fetcher): a query whose keys the
   * weights file does not know asks the swarm about them now, within a timeout, and falls back to
   * the file alone when no answer comes. With it, a missing weights file counts as an empty one.
   */
  live?: LiveLookup
  /** With `live`: write what was learnt back into the weights file (atomically), so the next process need not ask again. */
  persist?: boolean
}

/** One query to adjust: its domain, and what the deployment knows about its own answer. */
export interface AdjustQueryOptions {
  domain: string
  /** The deployment's own confidence in its answer, [0, 1]. Default 0.5. */
  confidence?: number
  /** The model variant that answered. Default: the adjuster's `model`. */
  model?: string
  rule?: AdjustRule
  /** Variants to estimate for routing (names, or name -> its base confidence): `candidates` in the result. */
  candidates?: string[] | Record<string, number>
}

export interface QueryAdjustment extends Adjustment {
  domain: string
  scheme: string
  /** The weights file's generation time: how old the knowledge is. */
  weightsGeneratedAt: string
  /** With live lookup: of this query's keys, how many were answered from the swarm now (`keysLive`), and what the batch's lookup did. */
  live?: LiveStats & {keysLive: number}
}

/**
 * Holds the scrubber, the embedding model and the weights, so a deployment pays for loading them
 * once and then adjusts each answer's confidence in milliseconds, in-process.
 *
 *   const a = await createAdjuster({home: '/srv/qis', model: 'llama-3-8b'})
 *   const {probability, adjustment, bestVariants} = await a.adjust(query, {domain: 'clinical.oncology', confidence: 0.62})
 */
export interface Adjuster {
  readonly scheme: string
  /** `domain` alone (a string) is the same as {domain}. */
  adjust(query: string, options: AdjustQueryOptions | string): Promise<QueryAdjustment>
  /** Many queries in one model call (faster per query). */
  adjustMany(items: ({query: string} & AdjustQueryOptions)[]): Promise<QueryAdjustment[]>
  /** Re-reads the weights file (after a `pull-weights`); a no-op for weights passed in memory. */
  reload(): Promise<void>
  close(): Promise<void>
}

/**
 * The variant name as distill would have put it in a packet (public name, label form), so
 * `--model meta-llama/Meta-Llama-3-8B` finds the packets of the same model. A name distill would
 * refuse is kept as given: it matches nothing, which is the truth.
 */
export function modelVariantLabel(raw: string, aliases?: Record<string, string>): string {
  const pub = publicModelName(raw, normaliseAliases(aliases))
  return (pub.ok ? toLabel('model_variant', pub.name) : undefined) ?? raw
}

function checkScheme(weights: WeightsFile, scheme: string, file: string): void {
  if (weights.scheme !== scheme) {
    throw new QisError(
      `weights file ${file} holds weights for scheme ${weights.scheme}, but queries here hash under scheme ${scheme} (a different embedder, model or codebook); configure the embedder of ${weights.scheme}, or distill and pull-weights again with this one`,
      {code: 'SCHEME_MISMATCH'},
    )
  }
}

export async function createAdjuster(options: AdjusterOptions): Promise<Adjuster> {
  const home = options.home === undefined ? undefined : typeof options.home === 'string' ? homeLayout(path.resolve(options.home)) : options.home
  const source = options.weights ?? options.weightsFile ?? home?.weightsFile
  if (source === undefined) throw new QisError('createAdjuster needs a home or weights', {code: 'NO_WEIGHTS'})
  const file = typeof source === 'string' ? source : '<weights in memory>'
  // The weights first: a missing or bad file should fail before a model is loaded for nothing.
  const live = options.live
  let weights: WeightsFile | undefined = typeof source === 'string' ? (live ? await readWeightsFileIfExists(source) : await readWeightsFile(source)) : validateWeightsFile(source, file)
  if (options.rule !== undefined && !ADJUST_RULES.includes(options.rule)) throw new QisError(`rule must be one of ${ADJUST_RULES.join(', ')}`, {code: 'BAD_FLAG'})
  const scrubber = options.scrubber ?? (await import('../privacy/index.js')).createScrubber()
  const config = home && (!options.hasher && !options.embedder || !options.modelAlias) ? (await (await import('../config/config.js')).loadConfig(home)).config : undefined
  const aliases = options.modelAlias ?? config?.modelAlias
  const label = (m: string | undefined) => (m === undefined ? undefined : modelVariantLabel(m, aliases))
  const candidateLabels = (c: AdjustQueryOptions['candidates']) =>
    c === undefined ? undefined : Array.isArray(c) ? c.map((m) => label(m)!) : Object.fromEntries(Object.entries(c).map(([m, b]) => [label(m)!, b]))
  let hasher = options.hasher
  if (!hasher) {
    const embedder = options.embedder ?? config?.embedder
    const {createHashPipeline} = await import('../hash/pipeline.js')
    const made = await createHashPipeline({...(embedder ?? {backend: 'use-lite'}), workers: 0})
    hasher = {pipeline: made.pipeline, scheme: made.scheme.id}
  }
  const {pipeline, scheme} = hasher
  // Live lookup without a weights file yet: everything is learnt from the swarm.
  weights ??= emptyWeights(scheme)
  try {
    checkScheme(weights, scheme, file)
  } catch (err) {
    await pipeline.close()
    throw err
  }

  const adjustMany = async (items: ({query: string} & AdjustQueryOptions)[]): Promise<QueryAdjustment[]> => {
    for (const {query, domain, confidence} of items) {
      if (typeof query !== 'string' || query.trim().length === 0) throw new QisError('the query is empty', {code: 'BAD_QUERY'})
      requireLabel('domain_tag', domain)
      if (confidence !== undefined && !(typeof confidence === 'number' && confidence >= 0 && confidence <= 1)) {
        throw new QisError(`confidence must be a number from 0 to 1, got ${String(confidence)}`, {code: 'BAD_FLAG'})
      }
    }
    // Exactly what distill does to a query before hashing it, so the same text meets the same keys.
    const codes = await pipeline.hashMany(items.map(({query}) => scrubbedForHash(scrubber, query, pipeline)))
    const known = weights!
    const keysOf = items.map(({domain}, i) => codes[i].keys.map((routingKey) => ({fingerprint: keyFingerprint(scheme, domain, routingKey), domain, routingKey})))
    let liveStats: LiveStats | undefined
    const learnt = new Map<string, KeyWeight>()
    if (live) {
      // Only keys the file does not know: a pull's entries stand, and a known key costs no round trip.
      const unknown = keysOf.flat().filter((k) => !Object.hasOwn(known.weights, k.fingerprint))
      liveStats = await live.ensure(unknown.map((k) => k.fingerprint))
    }
    const results = items.map(({domain, confidence, model, rule, candidates}, i): QueryAdjustment => {
      let view = known
      let keysLive = 0
      if (live) {
        const unknown = keysOf[i].filter((k) => !Object.hasOwn(known.weights, k.fingerprint))
        const extra = live.weightsFor(scheme, unknown, codes[i].hash, known.hammingThreshold)
        keysLive = extra.size
        if (extra.size > 0) {
          const subset: Record<string, KeyWeight> = {}
          for (const k of keysOf[i]) if (Object.hasOwn(known.weights, k.fingerprint)) subset[k.fingerprint] = known.weights[k.fingerprint]
          for (const [fp, e] of extra) {
            subset[fp] = e
            if (!learnt.has(fp)) learnt.set(fp, e)
          }
          view = {...known, weights: subset}
        }
      }
      const result = adjustmentFor(view, keysOf[i].map((k) => k.fingerprint), {
        rule: rule ?? options.rule,
        confidence,
        model: label(model ?? options.model),
        candidates: candidateLabels(candidates),
        queryHash: codes[i].hash,
        domain,
        domainSource: known,
      })
      // Candidates come back under the caller's own names.
      if (result.candidates && candidates) {
        const names = Array.isArray(candidates) ? candidates : Object.keys(candidates)
        result.candidates = Object.fromEntries(names.map((n) => [n, result.candidates![label(n)!]]))
      }
      return {domain, scheme, weightsGeneratedAt: known.generatedAt, ...result, ...(liveStats ? {live: {...liveStats, keysLive}} : {})}
    })
    if (options.persist && learnt.size > 0 && typeof source === 'string') await persist(source, scheme, learnt)
    return results
  }

  return {
    scheme,
    adjustMany,
    async adjust(query, queryOptions) {
      const o = typeof queryOptions === 'string' ? {domain: queryOptions} : queryOptions
      return (await adjustMany([{query, ...o}]))[0]
    },
    async reload() {
      if (typeof source !== 'string') return
      const next = live ? ((await readWeightsFileIfExists(source)) ?? emptyWeights(scheme)) : await readWeightsFile(source)
      checkScheme(next, scheme, source)
      weights = next
    },
    async close() {
      await live?.close()
      await pipeline.close()
    },
  }
}

function emptyWeights(scheme: string): WeightsFile {
  return {version: WEIGHTS_FILE_VERSION, scheme, generatedAt: new Date(0).toISOString(), hammingThreshold: DEFAULT_HAMMING_THRESHOLD, weights: {}}
}

/**
 * Adds live-learnt entries to the weights file for keys it still lacks, re-reading it first so a
 * pull that finished meanwhile is not undone; written atomically like a pull.
 */
async function persist(file: string, scheme: string, learnt: Map<string, KeyWeight>): Promise<void> {
  const current = (await readWeightsFileIfExists(file)) ?? {...emptyWeights(scheme), generatedAt: new Date().toISOString()}
  if (current.scheme !== scheme) return
  const merged = {...current.weights}
  let added = 0
  for (const [fp, e] of learnt) {
    if (Object.hasOwn(merged, fp)) continue
    merged[fp] = e
    added++
  }
  if (added === 0) return
  await writeWeightsFile(file, {...current, weights: Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : 1)))})
}

/** One-shot: builds an adjuster, adjusts one query, closes. For many queries keep a `createAdjuster()`. */
export async function adjustConfidence(query: string, queryOptions: AdjustQueryOptions | string, options: AdjusterOptions): Promise<QueryAdjustment> {
  const adjuster = await createAdjuster(options)
  try {
    return await adjuster.adjust(query, queryOptions)
  } finally {
    await adjuster.close()
  }
}
