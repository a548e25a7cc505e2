import {describe, expect, it} from 'vitest'

import {LOG_LEVELS, describeEvent, eventLevel} from '../../src/commands/node.js'
import {ActivityCounter, describeSummary} from '../../src/swarm/activity.js'
import type {SwarmEvent} from '../../src/swarm/node.js'

const stored = (n: number): SwarmEvent => ({event: 'stored', key: 'k'.repeat(32), from: 'peer', stored: n, duplicates: 1, refused: {BAD_SIGNATURE: 1}})

describe('qis node log levels', () => {
  it('a stored batch, a fetch and a connection get their own line only at --verbose; bootstrap failures even at --quiet', () => {
    expect(eventLevel(stored(3))).toBe('verbose')
    expect(eventLevel({event: 'served', from: 'p', keys: 1, packets: 2, truncated: false})).toBe('verbose')
    expect(eventLevel({event: 'peer:connect', peer: 'p'})).toBe('verbose')
    expect(eventLevel({event: 'bootstrap:joined', peers: 2, attempts: 1})).toBe('info')
    expect(eventLevel({event: 'bootstrap:failed', multiaddr: '/ip4/127.0.0.1/tcp/1', message: 'ECONNREFUSED'})).toBe('quiet')
    expect(LOG_LEVELS).toEqual(['quiet', 'info', 'verbose'])
    expect(describeEvent({event: 'replicated', keys: 2, peers: 1, sent: 10, stored: 4, duplicates: 6, failed: 0, checks: 1, checkedIds: 12})).toBe('re-replicated 2 key(s) to 1 peer(s): 4 of 10 packet(s) were new to them')
    expect(describeEvent({event: 'replicated', keys: 2, peers: 2, sent: 0, stored: 0, duplicates: 0, failed: 0, checks: 2, checkedIds: 8})).toBe('re-replication checked 2 key(s) with 2 peer(s) by 8 packet id(s): nothing missing')
  })

  it('the summary folds every batch of an interval into one line, and says nothing for an idle interval', () => {
    const a = new ActivityCounter()
    for (let i = 0; i < 500; i++) a.observe(stored(2))
    a.observe({event: 'served', from: 'p', keys: 3, packets: 40, truncated: false})
    a.observe({event: 'replicated', keys: 1, peers: 1, sent: 5, stored: 5, duplicates: 0, failed: 0, checks: 1, checkedIds: 5})
    const s = a.take({peers: 4, routing: 3, packets: 1000}, Date.now() + 60_000)!
    expect(s).toMatchObject({event: 'summary', batches: 500, stored: 1000, duplicates: 500, refused: {BAD_SIGNATURE: 500}, served: 1, servedPackets: 40, replicated: 5, peers: 4})
    expect(describeSummary(s)).toMatch(/^last 60 s: stored 1000 packet\(s\) in 500 batch\(es\), 500 duplicate\(s\); refused BAD_SIGNATURE x500; served 40 packet\(s\) in 1 request\(s\); re-replicated 5 of 5 packet\(s\) pushed\. Now 4 peer\(s\)/)
    expect(a.take({peers: 4, routing: 3, packets: 1000})).toBeUndefined()
  })
})
