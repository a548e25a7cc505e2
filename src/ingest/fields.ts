import {QisError} from '../util/errors.js'
import {SOURCE} from './formats/index.js'
import type {NormalisedRecord} from './types.js'

/**
 * Canonical names `--map` accepts, and the source names recognised without a map, in precedence
 * order (the first present wins). `rating`, `thumbs` and `correction` are separate canonical names
 * because their values are read differently (1..5 scale, up/down, free text that only signals).
 */
export const FIELD_ALIASES = {
  id: ['id', 'request_id', 'inference_id', 'trace_id'],
  query: ['query', 'prompt', 'input', 'question'],
  messages: ['messages'],
  domain: ['domain', 'domain_tag', 'category'],
  modelVariant: ['model_variant', 'model'],
  outcome: ['outcome', 'outcome_signal', 'score'],
  rating: ['rating'],
  thumbs: ['thumbs', 'feedback'],
  confidence: ['confidence', 'confidence_at_inference'],
  correctionApplied: ['correction_applied', 'corrected'],
  correctionType: ['correction_type'],
  correction: ['correction', 'corrected_text'],
  timestamp: ['timestamp', 'ts', 'created_at', 'time'],
} as const

export type CanonicalField = keyof typeof FIELD_ALIASES
export const CANONICAL_FIELDS = Object.keys(FIELD_ALIASES) as CanonicalField[]

const SNAKE: Record<string, CanonicalField> = {
  model_variant: 'modelVariant',
  model: 'modelVariant',
  correction_applied: 'correctionApplied',
  correction_type: 'correctionType',
}

function canonicalName(name: string): CanonicalField | undefined {
  if ((CANONICAL_FIELDS as string[]).includes(name)) return name as CanonicalField
  return SNAKE[name]
}

/** `['outcome=quality', 'id=req']` -> `{outcome: 'quality', id: 'req'}`; throws QisError on bad syntax or an unknown name. */
export function parseMapFlags(pairs: string[]): Record<string, string> {
  const map: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0 || eq === pair.length - 1) {
      throw new QisError(`--map ${JSON.stringify(pair)}: expected canonical=source, e.g. outcome=quality`, {code: 'BAD_MAP'})
    }
    const canonical = canonicalName(pair.slice(0, eq).trim())
    if (!canonical) {
      throw new QisError(
        `--map ${JSON.stringify(pair)}: unknown field ${JSON.stringify(pair.slice(0, eq).trim())}; one of ${CANONICAL_FIELDS.join(', ')}`,
        {code: 'BAD_MAP'},
      )
    }
    map[canonical] = pair.slice(eq + 1).trim()
  }
  return map
}

/** Marks a name that came from `--map`: it may reach into the original object of a converted row. */
const MAPPED = '\u0000mapped:'

/** Source names to look up for each canonical field, with the map's override first and alone. */
export function resolveFieldNames(map: Record<string, string> = {}): Record<CanonicalField, readonly string[]> {
  const out = {} as Record<CanonicalField, readonly string[]>
  for (const f of CANONICAL_FIELDS) out[f] = map[f] !== undefined ? [MAPPED + map[f]!] : FIELD_ALIASES[f]
  return out
}

export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
  }
}

type Row = Record<string, unknown>

/** A value by name; `a.b` reaches into nested JSON objects when no key is literally `a.b`. */
export function getField(row: Row, name: string): unknown {
  if (name.startsWith(MAPPED)) {
    // A --map name: the converted row first, then the object it came from (any field of a log format).
    const bare = name.slice(MAPPED.length)
    const v = getField(row, bare)
    const source = (row as {[SOURCE]?: Row})[SOURCE]
    return v === undefined && source ? getField(source, bare) : v
  }
  if (name in row) return row[name]
  if (!name.includes('.')) return undefined
  let v: unknown = row
  for (const part of name.split('.')) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Row)[part]
  }
  return v
}

const absent = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '')

function pick(row: Row, names: readonly string[]): {name: string; value: unknown} | undefined {
  for (const name of names) {
    const value = getField(row, name)
    if (!absent(value)) return {name: name.startsWith(MAPPED) ? name.slice(MAPPED.length) : name, value}
  }
  return undefined
}

function toNumber(v: unknown, field: string, what: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v.trim()) : Number.NaN
  if (!Number.isFinite(n)) throw new FieldError(field, `${what} is not a number`)
  return n
}

function toUnit(v: unknown, field: string): number {
  const n = toNumber(v, field, field)
  if (n < 0 || n > 1) throw new FieldError(field, `${field} ${n} is outside 0..1`)
  return n
}

const TRUE = new Set(['true', 'yes', 'y', '1', 'up', 'thumbs_up', 'thumbsup', '+1', 'positive', 'good', 'like', '👍'])
const FALSE = new Set(['false', 'no', 'n', '0', 'down', 'thumbs_down', 'thumbsdown', '-1', 'negative', 'bad', 'dislike', '👎'])

function toBool(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v
  if (typeof v === 'number' && (v === 1 || v === 0 || v === -1)) return v === 1
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase()
    if (TRUE.has(s)) return true
    if (FALSE.has(s)) return false
  }
  throw new FieldError(field, `${field} is not a yes/no value (expected true/false, up/down, 1/0)`)
}

function toText(v: unknown, field: string): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  throw new FieldError(field, `${field} is not text`)
}

/** ISO-8601, or epoch seconds / milliseconds (told apart by size: below 1e11 is seconds). */
export function parseTimestamp(v: unknown, field: string): number {
  if (typeof v === 'number' || (typeof v === 'string' && /^\s*\d+(?:\.\d+)?\s*$/.test(v))) {
    const n = Number(v)
    if (!Number.isFinite(n) || n <= 0) throw new FieldError(field, `${field} is not a valid time`)
    return Math.round(n < 1e11 ? n * 1000 : n)
  }
  if (typeof v === 'string') {
    const s = v.trim()
    // Date.parse accepts much that is not ISO-8601 ("1"): require a date shape first.
    if (/^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/i.test(s)) {
      // A time without a zone is taken as UTC, so a log reads the same on every machine.
      let iso = s.replace(' ', 'T')
      if (iso.includes('T') && !/(?:Z|[+-]\d{2}:?\d{2})$/i.test(iso)) iso += 'Z'
      const t = Date.parse(iso)
      if (Number.isFinite(t)) return t
    }
  }
  throw new FieldError(field, `${field} is not an ISO-8601 time or epoch seconds/milliseconds`)
}

/** The last `user` message's text from an OpenAI-style `messages` array. */
function lastUserMessage(v: unknown, field: string): string | undefined {
  if (!Array.isArray(v)) throw new FieldError(field, `${field} is not an array of chat messages`)
  for (let i = v.length - 1; i >= 0; i--) {
    const m = v[i] as {role?: unknown; content?: unknown} | null
    if (!m || typeof m !== 'object' || m.role !== 'user') continue
    if (typeof m.content === 'string') return m.content
    if (Array.isArray(m.content)) {
      // Content parts: keep the text parts, in order; images and audio are not queries.
      const texts = m.content
        .filter((p): p is {type: string; text: string} => !!p && typeof p === 'object' && (p as {type?: unknown}).type === 'text' && typeof (p as {text?: unknown}).text === 'string')
        .map((p) => p.text)
      return texts.length ? texts.join('\n') : undefined
    }
    throw new FieldError(field, `${field}: the last user message has no text content`)
  }
  return undefined
}

/**
 * Read the canonical fields from one parsed row. Throws FieldError (naming the field, never its
 * value) for a value that is present but invalid; absent fields stay undefined. Fields not named
 * here (response, output, completion, ...) are never read.
 */
export function normalise(row: Row, names: Record<CanonicalField, readonly string[]>): NormalisedRecord {
  const r: NormalisedRecord = {}
  // Set by the log-format converters (formats/index.ts).
  if (typeof row.__invalid === 'string') throw new FieldError('value', row.__invalid)
  if (typeof row.__skip === 'string') r.skip = row.__skip
  if (row.join === true && (row as {[SOURCE]?: Row})[SOURCE]) r.join = true
  if ((row as {[SOURCE]?: Row})[SOURCE] && typeof row.trace_id === 'string' && row.trace_id !== '') r.joinIds = [row.trace_id]
  let p = pick(row, names.id)
  if (p) r.id = toText(p.value, p.name)

  p = pick(row, names.query)
  if (p) r.query = toText(p.value, p.name)
  else {
    p = pick(row, names.messages)
    if (p) {
      const q = lastUserMessage(p.value, p.name)
      if (q !== undefined) r.query = q
    }
  }
  p = pick(row, names.domain)
  if (p) r.domain = toText(p.value, p.name)
  p = pick(row, names.modelVariant)
  if (p) r.modelVariant = toText(p.value, p.name)

  p = pick(row, names.outcome)
  if (p) {
    // A boolean outcome (true/false) is a full or no success.
    r.outcome = typeof p.value === 'boolean' ? (p.value ? 1 : 0) : toUnit(p.value, p.name)
  } else if ((p = pick(row, names.rating))) {
    const n = toNumber(p.value, p.name, p.name)
    if (n < 1 || n > 5) throw new FieldError(p.name, `${p.name} ${n} is outside 1..5`)
    r.outcome = (n - 1) / 4
  } else if ((p = pick(row, names.thumbs))) {
    r.outcome = toBool(p.value, p.name) ? 1 : 0
  }

  p = pick(row, names.confidence)
  if (p) r.confidence = toUnit(p.value, p.name)

  p = pick(row, names.correctionApplied)
  if (p) r.correctionApplied = toBool(p.value, p.name)
  p = pick(row, names.correctionType)
  if (p) r.correctionType = toText(p.value, p.name)
  if (r.correctionApplied === undefined) {
    // Corrected text only signals that a correction happened; the text itself is not kept.
    p = pick(row, names.correction)
    if (p) r.correctionApplied = true
  }

  p = pick(row, names.timestamp)
  if (p) r.timestamp = parseTimestamp(p.value, p.name)
  return r
}
