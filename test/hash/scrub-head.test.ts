import {readFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createUseLiteEmbedder} from '../../src/embed/use-lite.js'
import type {Embedder} from '../../src/embed/types.js'
import {schemeFor} from '../../src/hash/index.js'
import {HashPipeline, SCRUB_HEAD_CHARS, scrubbedForHash} from '../../src/hash/pipeline.js'
import {createScrubber} from '../../src/privacy/index.js'
import {repoRoot} from '../helpers/cli.js'

// The hash path scrubs a long prompt's head only; its codes must be those of the whole prompt
// scrubbed, with personal data planted across the cut the head takes.

const scrubber = createScrubber()
const SENTENCES = [
  'Which of the following best describes the function of the enzyme in this reaction? ',
  'The court held that the contract was void for lack of consideration. ',
  'A ball is thrown upward with an initial speed of ten metres per second. ',
]
const PLANTS = [
  'Ask Dr. Maria Gonzalez at 12 Rue Victor Hugo 40,\nParis 75001 about it.',
  'my password is S3cr3tPa55! and my card is 4539301019673114',
  'Is it Alzheimer disease? Call 415-555-0132 on March 3, 1990.',
]

function text(length: number, plant: string, at: number): string {
  let s = ''
  for (let i = 0; s.length < at; i++) s += SENTENCES[i % SENTENCES.length]
  s = s.slice(0, at) + plant + ' '
  for (let i = 1; s.length < length; i++) s += SENTENCES[i % SENTENCES.length]
  return s
}

describe('scrubbedForHash (use-lite)', () => {
  let embedder: Embedder
  let pipeline: HashPipeline
  beforeAll(async () => {
    embedder = await createUseLiteEmbedder()
    pipeline = new HashPipeline(embedder, schemeFor(embedder), {workers: 0})
  }, 60_000)
  afterAll(async () => {
    await pipeline.close()
  })

  it('gives the codes of the whole scrub, scrubbing a head, with spans planted across the cut', async () => {
    const heads: string[] = []
    const wholes: string[] = []
    for (const plant of PLANTS) {
      for (let at = SCRUB_HEAD_CHARS - plant.length - 4; at <= SCRUB_HEAD_CHARS + 4; at += 3) {
        const raw = text(90_000, plant, at)
        const head = scrubbedForHash(scrubber, raw, pipeline)
        const whole = scrubber.scrub(raw).text
        expect(head.length).toBeLessThan(whole.length / 2)
        expect(whole.startsWith(head)).toBe(true)
        heads.push(head)
        wholes.push(whole)
      }
    }
    expect(heads.length).toBeGreaterThan(60)
    expect(await pipeline.hashMany(heads)).toEqual(await pipeline.hashMany(wholes))
  }, 180_000)

  it('gives the codes of the whole scrub on a long prompt of MMLU-Pro questions run together', async () => {
    // The repo's own sample of MMLU-Pro questions (a clean clone has no ../shared).
    const lines = readFileSync(path.join(repoRoot, 'test/bench/fixtures/value-questions.jsonl'), 'utf8').split('\n').filter(Boolean)
    for (const [chars, offset] of [[200_000, 0], [120_000, 977], [70_000, 4242]] as const) {
      let raw = ''
      for (let i = offset; raw.length < chars; i++) raw += JSON.parse(lines[i % lines.length]!).question + ' '
      const head = scrubbedForHash(scrubber, raw, pipeline)
      const whole = scrubber.scrub(raw).text
      expect(head.length).toBeLessThan(whole.length / 2)
      expect(await pipeline.hashMany([head])).toEqual(await pipeline.hashMany([whole]))
    }
  }, 180_000)

  it('scrubs the whole text for a hasher that cannot say what its model reads', () => {
    const raw = text(60_000, PLANTS[0]!, SCRUB_HEAD_CHARS)
    expect(scrubbedForHash(scrubber, raw, {})).toBe(scrubber.scrub(raw).text)
    expect(scrubbedForHash(scrubber, raw, undefined)).toBe(scrubber.scrub(raw).text)
  })
})
