import {spawn} from 'node:child_process'
import {existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {decodePacket} from '../../src/packet/codec.js'
import {readStoreFile} from '../../src/packet/store.js'
import {isDomainSummary} from '../../src/packet/summary.js'
import type {OutcomePacket} from '../../src/packet/types.js'
import {SKIP} from '../../src/distill/accounting.js'
import type {DistillSummary} from '../../src/distill/types.js'
import {repoRoot, runCli, runJs, tempDir} from '../helpers/cli.js'
import {writeGroupCodebook} from '../helpers/codebook.js'

// The tiny fixture model keeps these tests quick; the pipeline is the same for every backend.
const TINY = ['--embedder', 'transformers', '--model-dir', path.join(repoRoot, 'fixtures/models/qis-tiny-bert')]
const FIXTURES = ['inference.jsonl', 'chat.jsonl', 'support.csv'].map((f) => path.join(repoRoot, 'fixtures/logs', f))
const CORRECTIONS = path.join(repoRoot, 'fixtures/logs/corrections.jsonl')
// Several full CLI runs per test; the machine is shared, so allow for a slow one.
const SLOW = 240_000

async function distillJson(args: string[], home = tempDir()): Promise<{summary: DistillSummary; home: string; stderr: string}> {
  const r = await runCli(['distill', ...args, ...TINY, '--home', home, '--json'])
  if (r.code !== 0) throw new Error(`distill exited ${r.code}: ${r.stderr}${r.stdout}`)
  return {summary: JSON.parse(r.stdout) as DistillSummary, home, stderr: r.stderr}
}

/** The records' packets in a store (what `packets` counts); with `summaries`, the domain summaries too. */
async function packetsOf(store: string, summaries = false): Promise<OutcomePacket[]> {
  return (await allPacketsOf(store)).filter((p) => summaries || !isDomainSummary(p))
}

async function allPacketsOf(store: string): Promise<OutcomePacket[]> {
  const out: OutcomePacket[] = []
  for await (const entry of readStoreFile(store)) {
    expect(entry.kind).toBe('packet')
    if (entry.kind !== 'packet') continue
    expect(entry.bytes.length).toBeLessThanOrEqual(512)
    const decoded = decodePacket(entry.bytes)
    if (!decoded.ok) throw new Error(`packet ${entry.index}: ${decoded.error.message}`)
    out.push(decoded.packet)
  }
  return out
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? allFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]))
}

const jsonl = (rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n'

describe('qis distill on the bundled example', () => {
  it('accounts for every record and writes valid signed packets, joined with corrections', async () => {
    const {summary, home} = await distillJson([...FIXTURES, '--corrections', CORRECTIONS])
    const c = summary.counts
    expect(c.read).toBe(c.emitted + c.rejected + c.skipped)
    expect(c.read).toBeGreaterThan(250)
    expect(c.rejected).toBeGreaterThanOrEqual(4) // the malformed and invalid lines planted in the fixtures
    expect(summary.skippedByReason['no outcome signal']).toBeGreaterThan(0)
    expect(c.correctionsMatched).toBeGreaterThan(10)
    expect(c.correctionsUnmatched).toBe(4) // req-elsewhere-0..3
    expect(Object.values(summary.rejectedByReason).reduce((a, b) => a + b, 0)).toBe(c.rejected)
    expect(Object.values(summary.skippedByReason).reduce((a, b) => a + b, 0)).toBe(c.skipped)
    expect(Object.values(summary.domains).reduce((a, b) => a + b, 0)).toBe(c.emitted)
    expect(summary.domains).toHaveProperty('clinical_pharmacology') // "Clinical Pharmacology" made a label

    expect(path.dirname(summary.out!)).toBe(path.join(home, 'packets'))
    expect(statSync(summary.out!).size).toBe(summary.bytes)
    const packets = await packetsOf(summary.out!)
    expect(packets).toHaveLength(summary.packets)
    // Beside the records, one domain summary per (domain, model) they cover, counted apart.
    const pairs = new Set(packets.map((p) => `${p.domain_tag}/${p.model_variant}`))
    expect(summary.summaries).toEqual({written: pairs.size})
    const summaries = (await packetsOf(summary.out!, true)).filter((p) => isDomainSummary(p))
    expect(summaries.map((p) => `${p.domain_tag}/${p.model_variant}`).sort()).toEqual([...pairs].sort())
    for (const s of summaries) expect(s.count).toBe(packets.filter((p) => p.domain_tag === s.domain_tag && p.model_variant === s.model_variant).length)
    expect(packets).toHaveLength(c.emitted)
    const corrected = packets.filter((p) => p.correction_applied)
    // Some records that matched a correction were skipped (no confidence), so at most as many packets.
    expect(corrected.length).toBeGreaterThan(10)
    expect(corrected.length).toBeLessThanOrEqual(c.correctionsMatched)
    expect(corrected.every((p) => p.correction_type === null || /^[a-z_]+$/.test(p.correction_type))).toBe(true)
    expect(new Set(corrected.map((p) => p.correction_type))).toContain('outdated_guideline')
    for (const p of packets) {
      expect(p.timestamp % 3600).toBe(0) // default --time-resolution 1h
      expect(p.count).toBe(1)
      expect(p.scheme).toBe(summary.scheme)
    }

    const rejectLines = readFileSync(summary.rejects!, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(rejectLines).toHaveLength(c.rejected + c.correctionsRejected)
    for (const r of rejectLines) {
      expect(Object.keys(r).sort()).toEqual(r.field === undefined ? ['file', 'line', 'reason'] : ['field', 'file', 'line', 'reason'])
      expect(Number.isInteger(r.line) && r.line > 0).toBe(true)
    }
    expect(rejectLines).toContainEqual({file: FIXTURES[0], line: 41, reason: 'malformed JSON'})
  }, SLOW)

  it('prints a summary for a person naming the outputs', async () => {
    const home = tempDir()
    const r = await runCli(['distill', FIXTURES[0], '--corrections', CORRECTIONS, ...TINY, '--home', home])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/read\s+\d+/)
    expect(r.stdout).toMatch(/Rejected by reason:/)
    expect(r.stdout).toMatch(/Packet store: .*\.qisp/)
    expect(r.stdout).toMatch(/corrections\s+\d+ matched, \d+ unmatched/)
    // Not a terminal: no progress output.
    expect(r.stderr).not.toMatch(/Distilling/)
  })

  it('--aggregate groups records and reports compression; --min-count suppresses small groups', async () => {
    const home = tempDir()
    const plain = (await distillJson([...FIXTURES, '--corrections', CORRECTIONS, '--time-resolution', '1d'], home)).summary
    const agg = (await distillJson([...FIXTURES, '--corrections', CORRECTIONS, '--time-resolution', '1d', '--aggregate'], home)).summary
    // Per record, repeats are byte-identical packets, stored once; aggregated, their group counts them.
    const duplicates = plain.skippedByReason[SKIP.duplicate] ?? 0
    expect(plain.duplicatePackets).toBe(duplicates)
    expect(agg.counts).toEqual({...plain.counts, emitted: plain.counts.emitted + duplicates, skipped: plain.counts.skipped - duplicates})
    expect(agg.packets).toBeLessThan(plain.packets)
    expect(agg.aggregate!.compressionRatio).toBeCloseTo(agg.counts.emitted / agg.packets, 6)
    const packets = await packetsOf(agg.out!)
    expect(packets.reduce((n, p) => n + p.count, 0)).toBe(agg.counts.emitted)
    expect(packets.some((p) => p.count > 1)).toBe(true)
    expect(packets.every((p) => p.timestamp % 86_400 === 0)).toBe(true)

    const k = 3
    const kAnon = (await distillJson([...FIXTURES, '--corrections', CORRECTIONS, '--time-resolution', '1d', '--aggregate', '--min-count', String(k)], home)).summary
    const kPackets = await packetsOf(kAnon.out!)
    expect(kPackets.length).toBeGreaterThan(0)
    expect(kPackets.every((p) => p.count >= k)).toBe(true)
    // No domain summary stands for fewer records than --min-count allows either.
    const kSummaries = (await packetsOf(kAnon.out!, true)).filter((p) => isDomainSummary(p))
    expect(kSummaries.length).toBe(kAnon.summaries!.written)
    expect(kSummaries.length).toBeGreaterThan(0)
    expect(kSummaries.every((p) => p.count >= k)).toBe(true)
    const suppressed = kAnon.skippedByReason['below min-count']
    expect(suppressed).toBe(agg.counts.emitted - kAnon.counts.emitted)
    expect(kAnon.counts.read).toBe(kAnon.counts.emitted + kAnon.counts.rejected + kAnon.counts.skipped)
    expect(kAnon.aggregate!.suppressedGroups).toBe(packets.filter((p) => p.count < k).length)
  }, SLOW)
})

describe('qis distill privacy', () => {
  it('writes none of the raw text, names or contact details into any output', async () => {
    const dir = tempDir()
    const CANARIES = ['Quintavius Zebrowski', 'canary.leak@example.org', 'ZQXJ-CANARY-7731', 'Thaddeus Okonkwo-Villanueva', 'FLAMINGO-RESPONSE-CANARY', 'PELICAN-CORRECTION-CANARY']
    const log = path.join(dir, 'log.jsonl')
    writeFileSync(
      log,
      jsonl([
        {id: 'a1', query: `Patient ${CANARIES[0]} (email ${CANARIES[1]}) asks about ZQXJ-CANARY-7731 dosing`, response: CANARIES[4], outcome: 0.9, confidence: 0.8, domain: 'clinical.oncology'},
        {id: 'a2', messages: [{role: 'user', content: `Dr ${CANARIES[3]} wants a summary of case ZQXJ-CANARY-7731`}], feedback: 'down', confidence: 0.5},
        {id: 'a3', query: `Is ${CANARIES[0]} eligible for the ZQXJ-CANARY-7731 trial?`, confidence: 0.7},
        `{"id": "a4", "query": "broken ${CANARIES[0]} ZQXJ-CANARY-7731`,
        {id: 'a5', query: `Zebrowski ZQXJ-CANARY-7731`, outcome: 3, confidence: 0.7},
        {id: 'a6', query: 'ZQXJ-CANARY-7731', outcome: 0.5, confidence: 0.5, domain: `${CANARIES[0]} ward`},
      ]),
    )
    const corrections = path.join(dir, 'corr.jsonl')
    writeFileSync(corrections, jsonl([{id: 'a3', corrected_text: CANARIES[5], correction_type: 'factual', outcome: 0.1}, {id: 'zz', correction: CANARIES[5]}]))
    const home = path.join(dir, 'home')
    const outputs: string[] = []
    // Per record (summary for a person, explicit --rejects), aggregated and noisy (--json, default rejects).
    for (const extra of [['--rejects', path.join(dir, 'rejects.jsonl')], ['--aggregate', '--json'], ['--epsilon', '1', '--json']]) {
      const r = await runCli(['distill', log, '--corrections', corrections, ...extra, ...TINY, '--home', home])
      expect(r.code, r.stderr).toBe(0)
      outputs.push(r.stdout, r.stderr)
    }
    const files = allFiles(dir).filter((f) => f !== log && f !== corrections)
    expect(files.filter((f) => f.endsWith('.qisp')).length).toBe(3)
    expect(files.some((f) => f.includes('rejects'))).toBe(true)
    // Case-insensitive: labels are lower-cased, so a name that slipped into one would be too.
    const needles = [...CANARIES, 'Quintavius', 'Zebrowski', 'Okonkwo', 'ZQXJ', 'CANARY', 'FLAMINGO', 'PELICAN'].map((n) => n.toLowerCase())
    for (const f of files) {
      const text = readFileSync(f).toString('latin1').toLowerCase()
      for (const n of needles) expect(text.includes(n), `${n} in ${f}`).toBe(false)
    }
    for (const o of outputs) for (const n of needles) expect(o.toLowerCase().includes(n), `${n} in command output`).toBe(false)
  }, SLOW)

  it('--epsilon adds noise to each record and keeps the mean of aggregates', async () => {
    const dir = tempDir()
    const log = path.join(dir, 'log.jsonl')
    // One query repeated: the embedding cache makes 3,000 records cheap.
    const n = 3000
    // A second apart, so that per record (--time-resolution 0) no two packets are byte-identical.
    const rows = Array.from({length: n}, (_, i) => ({id: `r${i}`, query: 'How should warfarin be dosed?', outcome: i % 5 === 0 ? 0 : 1, confidence: 0.9, timestamp: Date.UTC(2026, 10, 20, 8, 10, 0) + i * 1000}))
    writeFileSync(log, jsonl(rows))
    const trueMean = rows.reduce((s, r) => s + r.outcome, 0) / n // 0.8

    const perRecord = (await distillJson([log, '--epsilon', '1', '--time-resolution', '0'])).summary
    expect(perRecord.privacy).toMatchObject({epsilon: 1, mechanism: 'randomised-response'})
    const noisy = await packetsOf(perRecord.out!)
    expect(noisy).toHaveLength(n)
    expect(noisy.every((p) => p.outcome_signal === 0 || p.outcome_signal === 1)).toBe(true)
    const flippedUp = noisy.filter((p, i) => rows[i].outcome === 0 && p.outcome_signal === 1).length
    const flippedDown = noisy.filter((p, i) => rows[i].outcome === 1 && p.outcome_signal === 0).length
    // eps = 1 flips each bit with probability 0.269: about 160 of the 600 zeros and 650 of the 2400 ones.
    expect(flippedUp).toBeGreaterThan(100)
    expect(flippedDown).toBeGreaterThan(450)

    const agg = (await distillJson([log, '--epsilon', '1', '--aggregate'])).summary
    const [group] = await packetsOf(agg.out!)
    expect(agg.packets).toBe(1)
    expect(group.count).toBe(n)
    // Standard error <= 1.08 / sqrt(3000) = 0.02; allow 5 of them.
    expect(Math.abs(group.outcome_signal - trueMean)).toBeLessThan(0.1)
  }, SLOW)
})

describe('qis distill robustness', () => {
  it('an interrupted run leaves no store under the final name, and a re-run completes', async () => {
    const dir = tempDir()
    const log = path.join(dir, 'big.jsonl')
    const rows = Array.from({length: 60_000}, (_, i) => ({id: `r${i}`, query: `question number ${i} about topic ${i % 97}`, outcome: 0.7, confidence: 0.6}))
    writeFileSync(log, jsonl(rows))
    const out = path.join(dir, 'out', 'run.qisp')
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      const child = spawn(process.execPath, [runJs, 'distill', log, ...TINY, '--home', path.join(dir, 'home'), '--out', out], {stdio: ['ignore', 'pipe', 'pipe']})
      let stderr = ''
      child.stderr.on('data', (d) => (stderr += d))
      // Wait until the temp store exists and is growing, then interrupt mid-run.
      const deadline = Date.now() + 60_000
      for (;;) {
        // This child's temp store (a killed predecessor's may still lie there).
        const temps = existsSync(path.dirname(out)) ? readdirSync(path.dirname(out)).filter((f) => f.includes(`.${child.pid}.`)) : []
        if (temps.length > 0 && statSync(path.join(path.dirname(out), temps[0])).size > 20_000) break
        if (Date.now() > deadline) throw new Error(`no temp store appeared: ${stderr}`)
        await new Promise((r) => setTimeout(r, 50))
      }
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
      child.kill(signal)
      const code = await exited
      expect(code).not.toBe(0)
      expect(existsSync(out)).toBe(false)
      if (signal === 'SIGINT') {
        // A clean interrupt also removes its temp file and says so.
        expect((existsSync(path.dirname(out)) ? readdirSync(path.dirname(out)) : []).some((f) => f.includes(`.${child.pid}.`))).toBe(false)
        expect(stderr).toMatch(/interrupted/)
      }
    }
    // The kill -9 left its temp store (its PID is dead now): the next run removes it.
    const orphans = readdirSync(path.dirname(out)).filter((f) => f.endsWith('.tmp'))
    expect(orphans).toHaveLength(1)
    const small = path.join(dir, 'small.jsonl')
    writeFileSync(small, jsonl(rows.slice(0, 500)))
    const again = await runCli(['distill', small, ...TINY, '--home', path.join(dir, 'home'), '--out', out, '--json'])
    expect(again.code, again.stderr).toBe(0)
    const s = JSON.parse(again.stdout) as DistillSummary
    // The tiny test model gives a few distinct questions the same hash: their packets are stored once.
    expect(s.counts.emitted + (s.skippedByReason[SKIP.duplicate] ?? 0)).toBe(500)
    expect((await packetsOf(out)).length).toBe(s.packets)
    expect(s.tempFilesRemoved).toBe(1)
    expect(readdirSync(path.dirname(out)).filter((f) => f.endsWith('.tmp'))).toEqual([])
    rmSync(dir, {recursive: true, force: true})
  }, SLOW)

  it('SIGTERM mid-embedding stops within seconds with exit 130 and nothing committed; a second signal exits at once', async () => {
    const dir = tempDir('qis-sigterm-')
    try {
      // Long, distinct questions, enough that even the native runtime (~150 such texts/s here) is
      // still embedding 10 s in: SIGTERM used to wait for the whole batch.
      const words = 'patient dose renal hepatic interaction contraindicated infusion weekly taper monitor level trough peak clearance'.split(' ')
      const rows = Array.from({length: 5000}, (_, i) => ({
        id: `s${i}`,
        query: Array.from({length: 160}, (_, k) => words[(i * 7 + k * k) % words.length]).join(' ') + ` case ${i}`,
        outcome: 1,
        confidence: 0.5,
      }))
      const log = path.join(dir, 'long.jsonl')
      writeFileSync(log, jsonl(rows))
      const out = path.join(dir, 'out', 'run.qisp')
      const start = (): {child: ReturnType<typeof spawn>; exited: Promise<number | null>; stderr: () => string} => {
        const child = spawn(process.execPath, [runJs, 'distill', log, '--home', path.join(dir, 'home'), '--out', out], {stdio: ['ignore', 'pipe', 'pipe']})
        let stderr = ''
        child.stderr!.on('data', (d) => (stderr += d))
        return {child, exited: new Promise((resolve) => child.on('close', (code) => resolve(code))), stderr: () => stderr}
      }
      const tempOf = (pid: number | undefined) => (existsSync(path.dirname(out)) ? readdirSync(path.dirname(out)).filter((f) => f.includes(`.${pid}.`)) : [])
      const waitForTemp = async (pid: number | undefined) => {
        const deadline = Date.now() + 60_000
        while (tempOf(pid).length === 0) {
          if (Date.now() > deadline) throw new Error('no temp store appeared')
          await new Promise((r) => setTimeout(r, 50))
        }
      }

      const a = start()
      await waitForTemp(a.child.pid)
      // Model load takes a few seconds; by then the first batch is being embedded.
      await new Promise((r) => setTimeout(r, 10_000))
      a.child.kill('SIGTERM')
      const code = await Promise.race([a.exited, new Promise<string>((r) => setTimeout(() => r('still running 8 s after SIGTERM'), 8_000))])
      if (code === 'still running 8 s after SIGTERM') a.child.kill('SIGKILL')
      expect(code).toBe(130)
      expect(a.stderr()).toMatch(/interrupted/)
      expect(existsSync(out)).toBe(false)
      expect(tempOf(a.child.pid)).toEqual([])

      const b = start()
      await waitForTemp(b.child.pid)
      b.child.kill('SIGINT')
      b.child.kill('SIGTERM')
      expect(await b.exited).toBe(130)
      expect(existsSync(out)).toBe(false)
      expect(tempOf(b.child.pid)).toEqual([])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  }, SLOW)

  it('refuses bad flags and missing files with a clear message and a non-zero exit', async () => {
    const home = tempDir()
    const cases: [string[], RegExp][] = [
      [['distill', '/nonexistent/log.jsonl'], /log file \/nonexistent\/log\.jsonl does not exist/],
      [['distill'], /no log files given/],
      [['distill', FIXTURES[0], '--corrections', '/nonexistent/c.jsonl'], /corrections file \/nonexistent\/c\.jsonl does not exist/],
      [['distill', FIXTURES[0], '--epsilon', 'lots'], /--epsilon must be a number/],
      [['distill', FIXTURES[0], '--epsilon', '0'], /--epsilon must be a number from 0.01 to 10000, got 0/],
      [['distill', FIXTURES[0], '--epsilon', '0.001'], /--epsilon must be a number from 0.01 to 10000, got 0.001/],
      [['distill', FIXTURES[0], '--time-resolution', '5 parsecs'], /--time-resolution "5 parsecs" is not a duration/],
      [['distill', FIXTURES[0], '--min-count', '3'], /--min-count only applies to aggregates: add --aggregate/],
      [['distill', FIXTURES[0], '--default-confidence', '2'], /--default-confidence must be from 0 to 1/],
      [['distill', FIXTURES[0], '--domain', '   '], /--domain: domain "   "/],
      [['distill', FIXTURES[0], '--domain', 'Bad Domain!'], /Hint: Use --domain bad_domain/],
      [['distill', FIXTURES[0], '--map', 'nonsense'], /--map "nonsense": expected canonical=source/],
      [['distill', FIXTURES[0], '--format', 'xml'], /Expected --input-format=xml to be one of: jsonl, json, csv,/],
      [['distill', FIXTURES[0], '--model-alias', 'nonsense'], /--model-alias "nonsense": expected NAME=PUBLIC/],
    ]
    for (const [args, message] of cases) {
      const r = await runCli([...args, '--home', home])
      expect(r.code, args.join(' ')).not.toBe(0)
      expect(r.stderr, args.join(' ')).toMatch(message)
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /) // no stack trace
    }
    expect(existsSync(path.join(home, 'packets')) ? readdirSync(path.join(home, 'packets')) : []).toEqual([])
  }, SLOW)

  it('--strict makes a reject fatal and writes nothing', async () => {
    const home = tempDir()
    const r = await runCli(['distill', FIXTURES[0], '--strict', ...TINY, '--home', home])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/inference\.jsonl:41: malformed JSON; stopping because of --strict/)
    expect(existsSync(path.join(home, 'packets'))).toBe(false)
  })

  it('reads stdin as - and honours --domain, --default-confidence and --out', async () => {
    const dir = tempDir()
    const out = path.join(dir, 'mine.qisp')
    const input = jsonl([
      {id: 'x1', query: 'What is a tort?', outcome: 1},
      {id: 'x2', query: 'Define consideration in contract law', rating: 2, domain: 'Legal / Contracts'},
      {id: 'x3', query: 'no signal here', confidence: 0.4},
    ])
    const r = await runCli(['distill', '-', '--domain', 'legal.general', '--default-confidence', '0.5', '--out', out, ...TINY, '--home', path.join(dir, 'home'), '--json'], {input})
    expect(r.code, r.stderr).toBe(0)
    const s = JSON.parse(r.stdout) as DistillSummary
    expect(s.out!).toBe(out)
    expect(s.rejects).toBeNull()
    expect(s.counts).toMatchObject({read: 3, emitted: 2, rejected: 0, skipped: 1})
    expect(s.skippedByReason).toEqual({'no outcome signal': 1})
    const packets = await packetsOf(out)
    expect(packets.map((p) => p.domain_tag)).toEqual(['legal.general', 'legal_contracts'])
    expect(packets.map((p) => p.confidence_at_inference)).toEqual([0.5, 0.5])
    expect(packets[1].outcome_signal).toBe(0.25)
  })

  it("hashes with a group's own codebook named in config.json (beside it), or refuses a missing --codebook", async () => {
    const home = tempDir()
    writeGroupCodebook(path.join(home, 'group.qcb'), {dimension: 16, anchors: 32, seed: 47})
    // The config's codebook goes with the config's embedder (model folder included): the flags name the same one.
    writeFileSync(path.join(home, 'config.json'), JSON.stringify({embedder: {backend: 'transformers', modelDir: TINY[3], codebook: 'group.qcb'}}))
    const {summary} = await distillJson([FIXTURES[0]], home)
    expect(summary.scheme).toMatch(/\.group-[0-9a-f]{8}\.v3$/)
    const packets = await packetsOf(summary.out!)
    expect(packets.length).toBeGreaterThan(0)
    for (const p of packets) expect(p.scheme).toBe(summary.scheme)
    const missing = await runCli(['distill', FIXTURES[0], ...TINY, '--home', tempDir(), '--codebook', path.join(home, 'nope.qcb')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('nope.qcb')
  }, SLOW)
})

describe('qis distill output (in-process)', () => {
  it('the progress display: on stderr at a terminal only, never under --quiet or --json', async () => {
    const {runCommand} = await import('../helpers/command.js')
    const dir = tempDir()
    const log = path.join(dir, 'log.jsonl')
    writeFileSync(log, jsonl(Array.from({length: 40}, (_, i) => ({query: `What is tort number ${i}?`, outcome: 1, confidence: 0.5}))))
    const shown = await runCommand(['distill', log, ...TINY, '--home', path.join(dir, 'h1')], {tty: true})
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stderr).toContain('Loading the embedding model')
    expect(shown.stderr).toMatch(/40 records in /)
    for (const flag of ['--quiet', '--json']) {
      const r = await runCommand(['distill', log, ...TINY, '--home', path.join(dir, `h${flag}`), flag], {tty: true})
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr, flag).toBe('')
    }
  }, SLOW)

  it('--quiet prints no summary; a run with nothing to show still prints its error, exit 3', async () => {
    const {runCommand} = await import('../helpers/command.js')
    const dir = tempDir()
    const log = path.join(dir, 'log.jsonl')
    writeFileSync(log, jsonl([{query: 'What is a tort?', outcome: 1, confidence: 0.5}]))
    const ok = await runCommand(['distill', log, ...TINY, '--home', path.join(dir, 'home'), '--quiet'])
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toBe('')
    expect(readdirSync(path.join(dir, 'home', 'packets')).filter((f) => f.endsWith('.qisp'))).toHaveLength(1)
    const empty = path.join(dir, 'empty.jsonl')
    writeFileSync(empty, '')
    const none = await runCommand(['distill', empty, ...TINY, '--home', path.join(dir, 'home2'), '--quiet'])
    expect(none.code).toBe(3)
    expect(none.stdout).toBe('')
    expect(none.stderr).toMatch(/^Error: no records in the input: nothing to distill, so no packet store was written\n/)
    expect(existsSync(path.join(dir, 'home2'))).toBe(false)
  }, SLOW)
})
