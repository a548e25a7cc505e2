import {createHash} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {Embedder, EmbedderConfig} from '../embed/types.js'
import {QisError, errorMessage} from '../util/errors.js'
import {type Codebook, candidateCount, codebookKeys, loadCodebook, parseCodebook, reduce, selectKeys} from './codebook.js'
import type {NativeSearch, SearchStats} from './native-search.js'
import {SeededRandom, seedFromString} from './prng.js'
import {SimHasher} from './simhash.js'

export {hammingDistance, SIMHASH_BITS} from './simhash.js'
export {embeddingText} from './input.js'

/**
 * How an embedding becomes what a packet carries. Results of different schemes are never
 * compared: the id goes into every packet and into every key fingerprint.
 */
export interface HashScheme {
  /** e.g. 'use-lite.mmlu-anchors.v6': backend + model + hashing. A valid packet label, at most 40 chars. */
  readonly id: string
  /** True when routingKeys reads the text (a codebook with word scores), so it needs the whole model input. */
  readonly readsText: boolean
  /** 16 lowercase hex chars: 64-bit SimHash, for the packet's query_semantic_hash. */
  fineHash(vec: Float32Array): string
  /**
   * 1..8 routing keys matching /^[a-z0-9._:-]{1,16}$/; queries meet when they share one. `text` is
   * what the model embedded (embeddingText of the scrubbed query), for codebooks that score word
   * overlap with their anchors too (src/hash/lexical.ts); the shipped one does not.
   */
  routingKeys(vec: Float32Array, text: string): string[]
  /** fineHash and routingKeys of many vectors at once (the hot path: its key search can run on native kernels). */
  codes(vecs: Float32Array[], texts: string[]): Promise<SemanticCodes[]>
}

/** What a text hashes to: the fine hash and the routing keys (before fingerprinting). */
export interface SemanticCodes {
  hash: string
  keys: string[]
}

export const MAX_ROUTING_KEYS = 8
/** Version of schemes that have no SHIPPED entry (cross-polytope LSH, candidate codebooks); history in docs/hashing.md. */
const SCHEME_VERSION = 'v3'

/** assets/codebook beside dist/ (compiled) or src/ (tests): both are two levels below the package root. */
export const CODEBOOK_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../assets/codebook')

/**
 * The shipped codebook for each embedder that has one. A new file, key derivation or model input
 * means a new `version`, so old and new keys never meet by accident (history: docs/hashing.md,
 * "The previous schemes").
 */
const SHIPPED: Record<string, {file: string; name: string; version: string}> = {
  'use-lite': {file: 'use-lite.mmlu-anchors.qcb', name: 'mmlu-anchors', version: 'v6'},
}

/**
 * The fallback for models without a fitted codebook: cross-polytope LSH, i.e. a "codebook" whose
 * centroids are the +/- rows of seeded random rotations. Data-independent, so it works for any
 * model, but it separates paraphrases from unrelated text less well than a fitted codebook.
 */
const CROSS_POLYTOPE = {books: 2, perBook: 4}

function crossPolytope(dimension: number): Codebook {
  const {books, perBook} = CROSS_POLYTOPE
  const rnd = new SeededRandom(seedFromString(`qis.cross-polytope.v1:${dimension}`))
  const K = 2 * dimension
  const out: Codebook['books'] = []
  for (let b = 0; b < books; b++) {
    const centroids = new Float64Array(K * dimension)
    for (let i = 0; i < dimension; i++) {
      let n = 0
      const row = new Float64Array(dimension)
      for (let j = 0; j < dimension; j++) {
        row[j] = rnd.nextGaussianish()
        n += row[j] * row[j]
      }
      const inv = 1 / Math.sqrt(n)
      for (let j = 0; j < dimension; j++) {
        centroids[2 * i * dimension + j] = row[j] * inv
        centroids[(2 * i + 1) * dimension + j] = -row[j] * inv
      }
    }
    out.push({centroids, groupCentroids: new Float64Array(0), groupMembers: [], bias: new Float64Array(K)})
  }
  return {
    header: {
      format: 'qis-codebook',
      version: 1,
      name: `cp${books}x${perBook}`,
      embedder: '*',
      dimension,
      reducedDimension: dimension,
      books,
      centroids: K,
      groups: 0,
      probes: 0,
      selection: {margin: 0, maxPerBook: perBook, minPerBook: perBook},
      fit: {method: 'cross-polytope LSH, seeded rotations'},
      sections: [],
      sha256: '',
    },
    mean: new Float64Array(dimension),
    projection: undefined,
    books: out,
  }
}

/** Scheme ids are packet labels (lowercase a-z 0-9 . _ - :, at most 40 chars). */
function schemeId(embedderId: string, hashing: string, version = SCHEME_VERSION): string {
  let base = embedderId.toLowerCase().replace(/[^a-z0-9._:-]+/g, '-')
  // 'transformers:<model>.<digest>' is long; a scheme id must fit a packet field.
  if (base.startsWith('transformers:')) base = `tx:${base.slice('transformers:'.length)}`
  const suffix = `.${hashing}.${version}`
  if (base.length + suffix.length > 40) {
    // Keep the digest at the end of the model part, which is what makes ids unique.
    const keep = 40 - suffix.length
    base = base.slice(0, keep - 9) + '-' + base.slice(-8)
  }
  return base + suffix
}

class CodebookScheme implements HashScheme {
  readonly id: string
  get readsText(): boolean {
    return this.cb.lexicon !== undefined
  }
  private readonly load: () => Codebook
  private codebook: Codebook | undefined
  private simhash: SimHasher | undefined
  private search: Promise<NativeSearch | undefined> | undefined

  constructor(id: string, load: () => Codebook) {
    this.id = id
    this.load = load
  }

  private get cb(): Codebook {
    this.codebook ??= this.load()
    return this.codebook
  }

  fineHash(vec: Float32Array): string {
    // Centred on the codebook's corpus mean: unrelated texts then split ~half the bits, not fewer.
    this.simhash ??= new SimHasher(this.cb.header.dimension, 'qis.simhash.v1', this.cb.mean)
    return this.simhash.hash(vec)
  }

  routingKeys(vec: Float32Array, text: string): string[] {
    const cb = this.cb
    if (vec.length !== cb.header.dimension) throw new Error(`scheme ${this.id} expects ${cb.header.dimension}-d vectors, got ${vec.length}`)
    return codebookKeys(cb, vec, text).slice(0, MAX_ROUTING_KEYS)
  }

  async codes(vecs: Float32Array[], texts: string[]): Promise<SemanticCodes[]> {
    const cb = this.cb
    for (const v of vecs) if (v.length !== cb.header.dimension) throw new Error(`scheme ${this.id} expects ${cb.header.dimension}-d vectors, got ${v.length}`)
    this.search ??= import('./native-search.js').then(({createNativeSearch}) => createNativeSearch(cb))
    const search = await this.search
    const count = candidateCount(cb.header.selection)
    const near = search ? await search.nearestMany(vecs.map((v) => reduce(cb, v)), count) : []
    return vecs.map((v, i) => ({
      hash: this.fineHash(v),
      keys: (near[i] ? selectKeys(cb, [near[i]!]) : codebookKeys(cb, v, texts[i])).slice(0, MAX_ROUTING_KEYS),
    }))
  }

  /** How many queries the native key search answered and how many it handed back to JS; undefined before the first `codes` call or without it. */
  async searchStats(): Promise<SearchStats | undefined> {
    return (await this.search)?.stats
  }
}

/** A codebook file as read from disk and parsed (checksum and layout checked). */
export interface CodebookFile {
  readonly file: string
  readonly bytes: Buffer
  readonly codebook: Codebook
}

/**
 * Reads and parses a codebook file named by a user (config.json or --codebook); a missing or
 * damaged file is a QisError naming it, exit code 2. Needs no model, so callers can check the
 * file before spending a second loading one.
 */
export function readCodebookFile(file: string): CodebookFile {
  if (!existsSync(file)) throw new QisError(`codebook ${file} does not exist`, {code: 'BAD_CODEBOOK'})
  try {
    const bytes = readFileSync(file)
    return {file, bytes, codebook: parseCodebook(bytes, file)}
  } catch (err) {
    // The parser's messages name the file already.
    throw new QisError(errorMessage(err), {code: 'BAD_CODEBOOK', cause: err})
  }
}

/**
 * A scheme from a codebook file fitted for `embedder` (what schemeFor does with the shipped one);
 * for evaluating a candidate codebook before shipping it (bench/hash --codebook). Only a file
 * byte-identical to the shipped one gets the shipped scheme id: any other file, even one with the
 * same name, is named by the digest of the whole file too (the header's checksum covers only the
 * data block, not the key selection in the header), so a candidate's keys never pass for the
 * shipped scheme's.
 */
export function schemeFromCodebookFile(embedder: Embedder, file: string): HashScheme {
  return schemeFromCodebook(embedder, readCodebookFile(file))
}

function schemeFromCodebook(embedder: Embedder, {file, bytes, codebook: cb}: CodebookFile): HashScheme {
  if (cb.header.dimension !== embedder.dimension) throw new Error(`codebook ${file} is ${cb.header.dimension}-d but ${embedder.id} embeds ${embedder.dimension}-d`)
  const shipped = SHIPPED[embedder.id]
  if (shipped) {
    const shippedFile = path.join(CODEBOOK_DIR, shipped.file)
    if (existsSync(shippedFile) && readFileSync(shippedFile).equals(bytes)) return new CodebookScheme(schemeId(embedder.id, shipped.name, shipped.version), () => cb)
  }
  const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 8)
  return new CodebookScheme(schemeId(embedder.id, `${cb.header.name}-${digest}`), () => cb)
}

/**
 * The hashing scheme for an embedder: the shipped codebook when one was fitted for it (loaded on
 * first use), else cross-polytope LSH. Same embedder, same scheme, on every machine.
 */
export function schemeFor(embedder: Embedder): HashScheme {
  const shipped = SHIPPED[embedder.id]
  if (shipped) {
    const file = path.join(CODEBOOK_DIR, shipped.file)
    if (!existsSync(file)) throw new Error(`the ${embedder.id} codebook is missing from this install (${file}); reinstall qis`)
    return new CodebookScheme(schemeId(embedder.id, shipped.name, shipped.version), () => {
      const cb = loadCodebook(file)
      if (cb.header.name !== shipped.name || cb.header.dimension !== embedder.dimension) {
        throw new Error(`codebook ${file} is ${cb.header.name}/${cb.header.dimension}-d; expected ${shipped.name}/${embedder.dimension}-d for ${embedder.id}`)
      }
      return cb
    })
  }
  const hashing = `cp${CROSS_POLYTOPE.books}x${CROSS_POLYTOPE.perBook}`
  return new CodebookScheme(schemeId(embedder.id, hashing), () => crossPolytope(embedder.dimension))
}

/**
 * The scheme an embedder config asks for: its `codebook` file when set, else schemeFor. `read` is
 * that file already read with readCodebookFile (createHashPipeline checks it before the model loads).
 */
export function schemeForConfig(embedder: Embedder, config: Pick<EmbedderConfig, 'codebook'>, read?: CodebookFile): HashScheme {
  if (config.codebook === undefined) return schemeFor(embedder)
  const file = read ?? readCodebookFile(config.codebook)
  try {
    return schemeFromCodebook(embedder, file)
  } catch (err) {
    throw new QisError(errorMessage(err), {code: 'BAD_CODEBOOK', cause: err})
  }
}
