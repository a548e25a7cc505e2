import {writeFileSync} from 'node:fs'

import {encodeCodebook} from '../../src/hash/codebook.js'
import {fitLexicon} from '../../src/hash/lexical.js'
import {SeededRandom} from '../../src/hash/prng.js'

/**
 * Writes a small candidate codebook (a "group's own") for a `dimension`-d model: `anchors` random
 * anchors, boundary selection, and, when `words` is given, a lexicon of anchor texts drawn from it.
 */
export function writeGroupCodebook(file: string, options: {dimension: number; anchors: number; seed: number; words?: string[]}): void {
  const {dimension: D, anchors: K, seed, words} = options
  const rnd = new SeededRandom(seed)
  const rows = new Float32Array(K * D).map(() => rnd.nextGaussianish())
  const texts = words ? Array.from({length: K}, () => [0, 1, 2].map(() => words[Math.floor(rnd.nextUnit() * words.length)]).join(' ')) : undefined
  writeFileSync(
    file,
    encodeCodebook({
      name: 'group',
      embedder: 'test',
      mean: new Float32Array(D),
      reducedDimension: D,
      books: [rows],
      ...(texts ? {lexicon: fitLexicon(texts, 1)} : {}),
      selection: {margin: 0, boundary: 0.1, maxPerBook: 4, minPerBook: 1},
      fit: {},
    }),
  )
}
