import fc from 'fast-check'
import {createHash, randomBytes} from 'node:crypto'
import {existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {describe, expect, it} from 'vitest'

import {openHome} from '../../src/config/home.js'
import {type DistillDeps, type TextHasher, loadDistillDeps} from '../../src/distill/load-deps.js'
import {SKIP, distill} from '../../src/distill/pipeline.js'
import type {DistillOptions, DistillProgress} from '../../src/distill/types.js'
import {SeededRandom} from '../../src/hash/prng.js'
import {decodePacket} from '../../src/packet/codec.js'
import {signerFromSeed} from '../../src/packet/signer.js'
import {readStoreFile} from '../../src/packet/store.js'
import {DOMAIN_SUMMARY_HASH, isDomainSummary, summaryRoutingKey, summaryShard} from '../../src/packet/summary.js'
import type {OutcomePacket} from '../../src/packet/types.js'
import {tempDir} from '../helpers/cli.js'

/**
 * The real readers, correction join and scrubber, with a stand-in for the embedder: a sha256 of the
 * scrubbed text as the "semantic" hash. The embedder is tested in test/embed; here the accounting,
 * labels, aggregation and noise are under test, and they do not care what the hash means.
 */
async function deps(): Promise<DistillDeps & {hashed: string[]}> {
  const real = await loadDistillDeps()
  const hashed: string[] = []
  const pipeline: TextHasher = {
    async hashMany(texts) {
      hashed.push(...texts)
      return texts.map((t) => {
        const h = createHash('sha256').update(t).digest('hex')
        return {hash: h.slice(0, 16), keys: [h.slice(16, 20), h.slice(20, 24)]}
      })
    },
    stats: () => ({embedded: hashed.length}),
    close: async () => {},
  }
  return {...real, hashed, createHashPipeline: async () => ({pipeline, scheme: 'test.sha256.v1'})}
}

const signer = signerFromSeed(new Uint8Array(32).fill(9))
const NOW = Date.UTC(2026, 10, 26, 12)

/** Every packet in a store, domain summaries included. */
async function allPackets(store: string): Promise<OutcomePacket[]> {
  const out: OutcomePacket[] = []
  for await (const e of readStoreFile(store)) {
    if (e.kind !== 'packet') throw new Error(`store entry ${e.index}: ${e.reason}`)
    const d = decodePacket(e.bytes, {now: NOW / 1000})
    if (!d.ok) throw new Error(d.error.message)
    out.push(d.packet)
  }
  return out
}

/** The records' packets: what `packets` in the summary counts (domain summaries are apart). */
async function packets(store: string): Promise<OutcomePacket[]> {
  return (await allPackets(store)).filter((p) => !isDomainSummary(p))
}

async function summaries(store: string): Promise<OutcomePacket[]> {
  return (await allPackets(store)).filter((p) => isDomainSummary(p))
}

const write = (dir: string, name: string, lines: unknown[]) => {
  const file = path.join(dir, name)
  writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n')
  return file
}

describe('distill pipeline (library)', () => {
  it('accounts for every record whatever the mix of good, bad and signal-less lines', async () => {
    const d = await deps()
    const kinds = ['good', 'noOutcome', 'noConfidence', 'malformed', 'badOutcome', 'noQuery', 'future', 'badDomain'] as const
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...kinds), {minLength: 1, maxLength: 40}), async (mix) => {
        const dir = tempDir()
        const lines = mix.map((k, i) => {
          const base = {id: `r${i}`, query: `question ${i % 5} for Maria Gonzalez`, outcome: 0.5, confidence: 0.5, timestamp: '2026-11-25T10:00:00Z'}
          switch (k) {
            case 'good': return base
            case 'noOutcome': return {...base, outcome: undefined}
            case 'noConfidence': return {...base, confidence: undefined}
            case 'malformed': return '{"id": "x", "query": '
            case 'badOutcome': return {...base, outcome: 7}
            case 'noQuery': return {...base, query: undefined}
            case 'future': return {...base, timestamp: '2027-01-01T00:00:00Z'}
            case 'badDomain': return {...base, domain: '%%%'}
          }
        })
        const s = await distill({files: [write(dir, 'log.jsonl', lines)], home: await openHome(path.join(dir, 'home')), signer, now: NOW}, d)
        const expect_ = (k: (typeof kinds)[number]) => mix.filter((m) => m === k).length
        // Good records differ only in i % 5; the rest are byte-identical packets, skipped as duplicates.
        const distinctGood = new Set(mix.flatMap((m, i) => (m === 'good' ? [i % 5] : []))).size
        expect(s.counts.read).toBe(mix.length)
        expect(s.counts.read).toBe(s.counts.emitted + s.counts.rejected + s.counts.skipped)
        expect(s.counts.emitted).toBe(distinctGood)
        expect(s.duplicatePackets).toBe(expect_('good') - distinctGood)
        expect(s.skippedByReason[SKIP.duplicate] ?? 0).toBe(expect_('good') - distinctGood)
        expect(s.counts.rejected).toBe(expect_('malformed') + expect_('badOutcome') + expect_('badDomain'))
        expect(s.skippedByReason['no outcome signal'] ?? 0).toBe(expect_('noOutcome'))
        expect(s.skippedByReason['timestamp in the future'] ?? 0).toBe(expect_('future'))
        if (s.packets === 0) {
          // Nothing to store: no store, no rejects file beside it, nothing in the home.
          expect(s.out).toBeNull()
          expect(s.rejects).toBeNull()
          expect(existsSync(path.join(dir, 'home'))).toBe(false)
          return
        }
        expect((await packets(s.out!)).length).toBe(s.packets)
        if (s.counts.rejected > 0) expect(readFileSync(s.rejects!, 'utf8').trim().split('\n')).toHaveLength(s.counts.rejected)
        else expect(s.rejects).toBeNull()
      }),
      {numRuns: 25},
    )
  })

  it('hashes the scrubbed text, never the raw query', async () => {
    const d = await deps()
    const dir = tempDir()
    const log = write(dir, 'log.jsonl', [
      {id: 'a', query: 'Can Maria Gonzalez take warfarin with aspirin?', outcome: 1, confidence: 0.9},
      {id: 'b', query: 'Can James Whitfield take warfarin with aspirin?', outcome: 0, confidence: 0.9},
    ])
    const s = await distill({files: [log], home: await openHome(path.join(dir, 'home')), signer, now: NOW, aggregate: true}, d)
    expect(d.hashed.join(' ')).not.toMatch(/Maria|Gonzalez|James|Whitfield/)
    // Same question about two patients: one group after scrubbing.
    expect(s.packets).toBe(1)
    const [p] = await packets(s.out!)
    expect(p.count).toBe(2)
    expect(p.outcome_signal).toBe(0.5)
  })

  it('joins corrections: type and outcome from the correction, unmatched ones counted', async () => {
    const d = await deps()
    const dir = tempDir()
    const log = write(dir, 'log.jsonl', [
      {request_id: 'a', query: 'q one', confidence: 0.9},
      {request_id: 'b', query: 'q two', confidence: 0.9, outcome: 0.8},
      {request_id: 'c', query: 'q three', confidence: 0.9, outcome: 0.7},
    ])
    const corr = write(dir, 'corr.jsonl', [
      {request_id: 'a', correction_type: 'Outdated Guideline', outcome: 0.1, corrected_text: 'x'},
      {request_id: 'b', correction_type: 'format'},
      {request_id: 'nobody', correction_type: 'factual'},
      '{broken',
    ])
    const s = await distill({files: [log], corrections: [corr], home: await openHome(path.join(dir, 'home')), signer, now: NOW}, d)
    expect(s.counts).toMatchObject({read: 3, emitted: 3, correctionsMatched: 2, correctionsUnmatched: 1, correctionsRejected: 1})
    const ps = await packets(s.out!)
    expect(ps.map((p) => [p.correction_applied, p.correction_type, p.outcome_signal])).toEqual([
      [true, 'outdated_guideline', 0.1],
      [true, 'format', 0.8], // the record's own outcome wins
      [false, null, 0.7],
    ])
  })

  it('bounds aggregate memory: a tiny --max-groups closes old buckets early and keeps every count', async () => {
    const d = await deps()
    const dir = tempDir()
    const rows = Array.from({length: 200}, (_, i) => ({id: `r${i}`, query: `question ${i % 7}`, outcome: 1, confidence: 1, timestamp: Date.UTC(2026, 10, 25, Math.floor(i / 20)) }))
    const s = await distill({files: [write(dir, 'log.jsonl', rows)], home: await openHome(path.join(dir, 'home')), signer, now: NOW, aggregate: true, maxGroups: 10}, d)
    expect(s.aggregate!.earlyCloses).toBeGreaterThan(0)
    const ps = await packets(s.out!)
    expect(ps.reduce((n, p) => n + p.count, 0)).toBe(200)
    expect(ps).toHaveLength(70) // 10 hourly buckets x 7 questions: in time order, nothing is split
  })

  it('--epsilon through the pipeline: noisy per-record bits, debiased aggregate mean (seeded noise)', async () => {
    const d = await deps()
    const dir = tempDir()
    const n = 4000
    const rows = Array.from({length: n}, (_, i) => ({id: `r${i}`, query: 'same question', outcome: i % 4 === 0 ? 0.2 : 0.9, confidence: 0.5, timestamp: '2026-11-25T10:00:00Z'}))
    const log = write(dir, 'log.jsonl', rows)
    const truth = rows.reduce((a, r) => a + r.outcome, 0) / n // 0.725
    const rng = new SeededRandom(42)
    const home = await openHome(path.join(dir, 'home'))
    const agg = await distill({files: [log], home, signer, now: NOW, aggregate: true, epsilon: 1, uniform: () => rng.nextUnit()}, d)
    const [p] = await packets(agg.out!)
    expect(p.count).toBe(n)
    expect(Math.abs(p.outcome_signal - truth)).toBeLessThan(4 * (1.082 / Math.sqrt(n)))
    const per = await distill({files: [log], home, signer, now: NOW, epsilon: 1, uniform: () => rng.nextUnit()}, d)
    const perPackets = await packets(per.out!)
    expect(new Set(perPackets.map((x) => x.outcome_signal))).toEqual(new Set([0, 1]))
    // Receivers must know the outcome is noised to read it without bias (docs/weights.md).
    expect(new Set([p, ...perPackets].map((x) => `${x.version}:${x.outcome_epsilon}`))).toEqual(new Set(['2:1']))
  })

  it('an output that cannot be written fails up front, naming the path', async () => {
    const d = await deps()
    const dir = tempDir()
    const blocker = path.join(dir, 'blocker')
    writeFileSync(blocker, 'a file, not a folder\n')
    const log = write(dir, 'log.jsonl', [{id: 'a', query: 'q', outcome: 1, confidence: 1}])
    const home = await openHome(path.join(dir, 'home'))
    await expect(distill({files: [log], home, signer, now: NOW, out: path.join(blocker, 'x.qisp')}, d)).rejects.toThrow(/cannot write packet store .*blocker\/x\.qisp/)
    await expect(distill({files: [log], home, signer, now: NOW, out: dir}, d)).rejects.toThrow(/is a folder/)
    expect(d.hashed).toEqual([])
  })

  it('an aborted run leaves neither store nor rejects file, and no temp files', async () => {
    const d = await deps()
    const dir = tempDir()
    const rows = Array.from({length: 3000}, (_, i) => (i === 5 ? '{bad' : {id: `r${i}`, query: `q ${i}`, outcome: 1, confidence: 1}))
    const controller = new AbortController()
    const out = path.join(dir, 'out', 'x.qisp')
    const run = distill(
      {files: [write(dir, 'log.jsonl', rows)], home: await openHome(path.join(dir, 'home')), signer, now: NOW, out, signal: controller.signal, onProgress: () => controller.abort()},
      d,
    )
    await expect(run).rejects.toThrow(/interrupted/)
    expect(existsSync(out)).toBe(false)
    // The folder this run created for its store is gone again, temp files and all.
    expect(existsSync(path.dirname(out))).toBe(false)
  })

  it('input that yields no packet (empty, binary, all rejected) writes no store and creates nothing in the home', async () => {
    const d = await deps()
    const dir = tempDir()
    const binary = path.join(dir, 'logs.jsonl')
    writeFileSync(binary, Buffer.from([0, 1, 2, 0xff, 0xfe, 0x1b, 0x5b, 0x32, 0x4a, 0x0a, 0x80, 0x81, 0x0a]))
    const inputs = [write(dir, 'empty.jsonl', []), binary, write(dir, 'bad.jsonl', ['{"id": 1, "query": ', {query: 'q', outcome: 9, confidence: 1}])]
    for (const file of inputs) {
      const home = await openHome(path.join(dir, 'home'))
      const s = await distill({files: [file], home, now: NOW}, d)
      expect(s.packets).toBe(0)
      expect(s.out).toBeNull()
      expect(s.rejects).toBeNull()
      expect(s.counts.read).toBe(s.counts.rejected + s.counts.skipped)
      expect(existsSync(home.root), file).toBe(false)
    }
    // An explicit --rejects file is still written: it was asked for, and it says why.
    const rejects = path.join(dir, 'why.jsonl')
    const s = await distill({files: [inputs[2]!], home: await openHome(path.join(dir, 'home')), now: NOW, rejects}, d)
    expect(s.rejects).toBe(rejects)
    expect(readFileSync(rejects, 'utf8').trim().split('\n')).toHaveLength(2)
    expect(existsSync(path.join(dir, 'home'))).toBe(false)
  })

  it('writes one domain summary per (domain, model) of the records written, counted apart from them', async () => {
    const d = await deps()
    const dir = tempDir()
    const rows = [
      {query: 'q one', domain: 'legal', model: 'llama-3-8b', outcome: 1, confidence: 0.8, timestamp: '2026-11-25T10:20:00Z'},
      {query: 'q two', domain: 'legal', model: 'llama-3-8b', outcome: 0, confidence: 0.6, timestamp: '2026-11-25T12:40:00Z'},
      {query: 'q three', domain: 'legal', model: 'llama-3-8b', outcome: 1, confidence: 0.7, timestamp: '2026-11-25T11:00:00Z'},
      {query: 'q four', domain: 'legal', model: 'mistral-7b', outcome: 0, confidence: 0.5, timestamp: '2026-11-25T10:00:00Z'},
      {query: 'q five', domain: 'finance', model: 'llama-3-8b', outcome: 1, confidence: 0.9, timestamp: '2026-11-25T09:00:00Z'},
      {query: 'q six', domain: 'finance', model: 'llama-3-8b', outcome: 2, confidence: 0.9, timestamp: '2026-11-25T09:00:00Z'},
    ]
    const s = await distill({files: [write(dir, 'log.jsonl', rows)], home: await openHome(path.join(dir, 'home')), signer, now: NOW}, d)
    // The records' tally is the records': the bad outcome is rejected, no summary counts as emitted.
    expect(s.counts).toMatchObject({read: 6, emitted: 5, rejected: 1, skipped: 0})
    expect(s.packets).toBe(5)
    expect(s.summaries).toEqual({written: 3})
    expect(await allPackets(s.out!)).toHaveLength(8)
    const key = summaryRoutingKey(summaryShard(signer.publicKey))
    const byName = new Map((await summaries(s.out!)).map((p) => [`${p.domain_tag}/${p.model_variant}`, p]))
    expect([...byName.keys()].sort()).toEqual(['finance/llama-3-8b', 'legal/llama-3-8b', 'legal/mistral-7b'])
    expect(byName.get('legal/llama-3-8b')).toMatchObject({
      routing_keys: [key],
      query_semantic_hash: DOMAIN_SUMMARY_HASH,
      count: 3,
      outcome_signal: 0.667,
      confidence_at_inference: 0.7,
      correction_applied: false,
      correction_type: null,
      outcome_epsilon: null,
      // The newest record's coarsened time (1h).
      timestamp: Date.UTC(2026, 10, 25, 12) / 1000,
    })
    expect(byName.get('finance/llama-3-8b')).toMatchObject({count: 1, outcome_signal: 1})
    // --no-domain-summary: the records alone.
    const off = await distill({files: [write(dir, 'log.jsonl', rows)], home: await openHome(path.join(dir, 'home2')), signer, now: NOW, domainSummary: false}, d)
    expect(off.summaries).toBeNull()
    expect(off.counts).toEqual(s.counts)
    expect(await summaries(off.out!)).toHaveLength(0)
    expect(await allPackets(off.out!)).toHaveLength(5)
  })

  it('--min-count: a summary only of the groups written, and none of fewer records than the flag allows', async () => {
    const d = await deps()
    const dir = tempDir()
    const rows = [
      ...Array.from({length: 3}, (_, i) => ({id: `a${i}`, query: 'the same question', domain: 'legal', outcome: 1, confidence: 0.8, timestamp: '2026-11-25T10:00:00Z'})),
      // A group of one: below --min-count 2, so neither its packet nor its record in the summary.
      {id: 'b', query: 'a lone question', domain: 'legal', outcome: 0, confidence: 0.2, timestamp: '2026-11-25T10:00:00Z'},
      {id: 'c', query: 'a finance question', domain: 'finance', outcome: 1, confidence: 0.5, timestamp: '2026-11-25T10:00:00Z'},
    ]
    const s = await distill({files: [write(dir, 'log.jsonl', rows)], home: await openHome(path.join(dir, 'home')), signer, now: NOW, aggregate: true, minCount: 2}, d)
    expect(s.counts).toMatchObject({read: 5, emitted: 3, skipped: 2})
    expect(s.summaries).toEqual({written: 1})
    const [legal] = await summaries(s.out!)
    expect(legal).toMatchObject({domain_tag: 'legal', count: 3, outcome_signal: 1, confidence_at_inference: 0.8})
    // With three records at --min-count 4 nothing is written at all, summaries neither.
    const none = await distill({files: [write(dir, 'log.jsonl', rows)], home: await openHome(path.join(dir, 'home2')), signer, now: NOW, aggregate: true, minCount: 4}, d)
    expect(none).toMatchObject({packets: 0, out: null, summaries: {written: 0}})
  })

  it('--epsilon: a summary is the mean of the randomised bits, debiased as an aggregate\'s, and says its epsilon', async () => {
    const d = await deps()
    const dir = tempDir()
    const n = 2000
    const rows = Array.from({length: n}, (_, i) => ({id: `r${i}`, query: `question ${i}`, outcome: i % 4 === 0 ? 0 : 1, confidence: 0.5, timestamp: '2026-11-25T10:00:00Z'}))
    const rng = new SeededRandom(7)
    const s = await distill({files: [write(dir, 'log.jsonl', rows)], home: await openHome(path.join(dir, 'home')), signer, now: NOW, epsilon: 1, uniform: () => rng.nextUnit()}, d)
    const records = await packets(s.out!)
    const [summary] = await summaries(s.out!)
    expect(summary).toMatchObject({count: n, outcome_epsilon: 1})
    // Exactly what the records' bits say, debiased: (mean - (1 - p)) / (2p - 1).
    const p = 1 / (1 + Math.exp(-1))
    const bits = records.reduce((a, r) => a + r.outcome_signal, 0) / n
    expect(summary.outcome_signal).toBeCloseTo(Math.min(1, Math.max(0, (bits - (1 - p)) / (2 * p - 1))), 3)
    expect(Math.abs(summary.outcome_signal - 0.75)).toBeLessThan(4 * (1.082 / Math.sqrt(n)))
  })

  it('byte-identical packets are stored once, and the skip says why', async () => {
    const d = await deps()
    const dir = tempDir()
    const same = {query: 'How do I renew a passport?', outcome: 1, confidence: 0.8, timestamp: '2026-11-25T10:00:00Z'}
    const log = write(dir, 'log.jsonl', [same, same, {...same, outcome: 0}, same])
    const s = await distill({files: [log], home: await openHome(path.join(dir, 'home')), signer, now: NOW}, d)
    expect(s.counts).toMatchObject({read: 4, emitted: 2, skipped: 2})
    expect(s.packets).toBe(2)
    expect(s.duplicatePackets).toBe(2)
    expect(s.skippedByReason).toEqual({[SKIP.duplicate]: 2})
    expect(await packets(s.out!)).toHaveLength(2)
    // With --aggregate the repeats are counted instead: one packet carries all four.
    const agg = await distill({files: [log], home: await openHome(path.join(dir, 'home')), signer, now: NOW, aggregate: true}, d)
    expect(agg.counts).toMatchObject({read: 4, emitted: 4, skipped: 0})
    expect((await packets(agg.out!))[0]!.count).toBe(4)
  })

  it("progress follows the input's own bytes: steady, never ahead of the work, full at the end", async () => {
    const d = await deps()
    const dir = tempDir()
    const log = write(dir, 'log.jsonl', Array.from({length: 3000}, (_, i) => ({id: `r${i}`, query: `question ${i}`, outcome: 1, confidence: 1})))
    const seen: DistillProgress[] = []
    await distill({files: [log], home: await openHome(path.join(dir, 'home')), signer, now: NOW, onProgress: (p) => seen.push(p)}, d)
    const total = statSync(log).size
    expect(seen.length).toBeGreaterThan(3)
    for (const p of seen) expect(p.bytesTotal).toBe(total)
    const bytes = seen.map((p) => p.bytesDone!)
    expect([...bytes].sort((a, b) => a - b)).toEqual(bytes)
    expect(bytes[0]).toBeLessThan(total / 2)
    expect(bytes.at(-1)).toBe(total)
  })

  describe('progress is the bytes of the records finished, not of the input read ahead', () => {
    /** Byte offsets just past each "\n" of a file. */
    const lineEnds = (file: string) => [...readFileSync(file).entries()].filter(([, b]) => b === 0x0a).map(([i]) => i + 1)
    const run = async (files: string[], options: Partial<DistillOptions> = {}) => {
      const seen: DistillProgress[] = []
      const dir = tempDir()
      const s = await distill({files, home: await openHome(path.join(dir, 'home')), signer, now: NOW, batchSize: 4, onProgress: (p) => seen.push({...p}), ...options}, await deps())
      return {s, seen}
    }
    const records = (n: number, from = 0) => Array.from({length: n}, (_, i) => ({id: `r${from + i}`, query: `question number ${from + i} about passports`, outcome: 1, confidence: 0.9}))

    it('JSONL: after k of n records are finished, k/n of the bytes (the file is far smaller than one read-ahead chunk)', async () => {
      const log = write(tempDir(), 'small.jsonl', records(20))
      const ends = lineEnds(log)
      const {s, seen} = await run([log])
      expect(s.counts.emitted).toBe(20)
      // Batches of 4: a report after each, at the end of the last record emitted, never the whole file early.
      const partial = seen.filter((p) => p.emitted < 20)
      expect(partial.length).toBeGreaterThanOrEqual(4)
      for (const p of partial) expect(p.bytesDone, `after ${p.emitted} records`).toBe(p.emitted === 0 ? 0 : ends[p.emitted - 1])
      expect(seen.at(-1)!.bytesDone).toBe(statSync(log).size)
    })

    it('CSV: the same, counted in UTF-8 bytes through multi-line quoted fields', async () => {
      const dir = tempDir()
      const log = path.join(dir, 'small.csv')
      const rows = Array.from({length: 12}, (_, i) => `r${i},"Zürich straße 日本 ${i}\nline two",1,0.9`)
      writeFileSync(log, ['id,query,outcome,confidence', ...rows].join('\n') + '\n')
      const ends = lineEnds(log)
      const {s, seen} = await run([log])
      expect(s.counts.emitted).toBe(12)
      const partial = seen.filter((p) => p.emitted < 12)
      expect(partial.length).toBeGreaterThanOrEqual(2)
      for (const p of partial) expect(p.bytesDone, `after ${p.emitted} records`).toBe(ends[2 * p.emitted])
      expect(seen.at(-1)!.bytesDone).toBe(statSync(log).size)
    })

    it('several files (a join source among them): the sum of their sizes, never beyond it, all of it at the end', async () => {
      const dir = tempDir()
      const a = write(dir, 'a.jsonl', records(10))
      const b = write(dir, 'b.jsonl', [...records(6, 10), '{"query": ', {query: 'no outcome', confidence: 1}, ...records(3, 16)])
      const scores = write(dir, 'scores.jsonl', [{id: 'r0', name: 'quality', value: 1, traceId: 'r0', observationId: null}])
      const total = [a, b, scores].reduce((n, f) => n + statSync(f).size, 0)
      const {s, seen} = await run([a, scores, b])
      expect(s.counts.read).toBe(21)
      for (const p of seen) {
        expect(p.bytesTotal).toBe(total)
        expect(p.bytesDone!).toBeLessThanOrEqual(total)
      }
      const done = seen.map((p) => p.bytesDone!)
      expect([...done].sort((x, y) => x - y)).toEqual(done)
      // Within b, each report is at the end of a line of b, after all of a (and the join source, read first).
      const before = statSync(a).size + statSync(scores).size
      const ends = lineEnds(b)
      for (const p of seen.filter((q) => q.read > 10 && q.bytesDone! < total)) expect(ends).toContain(p.bytesDone! - before)
      expect(done.at(-1)).toBe(total)
    })

    it('.gz: the compressed bytes the decompressor has consumed, not the 64 KiB read-ahead', async () => {
      const dir = tempDir()
      const log = path.join(dir, 'log.jsonl.gz')
      // Random text barely compresses: ~150 KB compressed, so a read-ahead chunk is well under the whole.
      const lines = Array.from({length: 3000}, (_, i) => JSON.stringify({id: `r${i}`, query: `q ${randomBytes(40).toString('hex')}`, outcome: 1, confidence: 0.9}))
      writeFileSync(log, gzipSync(lines.join('\n') + '\n'))
      const total = statSync(log).size
      const {s, seen} = await run([log], {batchSize: 64})
      expect(s.counts.emitted).toBe(3000)
      const done = seen.map((p) => p.bytesDone!)
      expect([...done].sort((a, b) => a - b)).toEqual(done)
      // After the first 64 records (~7 KB of text, ~3 KB compressed), within one 16 KiB output chunk's worth.
      const first = seen.find((p) => p.emitted > 0)!
      expect(first.emitted).toBe(64)
      expect(first.bytesDone!).toBeLessThan(16 * 1024)
      expect(done.at(-1)).toBe(total)
    })

    it('a file given twice is read twice, so it counts twice: the bar is not full halfway', async () => {
      const log = write(tempDir(), 'twice.jsonl', records(8))
      const size = statSync(log).size
      const {s, seen} = await run([log, log])
      expect(s.counts.read).toBe(16)
      for (const p of seen) expect(p.bytesTotal).toBe(2 * size)
      expect(seen.filter((p) => p.read <= 8).every((p) => p.bytesDone! <= size)).toBe(true)
      expect(seen.at(-1)!.bytesDone).toBe(2 * size)
    })
  })

  it('loads the model only when a record reaches the hash stage, and once', async () => {
    const base = await deps()
    let loads = 0
    const d: DistillDeps = {
      ...base,
      createHashPipeline: async (config) => {
        loads++
        return base.createHashPipeline(config)
      },
    }
    const dir = tempDir()
    // A binary file read as JSONL: every line rejected, so no model (it took ~8 s before the first record).
    const garbage = path.join(dir, 'garbage.jsonl')
    writeFileSync(garbage, Buffer.from(Array.from({length: 4000}, (_, i) => (i * 37) % 256)))
    const none = await distill({files: [garbage], home: await openHome(path.join(dir, 'home')), signer, now: NOW}, d)
    expect(none.counts.emitted).toBe(0)
    expect(none.counts.rejected).toBeGreaterThan(0)
    expect(loads).toBe(0)
    expect(none.scheme).toBeNull()
    // Several batches of good records: one load, and the scheme is the model's.
    const log = write(dir, 'log.jsonl', Array.from({length: 50}, (_, i) => ({query: `question ${i}`, outcome: 1, confidence: 1})))
    const some = await distill({files: [log], home: await openHome(path.join(dir, 'home')), signer, now: NOW, batchSize: 8}, d)
    expect(some.counts.emitted).toBe(50)
    expect(loads).toBe(1)
    expect(some.scheme).toBe('test.sha256.v1')
  })
})
