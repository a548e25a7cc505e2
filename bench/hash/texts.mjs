// The text sets the bench/hash runtime and key benches measure on, read in one place.
// MSR paraphrase sentences are benchmark-only (research licence); MMLU questions (MIT) and the
// hand-written queries in bench/hash/data are the others. `shared` is ../shared or $QIS_SHARED.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const shared = process.env.QIS_SHARED ?? path.resolve(root, '../shared')

/** The MSR paraphrase train and validation pairs, in file order ({paraphrase, a, b}). */
export function msrPairs(dir = path.join(shared, 'data/paraphrase')) {
  const pairs = []
  for (const split of ['train', 'val']) {
    const lines = readFileSync(path.join(dir, `msr-para-${split}.tsv`), 'utf8').replace(/^\uFEFF/, '').split('\n').slice(1)
    for (const line of lines) {
      if (!line.trim()) continue
      const [quality, , , a, b] = line.split('\t')
      pairs.push({paraphrase: quality === '1', a, b})
    }
  }
  return pairs
}

/** Every distinct sentence of those pairs. */
export const msrSentences = () => [...new Set(msrPairs().flatMap((p) => [p.a, p.b]).filter(Boolean))]

/**
 * The pairs meet-rates are measured on: paraphrase and non-paraphrase pairs of `used`, and `count`
 * random cross-pair couples drawn with the seed every bench/hash meet-rate uses, so two benches
 * over the same pairs compare the same couples. `SeededRandom` from dist/hash/prng.js.
 */
export function meetPairs(used, count, SeededRandom) {
  const rnd = new SeededRandom(20261126)
  const random = []
  while (random.length < count) {
    const i = Math.floor(rnd.nextUnit() * used.length)
    const j = Math.floor(rnd.nextUnit() * used.length)
    if (i === j) continue
    random.push([rnd.nextUnit() < 0.5 ? used[i].a : used[i].b, used[j].b])
  }
  return {
    para: used.filter((p) => p.paraphrase).map((p) => [p.a, p.b]),
    non: used.filter((p) => !p.paraphrase).map((p) => [p.a, p.b]),
    random,
  }
}

/** Every distinct MMLU question text (sorted by subject in the file). */
export const mmlu = () => [...new Set(readFileSync(path.join(shared, 'data/queries/mmlu-questions.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).text))]

/** Both sides of every hand-written query paraphrase pair. */
export const handWritten = () =>
  readFileSync(path.join(root, 'bench/hash/data/query-paraphrases.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .flatMap((l) => l.split('\t').slice(2, 4))

/** Every k-th, so a sample spans the file (MMLU is sorted by subject). */
export const spread = (xs, n) => (n >= xs.length ? xs : Array.from({length: n}, (_, i) => xs[Math.floor((i * xs.length) / n)]))
