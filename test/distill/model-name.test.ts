import {createHash} from 'node:crypto'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {openHome} from '../../src/config/home.js'
import {type DistillDeps, loadDistillDeps} from '../../src/distill/load-deps.js'
import {normaliseAliases, parseModelAliasFlags, publicModelName} from '../../src/distill/model-name.js'
import {distill} from '../../src/distill/pipeline.js'
import {decodePacket} from '../../src/packet/codec.js'
import {signerFromSeed} from '../../src/packet/signer.js'
import {readStoreFile} from '../../src/packet/store.js'
import {isDomainSummary} from '../../src/packet/summary.js'
import {tempDir} from '../helpers/cli.js'

describe('public model names', () => {
  const ok = (raw: string, aliases?: Record<string, string>) => {
    const r = publicModelName(raw, normaliseAliases(aliases))
    if (!r.ok) throw new Error(r.reason)
    return r.name
  }
  it('cuts fine-tune and cloud wrappers down to the public base name', () => {
    expect(ok('ft:gpt-4o-mini-2024-07-18:acme-health::9qLCdJzV')).toBe('ft:gpt-4o-mini-2024-07-18')
    expect(ok('ft:gpt-3.5-turbo-0613:personal:triage:8Q1bG2bX')).toBe('ft:gpt-3.5-turbo-0613')
    expect(ok('curie:ft-acme-health-2022-12-01-10-00-00')).toBe('ft:curie')
    expect(ok('models/gemini-1.5-pro')).toBe('gemini-1.5-pro')
    expect(ok('publishers/google/models/gemini-1.5-flash-002')).toBe('gemini-1.5-flash-002')
    expect(ok('accounts/fireworks/models/llama-v3p1-70b-instruct')).toBe('llama-v3p1-70b-instruct')
  })
  it('keeps public names as they are', () => {
    for (const n of ['gpt-4o', 'claude-3-5-sonnet-20241022', 'llama3:70b', 'anthropic.claude-3-haiku-20240307-v1:0', 'meta-llama/Llama-3.1-8B-Instruct', 'Qwen/Qwen2.5-7B-Instruct']) {
      expect(ok(n)).toBe(n)
    }
  })
  it('refuses names that carry an account, project or organisation, unless aliased', () => {
    for (const n of [
      'arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1:0:8k/abc',
      'projects/acme-health-prod/locations/us-central1/endpoints/1234567890',
      'accounts/acme-health/models/triage-v2',
      'acme-health/llama-3-triage',
    ]) {
      const r = publicModelName(n)
      expect(r.ok, n).toBe(false)
      if (!r.ok) expect(r.reason).toMatch(/--model-alias/)
    }
    expect(ok('Acme-Health/llama-3-triage', {'acme-health/llama-3-triage': 'llama-3-8b'})).toBe('llama-3-8b')
    expect(ok('my-gpt4-deployment', {'my-gpt4-deployment': 'gpt-4o'})).toBe('gpt-4o')
  })
  it('parses --model-alias NAME=PUBLIC', () => {
    expect(parseModelAliasFlags(['my-dep=gpt-4o', 'a/b=c'])).toEqual({'my-dep': 'gpt-4o', 'a/b': 'c'})
    expect(() => parseModelAliasFlags(['nope'])).toThrow(/expected NAME=PUBLIC/)
  })
})

describe('distill publishes public model names only', () => {
  const dir = tempDir('qis-model-')
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('no organisation from a fine-tune id reaches a packet; an unknown namespace is rejected until aliased', async () => {
    const real = await loadDistillDeps()
    const d: DistillDeps = {
      ...real,
      createHashPipeline: async () => ({
        scheme: 'test.sha256.v1',
        pipeline: {
          hashMany: async (texts) => texts.map((t) => ({hash: createHash('sha256').update(t).digest('hex').slice(0, 16), keys: ['0001']})),
          stats: () => ({}),
          close: async () => {},
        },
      }),
    }
    const log = path.join(dir, 'log.jsonl')
    const base = {query: 'How is warfarin dosed?', outcome: 1, confidence: 0.8, timestamp: '2026-11-25T10:00:00Z'}
    writeFileSync(
      log,
      [
        {...base, id: 'a', model: 'ft:gpt-4o-mini-2024-07-18:zorblax-health::9qLCdJzV'},
        {...base, id: 'b', model: 'zorblax-health/llama-3-triage'},
        {...base, id: 'c', model: 'gpt-4o'},
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    )
    const home = await openHome(path.join(dir, 'home'))
    const signer = signerFromSeed(new Uint8Array(32).fill(3))
    const now = Date.UTC(2026, 10, 26, 12)
    const models = async (out: string) => {
      const names: string[] = []
      for await (const e of readStoreFile(out)) {
        if (e.kind !== 'packet') continue
        const p = decodePacket(e.bytes, {now: now / 1000})
        // Records' packets only: each model's domain summary names the same model again.
        if (p.ok && !isDomainSummary(p.packet)) names.push(p.packet.model_variant)
      }
      return names
    }
    const s1 = await distill({files: [log], home, signer, now, out: path.join(dir, 'one.qisp')}, d)
    expect(s1.counts).toMatchObject({read: 3, emitted: 2, rejected: 1})
    expect(Object.keys(s1.rejectedByReason)[0]).toMatch(/namespace "zorblax-health".*--model-alias/)
    expect((await models(s1.out!)).sort()).toEqual(['ft:gpt-4o-mini-2024-07-18', 'gpt-4o'])
    expect(readFileSync(s1.out!).toString('latin1').toLowerCase()).not.toContain('zorblax')

    const s2 = await distill({files: [log], home, signer, now, out: path.join(dir, 'two.qisp'), modelAlias: {'zorblax-health/llama-3-triage': 'llama-3-8b-instruct'}}, d)
    expect(s2.counts).toMatchObject({read: 3, emitted: 3, rejected: 0})
    expect((await models(s2.out!)).sort()).toEqual(['ft:gpt-4o-mini-2024-07-18', 'gpt-4o', 'llama-3-8b-instruct'])
  })
})
