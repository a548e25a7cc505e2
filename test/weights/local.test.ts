import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {PacketStoreWriter} from '../../src/packet/store.js'
import {DOMAIN_SUMMARY_HASH, isSummaryRoutingKey, summaryRoutingKey, summaryRoutingKeys, summaryShard} from '../../src/packet/summary.js'
import type {AskedKey} from '../../src/weights/synthesize.js'
import {collectLocalKeys} from '../../src/weights/local.js'
import {tempDir} from '../helpers/cli.js'
import {DOMAIN, NOW, SCHEME, fp, hashWithBits, packet, publisher} from './fixtures.js'

const ME = publisher('me')

/** The asked keys of queries, without the domain summary shard keys every asked domain gets. */
const queryKeys = (keys: AskedKey[]) => keys.filter((k) => !isSummaryRoutingKey(k.routingKey))

async function store(dir: string, name: string, packets: Uint8Array[]): Promise<void> {
  const w = await PacketStoreWriter.create(path.join(dir, name))
  for (const p of packets) await w.append(p)
  await w.commit()
}

describe('collectLocalKeys', () => {
  it('asks each own packet\'s keys in its domain, with the fine hashes of the queries under each key', async () => {
    const dir = tempDir()
    await store(dir, 'a.qisp', [
      packet(ME, {outcome: 1, confidence: 1, timestamp: NOW - 100, keys: ['k1', 'k2'], hash: hashWithBits(1)}),
      packet(ME, {outcome: 1, confidence: 1, timestamp: NOW - 90, keys: ['k2'], hash: hashWithBits(2)}),
    ])
    await store(dir, 'b.qisp', [packet(ME, {outcome: 1, confidence: 1, timestamp: NOW - 80, keys: ['k3'], domain: 'legal', hash: hashWithBits(3)})])
    const local = await collectLocalKeys({packetsDir: dir, now: NOW})
    expect(local.scheme).toBe(SCHEME)
    expect(local.stores).toBe(2)
    expect(local.packetsUsed).toBe(3)
    const byFp = new Map(queryKeys(local.keys).map((k) => [k.fingerprint, k]))
    expect(byFp.size).toBe(3)
    // Each domain asked about is asked for all its summary shard keys, with no closeness filter.
    const shards = local.keys.filter((k) => isSummaryRoutingKey(k.routingKey))
    expect(shards.map((k) => `${k.domain}/${k.routingKey}`).sort()).toEqual([...summaryRoutingKeys().map((rk) => `${DOMAIN}/${rk}`), ...summaryRoutingKeys().map((rk) => `legal/${rk}`)].sort())
    expect(shards.every((k) => k.localHashes === undefined && k.fingerprint === fp(k.routingKey, k.domain))).toBe(true)
    expect(byFp.get(fp('k1'))?.localHashes).toEqual([hashWithBits(1)])
    expect(byFp.get(fp('k2'))?.localHashes).toEqual([hashWithBits(1), hashWithBits(2)])
    expect(byFp.get(fp('k3', 'legal'))).toMatchObject({domain: 'legal', routingKey: 'k3', localHashes: [hashWithBits(3)]})
    // k3 was never asked in the oncology domain: no own oncology packet has it.
    expect(byFp.has(fp('k3'))).toBe(false)
  })

  it('asks focus domains for every own key, and --domain keeps one domain', async () => {
    const dir = tempDir()
    await store(dir, 'a.qisp', [
      packet(ME, {outcome: 1, confidence: 1, timestamp: NOW - 100, keys: ['k1']}),
      packet(ME, {outcome: 1, confidence: 1, timestamp: NOW - 100, keys: ['k2'], domain: 'legal'}),
    ])
    const focus = await collectLocalKeys({packetsDir: dir, now: NOW, domainFocus: ['clinical.diagnostics']})
    expect(queryKeys(focus.keys).map((k) => `${k.domain}/${k.routingKey}`).sort()).toEqual([
      'clinical.diagnostics/k1',
      'clinical.diagnostics/k2',
      `${DOMAIN}/k1`,
      'legal/k2',
    ])
    const only = await collectLocalKeys({packetsDir: dir, now: NOW, domainFocus: ['clinical.diagnostics'], domain: 'legal'})
    expect(queryKeys(only.keys).map((k) => `${k.domain}/${k.routingKey}`)).toEqual(['legal/k2'])
    // A --domain with no own packets is asked for every own key, like a focus domain.
    const other = await collectLocalKeys({packetsDir: dir, now: NOW, domain: 'finance'})
    expect(queryKeys(other.keys).map((k) => `${k.domain}/${k.routingKey}`)).toEqual(['finance/k1', 'finance/k2'])
    expect(other.keys.filter((k) => isSummaryRoutingKey(k.routingKey)).map((k) => k.domain)).toEqual(Array(8).fill('finance'))
    await expect(collectLocalKeys({packetsDir: dir, now: NOW, domain: 'Not A Label'})).rejects.toMatchObject({
      code: 'BAD_LABEL',
      message: expect.stringMatching(/^--domain: domain "Not A Label" may contain only/),
      hint: expect.stringMatching(/^Use --domain not_a_label\. /),
    })
  })

  it('skips expired packets, packets older than --since, and older schemes', async () => {
    const dir = tempDir()
    await store(dir, 'a.qisp', [
      packet(ME, {outcome: 1, confidence: 1, timestamp: NOW - 200 * 3600, keys: ['old'], ttlHours: 168}),
      packet(ME, {outcome: 1, confidence: 1, timestamp: NOW - 50 * 3600, keys: ['k-50h']}),
      packet(ME, {outcome: 1, confidence: 1, timestamp: NOW - 3600, keys: ['k-1h']}),
      packet(ME, {outcome: 1, confidence: 1, timestamp: NOW - 7200, keys: ['k-legacy'], scheme: 'legacy.v0'}),
    ])
    const all = await collectLocalKeys({packetsDir: dir, now: NOW})
    expect(all.scheme).toBe(SCHEME)
    expect(queryKeys(all.keys).map((k) => k.routingKey).sort()).toEqual(['k-1h', 'k-50h'])
    expect(all.skipped).toEqual({EXPIRED: 1, OTHER_SCHEME: 1})
    expect(all.packetsRead).toBe(4)
    const recent = await collectLocalKeys({packetsDir: dir, now: NOW, since: NOW - 24 * 3600})
    expect(queryKeys(recent.keys).map((k) => k.routingKey)).toEqual(['k-1h'])
    expect(recent.skipped).toEqual({EXPIRED: 1, TOO_OLD: 1, OTHER_SCHEME: 1})
  })

  it('asks no own summary key as a query key, and keeps the own summary as own evidence under its shard key', async () => {
    const dir = tempDir()
    const shardKey = summaryRoutingKey(summaryShard(ME.publicKey))
    await store(dir, 'a.qisp', [
      packet(ME, {outcome: 1, confidence: 1, timestamp: NOW - 100, keys: ['k1'], hash: hashWithBits(1)}),
      packet(ME, {outcome: 1, confidence: 1, timestamp: NOW - 100, keys: [shardKey], hash: DOMAIN_SUMMARY_HASH, count: 5}),
    ])
    // A focus domain is asked for every own query key, never for the summary key as if it were one.
    const local = await collectLocalKeys({packetsDir: dir, now: NOW, packets: true, domainFocus: ['legal']})
    expect(queryKeys(local.keys).map((k) => `${k.domain}/${k.routingKey}`).sort()).toEqual([`${DOMAIN}/k1`, 'legal/k1'])
    const mine = local.keys.find((k) => k.fingerprint === fp(shardKey))
    expect(mine).toEqual({fingerprint: fp(shardKey), domain: DOMAIN, routingKey: shardKey})
    expect(local.own?.filter((o) => o.key === fp(shardKey))).toHaveLength(1)
    // Both are own packets used; the result says one of them is a summary, so the count reads right.
    expect(local).toMatchObject({packetsUsed: 2, summariesUsed: 1})
  })

  it('finds nothing in a missing folder', async () => {
    const local = await collectLocalKeys({packetsDir: path.join(tempDir(), 'none'), now: NOW})
    expect(local).toMatchObject({scheme: undefined, keys: [], stores: 0, packetsRead: 0})
  })
})
