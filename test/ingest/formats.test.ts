import {existsSync, mkdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {type IngestEvent, type NormalisedRecord, readRecords} from '../../src/ingest/index.js'
import {readStoreFile} from '../../src/packet/store.js'
import {isDomainSummary} from '../../src/packet/summary.js'
import {decodePacket} from '../../src/packet/codec.js'
import type {DistillSummary} from '../../src/distill/types.js'
import {repoRoot, runCli, tempDir} from '../helpers/cli.js'

const F = (name: string) => path.join(repoRoot, 'fixtures/ingest/formats', name)
const TINY = ['--embedder', 'transformers', '--model-dir', path.join(repoRoot, 'fixtures/models/qis-tiny-bert')]
const dir = tempDir('qis-formats-')
afterAll(() => rmSync(dir, {recursive: true, force: true}))

async function records(file: string, options = {}): Promise<{schema?: string; events: IngestEvent[]}> {
  let schema: string | undefined
  const events: IngestEvent[] = []
  for await (const ev of readRecords(file, {...options, onSchema: (i) => (schema = i.schema)})) events.push(ev)
  return {schema, events}
}
const recs = (events: IngestEvent[]): NormalisedRecord[] => events.flatMap((e) => (e.kind === 'record' ? [e.record] : []))

describe('log formats, detected from the first record', () => {
  it('OpenTelemetry GenAI: events, gen_ai.input.messages, OpenInference and OpenLLMetry spans; other spans skipped', async () => {
    const {schema, events} = await records(F('otel-traces.jsonl'))
    expect(schema).toBe('otel')
    const r = recs(events)
    expect(r.filter((x) => !x.skip).map((x) => [x.query?.slice(0, 20), x.modelVariant, x.outcome])).toEqual([
      ['What is the maximum ', 'gpt-4o-mini-2024-07-18', 0.9],
      ['How do I rotate the ', 'claude-3-5-haiku-20241022', 0.4],
      ['Summarise the notice', 'gpt-4o', 1],
      ['Why does my pandas m', 'gpt-4o', 0.7],
    ])
    expect(r.filter((x) => x.skip)).toHaveLength(2)
    expect(r[0]).toMatchObject({id: '0000000000000001', timestamp: Date.UTC(2026, 10, 24, 9)})
  })

  it('Langfuse: a JSON-array trace export, observations as JSONL and CSV, and scores as join rows', async () => {
    const traces = await records(F('langfuse-traces.json'))
    expect(traces.schema).toBe('langfuse')
    expect(recs(traces.events).map((x) => x.id)).toEqual(['lf-trace-0', 'lf-trace-1', 'lf-trace-2', 'lf-trace-3'])
    expect(recs(traces.events)[0]).toMatchObject({domain: 'clinical.pharmacology', query: expect.stringMatching(/^What is the maximum daily dose/)})
    for (const f of ['langfuse-observations.jsonl', 'langfuse-observations.csv']) {
      const obs = recs((await records(F(f))).events)
      expect(obs.map((x) => [x.id, x.joinIds, x.modelVariant, x.skip !== undefined]), f).toEqual([
        ['lf-obs-0', ['lf-trace-0'], 'gpt-4o-mini', false], ['lf-obs-1', ['lf-trace-1'], 'gpt-4o-mini', false],
        ['lf-obs-2', ['lf-trace-2'], 'gpt-4o-mini', false], ['lf-obs-3', ['lf-trace-3'], 'gpt-4o-mini', false],
        ['lf-obs-span', ['lf-trace-4'], 'gpt-4o-mini', true],
      ])
    }
    const scores = recs((await records(F('langfuse-scores.json'))).events)
    expect(scores.every((x) => x.join)).toBe(true)
    // Joined on the observation when the score names one, else on the trace; value is the outcome.
    expect(scores.map((x) => [x.id, x.outcome, x.correctionApplied, x.correctionType])).toEqual([
      ['lf-trace-0', 0.9, false, undefined], ['lf-trace-0', 1, false, undefined], ['lf-trace-1', 0.3, false, undefined], ['lf-trace-2', 0.6, false, undefined],
      ['lf-trace-3', undefined, true, 'factual'], ['lf-obs-3', 0.2, false, undefined], ['lf-trace-2', undefined, false, undefined],
    ])
    // Configurable: only "quality" is an outcome, 1..5 would need ratingScale.
    const only = recs((await records(F('langfuse-scores.json'), {scores: {outcome: ['quality']}})).events)
    expect(only.filter((x) => x.outcome !== undefined)).toHaveLength(4)
  })

  it('LangSmith: runs as JSONL and Parquet read alike; feedback joins on run_id', async () => {
    const a = await records(F('langsmith-runs.jsonl'))
    const b = await records(F('langsmith-runs.parquet'))
    expect(a.schema).toBe('langsmith')
    expect(b.schema).toBe('langsmith')
    expect(recs(b.events)).toEqual(recs(a.events))
    expect(recs(a.events).map((x) => [x.query?.slice(0, 12), x.modelVariant, x.outcome, x.skip !== undefined])).toEqual([
      ['What is the ', 'gpt-4o-mini', 1, false], ['How do I rot', 'gpt-4o-mini', 0, false], ['Summarise th', 'gpt-4o-mini', 0.5, false],
      ['Why does my ', 'gpt-4o-mini', undefined, false], ['x', 'gpt-4o-mini', undefined, true],
    ])
    const fb = recs((await records(F('langsmith-feedback.jsonl'))).events)
    expect(fb.map((x) => [x.join, x.outcome, x.correctionApplied])).toEqual([[true, 0.25, false], [true, 0, true]])
  })

  it('OpenAI Batch: the input gives the query, the output model, time and a logprob confidence', async () => {
    const input = recs((await records(F('openai-batch-input.jsonl'))).events)
    expect(input.map((x) => [x.id, x.join ?? false])).toEqual([['req-0', false], ['req-1', false], ['req-2', false], ['req-3', false]])
    const output = recs((await records(F('openai-batch-output.jsonl'))).events)
    expect(output[0]).toMatchObject({id: 'req-0', join: true, modelVariant: 'gpt-4o-mini-2024-07-18', timestamp: Date.UTC(2026, 10, 24, 9)})
    expect(output[0]!.confidence).toBeCloseTo(Math.exp(-0.125), 6)
    expect(output[3]!.skip).toMatch(/batch request failed/)
  })

  it('Helicone: request rows with feedback_rating and scores', async () => {
    const {schema, events} = await records(F('helicone-requests.jsonl'))
    expect(schema).toBe('helicone')
    expect(recs(events).map((x) => [x.id, x.outcome, x.domain])).toEqual([['hc-0', 1, 'clinical.pharmacology'], ['hc-1', 0, 'support'], ['hc-2', 1, 'support'], ['hc-3', 0.8, 'support']])
  })

  it('--input-format generic turns detection off; --map reaches any field of a converted record', async () => {
    const generic = recs((await records(F('helicone-requests.jsonl'), {format: 'generic'})).events)
    expect(generic[0]!.query).toBeUndefined()
    const mapped = recs((await records(F('langfuse-traces.json'), {map: {correctionType: 'release'}})).events)
    expect(mapped[0]!.correctionType).toBe('v1.4.2')
  })
})

async function distillJson(args: string[], home: string): Promise<DistillSummary> {
  const r = await runCli(['distill', ...args, ...TINY, '--home', home, '--json'])
  if (r.code !== 0) throw new Error(`distill exited ${r.code}: ${r.stderr}${r.stdout}`)
  return JSON.parse(r.stdout) as DistillSummary
}

describe('qis distill on each log format, end to end', () => {
  it('turns every format into packets and accounts for every record', async () => {
    const home = path.join(dir, 'home')
    const cases: Array<[string, string[], {emitted: number; read: number; matched?: number}]> = [
      ['otel', [F('otel-traces.jsonl'), '--default-confidence', '0.5'], {read: 6, emitted: 4}],
      ['langfuse', [F('langfuse-observations.csv'), F('langfuse-scores.json'), '--default-confidence', '0.6'], {read: 5, emitted: 4, matched: 4}],
      ['langsmith', [F('langsmith-runs.parquet'), '--corrections', F('langsmith-feedback.jsonl'), '--default-confidence', '0.7'], {read: 5, emitted: 4, matched: 2}],
      ['openai-batch', [F('openai-batch-input.jsonl'), F('openai-batch-output.jsonl'), '--corrections', F('openai-batch-evals.csv'), '--corrections-map', 'id=custom_id', '--corrections-map', 'outcome=passed'], {read: 4, emitted: 3, matched: 4}],
      ['helicone', [F('helicone-requests.jsonl'), '--default-confidence', '0.5'], {read: 4, emitted: 4}],
    ]
    for (const [name, args, want] of cases) {
      const out = path.join(dir, `${name}.qisp`)
      const s = await distillJson([...args, '--out', out], home)
      expect(s.counts.read, name).toBe(want.read)
      expect(s.counts.emitted, name).toBe(want.emitted)
      expect(s.counts.read, name).toBe(s.counts.emitted + s.counts.rejected + s.counts.skipped)
      if (want.matched !== undefined) expect(s.counts.correctionsMatched, name).toBe(want.matched)
      // Every emitted record is one packet; the domain summaries after them are counted apart.
      let packets = 0
      let summaries = 0
      for await (const e of readStoreFile(out)) {
        const d = e.kind === 'packet' ? decodePacket(e.bytes) : undefined
        if (d?.ok && isDomainSummary(d.packet)) summaries++
        else if (d?.ok) packets++
      }
      expect(packets, name).toBe(want.emitted)
      expect(summaries, name).toBe(s.summaries?.written)
      expect(summaries, name).toBeGreaterThan(0)
    }
  }, 240_000)

  it('a profile in config names the format and maps; an unrecognised CSV names its columns and the --map to try', async () => {
    const home = path.join(dir, 'home-profile')
    mkdirSync(home, {recursive: true})
    writeFileSync(
      path.join(home, 'config.json'),
      JSON.stringify({profiles: {'batch-evals': {correctionsMap: {id: 'custom_id', outcome: 'passed'}, defaultConfidence: 0.5}}}),
    )
    const s = await distillJson([F('openai-batch-input.jsonl'), '--corrections', F('openai-batch-evals.csv'), '--profile', 'batch-evals', '--out', path.join(dir, 'p.qisp')], home)
    expect(s.counts).toMatchObject({read: 4, emitted: 4, correctionsMatched: 4})
    const bad = await runCli(['distill', F('otel-traces.jsonl'), '--profile', 'nope', '--home', home])
    expect(bad.code).toBe(2)
    expect(bad.stderr.replace(/\s*›\s*/g, ' ').replace(/\s+/g, ' ')).toMatch(/--profile nope: no such profile .*known: batch-evals/)

    const csv = path.join(dir, 'foo.csv')
    writeFileSync(csv, 'foo,bar,baz\nHow do I reset a router?,0.8,x\nWhat is DNS?,0.3,y\n')
    // No record has an outcome: nothing produced (exit 3), and the summary says which --map would fix it.
    const r = await runCli(['distill', csv, ...TINY, '--home', home, '--out', path.join(dir, 'foo.qisp')])
    expect(r.code, r.stderr).toBe(3)
    expect(r.stdout).toMatch(/no record had outcome; columns seen: foo, bar, baz\. If one of them holds it, name it: --map outcome=COLUMN/)
    expect(r.stderr).toMatch(/^Error: none of the 2 records yielded a packet: 2 skipped \(mostly: no outcome signal\); no packet store was written\nHint: .*foo\.csv: no record had outcome/)
    expect(existsSync(path.join(dir, 'foo.qisp'))).toBe(false)
    const j = await runCli(['distill', csv, ...TINY, '--home', home, '--out', path.join(dir, 'foo2.qisp'), '--json'])
    expect(j.code).toBe(3)
    const doc = JSON.parse(j.stdout)
    expect(doc.hints).toHaveLength(1)
    expect(doc.out).toBeNull()
    expect(doc.error.code).toBe('NOTHING_PRODUCED')
  }, 120_000)
})
