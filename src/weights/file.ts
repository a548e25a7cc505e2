import {promises as fs} from 'node:fs'
import path from 'node:path'

import {ensureDir} from '../config/home.js'
import {writeFileAtomic} from '../util/atomic.js'
import {QisError, errorMessage} from '../util/errors.js'
import type {KeyWeight} from './synthesize.js'

/**
 * The weights file (`<home>/weights.json`, or `pull-weights --out`): what this node has learnt from
 * its peers, one entry per key fingerprint. JSON so a deployment can read it without qis.
 *
 *   {"version": 2, "scheme": "...", "generatedAt": "ISO", "hammingThreshold": 18,
 *    "weights": {"<fingerprint>": {"weight": 0.61, "packets": 12, "publishers": 3, "publisherIds": ["<16 hex>", ...],
 *                                  "records": 40, "lastTimestamp": 1764000000, "domain": "...", "routingKey": "...",
 *                                  "evidence": {"mass": 32, "success": 0.7, "confidence": 0.6, "publishers": 3},
 *                                  "variants": {"llama-3-8b": {"mass": 16, ...}, ...},
 *                                  "queries": [{"hash": "<16 hex>", "model": "llama-3-8b", "mass": 3, ...}], "newShare": 0}}}
 *
 * Version 2 added the evidence (pooled and per model variant) the calibrated rule needs; a
 * version 1 file lacks it, so it is refused with what to do (pull-weights replaces it).
 */
export const WEIGHTS_FILE_VERSION = 2

export interface WeightsFile {
  version: number
  /** Hash scheme the fingerprints were computed under; lookups with another scheme find nothing meaningful. */
  scheme: string
  generatedAt: string
  /** Closeness bound (bits of the fine hash) the weights were synthesised with. */
  hammingThreshold: number
  weights: Record<string, KeyWeight>
}

const FINGERPRINT = /^[0-9a-f]{32}$/
const PUBLISHER_ID = /^[0-9a-f]{16}$/

/** A version 1 file: readable in principle, but without the evidence the rules need. pull-weights replaces it. */
export class OldWeightsFileError extends QisError {
  constructor(file: string) {
    super(`weights file ${file}: field "version": is 1, written before per-model evidence (version ${WEIGHTS_FILE_VERSION}); run \`qis pull-weights\` to replace it`, {code: 'BAD_WEIGHTS_FILE'})
  }
}

function bad(file: string, where: string, message: string): QisError {
  return new QisError(`weights file ${file}: ${where}: ${message}`, {code: 'BAD_WEIGHTS_FILE'})
}

function checkEvidence(file: string, where: string, value: unknown): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(file, where, 'must be an object')
  const v = value as Record<string, unknown>
  if (typeof v.mass !== 'number' || !Number.isFinite(v.mass) || v.mass < 0) throw bad(file, `${where}.mass`, 'must be a number >= 0')
  for (const field of ['success', 'confidence'] as const) {
    if (typeof v[field] !== 'number' || !((v[field] as number) >= 0 && (v[field] as number) <= 1)) throw bad(file, `${where}.${field}`, 'must be a number from 0 to 1')
  }
  if (!Number.isInteger(v.publishers) || (v.publishers as number) < 1) throw bad(file, `${where}.publishers`, 'must be a whole number >= 1')
}

/** Checks a parsed weights file, naming the first bad field. Returns it typed. */
export function validateWeightsFile(data: unknown, file = '<weights>'): WeightsFile {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw bad(file, 'top level', 'must be a JSON object')
  const d = data as Record<string, unknown>
  if (d.version === 1) throw new OldWeightsFileError(file)
  if (d.version !== WEIGHTS_FILE_VERSION) throw bad(file, 'field "version"', `must be ${WEIGHTS_FILE_VERSION} (found ${JSON.stringify(d.version)})`)
  if (typeof d.scheme !== 'string' || d.scheme.length === 0) throw bad(file, 'field "scheme"', 'must be a non-empty string')
  if (typeof d.generatedAt !== 'string' || Number.isNaN(Date.parse(d.generatedAt))) throw bad(file, 'field "generatedAt"', 'must be an ISO date')
  if (!Number.isInteger(d.hammingThreshold) || (d.hammingThreshold as number) < 0) throw bad(file, 'field "hammingThreshold"', 'must be a whole number >= 0')
  if (typeof d.weights !== 'object' || d.weights === null || Array.isArray(d.weights)) throw bad(file, 'field "weights"', 'must be an object')
  for (const [fp, entry] of Object.entries(d.weights as Record<string, unknown>)) {
    const where = `weights["${fp}"]`
    if (!FINGERPRINT.test(fp)) throw bad(file, where, 'key must be a 32-character lowercase hex fingerprint')
    if (typeof entry !== 'object' || entry === null) throw bad(file, where, 'must be an object')
    const e = entry as Record<string, unknown>
    if (typeof e.weight !== 'number' || !Number.isFinite(e.weight) || e.weight < -1 || e.weight > 1) throw bad(file, `${where}.weight`, 'must be a number from -1 to 1')
    for (const field of ['packets', 'publishers', 'records'] as const) {
      if (!Number.isInteger(e[field]) || (e[field] as number) < 1) throw bad(file, `${where}.${field}`, 'must be a whole number >= 1')
    }
    if ((e.publishers as number) > (e.packets as number)) throw bad(file, `${where}.publishers`, 'cannot exceed packets')
    if (!Array.isArray(e.publisherIds) || e.publisherIds.length !== e.publishers || !e.publisherIds.every((id) => typeof id === 'string' && PUBLISHER_ID.test(id))) {
      throw bad(file, `${where}.publisherIds`, `must list ${String(e.publishers)} publisher ids of 16 lowercase hex characters`)
    }
    if (!Number.isInteger(e.lastTimestamp) || (e.lastTimestamp as number) < 0) throw bad(file, `${where}.lastTimestamp`, 'must be epoch seconds')
    for (const field of ['domain', 'routingKey'] as const) {
      if (typeof e[field] !== 'string' || (e[field] as string).length === 0) throw bad(file, `${where}.${field}`, 'must be a non-empty string')
    }
    checkEvidence(file, `${where}.evidence`, e.evidence)
    if (typeof e.variants !== 'object' || e.variants === null || Array.isArray(e.variants)) throw bad(file, `${where}.variants`, 'must be an object')
    for (const [variant, ev] of Object.entries(e.variants as Record<string, unknown>)) {
      if (variant.length === 0) throw bad(file, `${where}.variants`, 'a variant name is empty')
      checkEvidence(file, `${where}.variants["${variant}"]`, ev)
    }
    if (!Array.isArray(e.queries)) throw bad(file, `${where}.queries`, 'must be an array')
    e.queries.forEach((q: unknown, i: number) => {
      const at = `${where}.queries[${i}]`
      checkEvidence(file, at, q)
      const qq = q as Record<string, unknown>
      if (typeof qq.hash !== 'string' || !/^[0-9a-f]{16}$/.test(qq.hash)) throw bad(file, `${at}.hash`, 'must be 16 lowercase hex characters')
      if (typeof qq.model !== 'string' || qq.model.length === 0) throw bad(file, `${at}.model`, 'must be a non-empty string')
    })
    if (e.trustedShare !== undefined && (typeof e.trustedShare !== 'number' || !(e.trustedShare >= 0 && e.trustedShare <= 1))) throw bad(file, `${where}.trustedShare`, 'must be a number from 0 to 1')
    if (typeof e.newShare !== 'number' || !(e.newShare >= 0 && e.newShare <= 1)) throw bad(file, `${where}.newShare`, 'must be a number from 0 to 1')
  }
  return d as unknown as WeightsFile
}

export async function readWeightsFile(file: string): Promise<WeightsFile> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new QisError(`no weights file at ${file}: run \`qis pull-weights\` first (or pass --weights)`, {code: 'NO_WEIGHTS', cause: err})
    }
    throw new QisError(`cannot read weights file ${file}: ${errorMessage(err)}`, {code: 'BAD_WEIGHTS_FILE', cause: err})
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw bad(file, 'JSON', errorMessage(err))
  }
  return validateWeightsFile(data, file)
}

/** Reads the file, or undefined when there is none yet. */
export async function readWeightsFileIfExists(file: string): Promise<WeightsFile | undefined> {
  try {
    await fs.access(file)
  } catch {
    return undefined
  }
  return readWeightsFile(file)
}

/**
 * One line per key: per-query evidence makes entries long (up to MAX_QUERY_ENTRIES each), and
 * indenting every field would multiply the file several times over; a line per key stays readable
 * with grep and diff.
 */
function serialise(weights: WeightsFile): string {
  const {weights: entries, ...head} = weights
  const lines = Object.entries(head).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`)
  const keys = Object.entries(entries).map(([fp, e]) => `    ${JSON.stringify(fp)}: ${JSON.stringify(e)}`)
  return ['{', ...lines, keys.length ? '  "weights": {' : '  "weights": {}', ...(keys.length ? [keys.join(',\n'), '  }'] : []), '}'].join('\n') + '\n'
}

/** Writes atomically (temp + fsync + rename): a reader such as `qis adjust` never sees half a file. */
export async function writeWeightsFile(file: string, weights: WeightsFile): Promise<void> {
  validateWeightsFile(weights, file)
  try {
    await ensureDir(path.dirname(path.resolve(file)))
    await writeFileAtomic(file, serialise(weights), 0o600)
  } catch (err) {
    throw new QisError(`cannot write weights file ${file}: ${errorMessage(err)}`, {code: 'WRITE_FAILED', cause: err})
  }
}
