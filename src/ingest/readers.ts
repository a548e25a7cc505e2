import type {Readable} from 'node:stream'

import Papa from 'papaparse'

import {QisError} from '../util/errors.js'
import {type CanonicalField, FieldError, getField, normalise, resolveFieldNames} from './fields.js'
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

interface CsvStep {
  data: Record<string, string> & {__parsed_extra?: string[]}
  errors: Array<{type: string; code: string}>
  /** The row break papaparse detected in the first 1 MB ('\r\n', '\n' or '\r'). */
  meta: {fields?: string[]; linebreak?: string}
}

async function* readCsv(stream: Readable, file: string, options: ReadOptions): AsyncGenerator<IngestEvent> {
  const names = resolveFieldNames(options.map)
  const queue: Array<CsvStep | {done: true} | {error: Error}> = []
  let wake: (() => void) | undefined
  let parserHandle: {pause(): void; resume(): void; abort(): void} | undefined
  let paused = false
  const HIGH_WATER = 256

  // Decode before papaparse: it would otherwise decode each chunk on its own and break a UTF-8
  // character split across two chunks.
  stream.setEncoding('utf8')
  // papaparse pushes rows; pause it when the consumer falls behind so memory stays bounded.
  Papa.parse(stream as unknown as File, {
    header: true,
    delimiter: options.delimiter ?? '',
    skipEmptyLines: false,
    step(results: CsvStep, parser: Papa.Parser) {
      parserHandle = parser
      queue.push(results)
      if (queue.length >= HIGH_WATER && !paused) {
        paused = true
        parser.pause()
      }
      wake?.()
    },
    complete() {
      queue.push({done: true})
      wake?.()
    },
    error(err: Error) {
      queue.push({error: err})
      wake?.()
    },
  } as Papa.ParseConfig<Record<string, string>> as never)

  // The header is line 1; a row starts one line after the previous row ended.
  let nextLine: number | undefined
  let header: string[] | undefined
  try {
    yield* rows()
  } finally {
    // A consumer that stops early must not leave the parser paused on an open file.
    parserHandle?.abort()
    stream.destroy()
  }

  async function* rows(): AsyncGenerator<IngestEvent> {
    for (;;) {
      if (queue.length === 0) {
        if (paused && parserHandle) {
          paused = false
          // resume() may parse synchronously and refill the queue before we wait.
          parserHandle.resume()
          if (queue.length) continue
        }
        await new Promise<void>((r) => {
          wake = r
          if (queue.length) r()
        })
        wake = undefined
        continue
      }
      const item = queue.shift()!
      if ('done' in item) return
      if ('error' in item) throw new QisError(`${file}: cannot read CSV: ${item.error.message}`, {code: 'BAD_INPUT'})
      if (!header) {
        header = (item.meta.fields ?? []).map((f) => f.replace(/^\ufeff/, ''))
        nextLine = 1 + rowLines(header, item.meta.linebreak)
        checkMappedPresent(options.map, (n) => header!.includes(n), file, 'the CSV header')
      }
      const at = {file, line: nextLine!}
      // In column order: Object.values would put integer-like column names first, and which value
      // is first and last matters to rowLines.
      const fields = item.meta.fields ?? []
      const values = [...fields.map((f) => item.data[f]), ...(item.data.__parsed_extra ?? [])].filter((v): v is string => v !== undefined)
      nextLine! += rowLines(values, item.meta.linebreak)
      // A blank line parses as one empty field: not a record. Nor is a row of nothing but white
      // space, e.g. the lone LF a CRLF file picks up at its end (as JSONL skips blank lines).
      if (values.every((v) => v.trim() === '')) continue
      const fatal = item.errors.find((e) => e.type === 'Quotes' || e.code === 'TooFewFields' || e.code === 'TooManyFields')
      if (fatal) {
        yield {kind: 'reject', at, reason: `unparsable CSV row (${fatal.code})`}
        continue
      }
      const row: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(item.data)) if (k !== '__parsed_extra') row[k.replace(/^\ufeff/, '')] = v
      yield toEvent(row, names, at)
    }
  }
}

/** Line breaks as an editor counts them: CRLF, a lone CR and a lone LF are one each. */
function countLineBreaks(s: string): number {
  // Most values hold no break: two scans beat building a match array for each.
  if (s.indexOf('\n') === -1 && s.indexOf('\r') === -1) return 0
  return s.match(/\r\n|\r|\n/g)?.length ?? 0
}

/**
 * Lines a CSV row spans, its own break included. papaparse splits rows on the one break it
 * detected, so in a file that mixes endings half of a CRLF can land in a value: with '\n' rows a
 * CRLF-ended row's last value ends in '\r', with '\r' rows the next row's first value starts with
 * '\n'. That half belongs to the row break, which is counted once, not again.
 */
function rowLines(values: string[], linebreak: string | undefined): number {
  let n = 1
  for (const v of values) n += countLineBreaks(v)
  const last = values.at(-1)
  if (linebreak === '\n' && last?.endsWith('\r')) n--
  const first = values[0]
  if (linebreak === '\r' && first?.startsWith('\n')) n--
  return n
}
