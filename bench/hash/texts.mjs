// The text sets the bench/hash runtime and key benches measure on, read in one place.
// MSR paraphrase sentences are benchmark-only (research licence); MMLU questions (MIT) and the
// hand-written queries in bench/hash/data are the others. `shared` is ../shared or $QIS_SHARED.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const shared = process.env.QIS_SHARED ?? path.resolve(root, '../shared')

/** Every distinct sentence of the MSR paraphrase train and validation files. */
export function msrSentences() {
  const seen = new Set()
  for (const name of ['msr-para-train.tsv', 'msr-para-val.tsv']) {
    for (const line of readFileSync(path.join(shared, `data/paraphrase/${name}`), 'utf8').split('\n').slice(1)) {
      const cols = line.split('\t')
      if (cols.length >= 5) for (const s of [cols[3], cols[4]]) if (s) seen.add(s)
    }
  }
  return [...seen]
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
