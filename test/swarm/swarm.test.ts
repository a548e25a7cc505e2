import {generateKeyPair} from '@libp2p/crypto/keys'
import {spawn} from 'node:child_process'
import {promises as fs} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {packetId} from '../../src/packet/codec.js'
import {readStoreFile} from '../../src/packet/store.js'
import {fetchPackets, openSwarmClient} from '../../src/swarm/client.js'
import {JOURNAL_FILE} from '../../src/swarm/journal.js'
import {STORE_PROTOCOL, decodeStoreResponse, encodeStoreRequest, readOneFrame, writeFrame} from '../../src/swarm/protocol.js'
import {STORAGE_FILE} from '../../src/swarm/storage.js'
import {repoRoot, runCli, runJs, tempDir} from '../helpers/cli.js'
import {type NodeProcess, portOf, startNode, startSwarm, stopAll, waitForFullRouting} from '../helpers/swarm.js'
import {makePacket, makePackets, signerFor, type TestPacket, writeStore} from './fixtures.js'

// Real `qis node` processes on 127.0.0.1, publishing through the real CLI (bin/run.js -> dist/).
// Run `npm run build` first.

let nodes: NodeProcess[] = []

/** Packet id -> how many times it appears in each node's log (a node must hold a packet at most once). */
async function copiesOnNodes(list: NodeProcess[]): Promise<{perNode: Map<string, number>[]; holders: Map<string, number>}> {
  const perNode: Map<string, number>[] = []
  const holders = new Map<string, number>()
  for (const n of list) {
    const counts = new Map<string, number>()
    try {
      for await (const e of readStoreFile(path.join(n.home, 'node', STORAGE_FILE))) {
        if (e.kind !== 'packet') continue
        const id = packetId(e.bytes)
        counts.set(id, (counts.get(id) ?? 0) + 1)
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    for (const id of counts.keys()) holders.set(id, (holders.get(id) ?? 0) + 1)
    perNode.push(counts)
  }
  return {perNode, holders}
}

async function fetchAll(bootstrap: string, packets: TestPacket[]): Promise<Set<string>> {
  const client = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [bootstrap]})
  try {
    const keys = [...new Set(packets.flatMap((p) => p.keys))]
    const result = await fetchPackets(client, keys)
    return new Set(result.packets.map((p) => packetId(p.bytes)))
  } finally {
    await client.close()
  }
}

async function publisherHome(name: string, packets: TestPacket[]): Promise<string> {
  const home = tempDir(`qis-pub-${name}-`)
  await fs.mkdir(path.join(home, 'packets'), {recursive: true})
  await writeStore(path.join(home, 'packets', `${name}.qisp`), packets)
  return home
}

const publish = (home: string, extra: string[] = []) =>
  runCli(['publish', '--json', '--home', home, '--bootstrap', nodes[0].multiaddrs[0], '--yes', ...extra], {env: {QIS_BOOTSTRAP: ''}, timeoutMs: 180_000})

describe('swarm of qis node processes', () => {
  beforeAll(async () => {
    nodes = await startSwarm(4)
  }, 180_000)

  afterAll(async () => {
    await stopAll(nodes)
  })

  const first = makePackets(signerFor('publisher-1'), 60, {keyCount: 10})

  it('publishes a store: every packet on >= 3 peers, once each, and retrievable through a node that did not receive it', async () => {
    const home = await publisherHome('first', first)
    const r = await publish(home)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const summary = JSON.parse(r.stdout)
    expect(summary).toMatchObject({published: 60, failed: 0, skipped: 0, keys: 10, failures: {}})
    expect(summary.peers).toBeGreaterThanOrEqual(3)

    const {perNode, holders} = await copiesOnNodes(nodes)
    for (const p of first) expect(holders.get(p.id) ?? 0).toBeGreaterThanOrEqual(3)
    for (const counts of perNode) for (const c of counts.values()) expect(c).toBe(1)

    // Ask through the node holding the fewest of these packets, from a fresh client.
    const leastLoaded = nodes[perNode.map((m) => m.size).indexOf(Math.min(...perNode.map((m) => m.size)))]
    const fetched = await fetchAll(leastLoaded.multiaddrs[0], first)
    for (const p of first) expect(fetched.has(p.id)).toBe(true)

    // A re-run has nothing left to send.
    const again = await publish(home)
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({published: 0, pending: 0, skipped: 60, failed: 0})
  }, 240_000)

  it('a second publisher of the same packets (empty journal) stores nothing twice', async () => {
    const before = await copiesOnNodes(nodes)
    const home = await publisherHome('dup', first)
    const r = await publish(home)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({published: 60, failed: 0})
    const after = await copiesOnNodes(nodes)
    expect(after.perNode.map((m) => m.size)).toEqual(before.perNode.map((m) => m.size))
    for (const counts of after.perNode) for (const c of counts.values()) expect(c).toBe(1)
  }, 240_000)

  it('refuses forged, expired and wrong-key packets with counted reasons, and stores the honest one', async () => {
    const signer = signerFor('mallory')
    const good = makePacket(signer, 500)
    const forged = new Uint8Array(good.bytes)
    forged[forged.length - 1] ^= 0x01
    const expired = makePacket(signer, 501, {routingKeys: good.routingKeys, timestamp: Math.floor(Date.now() / 1000) - 10_000, ttlHours: 1})
    const wrongKey = makePacket(signer, 502, {routingKeys: ['somewhere-else']})
    const target = nodes[1]
    const client = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [target.multiaddrs[0]]})
    try {
      const {peerIdFromString} = await import('@libp2p/peer-id')
      const stream = await client.node.libp2p.dialProtocol(peerIdFromString(target.peerId), STORE_PROTOCOL, {signal: AbortSignal.timeout(10_000)})
      await writeFrame(stream, encodeStoreRequest({key: good.keys[0], packets: [forged, expired.bytes, wrongKey.bytes, good.bytes]}))
      await stream.close()
      const response = decodeStoreResponse(await readOneFrame(stream), 4)
      expect(response.results).toEqual(['BAD_SIGNATURE', 'EXPIRED', 'KEY_MISMATCH', 'stored'])
    } finally {
      await client.close()
    }
    const event = await target.waitForEvent((e) => e.event === 'stored' && e.key === good.keys[0] && (e.refused as Record<string, number>).BAD_SIGNATURE === 1)
    expect(event).toMatchObject({stored: 1, refused: {BAD_SIGNATURE: 1, EXPIRED: 1, KEY_MISMATCH: 1}})
  }, 60_000)

  it('a restarted node keeps its packets and serves them again', async () => {
    const victim = nodes[2]
    const held = (await copiesOnNodes([victim])).perNode[0].size
    expect(held).toBeGreaterThan(0)
    expect(await victim.stop()).toBe(0)
    const stopped = victim.events.find((e) => e.event === 'stopped')
    expect((stopped?.storage as {packets: number}).packets).toBe(held)
    const restarted = await startNode({home: victim.home, port: portOf(victim), bootstrap: [nodes[0].multiaddrs[0]]})
    nodes[2] = restarted
    expect(restarted.peerId).toBe(victim.peerId)
    const started = restarted.events.find((e) => e.event === 'started')
    expect(started?.packets).toBe(held)
    // The tests after this one publish to three replicas: the restarted node must be back in every table.
    await waitForFullRouting(nodes)
  }, 120_000)

  it('kill -9 of publish mid-way, then a re-run: every packet delivered, once per peer', async () => {
    const many = makePackets(signerFor('publisher-kill'), 1500, {keyCount: 40, offset: 10_000})
    const home = await publisherHome('kill', many)
    const journal = path.join(home, 'journal', JOURNAL_FILE)
    const child = spawn(process.execPath, [runJs, 'publish', '--json', '--yes', '--home', home, '--bootstrap', nodes[0].multiaddrs[0], '--concurrency', '2', '--batch-size', '16'], {
      cwd: repoRoot,
      env: {...process.env, QIS_BOOTSTRAP: ''},
      stdio: 'ignore',
    })
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()))
    // Kill it once some but not all of the work is journaled.
    const deadline = Date.now() + 60_000
    let lines = 0
    while (Date.now() < deadline) {
      lines = (await fs.readFile(journal, 'utf8').catch(() => '')).split('\n').length - 1
      if (lines >= 100) break
      await new Promise((r) => setTimeout(r, 50))
    }
    child.kill('SIGKILL')
    await exited
    expect(lines).toBeGreaterThanOrEqual(100)
    expect(lines).toBeLessThan(many.length * 2)

    // What the killed run journaled (it may have written a little more after we looked).
    const journaled = (await fs.readFile(journal, 'utf8')).split('\n').filter(Boolean).length
    const pairs = many.reduce((n, p) => n + p.keys.length, 0)
    const r = await publish(home)
    const summary = JSON.parse(r.stdout)
    expect(summary.failures).toEqual({})
    expect(r.code).toBe(0)
    expect(summary.failed).toBe(0)
    expect(summary.published + summary.skipped).toBe(many.length)
    // The re-run sent exactly the pairs the killed run had not journaled.
    expect(summary.deliveries).toBe(pairs - journaled)

    const {perNode, holders} = await copiesOnNodes(nodes)
    for (const p of many) expect(holders.get(p.id) ?? 0).toBeGreaterThanOrEqual(3)
    for (const counts of perNode) for (const c of counts.values()) expect(c).toBe(1)
  }, 300_000)

  it('with a node down the publish reports failures or routes around it; after a restart a re-run completes and all is retrievable', async () => {
    const down = nodes[3]
    expect(await down.stop()).toBe(0)
    const packets = makePackets(signerFor('publisher-down'), 80, {keyCount: 12, offset: 50_000})
    const home = await publisherHome('down', packets)
    const r1 = await publish(home, ['--retries', '1'])
    const s1 = JSON.parse(r1.stdout)
    // Four nodes with one down: three replicas are only reachable for keys whose three closest are all up.
    expect(s1.published + s1.failed).toBe(80)
    if (s1.failed > 0) {
      expect(r1.code).toBe(1)
      expect(Object.keys(s1.failures).length).toBeGreaterThan(0)
    } else expect(r1.code).toBe(0)

    nodes[3] = await startNode({home: down.home, port: portOf(down), bootstrap: [nodes[0].multiaddrs[0]]})
    await waitForFullRouting(nodes)
    const r2 = await publish(home)
    expect(r2.code).toBe(0)
    const s2 = JSON.parse(r2.stdout)
    expect(s2.failed).toBe(0)
    expect(s2.published + s2.skipped).toBe(80)
    const fetched = await fetchAll(nodes[3].multiaddrs[0], packets)
    for (const p of packets) expect(fetched.has(p.id)).toBe(true)
  }, 300_000)
})
