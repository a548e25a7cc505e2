import type {Readable} from 'node:stream'

import Papa from 'papaparse'

import {QisError} from '../util/errors.js'
import {type CanonicalField, FieldError, getField, normalise, resolveFieldNames} from './fields.js'
import {type CsvRecord, CsvSplitter} from './csv.js'
import {readLines} from './lines.js'
import {detectFormat, openSource, sourceName} from './source.js'
import type {IngestEvent, ReadOptions} from './types.js'

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024

/**
 * Stream the records of one log file (or stdin as `-`; `.gz` decompressed on the fly) as typed
 * events, in file order. Memory is bounded by one line (JSONL) or one row (CSV). Malformed lines and
 * invalid field values become `reject` events naming file, line and field, never the text. A `--map`
 * source missing from the file is a QisError before any record: for CSV against the header, for
 * JSONL against the first well-formed record.
 */
export async function* readRecords(source: string, options: ReadOptions = {}): AsyncGenerator<IngestEvent> {
  const {format, delimiter} = detectFormat(source, options.format)
  const stream = await openSource(source)
  const opts = {...options, delimiter: options.delimiter ?? delimiter}
  if (format === 'jsonl') yield* readJsonl(stream, sourceName(source), opts)
  else yield* readCsv(stream, sourceName(source), opts)
}

function checkMappedPresent(map: Record<string, string> | undefined, has: (name: string) => boolean, file: string, where: string): void {
  for (const [canonical, sourceField] of Object.entries(map ?? {})) {
    if (!has(sourceField)) {
      throw new QisError(`${file}: --map ${canonical}=${sourceField}: no field ${JSON.stringify(sourceField)} in ${where}`, {code: 'MAP_MISSING'})
    }
  }
}

function toEvent(row: Record<string, unknown>, names: Record<CanonicalField, readonly string[]>, at: {file: string; line: number}): IngestEvent {
  try {
    return {kind: 'record', at, record: normalise(row, names)}
  } catch (err) {
    if (err instanceof FieldError) return {kind: 'reject', at, reason: err.message, field: err.field}
    throw err
  }
}

async function* readJsonl(stream: Readable, file: string, options: ReadOptions): AsyncGenerator<IngestEvent> {
  const names = resolveFieldNames(options.map)
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  let checked = !options.map || Object.keys(options.map).length === 0
  try {
    yield* lines()
  } catch (err) {
    if (err instanceof QisError) throw err
    // A truncated .gz or a read error mid-file: name the file, keep what was already yielded.
    throw new QisError(`${file}: cannot read: ${(err as Error).message}`, {code: 'BAD_INPUT', cause: err})
  }

  async function* lines(): AsyncGenerator<IngestEvent> {
    for await (const line of readLines(stream, max)) {
      const at = {file, line: line.line}
      if (line.text === undefined) {
        yield {kind: 'reject', at, reason: `line longer than ${max} bytes`}
        continue
      }
      if (line.text.trim() === '') continue
      let row: unknown
      try {
        row = JSON.parse(line.text)
      } catch (err) {
        // JSON.parse messages quote the input: keep only the kind of error.
        yield {kind: 'reject', at, reason: 'malformed JSON'}
        continue
      }
      if (row === null || typeof row !== 'object' || Array.isArray(row)) {
        yield {kind: 'reject', at, reason: 'not a JSON object'}
        continue
      }
      if (!checked) {
        checkMappedPresent(options.map, (n) => getField(row as Record<string, unknown>, n) !== undefined, file, `the first record (line ${line.line})`)
        checked = true
      }
      yield toEvent(row as Record<string, unknown>, names, at)
    }
  }
}

/** How much of a CSV file's start papaparse looks at to guess the delimiter. */
const DELIMITER_SAMPLE_CHARS = 64 * 1024

async function* readCsv(stream: Readable, file: string, options: ReadOptions): AsyncGenerator<IngestEvent> {
  const names = resolveFieldNames(options.map)
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  // Decode as a stream: a UTF-8 character split across two chunks stays whole.
  stream.setEncoding('utf8')
  let splitter: CsvSplitter | undefined
  let header: string[] | undefined
  let sample = ''
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      if (!splitter) {
        // The delimiter is guessed from the first 64 KB, as papaparse guesses it.
        sample += chunk
        if (sample.length < DELIMITER_SAMPLE_CHARS) continue
        splitter = newSplitter(sample)
        yield* events(splitter.push(sample))
        sample = ''
        continue
      }
      yield* events(splitter.push(chunk))
    }
    if (!splitter) {
      splitter = newSplitter(sample)
      yield* events(splitter.push(sample))
    }
    yield* events(splitter.end())
  } catch (err) {
    if (err instanceof QisError) throw err
    throw new QisError(`${file}: cannot read: ${(err as Error).message}`, {code: 'BAD_INPUT', cause: err})
  } finally {
    // A consumer that stops early must not leave the file open.
    stream.destroy()
  }

  function newSplitter(text: string): CsvSplitter {
    let delimiter = options.delimiter
    if (!delimiter) {
      const guess = Papa.parse(text.replace(/^\ufeff/, ''), {preview: 20, delimiter: ''}) as {meta: {delimiter?: string}}
      delimiter = guess.meta.delimiter || ','
    }
    try {
      return new CsvSplitter(delimiter, max)
    } catch (err) {
      throw new QisError(`${file}: ${(err as Error).message}`, {code: 'BAD_FLAG', exitCode: 2})
    }
  }

  function* events(records: CsvRecord[]): Generator<IngestEvent> {
    for (const rec of records) {
      const at = {file, line: rec.line}
      if (!header) {
        if (rec.error) throw new QisError(`${file}: the CSV header row cannot be read (${rec.error === 'TooLong' ? `longer than ${max} characters` : rec.error})`, {code: 'BAD_INPUT'})
        if (rec.fields.every((v) => v.trim() === '')) continue
        header = rec.fields
        checkMappedPresent(options.map, (n) => header!.includes(n), file, 'the CSV header')
        continue
      }
      if (rec.error === 'TooLong') {
        yield {kind: 'reject', at, reason: `CSV record longer than ${max} characters`}
        continue
      }
      // A blank line is not a record (as JSONL skips blank lines).
      if (!rec.error && rec.fields.every((v) => v.trim() === '')) continue
      if (rec.error) {
        yield {kind: 'reject', at, reason: `unparsable CSV row (${rec.error})`}
        continue
      }
      if (rec.fields.length !== header.length) {
        yield {kind: 'reject', at, reason: `unparsable CSV row (${rec.fields.length < header.length ? 'TooFewFields' : 'TooManyFields'})`}
        continue
      }
      const row: Record<string, unknown> = {}
      for (let i = 0; i < header.length; i++) row[header[i]!] = rec.fields[i]
      yield toEvent(row, names, at)
    }
  }
}
