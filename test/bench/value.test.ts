import {spawn} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {repoRoot} from '../helpers/cli.js'
import {tempDir} from '../helpers/temp.js'

// The value bench at its smallest, so it cannot rot: N=2, the fixture's 46 questions (a sample of
// the shared MMLU-Pro outcomes, in the same shape), real `qis distill` processes, a swarm of real
// `qis node` processes on 127.0.0.1, real `qis publish` and `qis pull-weights`. Figures from a run
// this small mean nothing; the test checks that every stage ran and every record is accounted for.
const fixtures = path.join(repoRoot, 'test/bench/fixtures')
const bench = path.join(repoRoot, 'bench/value/run.mjs')

function runBench(args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bench, ...args], {cwd: repoRoot, env: {...process.env, NO_COLOR: '1', QIS_BOOTSTRAP: ''}, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    // SIGTERM first: the bench then stops the qis nodes and commands it started; SIGKILL would orphan them.
    const timer = setTimeout(() => {
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGKILL'), 15_000).unref()
    }, 400_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr})
    })
  })
}

const ARMS = ['no-peers', 'local', 'qis', 'central', 'domain', 'same-question']

interface Run {
  scenario: string
  n: number
  arms: Record<string, {brier: number; logLoss: number; auroc: number; ece: number}>
  shareOfCentralGain: number | null
  routing: {accuracy: number; bestSingle: number; random: number; oracle: number}
  answers: {past: number; future: number}
  distilled: {records: number; packets: number; summaries: number; corrections: number}
  swarm: {packetsPublished: number; publishFailed: number; pull: {received: number; accepted: number; refused: Record<string, number>}; live: {keysFetched: number; failures: number}}
  keysMatchedShare: Record<string, number>
  models: string[]
  byModel: Record<string, {answers: number; accuracy: number | null} & Record<string, number>>
}

describe('bench/value', () => {
  it('runs the whole loop with real processes for N=2 and writes the result JSON and picture', {timeout: 420_000}, async () => {
    const dir = tempDir('qis-value-test-')
    const json = path.join(dir, 'value.json')
    const svg = path.join(dir, 'value.svg')
    const r = await runBench([
      '--questions', path.join(fixtures, 'value-questions.jsonl'),
      '--outcomes', path.join(fixtures, 'value-correct.csv'),
      '--n', '2', '--scenario', 'overlap', '--distill', 'cli', '--bootstrap', '50', '--nodes', '2',
      '--json', json, '--svg', svg, '--work', path.join(dir, 'work'),
    ])
    expect(r.code, r.stderr).toBe(0)
    const result = JSON.parse(readFileSync(json, 'utf8')) as {runs: Run[]}
    expect(result.runs).toHaveLength(1)
    const run = result.runs[0]
    expect(run.scenario).toBe('overlap')
    expect(run.n).toBe(2)
    for (const arm of ARMS) {
      for (const metric of ['brier', 'logLoss', 'auroc', 'ece'] as const) expect(Number.isFinite(run.arms[arm][metric]), `${arm}.${metric}`).toBe(true)
      expect(run.arms[arm].brier).toBeGreaterThanOrEqual(0)
      expect(run.arms[arm].brier).toBeLessThanOrEqual(1)
    }
    // Every logged answer became a packet, every packet reached the swarm, and the peer's came back.
    expect(run.answers.past).toBe(run.distilled.records)
    expect(run.distilled.packets).toBe(run.distilled.records)
    // Every home publishes its domain summaries beside its records' packets.
    expect(run.distilled.summaries).toBeGreaterThan(0)
    expect(run.swarm.packetsPublished).toBe(run.distilled.packets + run.distilled.summaries)
    expect(run.swarm.publishFailed).toBe(0)
    expect(run.swarm.pull.received).toBeGreaterThan(0)
    // Each home gets its own packets back too and must refuse them as its own.
    expect(run.swarm.pull.refused.OWN_PACKET).toBeGreaterThan(0)
    expect(run.answers.future).toBeGreaterThan(0)
    // The qis arm asked the swarm about the future questions' own keys (live lookup), and the
    // pull-only file is still measured beside it: live lookup can only add keys, never lose them.
    expect(run.swarm.live.keysFetched).toBeGreaterThan(0)
    expect(run.swarm.live.failures).toBe(0)
    expect(Number.isFinite(run.arms['qis-past-keys'].brier)).toBe(true)
    expect(run.keysMatchedShare.qis).toBeGreaterThanOrEqual(run.keysMatchedShare['qis-past-keys'])
    for (const k of ['accuracy', 'bestSingle', 'random', 'oracle'] as const) expect(run.routing[k]).toBeGreaterThanOrEqual(0)
    expect(run.routing.oracle).toBeGreaterThanOrEqual(run.routing.bestSingle)
    // Every future answer belongs to one deployment's model, and the per-model Briers average to the arm's.
    expect(Object.keys(run.byModel).sort()).toEqual([...run.models].sort())
    const parts = Object.values(run.byModel)
    expect(parts.reduce((s, m) => s + m.answers, 0)).toBe(run.answers.future)
    for (const arm of ['no-peers', 'qis']) expect(parts.reduce((s, m) => s + m.answers * (m.answers ? m[arm] : 0), 0) / run.answers.future).toBeCloseTo(run.arms[arm].brier, 10)
    expect(run.routing.bestSingle).toBeGreaterThanOrEqual(run.routing.random)
    expect(r.stdout).toContain('share')
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg[\s\S]*Reliability[\s\S]*<\/svg>\n$/)
  })

  it('refuses bad data naming the file, line and field', {timeout: 120_000}, async () => {
    const dir = tempDir('qis-value-bad-')
    const questions = path.join(dir, 'q.jsonl')
    const outcomes = path.join(dir, 'c.csv')
    writeFileSync(questions, '{"question_id": 1, "category": "law", "question": "Is it?"}\n{"question_id": 2, "category": "law"}\n')
    writeFileSync(outcomes, 'question_id,a,b\n1,1,0\n2,1,0\n')
    const r = await runBench(['--questions', questions, '--outcomes', outcomes, '--n', '2', '--work', path.join(dir, 'w')])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`${questions}:2: field "question"`)
    writeFileSync(questions, '{"question_id": 1, "category": "law", "question": "Is it?"}\n')
    writeFileSync(outcomes, 'question_id,a,b\n1,1,maybe\n')
    const r2 = await runBench(['--questions', questions, '--outcomes', outcomes, '--n', '2', '--work', path.join(dir, 'w')])
    expect(r2.code).toBe(2)
    expect(r2.stderr).toContain(`${outcomes}:2: field "b": must be 1, 0 or blank`)
    // --with-options logs the prompt with its options, so a question without them is refused, not logged bare.
    writeFileSync(outcomes, 'question_id,a,b\n1,1,0\n')
    const r3 = await runBench(['--questions', questions, '--outcomes', outcomes, '--with-options', '--n', '2', '--work', path.join(dir, 'w')])
    expect(r3.code).toBe(2)
    expect(r3.stderr).toContain(`${questions}:1: field "options": missing or not an array of strings`)
  })
})
