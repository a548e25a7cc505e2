import {Readable} from 'node:stream'

import Papa from 'papaparse'

import {QisError} from '../util/errors.js'
import {type CsvRecord, CsvSplitter} from './csv.js'
import {type CanonicalField, FieldError, getField, normalise, resolveFieldNames} from './fields.js'
import {type Row, type Schema, SCHEMAS, convert, detectSchema} from './formats/index.js'
import {JsonValueSplitter} from './json-values.js'
import {readLines} from './lines.js'
import {detectContainer, openSource, sourceName} from './source.js'
import type {IngestEvent, ReadOptions, RecordLocation} from './types.js'

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024

/** One parsed object of a file (a JSONL line, a JSON array element, a CSV or Parquet row), or why it could not be read. */
type SourceItem = {kind: 'object'; at: RecordLocation; value: Record<string, unknown>} | {kind: 'reject'; at: RecordLocation; reason: string}

/**
 * Stream the records of one log file (or stdin as `-`; `.gz` decompressed on the fly) as typed
 * events, in file order. The container (JSONL, JSON, CSV, Parquet) comes from the extension; the
 * log schema (generic, OpenTelemetry, Langfuse, LangSmith, OpenAI Batch, Helicone) from the first
 * well-formed record, or from `format`. Memory is bounded by one line, value or row (Parquet: one
 * row group). Malformed lines and invalid field values become `reject` events naming file, line and
 * field, never the text. A `--map` source missing from the first record is a QisError before any
 * record.
 */
export async function* readRecords(source: string, options: ReadOptions = {}): AsyncGenerator<IngestEvent> {
  const file = sourceName(source)
  const {container, delimiter} = detectContainer(source, options.format)
  const forced = (SCHEMAS as readonly string[]).includes(options.format ?? '') ? (options.format as Schema) : undefined
  const opts = {...options, delimiter: options.delimiter ?? delimiter}
  let objects: AsyncGenerator<SourceItem>
  if (container === 'parquet') {
    if (source === '-') throw new QisError('Parquet cannot be read from standard input: name the file', {code: 'BAD_FLAG'})
    objects = parquetObjects(source)
  } else {
    const stream = await openSource(source, options.onOpen)
    // A decompressed stream's offsets say nothing about how far through the .gz file a record is.
    const ends = !source.toLowerCase().endsWith('.gz')
    objects = container === 'csv' ? csvObjects(stream, file, opts, ends) : container === 'json' ? jsonObjects(stream, file, opts, ends) : jsonlObjects(stream, file, opts, ends)
  }
  const names = resolveFieldNames(options.map)
  let schema = forced
  let checked = false
  try {
    for await (const item of objects) {
      if (item.kind === 'reject') {
        yield item
        continue
      }
      schema ??= detectSchema(item.value)
      const rows = convert(schema, item.value, options.scores)
      if (!checked) {
        checked = true
        options.onSchema?.({file, container, schema, keys: Object.keys(item.value)})
        const where = container === 'csv' ? 'the CSV header' : `the first record (line ${item.at.line})`
        checkMappedPresent(options.map, (n) => getField(item.value, n) !== undefined || rows.some((r) => getField(r, n) !== undefined), file, where)
      }
      for (const row of rows) yield toEvent(row, names, item.at)
    }
  } catch (err) {
    if (err instanceof QisError) throw err
    // A truncated .gz or a read error mid-file: name the file, keep what was already yielded.
    throw new QisError(`${file}: cannot read: ${(err as Error).message}`, {code: 'BAD_INPUT', cause: err})
  } finally {
    await objects.return(undefined)
  }
}

function checkMappedPresent(map: Record<string, string> | undefined, has: (name: string) => boolean, file: string, where: string): void {
  for (const [canonical, sourceField] of Object.entries(map ?? {})) {
    if (!has(sourceField)) {
      throw new QisError(`${file}: --map ${canonical}=${sourceField}: no field ${JSON.stringify(sourceField)} in ${where}`, {code: 'MAP_MISSING'})
    }
  }
}

function toEvent(row: Row, names: Record<CanonicalField, readonly string[]>, at: RecordLocation): IngestEvent {
  try {
    return {kind: 'record', at, record: normalise(row, names)}
  } catch (err) {
    if (err instanceof FieldError) return {kind: 'reject', at, reason: err.message, field: err.field}
    throw err
  }
}

function parsed(text: string, at: RecordLocation): SourceItem {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    // JSON.parse messages quote the input: keep only the kind of error.
    return {kind: 'reject', at, reason: 'malformed JSON'}
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {kind: 'reject', at, reason: 'not a JSON object'}
  return {kind: 'object', at, value: value as Record<string, unknown>}
}

async function* jsonlObjects(stream: Readable, file: string, options: ReadOptions, ends: boolean): AsyncGenerator<SourceItem> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  for await (const line of readLines(stream, max)) {
    const at: RecordLocation = ends ? {file, line: line.line, end: line.end} : {file, line: line.line}
    if (line.text === undefined) {
      yield {kind: 'reject', at, reason: `line longer than ${max} bytes`}
      continue
    }
    if (line.text.trim() === '') continue
    yield parsed(line.text, at)
  }
}

async function* jsonObjects(stream: Readable, file: string, options: ReadOptions, ends: boolean): AsyncGenerator<SourceItem> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  stream.setEncoding('utf8')
  const input = (stream as AsyncIterable<string>)[Symbol.asyncIterator]()
  try {
    // A .json file that is JSONL after all (its first line a whole object) is read line by line, so a
    // torn line costs that line only; an array or pretty-printed objects go to the value splitter.
    let head = ''
    let done = false
    while (!done && !head.includes('\n') && head.length < max) {
      const next = await input.next()
      if (next.done) done = true
      else head += next.value
    }
    const rest = async function* () {
      yield head
      for (;;) {
        const next = await input.next()
        if (next.done) return
        yield next.value
      }
    }
    const firstLine = head.replace(/^\ufeff/, '').split('\n', 1)[0]!.trim()
    if (firstLine.startsWith('{') && isObjectText(firstLine)) {
      // Re-encoded, the decoded text has the file's bytes (a BOM included), so line ends stay file offsets.
      yield* jsonlObjects(Readable.from(rest()), file, options, ends)
      return
    }
    const splitter = new JsonValueSplitter(max)
    const items = function* (values: ReturnType<JsonValueSplitter['push']>): Generator<SourceItem> {
      for (const v of values) {
        const at = {file, line: v.line}
        if (v.error === 'TooLong') yield {kind: 'reject', at, reason: `JSON value longer than ${max} characters`}
        else if (v.error) yield {kind: 'reject', at, reason: 'malformed JSON'}
        else yield parsed(v.text!, at)
      }
    }
    for await (const chunk of rest()) yield* items(splitter.push(chunk))
    yield* items(splitter.end())
  } finally {
    stream.destroy()
  }
}

function isObjectText(text: string): boolean {
  try {
    const v = JSON.parse(text) as unknown
    return v !== null && typeof v === 'object' && !Array.isArray(v)
  } catch {
    return false
  }
}

async function* parquetObjects(file: string): AsyncGenerator<SourceItem> {
  const {parquetRows} = await import('./parquet.js')
  // A Parquet "line" is the row number (1-based), the closest thing to a place in the file.
  for await (const {row, value} of parquetRows(file)) yield {kind: 'object', at: {file, line: row}, value}
}

/** How much of a CSV file's start papaparse looks at to guess the delimiter. */
const DELIMITER_SAMPLE_CHARS = 64 * 1024

async function* csvObjects(stream: Readable, file: string, options: ReadOptions, ends: boolean): AsyncGenerator<SourceItem> {
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
      throw new QisError(`${file}: ${(err as Error).message}`, {code: 'BAD_FLAG'})
    }
  }

  function* events(records: CsvRecord[]): Generator<SourceItem> {
    for (const rec of records) {
      const at: RecordLocation = ends ? {file, line: rec.line, end: rec.end} : {file, line: rec.line}
      if (!header) {
        if (rec.error) throw new QisError(`${file}: the CSV header row cannot be read (${rec.error === 'TooLong' ? `longer than ${max} characters` : rec.error})`, {code: 'BAD_INPUT'})
        if (rec.fields.every((v) => v.trim() === '')) continue
        header = rec.fields
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
      yield {kind: 'object', at, value: row}
    }
  }
}
