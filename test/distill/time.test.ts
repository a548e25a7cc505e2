import {describe, expect, it} from 'vitest'

import {coarsen} from '../../src/distill/time.js'

// Parsing and formatting --time-resolution is the one duration grammar (test/cli/duration.test.ts).
describe('time resolution', () => {
  it('floors timestamps to the resolution', () => {
    const t = Date.UTC(2026, 10, 20, 8, 47, 13) / 1000
    expect(coarsen(t, 3600)).toBe(Date.UTC(2026, 10, 20, 8) / 1000)
    expect(coarsen(t, 86_400)).toBe(Date.UTC(2026, 10, 20) / 1000)
    expect(coarsen(t + 0.9, 0)).toBe(t)
  })
})
