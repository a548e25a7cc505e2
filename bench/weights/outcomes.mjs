// The MMLU-Pro outcomes (../shared/data/outcomes) and their questions hashed by the real pipeline,
// for the fit scripts (fit-prior.mjs, fit-domain.mjs). Hashes are cached in /tmp per scheme, so a
// re-run costs seconds.
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {createHashPipeline} from '../../dist/hash/pipeline.js'
import {createScrubber} from '../../dist/privacy/index.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/**
 * `n` questions every model answered, spread evenly over the file (subjects are blocks in it):
 * {chosen, models, outcome: Map(question_id -> [1/0 per model])}.
 */
export function loadOutcomes(n) {
  // ../shared beside the checkout (a worktree sits one level deeper).
  const dataDir = [path.resolve(root, '../shared/data/outcomes'), path.resolve(root, '../../shared/data/outcomes')].find((d) => existsSync(d)) ?? path.resolve(root, '../shared/data/outcomes')
  const questions = readFileSync(path.join(dataDir, 'questions.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  const [header, ...rows] = readFileSync(path.join(dataDir, 'correct.csv'), 'utf8').trim().split('\n').map((l) => l.split(','))
  const models = header.slice(1)
  const outcome = new Map(rows.map((r) => [Number(r[0]), r.slice(1).map((v) => (v === '' ? null : Number(v)))]))
  const usable = questions.filter((q) => outcome.get(q.question_id)?.every((v) => v !== null))
  const count = Math.min(n, usable.length)
  const chosen = Array.from({length: count}, (_, i) => usable[Math.floor((i * usable.length) / count)])
  return {chosen, models, outcome}
}

/** The questions' codes (scrub + use-lite + codebook) by question_id, and the scheme; `progress` reports hashing. */
export async function hashedQuestions(questions, progress = () => {}) {
  const {pipeline, scheme} = await createHashPipeline({backend: 'use-lite', workers: 0})
  const cacheDir = path.join(os.tmpdir(), 'qis-fit-prior')
  mkdirSync(cacheDir, {recursive: true})
  const cacheFile = path.join(cacheDir, `${scheme.id}.json`)
  const cache = existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, 'utf8')) : {}
  const scrubber = createScrubber()
  const todo = questions.filter((q) => !cache[q.question_id])
  const t = performance.now()
  for (let i = 0; i < todo.length; i += 64) {
    const batch = todo.slice(i, i + 64)
    const codes = await pipeline.hashMany(batch.map((q) => scrubber.scrub(q.question).text))
    batch.forEach((q, j) => (cache[q.question_id] = codes[j]))
    writeFileSync(cacheFile, JSON.stringify(cache))
    progress(Math.min(i + 64, todo.length), todo.length, (performance.now() - t) / 1000)
  }
  await pipeline.close()
  return {cache, scheme}
}
