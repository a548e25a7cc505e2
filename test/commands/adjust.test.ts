import {readdirSync} from 'node:fs'
import path from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'

import {createHashPipeline} from '../../src/hash/pipeline.js'
import {keyFingerprint} from '../../src/packet/fingerprint.js'
import {createScrubber} from '../../src/privacy/index.js'
import {writeWeightsFile} from '../../src/weights/file.js'
import {repoRoot, tempDir} from '../helpers/cli.js'
import {runCommand} from '../helpers/command.js'

// The tiny BERT-shaped fixture model keeps this test offline and fast; adjust must hash exactly as
// the configured embedder does, which is what the fingerprints computed here check.
const modelDir = path.join(repoRoot, 'fixtures/models/qis-tiny-bert')
const env = {QIS_MODEL_DIR: modelDir}
const QUERY = 'Call Dr. Jane Smith at 555-201-7788 about the ibuprofen dose for a feverish child'
const DOMAIN = 'clinical.pediatrics'

describe('qis adjust', () => {
  let home: string
  let scheme: string
  let keys: string[]
  let hash: string

  beforeAll(async () => {
    home = tempDir()
    const {pipeline, scheme: s} = await createHashPipeline({backend: 'transformers', modelDir, workers: 0})
    const [codes] = await pipeline.hashMany([createScrubber().scrub(QUERY).text])
    await pipeline.close()
    scheme = s.id
    keys = codes.keys
    hash = codes.hash
    expect(keys.length).toBeGreaterThanOrEqual(2)
    // Publisher ids 1..n: the keys share publisher 1, so 2 distinct publishers back the two matches.
    const ids = (n: number) => Array.from({length: n}, (_, i) => (i + 1).toString(16).padStart(16, '0'))
    const entry = (routingKey: string, weight: number, publishers: number, packets: number) => ({weight, packets, publishers, publisherIds: ids(publishers), records: packets, lastTimestamp: 1_764_000_000, domain: DOMAIN, routingKey, evidence: {mass: packets, success: Math.max(0, weight), confidence: 0.5, publishers}, variants: {}, queries: [], newShare: 0})
    await writeWeightsFile(path.join(home, 'weights.json'), {
      version: 2,
      scheme,
      generatedAt: '2026-11-26T03:00:00.000Z',
      hammingThreshold: 22,
      weights: {
        [keyFingerprint(scheme, DOMAIN, keys[0])]: entry(keys[0], 0.9, 2, 5),
        [keyFingerprint(scheme, DOMAIN, keys[1])]: entry(keys[1], 0.3, 1, 7),
        [keyFingerprint(scheme, DOMAIN, 'unrelated')]: entry('unrelated', -0.1, 4, 4),
      },
    })
  })

  it('looks the scrubbed query up and prints the publisher-weighted adjustment', async () => {
    const r = await runCommand(['adjust', QUERY, '--domain', DOMAIN, '--home', home, '--rule', 'reference', '--json'], {env})
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    // (0.9 x 2 + 0.3 x 1) / 3 = 0.7 -> 0.7 - 0.5 = +0.2
    expect(out.weight).toBeCloseTo(0.7, 12)
    expect(out.adjustment).toBeCloseTo(0.2, 12)
    expect(out).toMatchObject({scheme, domain: DOMAIN, keysMatched: 2, keysLookedUp: keys.length, packets: 12, publishers: 2})
    // Nothing of the query in the output.
    expect(r.stdout).not.toMatch(/Jane|Smith|555|ibuprofen/)

    const human = await runCommand(['adjust', QUERY, '--domain', DOMAIN, '--home', home, '--rule', 'reference'], {env})
    expect(human.stdout).toMatch(/^Adjustment \+0\.200 \(reference rule: weight 0\.700 from 2 of \d keys; 2 publishers, 12 packets counted per key\)/)
  })

  // In-process (the kit's harness): the same command object, without a process per run.
  it('calibrated (default): estimates P(right) for --model from its own evidence, names best and worst variants', async () => {
    const other = tempDir()
    const ev = (mass: number, success: number, confidence: number, publishers = 1) => ({mass, success, confidence, publishers})
    await writeWeightsFile(path.join(other, 'weights.json'), {
      version: 2,
      scheme,
      generatedAt: '2026-11-26T03:00:00.000Z',
      hammingThreshold: 18,
      weights: {
        [keyFingerprint(scheme, DOMAIN, keys[0])]: {
          weight: 0.5, packets: 24, publishers: 2, publisherIds: ['0000000000000001', '0000000000000002'], records: 24, lastTimestamp: 1_764_000_000, domain: DOMAIN, routingKey: keys[0],
          evidence: ev(24, 0.5, 0.5, 2),
          variants: {'llama-3-70b': ev(12, 0.9, 0.5), 'mistral-7b': ev(12, 0.1, 0.5)},
          // Peers were asked this very query (its fine hash): their records count fully.
          queries: [{hash, model: 'llama-3-70b', ...ev(12, 0.9, 0.5)}, {hash, model: 'mistral-7b', ...ev(12, 0.1, 0.5)}],
          newShare: 0,
        },
      },
    })
    const run = async (...extra: string[]) => {
      const r = await runCommand(['adjust', QUERY, '--domain', DOMAIN, '--home', other, '--json', ...extra], {env})
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout)
    }
    const pooled = await run('--confidence', '0.5')
    // Pooled, peers did as they expected: no shift.
    expect(pooled).toMatchObject({rule: 'calibrated', probability: expect.closeTo(0.5, 9), adjustment: expect.closeTo(0, 9), modelEvidence: false})
    expect(pooled.bestVariants.map((v: {model: string}) => v.model)).toEqual(['llama-3-70b'])
    expect(pooled.worstVariants.map((v: {model: string}) => v.model)).toEqual(['mistral-7b'])
    // The model's own outcomes: 12 records at 90% against the prior of 8 -> well above 0.5; the
    // model name is normalised as distill does (here: case).
    const strong = await run('--confidence', '0.5', '--model', 'Llama-3-70B')
    expect(strong).toMatchObject({model: 'llama-3-70b', modelEvidence: true})
    expect(strong.probability).toBeGreaterThan(0.6)
    const weak = await run('--confidence', '0.5', '--model', 'mistral-7b')
    expect(weak.probability).toBeLessThan(0.4)
    expect(weak.adjustment).toBeCloseTo(weak.probability - 0.5, 12)
    // An unknown model falls back to the pooled evidence.
    expect(await run('--model', 'gpt-x')).toMatchObject({modelEvidence: false, probability: expect.closeTo(0.5, 9)})
    // The reference rule on the same file.
    expect(await run('--rule', 'reference')).toMatchObject({rule: 'reference', adjustment: 0})

    const human = await runCommand(['adjust', QUERY, '--domain', DOMAIN, '--home', other, '--confidence', '0.5', '--model', 'mistral-7b'], {env})
    expect(human.stdout).toMatch(/^Adjustment -0\.\d{3}: P\(right\) 0\.\d{3} against your confidence 0\.500\./)
    expect(human.stdout).toContain("estimate from mistral-7b's own outcomes")
    expect(human.stdout).toMatch(/Peers did best with: llama-3-70b 0\.\d\d \(90% of 12 records\)/)
    expect(human.stdout).toMatch(/Peers did worst with: mistral-7b 0\.\d\d \(10% of 12 records\)/)

    const bad = await runCommand(['adjust', QUERY, '--domain', DOMAIN, '--home', other, '--confidence', '1.5', '--json'], {env})
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.stdout).error).toMatchObject({code: 'BAD_FLAG', message: expect.stringMatching(/--confidence must be a number from 0 to 1/)})
    const badRule = await runCommand(['adjust', QUERY, '--domain', DOMAIN, '--home', other, '--rule', 'magic'], {env})
    expect(badRule.code).toBe(2)
  }, 240_000)

  it('is 0 where nothing is known', async () => {
    const r = await runCommand(['adjust', QUERY, '--domain', 'legal.contracts', '--home', home], {env})
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^Adjustment 0: none of the query's \d routing keys in legal\.contracts is in /)
  })

  it('says what to do without a weights file, and refuses a bad domain', async () => {
    const empty = tempDir()
    const missing = await runCommand(['adjust', QUERY, '--domain', DOMAIN, '--home', empty], {env})
    expect(missing.code).toBe(2) // NO_WEIGHTS: a usage error (src/cli/codes.ts)
    expect(missing.stderr).toMatch(/^Error: no weights file at .*weights\.json: run `qis pull-weights` first/)
    expect(missing.stderr).not.toMatch(/\n\s+at /)
    const bad = await runCommand(['adjust', QUERY, '--domain', 'Clinical Oncology', '--home', home, '--json'], {env})
    expect(bad.code).toBe(2)
    // Refused as typed, never silently normalised: the hint names the label to use.
    expect(JSON.parse(bad.stdout).error).toMatchObject({code: 'BAD_LABEL', message: expect.stringMatching(/^--domain: domain "Clinical Oncology" may contain only lowercase/), hint: expect.stringContaining('Use --domain clinical_oncology.')})
  })

  it('creates no folder for a --home that does not exist (a typo stays a typo)', async () => {
    const parent = tempDir()
    const typo = path.join(parent, 'qis-hmoe')
    const r = await runCommand(['adjust', QUERY, '--domain', DOMAIN, '--home', typo, '--json'], {env})
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error.code).toBe('NO_WEIGHTS')
    expect(readdirSync(parent)).toEqual([])
    // The same with an explicit --weights that exists: the adjustment is made, the typo'd home still not created.
    const ok = await runCommand(['adjust', QUERY, '--domain', DOMAIN, '--home', typo, '--weights', path.join(home, 'weights.json'), '--rule', 'reference', '--json'], {env})
    expect(ok.code, ok.stderr).toBe(0)
    expect(JSON.parse(ok.stdout)).toMatchObject({keysMatched: 2, weightsFile: path.join(home, 'weights.json')})
    expect(readdirSync(parent)).toEqual([])
  })

  it('hashes with the embedder the flags name, over the config: --embedder use-lite meets another scheme', async () => {
    // The weights were pulled under the tiny transformers model; use-lite hashes under another scheme.
    const r = await runCommand(['adjust', QUERY, '--domain', DOMAIN, '--home', home, '--embedder', 'use-lite', '--json'], {env})
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error).toMatchObject({code: 'SCHEME_MISMATCH', message: expect.stringContaining(`holds weights for scheme ${scheme}`)})
    const contradict = await runCommand(['adjust', QUERY, '--domain', DOMAIN, '--home', home, '--embedder', 'use-lite', '--model-dir', modelDir, '--json'], {env})
    expect(contradict.code).toBe(2)
    expect(JSON.parse(contradict.stdout).error).toMatchObject({code: 'BAD_FLAG', message: '--model-dir applies only to --embedder transformers'})
  }, 120_000)

  it('--bootstrap, --live-timeout and --trusted-only need --live', async () => {
    for (const extra of [['--bootstrap', '/ip4/127.0.0.1/tcp/9'], ['--live-timeout', '5s'], ['--trusted-only']]) {
      const r = await runCommand(['adjust', QUERY, '--domain', DOMAIN, '--home', home, ...extra, '--json'], {env})
      expect(r.code).toBe(2)
      expect(JSON.parse(r.stdout).error).toMatchObject({code: 'BAD_FLAG', message: `${extra[0]} needs --live`})
    }
  })
})
