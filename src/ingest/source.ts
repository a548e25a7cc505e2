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

/** A byte stream of the source, gunzipped on the fly when the name ends in .gz. */
export async function openSource(source: string): Promise<Readable> {
  if (source === '-') return process.stdin
  try {
    const s = await stat(source)
    if (s.isDirectory()) throw new QisError(`${source}: is a directory, not a log file`, {code: 'BAD_INPUT'})
  } catch (err) {
    if (err instanceof QisError) throw err
    throw new QisError(`${source}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {code: 'BAD_INPUT'})
  }
  const raw = createReadStream(source)
  if (!source.toLowerCase().endsWith('.gz')) return raw
  const gunzip = createGunzip()
  raw.on('error', (e) => gunzip.destroy(e))
  return raw.pipe(gunzip)
}

export function detectFormat(source: string, explicit?: InputFormat): {format: InputFormat; delimiter?: string} {
  if (explicit) return {format: explicit}
  if (source === '-') return {format: 'jsonl'}
  const name = source.toLowerCase().replace(/\.gz$/, '')
  const ext = path.extname(name)
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return {format: 'jsonl'}
  if (ext === '.csv') return {format: 'csv'}
  if (ext === '.tsv') return {format: 'csv', delimiter: '\t'}
  throw new QisError(`${source}: cannot tell the format from the extension ${JSON.stringify(ext || '(none)')}; pass --format jsonl or --format csv`, {
    code: 'BAD_INPUT',
  })
}
