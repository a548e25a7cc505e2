import {describe, expect, it} from 'vitest'

import {embedInLengthGroups} from '../../src/embed/groups.js'

describe('embedInLengthGroups', () => {
  it('calls the model with texts of one token count only, at most maxGroup a call, and keeps input order', async () => {
    const calls: string[][] = []
    const words = (t: string) => t.split(' ').length
    const texts = ['a b', 'c', 'd e', 'f g h', 'i', 'j k', 'l', 'm n']
    const rows = await embedInLengthGroups(
      texts,
      words,
      async (group) => {
        calls.push(group)
        return group.map((t) => Float32Array.of(texts.indexOf(t)))
      },
      2,
    )
    expect(rows.map((r) => r[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    for (const call of calls) {
      expect(call.length).toBeLessThanOrEqual(2)
      expect(new Set(call.map(words)).size).toBe(1)
    }
    // 4 two-word texts in 2 calls, 3 one-word texts in 2, 1 three-word text in 1.
    expect(calls).toHaveLength(5)
  })
})
