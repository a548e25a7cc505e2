import {QisError} from '../util/errors.js'

const UNIT_SECONDS: Record<string, number> = {s: 1, m: 60, h: 3600, d: 86_400, w: 604_800}

/**
 * Parses a time resolution such as `1h`, `15m`, `1d`, `90s` (or `0` for none) into whole seconds.
 * Compound forms (`1h30m`) are accepted too. A resolution of 0 keeps timestamps to the second.
 */
export function parseDuration(text: string, flag = '--time-resolution'): number {
  const trimmed = text.trim().toLowerCase()
  if (trimmed === '0' || trimmed === 'none') return 0
  const part = /(\d+(?:\.\d+)?)\s*([smhdw])/g
  let seconds = 0
  let consumed = 0
  let m: RegExpExecArray | null
  while ((m = part.exec(trimmed)) !== null) {
    if (m.index !== consumed) break
    seconds += Number(m[1]) * UNIT_SECONDS[m[2]]
    consumed = m.index + m[0].length
  }
  if (consumed === 0 || consumed !== trimmed.length || !Number.isFinite(seconds)) {
    throw new QisError(`${flag} "${text}" is not a duration: use a number with a unit s, m, h, d or w (e.g. 1h, 15m, 1d), or 0 for none`, {
      code: 'BAD_FLAG',
      exitCode: 2,
    })
  }
  seconds = Math.round(seconds)
  if (seconds < 1) throw new QisError(`${flag} "${text}" is shorter than a second`, {code: 'BAD_FLAG', exitCode: 2})
  return seconds
}

/** Floors epoch seconds to a multiple of `resolutionSeconds` (0 = unchanged), so packets cannot be matched to single requests by time. */
export function coarsen(epochSeconds: number, resolutionSeconds: number): number {
  if (resolutionSeconds <= 1) return Math.floor(epochSeconds)
  return Math.floor(epochSeconds / resolutionSeconds) * resolutionSeconds
}

/** `3600` -> `1h`, `5400` -> `1h30m`: how a resolution is shown back to a person. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0'
  let rest = seconds
  let out = ''
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size)
    if (n > 0) {
      out += `${n}${unit}`
      rest -= n * size
    }
  }
  return out
}
