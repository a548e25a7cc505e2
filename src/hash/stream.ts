import {createReadStream} from 'node:fs'
import {createInterface} from 'node:readline'
import type {Readable} from 'node:stream'

import type {HashPipeline} from '../hash/pipeline.js'
import {keyFingerprint} from '../packet/fingerprint.js'
import type {HashScheme} from './index.js'

export type InputFormat = 'jsonl' | 'text'

/** One input line: its text, or why it has none. */
export interface HashInput {
  /** 1-based line number within its source. */
  line: number
  /** File name; absent for stdin and TEXT arguments. */
  file?: string
  text?: string
  error?: string
}

export interface HashRecord {
  /** 64-bit SimHash, 16 hex chars: the packet's query_semantic_hash. */
  hash: string
  /** Fingerprints of the routing keys for the domain: the DHT keys a packet is published under. */
  keys: string[]
  scheme: string
}

export interface HashLineError {
  line: number
  file?: string
  error: string
}

export type HashOutput = HashRecord | HashLineError

export function isLineError(o: HashOutput): o is HashLineError {
  return 'error' in o
}

/** Lines of a file or stream as inputs: JSONL records (text in `field`) or plain text lines. */
export async function* readInputs(
  source: {file?: string; stream?: Readable},
  format: InputFormat,
  field = 'text',
): AsyncGenerator<HashInput> {
  const stream = source.stream ?? createReadStream(source.file!, {encoding: 'utf8'})
  const rl = createInterface({input: stream, crlfDelay: Infinity})
  const where = (line: number) => `${source.file ?? 'stdin'}:${line}`
  let line = 0
  for await (const raw of rl) {
    line++
    const base: HashInput = source.file === undefined ? {line} : {line, file: source.file}
    if (raw.trim() === '') {
      yield {...base, error: `${where(line)}: empty line`}
      continue
    }
    if (format === 'text') {
      yield {...base, text: raw}
      continue
    }
    let record: unknown
    try {
      record = JSON.parse(raw)
    } catch (err) {
      yield {...base, error: `${where(line)}: not valid JSON (${(err as Error).message})`}
      continue
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      yield {...base, error: `${where(line)}: expected a JSON object with a "${field}" field`}
      continue
    }
    const value = (record as Record<string, unknown>)[field]
    if (value === undefined) yield {...base, error: `${where(line)}: field "${field}" is missing`}
    else if (typeof value !== 'string') yield {...base, error: `${where(line)}: field "${field}" must be a string, got ${Array.isArray(value) ? 'array' : typeof value}`}
    else if (value.trim() === '') yield {...base, error: `${where(line)}: field "${field}" is empty`}
    else yield {...base, text: value}
  }
}

export interface HashStreamOptions {
  pipeline: HashPipeline
  scheme: HashScheme
  /** Domain the key fingerprints are computed for. */
  domain: string
  /** Applied to every text before hashing, exactly as distill does; omit to hash raw text. */
  scrub?: (text: string) => string
  /** Inputs gathered before each model call; output for a chunk is written as soon as it is done. */
  chunkSize?: number
  /**
   * When the input pauses this long (ms) with inputs gathered, hash them without waiting for a
   * full chunk, so a slow producer (a live log piped in) still sees its lines promptly. Default 200.
   */
  idleMs?: number
}

/**
 * Hash inputs in order, a chunk at a time, so memory stays flat on any input size and results
 * appear while later input is still being read. Bad inputs pass through as line errors in place.
 */
export async function* hashStream(inputs: AsyncIterable<HashInput>, options: HashStreamOptions): AsyncGenerator<HashOutput> {
  const chunkSize = Math.max(1, options.chunkSize ?? 64)
  let chunk: HashInput[] = []
  const flush = async function* (): AsyncGenerator<HashOutput> {
    const texts: string[] = []
    for (const item of chunk) if (item.error === undefined) texts.push(options.scrub ? options.scrub(item.text!) : item.text!)
    const codes = await options.pipeline.hashMany(texts)
    let c = 0
    for (const item of chunk) {
      if (item.error !== undefined) {
        yield item.file === undefined ? {line: item.line, error: item.error} : {line: item.line, file: item.file, error: item.error}
        continue
      }
      const {hash, keys} = codes[c++]
      yield {hash, keys: keys.map((k) => keyFingerprint(options.scheme.id, options.domain, k)), scheme: options.scheme.id}
    }
    chunk = []
  }
  const idleMs = Math.max(0, options.idleMs ?? 200)
  const it = inputs[Symbol.asyncIterator]()
  let finished = false
  try {
    // One read is always in flight, so a pause in the input can be noticed while it waits.
    let pending = it.next()
    for (;;) {
      let next: IteratorResult<HashInput> | 'idle'
      if (chunk.length > 0 && idleMs > 0) {
        let timer: NodeJS.Timeout | undefined
        const idle = new Promise<'idle'>((resolve) => {
          timer = setTimeout(() => resolve('idle'), idleMs)
        })
        next = await Promise.race([pending, idle])
        clearTimeout(timer)
      } else next = await pending
      if (next === 'idle') {
        yield* flush()
        continue
      }
      if (next.done) break
      chunk.push(next.value)
      pending = it.next()
      if (chunk.length >= chunkSize) yield* flush()
    }
    finished = true
    if (chunk.length > 0) yield* flush()
  } finally {
    // Stopped early (a model error, or the consumer broke off): release the input, without
    // waiting on a read that may never complete (stdin).
    if (!finished) void Promise.resolve(it.return?.()).catch(() => {})
  }
}
