import {QisError} from '../util/errors.js'

/**
 * The one duration grammar, for every flag that takes a span of time:
 *
 *   duration := part (" "? part)*      e.g. 90s, 15m, 1h30m, 1h 30m, 1.5h, 7d, 2w
 *   part     := number unit            number: 12 or 1.5; unit: s m h d w (any case)
 *
 * plus "0" (or "none") where the flag allows switching the thing off. The result is whole seconds.
 */
const UNIT_SECONDS: Record<string, number> = {s: 1, m: 60, h: 3600, d: 86_400, w: 604_800}
const PART = /(\d+(?:\.\d+)?)([smhdw])\s*/y

export const DURATION_GRAMMAR = 'a number and a unit s, m, h, d or w, parts combined as in 1h30m (e.g. 90s, 15m, 1h30m, 7d, 2w)'

export interface DurationOptions {
  /** Accept "0" and "none" (returned as 0). */
  allowZero?: boolean
  /** Named in messages, e.g. "--time-resolution". */
  flag?: string
}

/** Seconds in `text` (not rounded), or undefined when it does not follow the grammar. */
export function durationSeconds(text: string, allowZero = false): number | undefined {
  const t = text.trim().toLowerCase()
  if (allowZero && (t === '0' || t === 'none')) return 0
  if (t === '') return undefined
  PART.lastIndex = 0
  let seconds = 0
  let m: RegExpExecArray | null
  while (PART.lastIndex < t.length && (m = PART.exec(t)) !== null) seconds += Number(m[1]) * UNIT_SECONDS[m[2]]
  if (PART.lastIndex !== t.length || !Number.isFinite(seconds)) return undefined
  return seconds
}

/** Parses a duration flag value into whole seconds (>= 1, or 0 when allowed); a QisError names the flag otherwise. */
export function parseDuration(text: string, options: DurationOptions = {}): number {
  const what = options.flag ? `${options.flag} "${text}"` : `"${text}"`
  const seconds = durationSeconds(text, options.allowZero)
  if (seconds === undefined) {
    throw new QisError(`${what} is not a duration`, {
      code: 'BAD_FLAG',
      hint: `Use ${DURATION_GRAMMAR}${options.allowZero ? ', or 0 for none' : ''}.`,
    })
  }
  if (seconds === 0 && options.allowZero) return 0
  if (Math.round(seconds) < 1) {
    throw new QisError(`${what} is shorter than a second`, {code: 'BAD_FLAG', hint: options.allowZero ? 'Use 0 for none.' : undefined})
  }
  return Math.round(seconds)
}

/**
 * A point in time given as a duration back from `now` (7d = seven days ago) or an ISO date
 * (2026-11-20, 2026-11-20T08:00:00Z). Returns epoch seconds. For --since and the like.
 */
export function parseSince(text: string, options: {flag?: string; now?: number} = {}): number {
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const seconds = durationSeconds(text)
  if (seconds !== undefined && seconds >= 1) return now - Math.round(seconds)
  if (/^\d{4}-\d{2}-\d{2}/.test(text.trim())) {
    const ms = Date.parse(text.trim())
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000)
  }
  const what = options.flag ? `${options.flag} "${text}"` : `"${text}"`
  throw new QisError(`${what} is neither a duration nor a date`, {
    code: 'BAD_FLAG',
    hint: `Use a duration back from now (${DURATION_GRAMMAR}) or an ISO date such as 2026-11-20.`,
  })
}

/** Seconds as the grammar writes them, largest units first: 5400 -> "1h30m", 0 -> "0". Parses back to the same value. */
export function formatDuration(seconds: number): string {
  let rest = Math.round(Math.abs(seconds))
  if (rest === 0) return '0'
  let out = ''
  for (const [unit, size] of [['w', 604_800], ['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size)
    if (n > 0) {
      out += `${n}${unit}`
      rest -= n * size
    }
  }
  return out
}
