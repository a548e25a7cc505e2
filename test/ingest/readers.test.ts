import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {Readable} from 'node:stream'
import {gzipSync} from 'node:zlib'
import {describe, expect, it} from 'vitest'

import {CorrectionIndex, type IngestEvent, parseMapFlags, readLines, readRecords} from '../../src/ingest/index.js'
import {QisError} from '../../src/util/errors.js'
import {repoRoot, tempDir} from '../helpers/cli.js'

const fixture = (name: string) => path.join(repoRoot, 'fixtures', 'ingest', name)

async function collect(source: string, options = {}): Promise<IngestEvent[]> {
  const out: IngestEvent[] = []
  for await (const ev of readRecords(source, options)) out.push(ev)
  return out
}
function write(name: string, content: string | Buffer): string {
  const file = path.join(tempDir(), name)
  writeFileSync(file, content)
  return file
}

describe('JSONL reader', () => {
  it('normalises the field names real logs use, and rejects bad lines with file, line and field', async () => {
    const events = await collect(fixture('inference.jsonl'))
    const summary = events.map((e) => (e.kind === 'record' ? `${e.at.line}:record:${e.record.id}` : `${e.at.line}:reject:${e.field ?? '-'}`))
    expect(summary).toEqual([
      '1:record:r1', '2:record:r2', '3:reject:-', '4:record:r4', '5:reject:outcome', '6:reject:-',
      '8:record:r6', '9:reject:rating', '10:reject:timestamp',
    ])
    const byId = Object.fromEntries(events.flatMap((e) => (e.kind === 'record' ? [[e.record.id, e.record]] : [])))
    expect(byId.r1).toEqual({
      id: 'r1', query: 'What is the dosage of amoxicillin for a child?', domain: 'medicine', modelVariant: 'gpt-x-mini',
      outcome: 0.8, confidence: 0.9, timestamp: Date.UTC(2026, 0, 15, 10),
    })
    // OpenAI messages: the last user message, text parts of a content-part array joined
    expect(byId.r2.query).toBe('How do I file taxes\nin Germany?')
    expect(byId.r2.outcome).toBe(0.75) // rating 4 of 1..5
    expect(byId.r2.timestamp).toBe(1768471200000) // epoch seconds
    expect(byId.r4).toMatchObject({id: 'r4', outcome: 0, domain: 'networking', timestamp: 1768471200000}) // thumbs down, epoch ms
    expect(byId.r6).toMatchObject({outcome: 1, confidence: 0.55, correctionApplied: true, correctionType: 'factual', timestamp: Date.UTC(2026, 0, 15, 10)})
  })

  it('never copies raw text into a reject, and never reads the response', async () => {
    const events = await collect(fixture('inference.jsonl'))
    const json = JSON.stringify(events)
    expect(json).not.toContain('broken')
    expect(json).not.toContain('RESPONSE-TEXT-NEVER-READ')
    expect(json).not.toContain('Magna Carta')
  })

  it('rejects an over-long line without buffering it and goes on with the next', async () => {
    const long = JSON.stringify({id: 'big', query: 'x'.repeat(5000)})
    const file = write('long.jsonl', `{"id":"a","query":"q"}\n${long}\n{"id":"b","query":"q"}\n`)
    const events = await collect(file, {maxLineBytes: 1000})
    expect(events.map((e) => e.kind)).toEqual(['record', 'reject', 'record'])
    expect(events[1]).toMatchObject({at: {line: 2}, reason: 'line longer than 1000 bytes'})
  })

  it('readLines keeps memory bounded on a huge line', async () => {
    // 64 MiB in 64 KiB chunks with no newline: must come back as one over-long line, not a 64 MiB string.
    const chunk = Buffer.alloc(65536, 0x61)
    let n = 0
    const stream = new Readable({
      read() {
        this.push(n++ < 1024 ? chunk : null)
      },
    })
    const lines = []
    for await (const l of readLines(stream, 1024)) lines.push(l)
    expect(lines).toHaveLength(1)
    expect(lines[0]!.text).toBeUndefined()
    expect(lines[0]!.bytes).toBe(64 * 1024 * 1024)
  })

  it('reads .gz on the fly', async () => {
    const file = write('logs.jsonl.gz', gzipSync('{"id":"g1","prompt":"hello","score":1}\n{"id":"g2","prompt":"bye","score":0}\n'))
    const events = await collect(file)
    expect(events.map((e) => (e.kind === 'record' ? e.record.id : e.kind))).toEqual(['g1', 'g2'])
  })

  it('a truncated .gz is a QisError naming the file, after the records read before the damage', async () => {
    const whole = gzipSync('{"id":"x","query":"q"}\n'.repeat(20000))
    const file = write('cut.jsonl.gz', whole.subarray(0, whole.length - 30))
    let records = 0
    await expect(
      (async () => {
        for await (const ev of readRecords(file)) if (ev.kind === 'record') records++
      })(),
    ).rejects.toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read`))
    expect(records).toBeGreaterThan(0)
    const wholeCsv = gzipSync('id,query\n' + 'a,b\n'.repeat(20000))
    const csv = write('cut.csv.gz', wholeCsv.subarray(0, wholeCsv.length - 20))
    await expect(collect(csv)).rejects.toBeInstanceOf(QisError)
  })

  it('--map overrides the built-in names; a mapped field missing from the first record is an error before any record', async () => {
    const file = write('m.jsonl', '{"req":"m1","text":"q","quality":0.4,"meta":{"dom":"law"}}\n')
    const events = await collect(file, {map: parseMapFlags(['id=req', 'query=text', 'outcome=quality', 'domain=meta.dom'])})
    expect(events).toEqual([{kind: 'record', at: {file, line: 1, end: 59}, record: {id: 'm1', query: 'q', outcome: 0.4, domain: 'law'}}])
    await expect(collect(file, {map: {outcome: 'nope'}})).rejects.toThrow(/--map outcome=nope: no field "nope" in the first record/)
  })

  it('a file whose format cannot be told is a QisError', async () => {
    const file = write('logs.txt', 'x')
    await expect(collect(file)).rejects.toBeInstanceOf(QisError)
    await expect(collect(path.join(tempDir(), 'missing.jsonl'))).rejects.toMatchObject({code: 'INPUT_NOT_FOUND', message: expect.stringMatching(/missing\.jsonl does not exist$/)})
  })
})

describe('CSV reader', () => {
  it('handles a BOM, CRLF, multi-line quoted fields, and reports where each row starts', async () => {
    const events = await collect(fixture('logs.csv'))
    expect(events[0]).toEqual({kind: 'record', at: {file: fixture('logs.csv'), line: 2, end: expect.any(Number)}, record: {id: 'c1', query: 'A question\r\nthat spans, two lines', outcome: 1, timestamp: Date.UTC(2026, 0, 15, 10)}})
    expect(events[1]).toMatchObject({kind: 'record', at: {line: 4}, record: {id: 'c2', outcome: 0, timestamp: 1768471200000}})
    expect(events[2]).toMatchObject({kind: 'reject', at: {line: 5}, reason: 'unparsable CSV row (MissingQuotes)'})
    expect(JSON.stringify(events)).not.toContain('secret answer')
  })

  it('numbers lines as an editor does when a file mixes CR, LF and CRLF', async () => {
    const cases: Array<[string, number[]]> = [
      // LF rows (detected) with one CRLF row.
      ['id,query,outcome\nr1,a,1\r\nr2,b,1\nr3,c,1\n', [2, 3, 4]],
      // CR rows (detected) with one CRLF row: the LF starts the next row's first value.
      ['id,query,outcome\rr1,a,1\rr2,b,1\r\nr3,c,1\rr4,d,1\r', [2, 3, 4, 5]],
      // CRLF rows; a quoted cell holding a lone CR and a lone LF spans three lines.
      ['id,query,outcome\r\nr1,"x\ry\nz",1\r\nr2,b,1\r\n', [2, 5]],
      // CR rows; a quoted cell with a CR inside.
      ['id,query,outcome\rr1,"x\ry",1\rr2,b,1\r', [2, 4]],
      // The same with a column named like an integer (JS objects list such keys first).
      ['id,query,0\rr1,a,1\rr2,b,1\r\nr3,c,1\rr4,d,1\r', [2, 3, 4, 5]],
      // CRLF rows ending in a stray LF: a blank line, not a row with too few fields.
      ['id,query,outcome\r\nr1,a,1\r\nr2,b,1\r\n\n', [2, 3]],
    ]
    for (const [content, lines] of cases) {
      const events = await collect(write('mixed.csv', content))
      expect(events.map((e) => e.at.line), JSON.stringify(content)).toEqual(lines)
      // What a reader of the file sees: the row's id is on that line.
      const fileLines = content.split(/\r\n|\r|\n/)
      for (const e of events) expect(fileLines[e.at.line - 1]).toMatch(/^r\d/)
    }
  })

  it('rejects rows with the wrong number of fields, skips blank lines, keeps line numbers right', async () => {
    const events = await collect(fixture('multiline.csv'))
    expect(events.map((e) => `${e.at.line}:${e.kind}`)).toEqual(['2:record', '4:record', '5:reject', '7:record'])
  })

  it('detects the delimiter, honours an override, and checks --map against the header', async () => {
    const semi = write('semi.csv', 'id;query;score\ns1;hello;0.5\n')
    expect((await collect(semi))[0]).toMatchObject({record: {id: 's1', query: 'hello', outcome: 0.5}})
    const tsv = write('t.tsv', 'id\tquery\tthumbs\nt1\thi, there\tup\n')
    expect((await collect(tsv))[0]).toMatchObject({record: {id: 't1', query: 'hi, there', outcome: 1}})
    const pipe = write('p.csv', 'id|query\np1|a,b\n')
    expect((await collect(pipe, {delimiter: '|'}))[0]).toMatchObject({record: {id: 'p1', query: 'a,b'}})
    await expect(collect(semi, {map: {outcome: 'quality'}})).rejects.toThrow(/no field "quality" in the CSV header/)
  })

  it('streams a file larger than the parser buffer without splitting UTF-8 characters or losing lines', async () => {
    let body = 'id,query,rating\n'
    for (let i = 0; i < 3000; i++) body += `r${i},"Zürich straße 日本 ${i}\nline two",${(i % 5) + 1}\n`
    const events = await collect(write('big.csv', body))
    expect(events).toHaveLength(3000)
    expect(events.every((e, i) => e.kind === 'record' && e.record.query === `Zürich straße 日本 ${i}\nline two` && e.at.line === 2 + 2 * i)).toBe(true)
  })

  it('--format overrides the extension, and gz works for CSV too', async () => {
    const file = write('data.log.gz', gzipSync('id,prompt,rating\nz1,q,5\n'))
    expect((await collect(file, {format: 'csv'}))[0]).toMatchObject({record: {id: 'z1', outcome: 1}})
  })
})

describe('field values', () => {
  const one = async (row: object) => (await collect(write('r.jsonl', JSON.stringify(row) + '\n')))[0]!
  it('scales ratings and thumbs, reads booleans and numeric strings', async () => {
    expect(await one({rating: 1})).toMatchObject({record: {outcome: 0}})
    expect(await one({rating: '3'})).toMatchObject({record: {outcome: 0.5}})
    expect(await one({thumbs: 'up'})).toMatchObject({record: {outcome: 1}})
    expect(await one({feedback: false})).toMatchObject({record: {outcome: 0}})
    expect(await one({outcome: true})).toMatchObject({record: {outcome: 1}})
    expect(await one({outcome_signal: '0.25'})).toMatchObject({record: {outcome: 0.25}})
    expect(await one({correction: 'fixed text'})).toMatchObject({record: {correctionApplied: true}})
    expect(await one({corrected: 'no', correction: 'x'})).toMatchObject({record: {correctionApplied: false}})
  })
  it('rejects invalid values naming the field, not the value', async () => {
    expect(await one({thumbs: 'sideways'})).toMatchObject({kind: 'reject', field: 'thumbs'})
    expect(await one({confidence: 2})).toMatchObject({kind: 'reject', field: 'confidence'})
    expect(await one({score: 'high'})).toMatchObject({kind: 'reject', field: 'score'})
    expect(await one({created_at: '15/01/2026'})).toMatchObject({kind: 'reject', field: 'created_at'})
    expect(await one({messages: 'hello'})).toMatchObject({kind: 'reject', field: 'messages'})
  })
  it('timestamps: ISO with and without zone, epoch seconds and milliseconds', async () => {
    expect(await one({ts: '2026-01-15T10:00:00+02:00'})).toMatchObject({record: {timestamp: Date.UTC(2026, 0, 15, 8)}})
    expect(await one({ts: '2026-01-15'})).toMatchObject({record: {timestamp: Date.UTC(2026, 0, 15)}})
    expect(await one({ts: 1768471200})).toMatchObject({record: {timestamp: 1768471200000}})
    expect(await one({ts: 1768471200123})).toMatchObject({record: {timestamp: 1768471200123}})
  })
})

describe('parseMapFlags', () => {
  it('parses canonical=source and accepts snake_case names', () => {
    expect(parseMapFlags(['outcome=quality', 'model_variant=engine'])).toEqual({outcome: 'quality', modelVariant: 'engine'})
  })
  it('rejects bad syntax and unknown canonical names', () => {
    expect(() => parseMapFlags(['outcome'])).toThrow(QisError)
    expect(() => parseMapFlags(['=x'])).toThrow(/expected canonical=source/)
    expect(() => parseMapFlags(['colour=x'])).toThrow(/unknown field "colour"/)
  })
})

describe('CorrectionIndex', () => {
  it('joins by id, counts unmatched corrections, reports its own rejects, and every row is accounted for', async () => {
    const index = await CorrectionIndex.load([fixture('corrections.jsonl')])
    expect(index.size).toBe(3)
    expect(index.rejects.map((r) => `${r.at.line}:${r.kind === 'reject' ? r.reason : ''}`)).toEqual([
      '4:correction without an id cannot be joined',
      '5:malformed JSON',
    ])
    // 5 rows = 3 indexed + 2 rejected
    expect(index.size + index.rejects.length).toBe(5)

    let emitted = 0
    let corrected = 0
    let rejected = 0
    for await (const ev of readRecords(fixture('inference.jsonl'))) {
      if (ev.kind === 'reject') {
        rejected++
        continue
      }
      emitted++
      const c = ev.record.id ? index.take(ev.record.id) : undefined
      if (c) corrected++
    }
    // 10 lines: 1 blank, 4 records, 5 rejects: every non-blank line is accounted for
    expect(emitted + rejected).toBe(9)
    expect(corrected).toBe(2)
    expect(index.take('r1')).toEqual({correctionApplied: true, correctionType: 'factual', outcome: 0.2})
    expect(index.unmatched()).toBe(1)
    expect(index.unmatchedIds()).toEqual(['zz-no-such-inference'])
  })
})

describe('record ends (how far through its file a finished record is, for progress)', () => {
  /** Byte offsets just past each "\n" of the text. */
  const lineEnds = (bytes: Buffer) => [...bytes.entries()].filter(([, b]) => b === 0x0a).map(([i]) => i + 1)

  it('JSONL: the byte just past each line, through a BOM, CRLF, blank lines and multi-byte text', async () => {
    const bytes = Buffer.from('\ufeff{"query":"Zürich 日本","outcome":1}\r\n\n{"query":"b"}\n{"query": \n{"query":"last, no newline"}')
    const events = await collect(write('ends.jsonl', bytes))
    const ends = lineEnds(bytes)
    expect(events.map((e) => [e.at.line, e.at.end])).toEqual([
      [1, ends[0]],
      [3, ends[2]],
      [4, ends[3]],
      [5, bytes.length],
    ])
    // A .json file of JSON lines is read as JSONL, with the same offsets.
    expect((await collect(write('ends.json', bytes))).map((e) => e.at.end)).toEqual(events.map((e) => e.at.end))
  })

  it('CSV: the byte just past each record, multi-line quoted fields and multi-byte text included', async () => {
    let text = '\ufeffid,query,rating\n'
    for (let i = 0; i < 3000; i++) text += `r${i},"Zürich straße 日本 ${i}\nline two",${(i % 5) + 1}\n`
    const bytes = Buffer.from(text)
    const events = await collect(write('ends.csv', bytes))
    const ends = lineEnds(bytes)
    expect(events.map((e) => e.at.end)).toEqual(events.map((_, i) => ends[2 + 2 * i]))
    expect(events.at(-1)!.at.end).toBe(bytes.length)
  })

  it('none where the offsets are not the file\'s: .gz and JSON arrays', async () => {
    const gz = await collect(write('ends.jsonl.gz', gzipSync('{"query":"a"}\n{"query":"b"}\n')))
    const array = await collect(write('array.json', '[{"query":"a"},\n{"query":"b"}]'))
    for (const e of [...gz, ...array]) expect(e.at.end).toBeUndefined()
    expect(gz).toHaveLength(2)
    expect(array).toHaveLength(2)
  })
})
