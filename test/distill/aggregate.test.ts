import {describe, expect, it} from 'vitest'

import {type GroupKey, GroupTable} from '../../src/distill/aggregate.js'

const key = (over: Partial<GroupKey> = {}): GroupKey => ({
  domain: 'clinical.oncology',
  hash: '00112233aabbccdd',
  modelVariant: 'llama3-8b',
  correctionApplied: false,
  correctionType: null,
  bucket: 3600,
  ...over,
})

describe('aggregate groups', () => {
  it('sums records of one (domain, hash, model, correction, bucket) group', () => {
    const t = new GroupTable()
    t.add(key(), ['k1'], 1, 0.8)
    t.add(key(), ['k1'], 0, 0.6)
    t.add(key({bucket: 7200}), ['k1'], 1, 0.5)
    t.add(key({correctionApplied: true, correctionType: 'factual'}), ['k1'], 0.2, 0.5)
    t.add(key({correctionApplied: true, correctionType: null}), ['k1'], 0.2, 0.5)
    const groups = t.drain()
    expect(groups).toHaveLength(4)
    expect(groups[0]).toMatchObject({count: 2, outcomeSum: 1, confidenceSum: 1.4})
    expect(t.size).toBe(0)
  })

  it('stays within maxGroups by closing the oldest buckets first', () => {
    const t = new GroupTable({maxGroups: 10})
    const closed = []
    for (let i = 0; i < 25; i++) closed.push(...t.add(key({hash: i.toString(16).padStart(16, '0'), bucket: 3600 * Math.floor(i / 3)}), [], 1, 1))
    expect(t.size).toBeLessThanOrEqual(10)
    expect(closed.length + t.drain().length).toBe(25)
    expect(t.earlyCloses).toBe(closed.length)
    // Closed in bucket order: nothing newer is closed before something older.
    for (let i = 1; i < closed.length; i++) expect(closed[i].bucket).toBeGreaterThanOrEqual(closed[i - 1].bucket)
  })

  it('refuses a nonsensical bound', () => {
    expect(() => new GroupTable({maxGroups: 0})).toThrow(/maxGroups/)
  })
})
