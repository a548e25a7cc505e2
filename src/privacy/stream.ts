import type {Readable, Writable} from 'node:stream'

import {readLines} from '../ingest/lines.js'
import {openSource, sourceName} from '../ingest/source.js'
import {createScrubber} from './scrubber.js'
import type {CustomRecognisers, PiiSpan, Scrubber} from './types.js'

export interface ScrubStreamOptions {
  /** Paths (`.gz` decompressed) or `-` for stdin. */
  sources: string[]
  /** JSONL field holding the text. */
  field: string
  inputFormat: 'jsonl' | 'text'
  maxLineBytes: number
  /** Where the JSON lines go; or `collect` them instead (qis scrub --json). */
  out?: Writable
  collect?: ScrubRow[]
  /** What `-` reads. Default: the process's stdin. */
  stdin?: Readable
  /** Called once per unreadable line with `file:line: reason`. */
  onError?: (message: string) => void
  scrubber?: Scrubber
  /** The deployment's own recognisers (config `privacy`), when no scrubber is given. */
  custom?: CustomRecognisers
}

export type ScrubRow = {text: string; spans: PiiSpan[]} | {file?: string; line: number; error: string}

/**
 * Scrub line by line, writing one JSON line per input line in order (`{"text","spans"}` or
 * `{"line","error"}`), with output batched and backpressure respected. Returns the counts.
 */
export async function scrubStream(options: ScrubStreamOptions): Promise<{lines: number; errors: number}> {
  const scrubber = options.scrubber ?? createScrubber({custom: options.custom})
  const multi = options.sources.length > 1
  let lines = 0
  let errors = 0
  let batch = ''
  const flush = async () => {
    const {out} = options
    if (!batch || !out) return
    const ok = out.write(batch)
    batch = ''
    if (!ok) await new Promise<void>((resolve) => out.once('drain', resolve))
  }

  const emit = (row: ScrubRow) => {
    if (options.collect) options.collect.push(row)
    else batch += JSON.stringify(row) + '\n'
  }

  for (const source of options.sources) {
    const file = sourceName(source)
    const stream = source === '-' && options.stdin ? options.stdin : await openSource(source)
    for await (const line of readLines(stream, options.maxLineBytes)) {
      lines++
      let text: string | undefined
      let error: string | undefined
      if (line.text === undefined) error = `line longer than ${options.maxLineBytes} bytes`
      else if (options.inputFormat === 'text') text = line.text
      else ({text, error} = fieldOf(line.text, options.field))

      if (error !== undefined) {
        errors++
        options.onError?.(`${file}:${line.line}: ${error}`)
        emit(multi ? {file, line: line.line, error} : {line: line.line, error})
      } else {
        const r = scrubber.scrub(text!)
        emit({text: r.text, spans: r.spans})
      }
      if (batch.length > 65536) await flush()
    }
  }
  await flush()
  return {lines, errors}
}

function fieldOf(line: string, field: string): {text?: string; error?: string} {
  if (line.trim() === '') return {error: 'empty line'}
  let row: unknown
  try {
    row = JSON.parse(line)
  } catch {
    return {error: 'malformed JSON'}
  }
  if (row === null || typeof row !== 'object' || Array.isArray(row)) return {error: 'not a JSON object'}
  const v = (row as Record<string, unknown>)[field]
  if (v === undefined) return {error: `no ${JSON.stringify(field)} field`}
  if (typeof v !== 'string') return {error: `${JSON.stringify(field)} is not a string`}
  return {text: v}
}
