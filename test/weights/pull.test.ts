import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {ensureDir, openHome} from '../../src/config/home.js'
import {loadOrCreateIdentity} from '../../src/identity/identity.js'
import {signerFromIdentity} from '../../src/packet/signer.js'
import {PacketStoreWriter} from '../../src/packet/store.js'
import {DOMAIN_SUMMARY_HASH, summaryRoutingKey, summaryRoutingKeys, summaryShard} from '../../src/packet/summary.js'
import {PUBLISHER_RECORD_CAP, SUMMARY_RECORD_CAP} from '../../src/weights/synthesize.js'
import {type FetchedPackets, pullWeights} from '../../src/weights/pull.js'
import type {ReceivedPacket} from '../../src/weights/synthesize.js'
import {tempDir} from '../helpers/cli.js'
import {DOMAIN, NOW, SCHEME, fp, hashWithBits, packet, publisher, served} from './fixtures.js'

const A = publisher('a')
const B = publisher('b')

/** A home whose own store has queries under k1 and k2 (hash 0). */
async function homeWithQueries() {
  const home = await openHome(tempDir())
  const identity = await loadOrCreateIdentity(home)
  const me = signerFromIdentity(identity)
  await ensureDir(home.packetsDir)
  const w = await PacketStoreWriter.create(path.join(home.packetsDir, 'mine.qisp'))
  await w.append(packet(me, {outcome: 1, confidence: 1, timestamp: NOW - 3600, keys: ['k1', 'k2']}))
  await w.commit()
  return {home, identity, me}
}

/** Serves `packets` for whichever asked keys they were filed under, recording what was asked. */
function fakeSwarm(packets: ReceivedPacket[], over: Partial<FetchedPackets> = {}) {
  const asked: string[][] = []
  const fetch = async (keys: string[]): Promise<FetchedPackets> => {
    asked.push(keys)
    return {packets: packets.filter((p) => keys.includes(p.key)), peers: 3, failures: {}, unanswered: [], ...over}
  }
  return {asked, fetch}
}

describe('pullWeights', () => {
  it('asks the own keys, synthesises, and writes the weights file by hand computation', async () => {
    const {home, me} = await homeWithQueries()
    const swarm = fakeSwarm([
      served(packet(A, {outcome: 0.9, confidence: 0.8, timestamp: NOW - 600})),
      served(packet(B, {outcome: 0.5, confidence: 1, corrected: true, timestamp: NOW - 300, keys: ['k1', 'k2']}), 'k1'),
      served(packet(B, {outcome: 0.5, confidence: 1, corrected: true, timestamp: NOW - 300, keys: ['k1', 'k2']}), 'k2'),
      served(packet(me, {outcome: 0, confidence: 1, timestamp: NOW - 100})),
      served(packet(A, {outcome: 0, confidence: 1, timestamp: NOW - 100, hash: hashWithBits(40)})),
    ])
    const r = await pullWeights({home, ownEvidence: false, fetch: swarm.fetch, now: NOW})
    // The own keys, and the domain's summary shard keys (none answered here: nothing is written for them).
    expect(swarm.asked.map((keys) => [...keys].sort())).toEqual([[fp('k1'), fp('k2'), ...summaryRoutingKeys().map((rk) => fp(rk))].sort()])
    expect(r).toMatchObject({keysAsked: 10, summaryKeys: 8, peers: 3, received: 5, accepted: 3, refused: {OWN_PACKET: 1, NOT_NEAR: 1}, weightsWritten: 2, weightsKept: 0, previous: 'none'})
    const file = JSON.parse(readFileSync(home.weightsFile, 'utf8'))
    expect(file.scheme).toBe('test.cb16.v1')
    expect(file.generatedAt).toBe(new Date(NOW * 1000).toISOString())
    // Counted as a person counts them: 4 distinct packets, 2 of them used (5 packet-key deliveries).
    expect(r.packets).toEqual({received: 4, accepted: 2})
    // k1: A 0.72 and B (0.5 - 0.15) x 1 = 0.35, one record each: (0.72 + 0.35) / 2 = 0.535, whatever their timestamps.
    expect(file.weights[fp('k1')]).toEqual({
      weight: expect.closeTo(0.535, 12),
      packets: 2,
      publishers: 2,
      publisherIds: [A.hex.slice(0, 16), B.hex.slice(0, 16)].sort(),
      records: 2,
      lastTimestamp: NOW - 300,
      domain: DOMAIN,
      routingKey: 'k1',
      evidence: {mass: 2, success: expect.closeTo(0.625, 12), confidence: expect.closeTo(0.9, 12), publishers: 2},
      variants: {'llama3-8b-instruct': {mass: 2, success: expect.closeTo(0.625, 12), confidence: expect.closeTo(0.9, 12), publishers: 2}},
      queries: [{hash: hashWithBits(0), model: 'llama3-8b-instruct', mass: 2, success: expect.closeTo(0.625, 12), confidence: expect.closeTo(0.9, 12), publishers: 2}],
      newShare: 1,
    })
    // Both publishers are recorded as first seen now: new for a week.
    expect(r.publishersNew).toBe(2)
    expect(JSON.parse(readFileSync(path.join(home.root, 'publishers.json'), 'utf8'))).toEqual({version: 1, firstSeen: {[A.hex.slice(0, 16)]: NOW, [B.hex.slice(0, 16)]: NOW}})
    expect((await pullWeights({home, ownEvidence: false, fetch: swarm.fetch, now: NOW + 60})).publishersNew).toBe(0)
    expect(file.weights[fp('k2')]).toMatchObject({weight: expect.closeTo(0.35, 12), packets: 1, publishers: 1})
  })

  it('counts its own packets as evidence beside the peers\' (never new, never refused as its own), unless told not to', async () => {
    const {home, me} = await homeWithQueries()
    const swarm = fakeSwarm([
      served(packet(A, {outcome: 0, confidence: 1, timestamp: NOW - 600})),
      // The swarm's copy of an own packet is still not a peer's.
      served(packet(me, {outcome: 1, confidence: 1, timestamp: NOW - 3600, keys: ['k1', 'k2']})),
    ])
    const mine = Buffer.from(me.publicKey).toString('hex').slice(0, 16)
    const r = await pullWeights({home, fetch: swarm.fetch, now: NOW})
    expect(r).toMatchObject({received: 2, accepted: 1, refused: {OWN_PACKET: 1}, own: {packets: 1, accepted: 2}, publishersNew: 1})
    // Counts of what came from the swarm stay the swarm's: the own packets read from the stores are not in them.
    expect(r.packets).toEqual({received: 2, accepted: 1})
    const file = JSON.parse(readFileSync(home.weightsFile, 'utf8'))
    // k1: A's failure and the own success, one record each. A is new, but only peers bound each
    // other: beside its own record alone a node does not hold its first peers down.
    expect(file.weights[fp('k1')]).toMatchObject({publishers: 2, publisherIds: [A.hex.slice(0, 16), mine].sort(), evidence: {mass: 2, success: 0.5}, newShare: 0.5})
    // k2 has only the own packet.
    expect(file.weights[fp('k2')]).toMatchObject({publishers: 1, evidence: {mass: 1, success: 1}})
    // This node is not recorded as a peer it has seen.
    expect(Object.keys(JSON.parse(readFileSync(path.join(home.root, 'publishers.json'), 'utf8')).firstSeen)).toEqual([A.hex.slice(0, 16)])
    const peersOnly = await pullWeights({home, ownEvidence: false, fetch: swarm.fetch, now: NOW})
    expect(peersOnly.own).toEqual({packets: 0, accepted: 0})
    const again = JSON.parse(readFileSync(home.weightsFile, 'utf8'))
    expect(again.weights[fp('k1')]).toMatchObject({publishers: 1, evidence: {mass: 1, success: 0}})
    expect(again.weights[fp('k2')]).toBeUndefined()
  })

  it('files peers\' domain summaries under their shard keys: capped, no per-query entries, a summary under another shard refused', async () => {
    const {home} = await homeWithQueries()
    const summary = (who: typeof A, spec: {outcome: number; count: number; shard?: number; keys?: string[]}) =>
      packet(who, {outcome: spec.outcome, confidence: 0.5, timestamp: NOW - 600, count: spec.count, hash: DOMAIN_SUMMARY_HASH, keys: spec.keys ?? [summaryRoutingKey(spec.shard ?? summaryShard(who.publicKey))]})
    const aKey = summaryRoutingKey(summaryShard(A.publicKey))
    const bKey = summaryRoutingKey(summaryShard(B.publicKey))
    const wrongShard = (summaryShard(A.publicKey) + 1) % 8
    const swarm = fakeSwarm([
      served(summary(A, {outcome: 0.9, count: 1000}), aKey),
      served(summary(B, {outcome: 0.2, count: 10}), bKey),
      // A second summary of A under another shard would count A twice in the domain.
      served(summary(A, {outcome: 0.9, count: 1000, shard: wrongShard}), summaryRoutingKey(wrongShard)),
      // A record filed under a summary key beside a query key is not a summary.
      served(packet(B, {outcome: 1, confidence: 1, timestamp: NOW - 600, keys: ['k1', bKey]}), bKey),
    ])
    const r = await pullWeights({home, ownEvidence: false, fetch: swarm.fetch, now: NOW})
    expect(r).toMatchObject({summaryKeys: 8, accepted: 2, refused: {NOT_SUMMARY: 2}})
    const file = JSON.parse(readFileSync(home.weightsFile, 'utf8'))
    const entryA = file.weights[fp(aKey)]
    expect(entryA).toMatchObject({routingKey: aKey, domain: DOMAIN, records: 1000, queries: []})
    // 1,000 records count as SUMMARY_RECORD_CAP, not as PUBLISHER_RECORD_CAP (a key's) nor as 1,000.
    expect(entryA.variants['llama3-8b-instruct'].mass).toBe(SUMMARY_RECORD_CAP)
    expect(SUMMARY_RECORD_CAP).toBeGreaterThan(PUBLISHER_RECORD_CAP)
    expect(file.weights[fp(bKey)].variants['llama3-8b-instruct']).toMatchObject({mass: 10, success: expect.closeTo(0.2, 12)})
  })

  it('keeps entries of keys not asked or not answered, drops answered keys with nothing left', async () => {
    const {home} = await homeWithQueries()
    const first = fakeSwarm([served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 600})), served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 600, keys: ['k2']}), 'k2')])
    await pullWeights({home, ownEvidence: false, fetch: first.fetch, now: NOW})
    // Plant an entry for a key this node no longer asks about.
    const planted = JSON.parse(readFileSync(home.weightsFile, 'utf8'))
    const evidence = {mass: 1, success: 0.2, confidence: 1, publishers: 1}
    planted.weights[fp('gone')] = {weight: 0.2, packets: 1, publishers: 1, publisherIds: ['00000000000000aa'], records: 1, lastTimestamp: NOW - 9000, domain: DOMAIN, routingKey: 'gone', evidence, variants: {}, queries: [], newShare: 0}
    const {writeWeightsFile} = await import('../../src/weights/file.js')
    await writeWeightsFile(home.weightsFile, planted)
    // Second pull: k1 answered but empty, k2 unanswered (peers down).
    const second = fakeSwarm([], {unanswered: [fp('k2')], failures: {TIMEOUT: 2}})
    const r = await pullWeights({home, ownEvidence: false, fetch: second.fetch, now: NOW})
    expect(r).toMatchObject({weightsWritten: 0, weightsKept: 2, previous: 'merged', keysUnanswered: 1, fetchFailures: {TIMEOUT: 2}})
    const file = JSON.parse(readFileSync(home.weightsFile, 'utf8'))
    expect(Object.keys(file.weights).sort()).toEqual([fp('gone'), fp('k2')].sort())
  })

  it('an incomplete answer neither replaces nor drops a previous weight (issue 21 item 3)', async () => {
    const {home} = await homeWithQueries()
    const first = fakeSwarm([served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 600})), served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 600, keys: ['k2']}), 'k2')])
    await pullWeights({home, ownEvidence: false, fetch: first.fetch, now: NOW})
    const before = JSON.parse(readFileSync(home.weightsFile, 'utf8'))
    // k1 came back truncated with a flood's worth of other packets; k2 truncated with nothing at all.
    const second = fakeSwarm([served(packet(B, {outcome: 0, confidence: 1, timestamp: NOW - 60}))], {incomplete: [fp('k1'), fp('k2')], failures: {TRUNCATED: 2}})
    const r = await pullWeights({home, ownEvidence: false, fetch: second.fetch, now: NOW})
    expect(r).toMatchObject({weightsWritten: 0, weightsKept: 2, keysIncomplete: 2, keysUnanswered: 0})
    expect(JSON.parse(readFileSync(home.weightsFile, 'utf8')).weights).toEqual(before.weights)
  })

  it('an incomplete key with no previous weight gets what was received', async () => {
    const {home} = await homeWithQueries()
    const r = await pullWeights({home, ownEvidence: false, fetch: fakeSwarm([served(packet(B, {outcome: 1, confidence: 1, timestamp: NOW - 60}))], {incomplete: [fp('k1')]}).fetch, now: NOW})
    expect(r).toMatchObject({weightsWritten: 1, keysIncomplete: 1})
  })

  it('replaces a weights file of another scheme', async () => {
    const {home} = await homeWithQueries()
    const {writeWeightsFile} = await import('../../src/weights/file.js')
    const evidence = {mass: 1, success: 0.1, confidence: 1, publishers: 1}
    await writeWeightsFile(home.weightsFile, {version: 2, scheme: 'old.v0', generatedAt: new Date().toISOString(), hammingThreshold: 22, weights: {[fp('x', DOMAIN, 'old.v0')]: {weight: 0.1, packets: 1, publishers: 1, publisherIds: ['00000000000000aa'], records: 1, lastTimestamp: 1, domain: DOMAIN, routingKey: 'x', evidence, variants: {m: evidence}, queries: [], newShare: 0}}})
    const r = await pullWeights({home, ownEvidence: false, fetch: fakeSwarm([served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 60}))]).fetch, now: NOW})
    expect(r.previous).toBe('replaced-other-scheme')
    expect(Object.keys(JSON.parse(readFileSync(home.weightsFile, 'utf8')).weights)).toEqual([fp('k1')])
  })

  it('replaces a version 1 weights file (no per-model evidence) instead of failing', async () => {
    const {home} = await homeWithQueries()
    writeFileSync(home.weightsFile, JSON.stringify({version: 1, scheme: SCHEME, generatedAt: new Date().toISOString(), hammingThreshold: 22, weights: {}}))
    const r = await pullWeights({home, ownEvidence: false, fetch: fakeSwarm([served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 60}))]).fetch, now: NOW})
    expect(r.previous).toBe('replaced-old-version')
    expect(JSON.parse(readFileSync(home.weightsFile, 'utf8')).version).toBe(2)
  })

  it('refuses to run with nothing to ask, before touching the swarm', async () => {
    const home = await openHome(tempDir())
    const swarm = fakeSwarm([])
    await expect(pullWeights({home, ownEvidence: false, fetch: swarm.fetch, now: NOW})).rejects.toThrow(/nothing to ask the swarm.*run `qis distill` first/)
    expect(swarm.asked).toEqual([])
  })

  it('leaves the weights file alone when interrupted mid-fetch', async () => {
    const {home} = await homeWithQueries()
    const controller = new AbortController()
    const fetch = (_keys: string[], signal?: AbortSignal) =>
      new Promise<FetchedPackets>((_resolve, reject) => {
        signal!.addEventListener('abort', () => reject(signal!.reason))
        setTimeout(() => controller.abort(new Error('SIGINT')), 10)
      })
    await expect(pullWeights({home, ownEvidence: false, fetch, signal: controller.signal, now: NOW})).rejects.toMatchObject({code: 'INTERRUPTED', exitCode: 130})
    const {existsSync} = await import('node:fs')
    expect(existsSync(home.weightsFile)).toBe(false)
  })

  it('names the field of a damaged weights file instead of overwriting it', async () => {
    const {home} = await homeWithQueries()
    const {writeFileSync} = await import('node:fs')
    writeFileSync(home.weightsFile, JSON.stringify({version: 2, scheme: 's', generatedAt: 'yesterday', hammingThreshold: 22, weights: {}}))
    await expect(pullWeights({home, ownEvidence: false, fetch: fakeSwarm([]).fetch, now: NOW})).rejects.toThrow(/weights file .*weights\.json: field "generatedAt": must be an ISO date/)
  })
})
