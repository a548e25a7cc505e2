/**
 * Optional word scores for a codebook's anchors: a tf-idf vector of a text's content words,
 * compared with each anchor's by cosine, on top of the embedding's cosine. Used only by codebooks
 * fitted with `scripts/fit-codebook.mjs --lexical-weight W`; the shipped one has none.
 *
 * Why it exists: the embedding alone puts text unlike the fitting corpus (news, e-mail) into a few
 * crowded cells, where unrelated queries meet; phrasings that keep their words still choose alike
 * when word overlap counts too. Why it is not shipped: queries reworded by a person share almost
 * no words, and then the word scores split them (docs/hashing.md, "Lexical anchors": on MSR news
 * pairs random meetings fell from 0.027 to 0.019, but reworded query paraphrases met 5 times in
 * 40 instead of 28). It suits a group whose queries keep their wording.
 *
 * Deterministic across machines: the tokenizer is plain Unicode string handling, idf values come
 * from the codebook file as float32, and term weights use only sqrt (correctly rounded in IEEE 754),
 * never log, summed in a fixed order.
 */

/** Version tag of lexicalTokens and the term weights: a change to either needs a new tag. */
export const LEXICAL_TOKENIZER = 'qis-lex-v1'

/**
 * Function words that carry no topic. A short fixed list on purpose: idf already discounts what is
 * frequent in the fitting corpus, and a long list drops words that do separate queries.
 */
const STOPWORDS = new Set(
  (
    'a an the of to in and or for on at by with from as is are was were be been being it its this that these those ' +
    'he she they we you i his her their our your not no but if then than so do does did have has had will would can ' +
    'could may might shall should which who whom whose what when where why how all any some such there here also into ' +
    'over after before about up down out more most other said says say'
  ).split(' '),
)

const WORD = /[\p{L}\p{N}]+/gu

/**
 * A text's content words: NFKC, lower case, runs of letters and digits, without one-character
 * words and stop words; a plural "s" is dropped from words longer than four letters ("contracts"
 * and "contract" are one word; "class" and "bus" are left alone).
 */
export function lexicalTokens(text: string): string[] {
  const out: string[] = []
  for (const m of text.normalize('NFKC').toLowerCase().matchAll(WORD)) {
    let t = m[0]
    if (t.length < 2 || STOPWORDS.has(t)) continue
    if (t.length > 4 && t.endsWith('s') && !t.endsWith('ss')) t = t.slice(0, -1)
    out.push(t)
  }
  return out
}

/** Distinct tokens of a list with their counts, in code-unit order of the token (a fixed order). */
export function termCounts(tokens: string[]): Array<[string, number]> {
  const counts = new Map<string, number>()
  for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1)
  // Sorted as the keys' own order: Array.prototype.sort compares strings by UTF-16 code units.
  const order = [...counts.keys()].sort()
  return order.map((t) => [t, counts.get(t)!])
}

/** What the codebook stores for its anchors (sections `lexicon.*`, see codebook.ts). */
export interface LexiconData {
  /** Vocabulary in code-unit order; token id = position. */
  vocabulary: string[]
  /** Per token, float32 idf from the fitting corpus. */
  idf: Float64Array
  /** Postings: anchors of token t are anchors[offsets[t] .. offsets[t + 1]), ascending, with their term counts. */
  offsets: Uint32Array
  anchors: Uint32Array
  counts: Uint8Array
  /** idf of a word the fitting corpus never had (it weighs in the query's norm only). */
  unknownIdf: number
  /** Weight of the lexical cosine against the embedding's: score = (embedding + weight x lexical) / (1 + weight). */
  weight: number
}

/** LexiconData as fitLexicon makes it and encodeCodebook writes it (idf as float32). */
export interface LexiconParts extends Omit<LexiconData, 'idf'> {
  idf: Float32Array
}

/**
 * The lexicon of a codebook whose anchor k was fitted on `texts[k]` (each already as the model
 * sees a query: scrubbed, placeholders as plain words). idf = ln((N + 1) / (df + 1)) + 1 over the
 * anchors, rounded to float32 here, once, so that every machine reads the same values.
 */
export function fitLexicon(texts: string[], weight: number): LexiconParts {
  const perAnchor = texts.map((t) => termCounts(lexicalTokens(t)))
  const df = new Map<string, number>()
  for (const terms of perAnchor) for (const [t] of terms) df.set(t, (df.get(t) ?? 0) + 1)
  const vocabulary = [...df.keys()].sort() // code-unit order, as termCounts
  const id = new Map(vocabulary.map((t, i) => [t, i]))
  const N = texts.length
  const idf = Float32Array.from(vocabulary, (t) => Math.log((N + 1) / (df.get(t)! + 1)) + 1)
  const offsets = new Uint32Array(vocabulary.length + 1)
  for (const t of vocabulary) offsets[id.get(t)! + 1] = df.get(t)!
  for (let i = 0; i < vocabulary.length; i++) offsets[i + 1] += offsets[i]
  const fill = offsets.slice(0, vocabulary.length)
  const anchors = new Uint32Array(offsets[vocabulary.length])
  const counts = new Uint8Array(anchors.length)
  perAnchor.forEach((terms, a) => {
    for (const [t, c] of terms) {
      const slot = fill[id.get(t)!]++
      anchors[slot] = a
      counts[slot] = Math.min(c, 255)
    }
  })
  return {vocabulary, idf, offsets, anchors, counts, unknownIdf: Math.fround(Math.log(N + 1) + 1), weight}
}

/** A query's lexical vector over the vocabulary: known token ids ascending, unit-length values. */
export interface LexicalQuery {
  ids: Uint32Array
  values: Float64Array
}

/**
 * The anchors' lexical vectors, indexed both ways: by token (postings, to score a query against
 * every anchor in time proportional to the postings it touches) and by anchor (to measure the
 * distance between two anchors for the boundary rule).
 */
export class Lexicon {
  readonly weight: number
  private readonly ids: Map<string, number>
  private readonly idf: Float64Array
  private readonly unknownIdf: number
  private readonly offsets: Uint32Array
  private readonly anchors: Uint32Array
  /** Per posting: the anchor's unit-length tf-idf value for that token. */
  private readonly values: Float64Array
  private readonly byAnchorOffsets: Uint32Array
  private readonly byAnchorTokens: Uint32Array
  private readonly byAnchorValues: Float64Array
  private readonly norm2: Float64Array
  private scratch: Float64Array

  constructor(data: LexiconData, anchorCount: number) {
    const V = data.vocabulary.length
    if (data.idf.length !== V || data.offsets.length !== V + 1) throw new Error('lexicon: vocabulary, idf and offsets disagree in length')
    const P = data.offsets[V]
    if (data.anchors.length !== P || data.counts.length !== P) throw new Error('lexicon: postings disagree in length')
    if (!(data.weight >= 0) || !(data.unknownIdf > 0)) throw new Error('lexicon: weight or unknown-word idf out of range')
    this.weight = data.weight
    this.ids = new Map(data.vocabulary.map((t, i) => [t, i]))
    this.idf = data.idf
    this.unknownIdf = data.unknownIdf
    this.offsets = data.offsets
    this.anchors = data.anchors

    // Per anchor: its postings in token order (tokens are visited ascending), then its norm.
    const perAnchor = new Uint32Array(anchorCount + 1)
    for (let p = 0; p < P; p++) {
      if (data.anchors[p] >= anchorCount) throw new Error(`lexicon: posting names anchor ${data.anchors[p]} of ${anchorCount}`)
      perAnchor[data.anchors[p] + 1]++
    }
    for (let a = 0; a < anchorCount; a++) perAnchor[a + 1] += perAnchor[a]
    const fill = perAnchor.slice(0, anchorCount)
    const tokens = new Uint32Array(P)
    const raw = new Float64Array(P)
    const postingSlot = new Uint32Array(P)
    for (let t = 0; t < V; t++) {
      for (let p = data.offsets[t]; p < data.offsets[t + 1]; p++) {
        const slot = fill[data.anchors[p]]++
        tokens[slot] = t
        raw[slot] = Math.sqrt(data.counts[p]) * data.idf[t]
        postingSlot[p] = slot
      }
    }
    const norm2 = new Float64Array(anchorCount)
    for (let a = 0; a < anchorCount; a++) {
      let n = 0
      for (let s = perAnchor[a]; s < perAnchor[a + 1]; s++) n += raw[s] * raw[s]
      const inv = n > 0 ? 1 / Math.sqrt(n) : 0
      let m = 0
      for (let s = perAnchor[a]; s < perAnchor[a + 1]; s++) {
        raw[s] *= inv
        m += raw[s] * raw[s]
      }
      norm2[a] = m
    }
    this.byAnchorOffsets = perAnchor
    this.byAnchorTokens = tokens
    this.byAnchorValues = raw
    this.norm2 = norm2
    this.values = new Float64Array(P)
    for (let p = 0; p < P; p++) this.values[p] = raw[postingSlot[p]]
    this.scratch = new Float64Array(anchorCount)
  }

  /** The unit-length lexical vector of a text (the model's input text, placeholders as plain words). */
  query(text: string): LexicalQuery {
    const terms = termCounts(lexicalTokens(text))
    let n = 0
    const known: Array<[number, number]> = []
    for (const [token, count] of terms) {
      const id = this.ids.get(token)
      const w = Math.sqrt(count) * (id === undefined ? this.unknownIdf : this.idf[id])
      n += w * w
      if (id !== undefined) known.push([id, w])
    }
    known.sort((a, b) => a[0] - b[0])
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0
    return {ids: Uint32Array.from(known, (k) => k[0]), values: Float64Array.from(known, (k) => k[1] * inv)}
  }

  /**
   * Cosine of the query with every anchor, into a reused array (zero for anchors that share no
   * word). Each anchor's sum runs over tokens in ascending id order: one fixed order.
   */
  scores(q: LexicalQuery): Float64Array {
    const out = this.scratch
    out.fill(0)
    for (let i = 0; i < q.ids.length; i++) {
      const t = q.ids[i]
      const v = q.values[i]
      for (let p = this.offsets[t]; p < this.offsets[t + 1]; p++) out[this.anchors[p]] += v * this.values[p]
    }
    return out
  }

  /** |h_a - h_b|^2 between two anchors' lexical vectors (for the boundary distance). */
  distance2(a: number, b: number): number {
    let i = this.byAnchorOffsets[a]
    let j = this.byAnchorOffsets[b]
    const iEnd = this.byAnchorOffsets[a + 1]
    const jEnd = this.byAnchorOffsets[b + 1]
    let dot = 0
    while (i < iEnd && j < jEnd) {
      const ti = this.byAnchorTokens[i]
      const tj = this.byAnchorTokens[j]
      if (ti === tj) dot += this.byAnchorValues[i++] * this.byAnchorValues[j++]
      else if (ti < tj) i++
      else j++
    }
    return Math.max(0, this.norm2[a] + this.norm2[b] - 2 * dot)
  }
}
