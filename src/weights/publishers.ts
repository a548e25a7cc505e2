import {promises as fs} from 'node:fs'
import path from 'node:path'

import type {Home} from '../config/home.js'
import {writeFileAtomic} from '../util/atomic.js'
import {QisError, errorMessage} from '../util/errors.js'

/**
 * When this home first saw each publisher (`<home>/publishers.json`). Synthesis gives publishers
 * first seen recently a bounded share of every key (NEW_PUBLISHER_SHARE), so identities made
 * today cannot outvote peers this home has known for a week, however many there are.
 *
 *   {"version": 1, "firstSeen": {"<16 hex publisher id>": <epoch seconds>, ...}}
 */
export const PUBLISHERS_FILE_VERSION = 1

export function publishersFile(home: Home): string {
  return path.join(home.root, 'publishers.json')
}

const PUBLISHER_ID = /^[0-9a-f]{16}$/

function bad(file: string, where: string, message: string): QisError {
  return new QisError(`publishers file ${file}: ${where}: ${message} (delete it to start afresh: every publisher then counts as new for a week)`, {code: 'BAD_WEIGHTS_FILE'})
}

/** Reads first-seen times; an absent file is an empty history. A damaged one is refused, naming the field. */
export async function readFirstSeen(file: string): Promise<Map<string, number>> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map()
    throw new QisError(`cannot read publishers file ${file}: ${errorMessage(err)}`, {code: 'BAD_WEIGHTS_FILE', cause: err})
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw bad(file, 'JSON', errorMessage(err))
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw bad(file, 'top level', 'must be a JSON object')
  const d = data as Record<string, unknown>
  if (d.version !== PUBLISHERS_FILE_VERSION) throw bad(file, 'field "version"', `must be ${PUBLISHERS_FILE_VERSION} (found ${JSON.stringify(d.version)})`)
  if (typeof d.firstSeen !== 'object' || d.firstSeen === null || Array.isArray(d.firstSeen)) throw bad(file, 'field "firstSeen"', 'must be an object')
  const out = new Map<string, number>()
  for (const [id, t] of Object.entries(d.firstSeen as Record<string, unknown>)) {
    if (!PUBLISHER_ID.test(id)) throw bad(file, `firstSeen["${id}"]`, 'key must be a 16-character lowercase hex publisher id')
    if (!Number.isInteger(t) || (t as number) < 0) throw bad(file, `firstSeen["${id}"]`, 'must be epoch seconds')
    out.set(id, t as number)
  }
  return out
}

/** Adds publishers not seen before (at `now`) and writes the file atomically. Returns how many were new. */
export async function recordSeen(file: string, firstSeen: Map<string, number>, ids: Iterable<string>, now: number): Promise<number> {
  let added = 0
  for (const id of ids) {
    if (!firstSeen.has(id)) {
      firstSeen.set(id, now)
      added++
    }
  }
  if (added === 0) return 0
  const sorted = Object.fromEntries([...firstSeen].sort(([a], [b]) => (a < b ? -1 : 1)))
  try {
    await writeFileAtomic(file, JSON.stringify({version: PUBLISHERS_FILE_VERSION, firstSeen: sorted}, null, 1) + '\n', 0o600)
  } catch (err) {
    throw new QisError(`cannot write publishers file ${file}: ${errorMessage(err)}`, {code: 'WRITE_FAILED', cause: err})
  }
  return added
}
