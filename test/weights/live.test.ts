import {summaryRoutingKeys} from '../../src/packet/summary.js'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {ensureDir, openHome} from '../../src/config/home.js'
import {loadOrCreateIdentity} from '../../src/identity/identity.js'
import {signerFromIdentity} from '../../src/packet/signer.js'
import {PacketStoreWriter} from '../../src/packet/store.js'
import {type QueryHasher, createAdjuster} from '../../src/weights/adjust.js'
import {readWeightsFile} from '../../src/weights/file.js'
import {LiveLookup} from '../../src/weights/live.js'
import {type FetchedPackets, pullWeights} from '../../src/weights/pull.js'
import {readQueriesFile} from '../../src/weights/queries.js'
import type {ReceivedPacket} from '../../src/weights/synthesize.js'
import {tempDir} from '../helpers/cli.js'
import {DOMAIN, HASH0, NOW, SCHEME, fp, hashWithBits, packet, publisher, served} from './fixtures.js'

const A = publisher('a')
const B = publisher('b')
const ME = publisher('me')
const identity = (t: string) => ({text: t})

/** Queries hash to the codes given; anything else to no keys. */
function fakeHasher(codes: Record<string, {hash: string; keys: string[]}>): QueryHasher {
  return {
    async hashMany(texts) {
      return texts.map((t) => codes[t] ?? {hash: HASH0, keys: []})
    },
    async close() {},
  }
}

/** Serves `packets` under the keys asked, recording every request. */
function fakeSwarm(packets: ReceivedPacket[], options: {hang?: boolean} = {}) {
  const asked: string[][] = []
  const fetch = async (keys: string[]): Promise<FetchedPackets> => {
    asked.push([...keys].sort())
    if (options.hang) return new Promise(() => {})
    const out = packets.filter((p) => keys.includes(p.key))
    return {packets: out, peers: 2, failures: {}, unanswered: keys.filter((k) => !out.some((p) => p.key === k))}
  }
  return {asked, fetch}
}

const QUERY = 'how is stage II colon cancer treated'

describe('live lookup in the adjuster', () => {
  it('asks the swarm about keys the file lacks, synthesises them around the query alone, and reuses what it fetched', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'weights.json')
    // Peers were right on this question (k1, near the query) far more often than they expected.
    const swarm = fakeSwarm([
      served(packet(A, {outcome: 1, confidence: 0.5, timestamp: NOW - 600, keys: ['k1', 'k2']}), 'k1'),
      served(packet(B, {outcome: 1, confidence: 0.5, timestamp: NOW - 500, keys: ['k1']}), 'k1'),
      // Far from the query (40 bits): refused by the closeness filter, whatever it says.
      served(packet(B, {outcome: 0, confidence: 0.5, timestamp: NOW - 400, keys: ['k1'], hash: hashWithBits(40)}), 'k1'),
      // Our own packet: never peer evidence.
      served(packet(ME, {outcome: 0, confidence: 0.5, timestamp: NOW - 300, keys: ['k1']}), 'k1'),
    ])
    const live = new LiveLookup({fetch: swarm.fetch, ownPublicKey: ME.hex, now: () => NOW})
    const adjuster = await createAdjuster({weights: file, hasher: {pipeline: fakeHasher({[QUERY]: {hash: HASH0, keys: ['k1', 'k2']}}), scheme: SCHEME}, scrubber: {scrub: identity}, live, persist: true})
    const r = await adjuster.adjust(QUERY, {domain: DOMAIN, confidence: 0.5})
    expect(swarm.asked).toEqual([[fp('k1'), fp('k2')].sort()])
    expect(r.live).toEqual({keysFetched: 2, keysCached: 0, keysUnanswered: 1, keysLive: 1})
    expect(r.keysMatched).toBe(1)
    // Two peers, right twice where they expected 0.5: the estimate rises above the confidence.
    expect(r.evidence).toMatchObject({mass: 2, success: 1, confidence: 0.5, publishers: 2})
    expect(r.probability).toBeGreaterThan(0.5)
    // Written back for the next process; nothing about the query's text is in the file.
    const written = await readWeightsFile(file)
    expect(Object.keys(written.weights)).toEqual([fp('k1')])
    expect(readFileSync(file, 'utf8')).not.toContain('colon')
    // The same keys again: the file knows k1 now, k2 is remembered as empty: no second request.
    const again = await adjuster.adjust(QUERY, {domain: DOMAIN, confidence: 0.5})
    expect(swarm.asked).toHaveLength(1)
    expect(again.probability).toBeCloseTo(r.probability, 12)
    await adjuster.close()
  })

  it('centres closeness on each query: a batch does not let one query borrow another\'s neighbours', async () => {
    const far = hashWithBits(40)
    const swarm = fakeSwarm([
      served(packet(A, {outcome: 0, confidence: 0.9, timestamp: NOW - 600, keys: ['k1'], hash: far}), 'k1'),
    ])
    const live = new LiveLookup({fetch: swarm.fetch, ownPublicKey: ME.hex, now: () => NOW})
    const hasher = fakeHasher({near: {hash: HASH0, keys: ['k1']}, other: {hash: far, keys: ['k1']}})
    const adjuster = await createAdjuster({weights: {version: 2, scheme: SCHEME, generatedAt: new Date(NOW * 1000).toISOString(), hammingThreshold: 18, weights: {}}, hasher: {pipeline: hasher, scheme: SCHEME}, scrubber: {scrub: identity}, live})
    const [near, other] = await adjuster.adjustMany([
      {query: 'near', domain: DOMAIN, confidence: 0.9},
      {query: 'other', domain: DOMAIN, confidence: 0.9},
    ])
    expect(swarm.asked).toEqual([[fp('k1')]])
    expect(near.keysMatched).toBe(0)
    expect(near.probability).toBe(0.9)
    expect(other.keysMatched).toBe(1)
    expect(other.probability).toBeLessThan(0.9)
    await adjuster.close()
  })

  it('falls back to the file alone when the swarm does not answer in time', async () => {
    const swarm = fakeSwarm([], {hang: true})
    const live = new LiveLookup({fetch: swarm.fetch, ownPublicKey: ME.hex, timeoutMs: 50, now: () => NOW})
    const adjuster = await createAdjuster({weights: path.join(tempDir(), 'none.json'), hasher: {pipeline: fakeHasher({[QUERY]: {hash: HASH0, keys: ['k1']}}), scheme: SCHEME}, scrubber: {scrub: identity}, live})
    const r = await adjuster.adjust(QUERY, {domain: DOMAIN, confidence: 0.7})
    expect(r.live).toMatchObject({keysFetched: 0, keysLive: 0, failed: 'no answer within 50 ms'})
    expect(r.adjustment).toBe(0)
    expect(live.totals.failures).toBe(1)
    await adjuster.close()
  })
})

describe('pull-weights with queries', () => {
  it('asks about the queries\' keys besides the own packets\', closeness centred on either', async () => {
    const home = await openHome(tempDir())
    const me = signerFromIdentity(await loadOrCreateIdentity(home))
    await ensureDir(home.packetsDir)
    const w = await PacketStoreWriter.create(path.join(home.packetsDir, 'mine.qisp'))
    await w.append(packet(me, {outcome: 1, confidence: 1, timestamp: NOW - 3600, keys: ['k1']}))
    await w.commit()
    const q = hashWithBits(30)
    const swarm = fakeSwarm([
      served(packet(A, {outcome: 1, confidence: 0.5, timestamp: NOW - 600, keys: ['k1']}), 'k1'),
      // Near the query (not our own past one) under k1, and under the query's own key k3.
      served(packet(B, {outcome: 0, confidence: 0.5, timestamp: NOW - 600, keys: ['k1', 'k3'], hash: q}), 'k1'),
      served(packet(B, {outcome: 0, confidence: 0.5, timestamp: NOW - 600, keys: ['k1', 'k3'], hash: q}), 'k3'),
    ])
    const r = await pullWeights({home, ownEvidence: false, fetch: swarm.fetch, now: NOW, queries: [{query: 'next question', domain: DOMAIN}], hasher: {pipeline: fakeHasher({'next question': {hash: q, keys: ['k1', 'k3']}}), scheme: SCHEME}, scrubber: {scrub: identity}})
    // The domain's summary shard keys too (docs/protocol.md, "Domain summaries").
    expect(swarm.asked).toEqual([[fp('k1'), fp('k3'), ...summaryRoutingKeys().map((rk) => fp(rk))].sort()])
    expect(r).toMatchObject({keysAsked: 10, summaryKeys: 8, queries: {read: 1, keys: 2}, accepted: 3, weightsWritten: 2})
    const file = await readWeightsFile(home.weightsFile)
    expect(file.weights[fp('k1')].publishers).toBe(2)
    expect(file.weights[fp('k3')].evidence).toMatchObject({mass: 1, success: 0})
  })

  it('needs no own packets when queries are given, and says so when there is neither', async () => {
    const home = await openHome(tempDir())
    const swarm = fakeSwarm([served(packet(A, {outcome: 1, confidence: 0.5, timestamp: NOW - 600, keys: ['k1']}), 'k1')])
    const hasher = {pipeline: fakeHasher({q: {hash: HASH0, keys: ['k1']}}), scheme: SCHEME}
    const r = await pullWeights({home, ownEvidence: false, fetch: swarm.fetch, now: NOW, queries: [{query: 'q', domain: DOMAIN}], hasher, scrubber: {scrub: identity}})
    // A query's domain is asked for its summaries, though no own packet is in it.
    expect(r).toMatchObject({keysAsked: 9, summaryKeys: 8, weightsWritten: 1, scheme: SCHEME})
    await expect(pullWeights({home, ownEvidence: false, fetch: swarm.fetch, now: NOW, queries: [], hasher, scrubber: {scrub: identity}})).rejects.toThrow(/nothing to ask the swarm.*and no queries/)
  })
})

describe('readQueriesFile', () => {
  const scrubber = {scrub: (t: string) => ({text: t.replace(/Jane Doe/g, '[PERSON]')})}
  it('reads JSONL with a domain per line or plain text with --domain, naming the line and field of a bad one', async () => {
    const dir = tempDir()
    const jsonl = path.join(dir, 'q.jsonl')
    writeFileSync(jsonl, '{"query": "first?", "domain": "Clinical Oncology"}\n\n{"prompt": "second?"}\n')
    expect(await readQueriesFile(jsonl, {domain: 'general', scrubber})).toEqual([
      {query: 'first?', domain: 'clinical_oncology', line: 1},
      {query: 'second?', domain: 'general', line: 3},
    ])
    await expect(readQueriesFile(jsonl, {scrubber})).rejects.toThrow(`${jsonl}:3: field "domain": missing`)
    writeFileSync(jsonl, '{"query": "x", "domain": "Jane Doe"}\n')
    await expect(readQueriesFile(jsonl, {scrubber})).rejects.toThrow(`${jsonl}:1: field "domain": "Jane Doe" cannot be a domain`)
    writeFileSync(jsonl, '{"query": ""}\n')
    await expect(readQueriesFile(jsonl, {domain: 'd', scrubber})).rejects.toThrow(`${jsonl}:1: field "query": must be non-empty text`)
    const text = path.join(dir, 'q.txt')
    writeFileSync(text, 'one\ntwo\n')
    expect((await readQueriesFile(text, {domain: 'legal', scrubber})).map((q) => q.query)).toEqual(['one', 'two'])
    await expect(readQueriesFile(path.join(dir, 'none'), {scrubber})).rejects.toMatchObject({code: 'INPUT_NOT_FOUND'})
  })
})
