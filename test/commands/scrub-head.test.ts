import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {beforeEach, describe, expect, it, vi} from 'vitest'

import {EXIT} from '../../src/cli/codes.js'
import {SCRUB_HEAD_CHARS} from '../../src/hash/pipeline.js'
import {tempDir} from '../helpers/cli.js'
import {runCommand} from '../helpers/command.js'

// Every hash path scrubs a long query's head only, as far as the model reads (scrubbedForHash),
// as distill does: `qis hash`, `qis adjust` and `pull-weights --queries`. test/hash/scrub-head.test.ts
// proves the head's codes are the whole scrub's; here, that each command takes that path, seen
// from the lengths of the texts handed to the scrubber. `qis scrub` is not a hash path: it prints
// the text, so it must scrub all of it.

const seen = vi.hoisted(() => ({lengths: [] as number[]}))
vi.mock('../../src/privacy/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/privacy/index.js')>()
  return {
    ...real,
    createScrubber: (...args: Parameters<typeof real.createScrubber>) => {
      const s = real.createScrubber(...args)
      return {
        scrub: (text: string) => {
          seen.lengths.push(text.length)
          return s.scrub(text)
        },
        ...(s.head ? {head: s.head.bind(s)} : {}),
      }
    },
  }
})

const env = {QIS_BOOTSTRAP: undefined, QIS_SWARM_KEY: undefined, QIS_MODEL_DIR: undefined, QIS_DOMAIN_FOCUS: undefined, QIS_CONTENT_TYPE: undefined}
const SENTENCES = [
  'Which of the following best describes the function of the enzyme in this reaction? ',
  'The court held that the contract was void for lack of consideration, said Maria Gonzalez. ',
  'A ball is thrown upward with an initial speed of ten metres per second. ',
]
let LONG = ''
for (let i = 0; LONG.length < 6 * SCRUB_HEAD_CHARS; i++) LONG += SENTENCES[i % SENTENCES.length]
const longest = () => Math.max(...seen.lengths)
const json = <T>(stdout: string) => JSON.parse(stdout) as T

describe('a long query is scrubbed from its head on every hash path', () => {
  beforeEach(() => {
    seen.lengths = []
  })

  it('qis hash: the codes of the whole scrub, without scrubbing the whole', async () => {
    const r = await runCommand(['hash', '--json', LONG], {env})
    expect(r.code, r.stdout).toBe(EXIT.ok)
    expect(longest()).toBeLessThan(LONG.length / 2)
    const {createScrubber} = await vi.importActual<typeof import('../../src/privacy/index.js')>('../../src/privacy/index.js')
    const whole = await runCommand(['hash', '--json', '--no-scrub', createScrubber().scrub(LONG).text], {env})
    expect(json<{results: unknown[]}>(r.stdout).results).toEqual(json<{results: unknown[]}>(whole.stdout).results)
  }, 120_000)

  it('qis adjust', async () => {
    const hashed = json<{scheme: string}>((await runCommand(['hash', '--json', 'x'], {env})).stdout)
    const weights = path.join(tempDir(), 'weights.json')
    writeFileSync(weights, JSON.stringify({version: 2, scheme: hashed.scheme, generatedAt: new Date().toISOString(), hammingThreshold: 8, weights: {}}))
    seen.lengths = []
    const r = await runCommand(['adjust', LONG, '--domain', 'general', '--weights', weights, '--json'], {env})
    expect(r.code, r.stdout).toBe(EXIT.ok)
    expect(json<{keysLookedUp: number}>(r.stdout).keysLookedUp).toBeGreaterThan(0)
    expect(longest()).toBeLessThan(LONG.length / 2)
  }, 120_000)

  it('qis pull-weights --queries', async () => {
    const queries = path.join(tempDir(), 'queries.txt')
    writeFileSync(queries, `${LONG}\n`)
    // Nobody listens on port 9: the queries are hashed, then the swarm cannot be reached.
    const r = await runCommand(['pull-weights', '--home', tempDir(), '--bootstrap', '/ip4/127.0.0.1/tcp/9', '--queries', queries, '--domain', 'general', '--json'], {env})
    expect(json<{error: {code: string}}>(r.stdout).error.code).toBe('SWARM_UNREACHABLE')
    expect(seen.lengths.length).toBeGreaterThan(0)
    expect(longest()).toBeLessThan(LONG.length / 2)
  }, 120_000)
})
