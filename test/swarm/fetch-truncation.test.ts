import {generateKeyPair} from '@libp2p/crypto/keys'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {packetId} from '../../src/packet/codec.js'
import {type PublishItem, fetchPackets, openSwarmClient, publishPackets} from '../../src/swarm/client.js'
import {type NodeProcess, startSwarm, stopAll} from '../helpers/swarm.js'
import {type TestPacket, makePacket, signerFor} from './fixtures.js'

// Issue 21 item 3: one fetch reply carries at most --fetch-max-packets packets across all its keys.
// A key filled past that used to make the reply count as "answered and empty" for every other key
// in it. Three `qis node` processes on 127.0.0.1 with a small reply cap, so a flood of 150 packets
// stands in for 50,000. Run `npm run build` first.

const CAP = 40
let nodes: NodeProcess[] = []

describe('a fetch reply that cannot carry everything', () => {
  const flood: TestPacket[] = []
  const quiet: TestPacket[] = []

  beforeAll(async () => {
    nodes = await startSwarm(3, {args: ['--fetch-max-packets', String(CAP)]})
    for (let i = 0; i < 150; i++) flood.push(makePacket(signerFor(`flooder-${i % 5}`), i, {routingKeys: ['flooded']}))
    for (let k = 0; k < 6; k++) for (let i = 0; i < 3; i++) quiet.push(makePacket(signerFor('honest'), 1000 + k * 10 + i, {routingKeys: [`quiet${k}`]}))
    const client = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [nodes[0].multiaddrs[0]]})
    try {
      const items: PublishItem[] = [...flood, ...quiet].map((p) => ({key: p.keys[0], bytes: p.bytes, id: p.id}))
      const r = await publishPackets(client, items, {replicas: 3})
      expect(r.failed, JSON.stringify(r.failures)).toBe(0)
    } finally {
      await client.close()
    }
  }, 120_000)

  afterAll(async () => {
    await stopAll(nodes)
  })

  const keysOf = (list: TestPacket[]) => [...new Set(list.map((p) => p.keys[0]))]

  it('pages past the reply cap: every key, flooded or not, comes back whole', async () => {
    const client = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [nodes[1].multiaddrs[0]]})
    try {
      // The flooded key first, as the attack had it: it used to use up the reply before the rest.
      const r = await fetchPackets(client, [...keysOf(flood), ...keysOf(quiet)])
      const got = new Set(r.packets.map((p) => packetId(p.bytes)))
      expect(r.incomplete).toEqual([])
      expect(r.unanswered).toEqual([])
      for (const p of [...flood, ...quiet]) expect(got.has(p.id)).toBe(true)
      // More requests than peers asked: the flooded key was paged.
      expect(client.node.counters.fetchRequests).toBeGreaterThan(3)
    } finally {
      await client.close()
    }
  }, 60_000)

  it('past the per-key bound the flooded key is reported incomplete, never as answered, and the others are whole', async () => {
    const client = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [nodes[2].multiaddrs[0]]})
    try {
      const r = await fetchPackets(client, [...keysOf(flood), ...keysOf(quiet)], {maxPacketsPerKey: 60})
      expect(r.incomplete).toEqual(keysOf(flood))
      expect(r.unanswered).toEqual([])
      expect(r.failures.TRUNCATED).toBeGreaterThan(0)
      const got = new Set(r.packets.map((p) => packetId(p.bytes)))
      for (const p of quiet) expect(got.has(p.id)).toBe(true)
    } finally {
      await client.close()
    }
  }, 60_000)
})
