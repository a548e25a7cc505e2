/**
 * use-lite's sentence-piece tokenizer, token for token the one @energetic-ai/embeddings ships
 * (lib/tokenizer.ts: unigram Viterbi over a trie of the 8,000-piece vocabulary), in linear time
 * and bounded memory, capped at the tokens the model reads.
 *
 * The shipped tokenizer copies the rest of the text at every character (`symbols.slice(i)`), so
 * its time and memory grow with the square of the text's length: a 900 KB prompt ran for minutes
 * (issue 21, item 4). This one walks the trie from an index instead, and relaxes the same
 * candidates in the same order with the same float arithmetic and tie rules, so it returns the
 * same tokens; test/embed/sentencepiece.test.ts checks that against the shipped tokenizer.
 *
 * The cap. The use-lite graph keeps only the first 128 tokens of each text (its ClipToMaxLength
 * step drops every token at position 128 or later), so the first 128 tokens give exactly the
 * vector of the whole text: capping loses nothing and changes no hash. To get them without
 * tokenizing a whole long text, it tokenizes a prefix that ends just before a space: no piece of
 * the vocabulary has "▁" (a space) anywhere but first, so every segmentation of the whole text
 * breaks at that space, and the prefix's tokens are the whole text's first tokens. The prefix
 * starts at 1,024 characters and doubles until it yields 128 tokens or is the whole text. In the
 * MMLU questions' model input, 128 tokens took 423-727 characters (2,135 questions of 128 tokens or
 * more), and starting from 4,096 tokenized them 20% slower (50 against 39 µs a question): the 6% of
 * questions longer than 1,024 characters hold a third of the characters.
 */

/** Tokens the use-lite graph reads; later tokens do not change its output (ClipToMaxLength). */
export const USE_LITE_MAX_TOKENS = 128

const SEPARATOR = '\u2581'
/** The shipped tokenizer's reserved ids (<unk>, <s>, </s>, 3 extra): never produced by the trie. */
const RESERVED = 6
const FIRST_PREFIX = 1024

/** [piece, score] as in the model package's vocab.json. */
export type Vocabulary = ReadonlyArray<readonly [string, number]>

interface TrieNode {
  /** By code point: a number key is a cheaper lookup than a one-character string (the tokenizer's inner loop). */
  children: Map<number, TrieNode>
  end: boolean
  score: number
  index: number
  length: number
}

const newNode = (length: number): TrieNode => ({children: new Map(), end: false, score: 0, index: 0, length})

export class SentencePieceTokenizer {
  private readonly root = newNode(0)
  private readonly pieceLength: Int32Array

  constructor(private readonly vocabulary: Vocabulary) {
    // As the shipped Trie.insert: a later duplicate piece overwrites an earlier one.
    for (let i = RESERVED; i < vocabulary.length; i++) {
      let node = this.root
      for (const symbol of vocabulary[i][0]) {
        const code = symbol.codePointAt(0)!
        let child = node.children.get(code)
        if (!child) {
          child = newNode(node.length + 1)
          node.children.set(code, child)
        }
        node = child
      }
      if (node !== this.root) {
        node.end = true
        node.score = vocabulary[i][1]
        node.index = i
      }
    }
    // The shipped traceback steps back by the piece's UTF-16 length (its `.length`).
    this.pieceLength = Int32Array.from(vocabulary, ([piece]) => piece.length)
  }

  /** All tokens of `text`, as the shipped `Tokenizer.encode`. Linear in the text's length. */
  encodeAll(text: string): number[] {
    const normalized = text.normalize('NFKC')
    if (normalized.length === 0) return []
    // Code points, as Array.from would split the string into symbols.
    const spaced = SEPARATOR + normalized.replaceAll(' ', SEPARATOR)
    const symbols = new Int32Array(spaced.length)
    let n = 0
    for (let i = 0; i < spaced.length; i++) {
      const code = spaced.codePointAt(i)!
      symbols[n++] = code
      if (code > 0xffff) i++
    }
    // best[0] = 0 and "0 means unset" are the shipped tokenizer's rules (scores are negative).
    const best = new Float64Array(n + 1)
    const words = new Int32Array(n + 1)
    for (let i = 0; i < n; i++) {
      // best[i] is final here: every piece ending at i starts before i. Relaxing ends in order of
      // their start matches the shipped loop, which visits a position's candidates by start.
      const from = best[i]
      let node = this.root.children.get(symbols[i])
      let matched = false
      for (let k = i; k < n && node; k++) {
        if (node.end) {
          matched = true
          relax(best, words, k + 1, node.score + from, node.index)
        }
        node = k + 1 < n ? node.children.get(symbols[k + 1]) : undefined
      }
      // No piece starts here: the shipped search returns the symbol itself as <unk> (id 0, score 0).
      if (!matched) relax(best, words, i + 1, 0 + from, 0)
    }
    const reversed: number[] = []
    for (let iter = n; iter > 0; iter -= this.pieceLength[words[iter]]) reversed.push(words[iter])
    // Runs of <unk> become one, as in the shipped tokenizer (it merges in reverse order too).
    const merged: number[] = []
    let previousUnk = false
    for (const id of reversed) {
      if (!(previousUnk && id === 0)) merged.push(id)
      previousUnk = id === 0
    }
    return merged.reverse()
  }

  /**
   * The first `cap` tokens of `text` (all of them when it has fewer), equal to
   * `encodeAll(text).slice(0, cap)`, in time linear in what is read: see the module comment.
   */
  encode(text: string, cap = USE_LITE_MAX_TOKENS): number[] {
    let end = Math.min(text.length, FIRST_PREFIX)
    for (;;) {
      if (end < text.length) {
        const space = text.indexOf(' ', end)
        end = space < 0 ? text.length : space
      }
      const tokens = this.encodeAll(end === text.length ? text : text.slice(0, end))
      if (tokens.length >= cap || end === text.length) return tokens.length > cap ? tokens.slice(0, cap) : tokens
      end = Math.min(text.length, end * 2)
    }
  }
}

function relax(best: Float64Array, words: Int32Array, end: number, score: number, index: number): void {
  if (best[end] === 0 || score >= best[end]) {
    best[end] = score
    words[end] = index
  }
}
