import {promises as fs} from 'node:fs'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {packetId} from '../../src/packet/codec.js'
import {readStoreFile} from '../../src/packet/store.js'
import {keyKadId} from '../../src/swarm/lookup.js'
import type {SwarmNode} from '../../src/swarm/node.js'
import {HAVE_PROTOCOL} from '../../src/swarm/protocol.js'
import {replicationTargets} from '../../src/swarm/replicate.js'
import {STORAGE_FILE} from '../../src/swarm/storage.js'
import {runCli, tempDir} from '../helpers/cli.js'
import {type NodeProcess, startSwarm, stopAll} from '../helpers/swarm.js'
import {makePackets, signerFor, startLoopbackNodes, writeStore} from './fixtures.js'

const KEY = '0123456789abcdef0123456789abcdef'
/** A peer at XOR distance `d` (in the first byte) from the key's kad id: smaller is closer. */
const peer = (id: string, d: number) => {
  const kadId = Uint8Array.from(keyKadId(KEY))
  kadId[0] ^= d
  return {id, kadId}
}

describe('replicationTargets', () => {
  const self = peer('self', 2)
  const others = [peer('a', 1), peer('b', 3), peer('c', 4), peer('d', 5), peer('e', 6)]

  it('on first sight pushes to every other peer of the set: none is known to hold the key yet', () => {
    const r = replicationTargets(KEY, self, others, 3, undefined)
    expect(r.set).toEqual(['a', 'self', 'b'])
    expect(r.push).toEqual(['a', 'b'])
  })

  it('pushes only to peers of the closest set not known to hold the key, never to itself', () => {
    const first = replicationTargets(KEY, self, others, 3, undefined).set
    const holding = new Set(first.filter((id) => id !== 'self'))
    expect(replicationTargets(KEY, self, others, 3, holding).push).toEqual([])
    const gone = first.find((id) => id !== 'self')!
    const after = replicationTargets(KEY, self, others.filter((p) => p.id !== gone), 3, holding)
    expect(after.push).toEqual(['c'])
    // A holder lost before this node ever looked (the weakness of recording the first set as held) is still replaced.
    expect(replicationTargets(KEY, self, others.filter((p) => p.id !== 'a'), 3, undefined).push).toEqual(['b', 'c'])
  })

  it('a holder no longer among the 2 x R closest leaves the push to closer holders', () => {
    const far = peer('far', 0xf0)
    const closer = [1, 2, 3, 4, 5, 6, 7].map((d) => peer(`p${d}`, d))
    const r = replicationTargets(KEY, far, closer, 3, new Set(['x', 'y']))
    expect(r.push).toEqual([])
  })
})

describe('a holder asks which packets a peer lacks before sending any', () => {
  const nodes: SwarmNode[] = []
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
  })

  it('sends exactly the missing packets, and falls back to a probe for a peer without /qis/have', async () => {
    // Rounds only when the test runs one.
    await startLoopbackNodes(3, nodes, {replication: {intervalMs: 3_600_000}})
    const [a, b, c] = nodes
    const packets = makePackets(signerFor('have'), 10, {keyCount: 1})
    const key = packets[0].keys[0]
    await a.storage!.storeBatch(key, packets.map((p) => p.bytes))
    // b lacks the first 4; c holds all 10 but is an older node that does not speak /qis/have.
    await b.storage!.storeBatch(key, packets.slice(4).map((p) => p.bytes))
    await c.storage!.storeBatch(key, packets.map((p) => p.bytes))
    await c.libp2p.unhandle(HAVE_PROTOCOL)

    await a.replication!.runOnce()
    const stats = a.replication!.stats
    // b: one check naming 10 ids, then the 4 it lacked. c: the check is refused, a 4-packet probe comes back all duplicate.
    expect(stats).toMatchObject({checks: 2, checkedIds: 20, sent: 8, stored: 4, duplicates: 4, failed: 0})
    for (const p of packets) expect(b.storage!.has(p.id)).toBe(true)
    // Both peers answered: a second round sends nothing and checks nothing.
    await a.replication!.runOnce()
    expect(a.replication!.stats).toMatchObject({checks: 2, sent: 8})
  }, 90_000)
})

// Real `qis node` processes on 127.0.0.1 (run `npm run build` first).
describe('re-replication between qis node processes', () => {
  let nodes: NodeProcess[] = []
  afterAll(async () => {
    await stopAll(nodes)
  })

  const holdersOf = async (list: NodeProcess[]) => {
    const holders = new Map<string, number>()
    for (const n of list) {
      try {
        for await (const e of readStoreFile(path.join(n.home, 'node', STORAGE_FILE))) if (e.kind === 'packet') holders.set(packetId(e.bytes), (holders.get(packetId(e.bytes)) ?? 0) + 1)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    }
    return holders
  }

  /** The nodes whose log holds packet `id` (acknowledged packets are fsynced, so the files are the truth). */
  const nodesHolding = async (list: NodeProcess[], id: string) => {
    const out: NodeProcess[] = []
    for (const n of list) if ((await holdersOf([n])).has(id)) out.push(n)
    return out
  }

  it('a packet whose holder is killed is back on 3 live nodes within a few rounds', async () => {
    nodes = await startSwarm(5, {args: ['--replicate-interval', '1s']})
    const packets = makePackets(signerFor('replicate'), 12, {keyCount: 1})
    const home = tempDir('qis-pub-replicate-')
    await fs.mkdir(path.join(home, 'packets'), {recursive: true})
    await writeStore(path.join(home, 'packets', 'r.qisp'), packets)
    const r = await runCli(['publish', '--json', '--home', home, '--bootstrap', nodes[0].multiaddrs[0], '--yes'], {env: {QIS_BOOTSTRAP: ''}, timeoutMs: 90_000})
    expect(r.code).toBe(0)
    const before = await holdersOf(nodes)
    for (const p of packets) expect(before.get(p.id)).toBe(3)

    // Let every holder look at the key's replica set once (its first round checks the other holders
    // and logs `replicated`), then kill one holder without a clean stop.
    const holding = await nodesHolding(nodes, packets[0].id)
    expect(holding).toHaveLength(3)
    const first = await Promise.all(holding.map((n) => n.waitForEvent((e) => e.event === 'replicated', 60_000)))
    // Every holder already has every packet: the first rounds compare ids and send nothing the peer
    // holds (a probe of 4 packets per key and peer did, all answered `duplicate`). A holder whose
    // lookup saw a fourth node in the set may send it the key, all of it new to that node.
    expect(first.reduce((s, e) => s + (e.duplicates as number), 0)).toBe(0)
    expect(first.every((e) => (e.checkedIds as number) >= packets.length)).toBe(true)
    const victim = holding[0]
    await victim.stop('SIGKILL')
    const live = nodes.filter((n) => n !== victim)

    const deadline = Date.now() + 90_000
    let after = await holdersOf(live)
    while (Date.now() < deadline && packets.some((p) => (after.get(p.id) ?? 0) < 3)) {
      await new Promise((resolve) => setTimeout(resolve, 1000))
      after = await holdersOf(live)
    }
    // At least the target: two holders whose lookups saw the new closest set differently may each
    // push to a different newcomer, and a fourth copy is harmless (it expires with the packet).
    for (const p of packets) {
      expect(after.get(p.id)).toBeGreaterThanOrEqual(3)
      expect(after.get(p.id)).toBeLessThanOrEqual(live.length)
    }
    const pushed = live.flatMap((n) => n.events.filter((e) => e.event === 'replicated'))
    expect(pushed.reduce((s, e) => s + (e.stored as number), 0)).toBeGreaterThanOrEqual(packets.length)
    await stopAll(nodes)
  }, 240_000)

  it('qis publish --republish restores the replicas of a killed holder when nodes do not re-replicate', async () => {
    nodes = await startSwarm(4, {args: ['--no-replicate']})
    const packets = makePackets(signerFor('republish'), 10, {keyCount: 1})
    const home = tempDir('qis-pub-republish-')
    await fs.mkdir(path.join(home, 'packets'), {recursive: true})
    await writeStore(path.join(home, 'packets', 'r.qisp'), packets)
    // Through a node that is still alive after the kill below.
    let via = nodes[0]
    const publish = (extra: string[] = []) =>
      runCli(['publish', '--json', '--home', home, '--bootstrap', via.multiaddrs[0], '--yes', ...extra], {env: {QIS_BOOTSTRAP: ''}, timeoutMs: 90_000})
    expect((await publish()).code).toBe(0)
    // Chosen by what is on disk: a holder's `stored` line may not have reached us yet when publish exits.
    const victim = (await nodesHolding(nodes, packets[0].id))[0]
    await victim.stop('SIGKILL')
    const live = nodes.filter((n) => n !== victim)
    via = live[0]
    for (const p of packets) expect((await holdersOf(live)).get(p.id)).toBe(2)

    // A plain re-run trusts the journal and sends nothing.
    expect(JSON.parse((await publish()).stdout)).toMatchObject({pending: 0, skipped: 10})
    const r = await publish(['--republish'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({republish: true, published: 10, restored: 10, failed: 0})
    const after = await holdersOf(live)
    // At least the target: two holders whose lookups saw the new closest set differently may each
    // push to a different newcomer, and a fourth copy is harmless (it expires with the packet).
    for (const p of packets) {
      expect(after.get(p.id)).toBeGreaterThanOrEqual(3)
      expect(after.get(p.id)).toBeLessThanOrEqual(live.length)
    }
    // Nothing lost since: a second republish stores nothing new.
    expect(JSON.parse((await publish(['--republish'])).stdout)).toMatchObject({published: 10, restored: 0})
  }, 240_000)
})
