import type {EmbedderConfig} from '../embed/types.js'
import {keyFingerprint} from '../packet/fingerprint.js'
import {QisError} from '../util/errors.js'
import {type Adjustment, adjustmentFor} from './adjustment.js'
import {type WeightsFile, readWeightsFile} from './file.js'
import {checkDomain} from './local.js'

/** Text in, semantic codes out: the part of the hash pipeline adjust needs (src/embed/pipeline.ts). */
export interface QueryHasher {
  hashMany(texts: string[]): Promise<{hash: string; keys: string[]}[]>
  close(): Promise<void>
}

export interface AdjusterOptions {
  /** The weights file `qis pull-weights` wrote (a home's `weightsFile`). */
  weightsFile: string
  /** Embedder to hash queries with; must be the one whose scheme the weights were pulled under. Default: use-lite. */
  embedder?: EmbedderConfig
  /** A ready hasher and its scheme id instead of building one from `embedder` (tests, or sharing distill's). */
  hasher?: {pipeline: QueryHasher; scheme: string}
  /** A ready PII scrubber instead of building one (the word lists cost ~0.5 s once). */
  scrubber?: {scrub(text: string): {text: string}}
}

export interface QueryAdjustment extends Adjustment {
  domain: string
  scheme: string
  /** The weights file's generation time: how old the knowledge is. */
  weightsGeneratedAt: string
}

/**
 * Holds the scrubber, the embedding model and the weights, so a deployment pays for loading them
 * once and then adjusts each answer's confidence in milliseconds, in-process.
 */
export interface Adjuster {
  readonly scheme: string
  adjust(query: string, domain: string): Promise<QueryAdjustment>
  /** Many queries in one model call (faster per query). */
  adjustMany(items: {query: string; domain: string}[]): Promise<QueryAdjustment[]>
  /** Re-reads the weights file (after a `pull-weights`). */
  reload(): Promise<void>
  close(): Promise<void>
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
  // The weights first: a missing or bad file should fail before a model is loaded for nothing.
  let weights = await readWeightsFile(options.weightsFile)
  const scrubber = options.scrubber ?? (await import('../privacy/index.js')).createScrubber()
  let hasher = options.hasher
  if (!hasher) {
    const {createHashPipeline} = await import('../embed/pipeline.js')
    const made = await createHashPipeline({...(options.embedder ?? {backend: 'use-lite'}), workers: 0})
    hasher = {pipeline: made.pipeline, scheme: made.scheme.id}
  }
  const {pipeline, scheme} = hasher
  try {
    checkScheme(weights, scheme, options.weightsFile)
  } catch (err) {
    await pipeline.close()
    throw err
  }

  const adjustMany = async (items: {query: string; domain: string}[]): Promise<QueryAdjustment[]> => {
    for (const {query, domain} of items) {
      if (typeof query !== 'string' || query.trim().length === 0) throw new QisError('the query is empty', {code: 'BAD_QUERY', exitCode: 2})
      checkDomain(domain, `domain "${domain}"`)
    }
    // Exactly what distill does to a query before hashing it, so the same text meets the same keys.
    const codes = await pipeline.hashMany(items.map(({query}) => scrubber.scrub(query).text))
    return items.map(({domain}, i) => ({
      domain,
      scheme,
      weightsGeneratedAt: weights.generatedAt,
      ...adjustmentFor(weights, codes[i].keys.map((k) => keyFingerprint(scheme, domain, k))),
    }))
  }

  return {
    scheme,
    adjustMany,
    async adjust(query, domain) {
      return (await adjustMany([{query, domain}]))[0]
    },
    async reload() {
      const next = await readWeightsFile(options.weightsFile)
      checkScheme(next, scheme, options.weightsFile)
      weights = next
    },
    close: () => pipeline.close(),
  }
}

/** One-shot: builds an adjuster, adjusts one query, closes. For many queries keep a `createAdjuster()`. */
export async function adjustConfidence(query: string, domain: string, options: AdjusterOptions): Promise<QueryAdjustment> {
  const adjuster = await createAdjuster(options)
  try {
    return await adjuster.adjust(query, domain)
  } finally {
    await adjuster.close()
  }
}
