import {createReadStream} from 'node:fs'
import {stat} from 'node:fs/promises'
import path from 'node:path'
import type {Readable} from 'node:stream'
import {createGunzip} from 'node:zlib'

import {QisError} from '../util/errors.js'
import type {InputFormat} from './types.js'

/** Display name of a source in messages and reject locations. */
export function sourceName(source: string): string {
  return source === '-' ? '<stdin>' : source
}

/**
 * A byte stream of the source, gunzipped on the fly when the name ends in .gz. `onOpen` gets, for
 * progress, how far into the file the stream is: the bytes read, or for .gz the compressed bytes the
 * decompressor has consumed (within one output chunk of the records handed on; the bytes read run a
 * 64 KiB read-ahead or two further).
 */
export async function openSource(source: string, onOpen?: (bytesRead: () => number) => void): Promise<Readable> {
  if (source === '-') return process.stdin
  try {
    const s = await stat(source)
    if (s.isDirectory()) throw new QisError(`${source}: is a directory, not a log file`, {code: 'BAD_INPUT'})
  } catch (err) {
    if (err instanceof QisError) throw err
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new QisError(`${source} does not exist`, {code: 'INPUT_NOT_FOUND'})
    throw new QisError(`${source}: cannot read`, {code: 'BAD_INPUT', cause: err})
  }
  const raw = createReadStream(source)
  if (!source.toLowerCase().endsWith('.gz')) {
    onOpen?.(() => raw.bytesRead)
    return raw
  }
  const gunzip = createGunzip()
  onOpen?.(() => gunzip.bytesWritten)
  raw.on('error', (e) => gunzip.destroy(e))
  return raw.pipe(gunzip)
}

/** How a file's records are laid out, whatever their schema. */
export type Container = 'jsonl' | 'json' | 'csv' | 'parquet'
const CONTAINERS: readonly string[] = ['jsonl', 'json', 'csv', 'parquet']

/**
 * The container of a source: `format` when it names one, else the extension (`.gz` stripped
 * first): .jsonl/.ndjson -> jsonl, .json -> json (an array, or objects one after another), .csv
 * and .tsv -> csv, .parquet -> parquet; stdin and schema-only formats on an unknown extension -> jsonl.
 */
export function detectContainer(source: string, format?: InputFormat): {container: Container; delimiter?: string} {
  if (format && CONTAINERS.includes(format)) return {container: format as Container}
  const name = source === '-' ? '' : source.toLowerCase().replace(/\.gz$/, '')
  const ext = path.extname(name)
  if (ext === '.jsonl' || ext === '.ndjson') return {container: 'jsonl'}
  if (ext === '.json') return {container: 'json'}
  if (ext === '.csv') return {container: 'csv'}
  if (ext === '.tsv') return {container: 'csv', delimiter: '\t'}
  if (ext === '.parquet' || ext === '.pq') return {container: 'parquet'}
  if (source === '-' || format) return {container: 'jsonl'}
  throw new QisError(`${source}: cannot tell the format from the extension ${JSON.stringify(ext || '(none)')}; pass --input-format jsonl, json, csv or parquet`, {
    code: 'BAD_INPUT',
  })
}
