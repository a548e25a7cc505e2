import {QisError} from '../util/errors.js'

const UNIT_SECONDS: Record<string, number> = {s: 1, m: 60, h: 3600, d: 86_400, w: 604_800}

/**
 * Parses `--since`: a duration back from now ("90m", "12h", "7d", "2w") or an ISO date
 * ("2026-11-20", "2026-11-20T08:00:00Z"). Returns epoch seconds.
 */
export function parseSince(value: string, now = Math.floor(Date.now() / 1000)): number {
  const m = /^(\d+)\s*([smhdw])$/.exec(value.trim())
  if (m) return now - Number(m[1]) * UNIT_SECONDS[m[2]]
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const ms = Date.parse(value)
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000)
  }
  throw new QisError(`--since "${value}" is neither a duration (e.g. 12h, 7d, 2w) nor an ISO date (e.g. 2026-11-20)`, {code: 'BAD_FLAG', exitCode: 2})
}
