import {describe, expect, it} from 'vitest'

import {coarsen, formatDuration, parseDuration} from '../../src/distill/time.js'

describe('time resolution', () => {
  it('parses durations with units', () => {
    expect(parseDuration('1h')).toBe(3600)
    expect(parseDuration('15m')).toBe(900)
    expect(parseDuration('1d')).toBe(86_400)
    expect(parseDuration('1h30m')).toBe(5400)
    expect(parseDuration('0')).toBe(0)
    expect(parseDuration(' 2H ')).toBe(7200)
  })

  it('refuses what is not a duration, naming the flag', () => {
    for (const bad of ['', 'h', '1', '1x', 'one hour', '1h foo', '-1h']) {
      expect(() => parseDuration(bad), bad).toThrow(/--time-resolution/)
    }
    expect(() => parseDuration('0.1s')).toThrow(/shorter than a second/)
  })

  it('floors timestamps to the resolution', () => {
    const t = Date.UTC(2026, 10, 20, 8, 47, 13) / 1000
    expect(coarsen(t, 3600)).toBe(Date.UTC(2026, 10, 20, 8) / 1000)
    expect(coarsen(t, 86_400)).toBe(Date.UTC(2026, 10, 20) / 1000)
    expect(coarsen(t + 0.9, 0)).toBe(t)
  })

  it('formats resolutions back', () => {
    expect(formatDuration(3600)).toBe('1h')
    expect(formatDuration(5400)).toBe('1h30m')
    expect(formatDuration(0)).toBe('0')
    expect(formatDuration(parseDuration('1d2h'))).toBe('1d2h')
  })
})
