import fc from 'fast-check'
import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {afterAll, describe, expect, it} from 'vitest'

import {type CsvRecord, CsvSplitter} from '../../src/ingest/csv.js'
import {type IngestEvent, readRecords} from '../../src/ingest/index.js'
import {tempDir} from '../helpers/cli.js'

const dir = tempDir('qis-csv-')
afterAll(() => rmSync(dir, {recursive: true, force: true}))

async function collect(file: string, options = {}): Promise<IngestEvent[]> {
  const out: IngestEvent[] = []
  for await (const ev of readRecords(file, options)) out.push(ev)
  return out
}

describe('CSV record bounds (issue 21 item 4)', () => {
  it('a field longer than the record bound is one reject, and the rows after it are read', async () => {
    const file = path.join(dir, 'huge-field.csv')
    const big = 'x'.repeat(5 * 1024 * 1024)
    writeFileSync(file, `id,query,outcome,confidence\nr1,ok,1,0.5\nr2,"${big}",1,0.5\nr3,${big},1,0.5\nr4,fine,0,0.5\n`)
    const events = await collect(file)
    expect(events.map((e) => `${e.at.line}:${e.kind}`)).toEqual(['2:record', '3:reject', '4:reject', '5:record'])
    expect(events[1]).toMatchObject({reason: 'CSV record longer than 1048576 characters'})
    expect(events[3]).toMatchObject({record: {id: 'r4', query: 'fine'}})
    // The bound follows maxLineBytes, as for JSONL.
    expect((await collect(file, {maxLineBytes: 16 * 1024 * 1024})).filter((e) => e.kind === 'reject')).toHaveLength(0)
  })

  it('a quote that never closes, in a large .csv.gz, is one reject naming the row it opened on', async () => {
    const rows = Array.from({length: 40_000}, (_, i) => `r${i},question ${i} about a topic,1,0.5`).join('\n')
    const file = path.join(dir, 'unclosed.csv.gz')
    writeFileSync(file, gzipSync(`id,query,outcome,confidence\nr0,fine,1,0.5\nbad,"never closed,1,0.5\n${rows}\n`))
    const events = await collect(file)
    expect(events.map((e) => `${e.at.line}:${e.kind}`)).toEqual(['2:record', '3:reject'])
    expect(events[1]).toMatchObject({reason: 'unparsable CSV row (MissingQuotes)'})
  })

  it('reads back any table written with RFC 4180 quoting, in any chunking', () => {
    const cell = fc.string({unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' ', 'é', ';'), maxLength: 8})
    fc.assert(
      fc.property(fc.array(fc.array(cell, {minLength: 3, maxLength: 3}), {minLength: 1, maxLength: 8}), fc.integer({min: 1, max: 7}), fc.constantFrom('\n', '\r\n'), (table, chunk, eol) => {
        const rows = table.map((r) => r.map((c) => (/[",\r\n]/.test(c) || c === '' ? `"${c.replace(/"/g, '""')}"` : c)).join(','))
        const text = rows.join(eol) + eol
        const sp = new CsvSplitter(',', 1000)
        const recs: CsvRecord[] = []
        for (let i = 0; i < text.length; i += chunk) recs.push(...sp.push(text.slice(i, i + chunk)))
        recs.push(...sp.end())
        expect(recs.map((r) => r.fields)).toEqual(table)
        expect(recs.every((r) => r.error === undefined)).toBe(true)
        // Each record ends (for progress) at the UTF-8 byte just past the first character of its line break.
        expect(recs.map((r) => r.end)).toEqual(rows.map((_, i) => Buffer.byteLength(rows.slice(0, i + 1).join(eol)) + 1))
        // Each record starts on the line an editor shows it on.
        let line = 1
        table.forEach((row, i) => {
          expect(recs[i]!.line).toBe(line)
          line += 1 + row.reduce((n, c) => n + (c.match(/\r\n|\r|\n/g)?.length ?? 0), 0)
        })
      }),
      {numRuns: 300},
    )
  })

  it('marks text after a closing quote as InvalidQuotes', () => {
    const sp = new CsvSplitter(',', 1000)
    const recs = [...sp.push('a,"b"c,d\ne,f,g\n'), ...sp.end()]
    expect(recs.map((r) => r.error)).toEqual(['InvalidQuotes', undefined])
  })
})
