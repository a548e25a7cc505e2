import {describe, expect, it} from 'vitest'

import {durationSeconds, formatDuration, parseDuration, parseSince} from '../../src/cli/duration.js'
import {QisError} from '../../src/util/errors.js'

describe('the one duration grammar', () => {
  it('accepts units, compounds, spaces, decimals and any case', () => {
    const cases: [string, number][] = [
      ['90s', 90],
      ['15m', 900],
      ['1h', 3600],
      ['1h30m', 5400],
      ['1h 30m', 5400],
      ['1.5h', 5400],
      ['7d', 604_800],
      ['2w', 1_209_600],
      ['1D2H', 93_600],
      [' 45m ', 2700],
    ]
    for (const [text, seconds] of cases) expect(parseDuration(text), text).toBe(seconds)
  })

  it('refuses what is not a duration, naming the flag and the grammar', () => {
    for (const bad of ['', '1', 'h', '1x', '1h30', '30m1', 'abc', '-1h', '1h-30m', '0']) {
      const err = (() => {
        try {
          parseDuration(bad, {flag: '--since'})
        } catch (error) {
          return error
        }
      })()
      expect(err, bad).toBeInstanceOf(QisError)
      expect((err as QisError).code).toBe('BAD_FLAG')
      expect((err as QisError).exitCode).toBe(2)
      expect((err as QisError).message).toBe(`--since "${bad}" is not a duration`)
      expect((err as QisError).hint).toContain('1h30m')
    }
  })

  it('0 and none only where allowed; less than a second is refused either way', () => {
    expect(parseDuration('0', {allowZero: true})).toBe(0)
    expect(parseDuration('none', {allowZero: true})).toBe(0)
    expect(parseDuration('0s', {allowZero: true})).toBe(0)
    expect(() => parseDuration('0s')).toThrow(/shorter than a second/)
    expect(() => parseDuration('0.2s', {allowZero: true})).toThrow(/shorter than a second/)
    expect(durationSeconds('none')).toBeUndefined()
  })

  it('--since: a duration back from now or an ISO date', () => {
    const now = 1_800_000_000
    expect(parseSince('1h30m', {now})).toBe(now - 5400)
    expect(parseSince('7d', {now})).toBe(now - 604_800)
    expect(parseSince('2026-11-20', {now})).toBe(Date.parse('2026-11-20') / 1000)
    expect(parseSince('2026-11-20T08:00:00Z', {now})).toBe(Date.parse('2026-11-20T08:00:00Z') / 1000)
    expect(() => parseSince('yesterday', {flag: '--since'})).toThrow('--since "yesterday" is neither a duration nor a date')
    expect(() => parseSince('0', {now})).toThrow(QisError)
  })

  it('formats back into the grammar, round trip', () => {
    for (const s of [1, 59, 60, 3600, 5400, 86_400, 93_784, 604_800, 1_300_000]) expect(parseDuration(formatDuration(s)), String(s)).toBe(s)
    expect(formatDuration(5400)).toBe('1h30m')
    expect(formatDuration(0)).toBe('0')
  })
})
