import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {PacketStoreWriter} from '../../src/packet/store.js'
import {collectLocalKeys} from '../../src/weights/local.js'
import {tempDir} from '../helpers/cli.js'
import {DOMAIN, NOW, SCHEME, fp, hashWithBits, packet, publisher} from './fixtures.js'

const ME = publisher('me')

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
    const byFp = new Map(local.keys.map((k) => [k.fingerprint, k]))
    expect(byFp.size).toBe(3)
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
    expect(focus.keys.map((k) => `${k.domain}/${k.routingKey}`).sort()).toEqual([
      'clinical.diagnostics/k1',
      'clinical.diagnostics/k2',
      `${DOMAIN}/k1`,
      'legal/k2',
    ])
    const only = await collectLocalKeys({packetsDir: dir, now: NOW, domainFocus: ['clinical.diagnostics'], domain: 'legal'})
    expect(only.keys.map((k) => `${k.domain}/${k.routingKey}`)).toEqual(['legal/k2'])
    // A --domain with no own packets is asked for every own key, like a focus domain.
    const other = await collectLocalKeys({packetsDir: dir, now: NOW, domain: 'finance'})
    expect(other.keys.map((k) => `${k.domain}/${k.routingKey}`)).toEqual(['finance/k1', 'finance/k2'])
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
    expect(all.keys.map((k) => k.routingKey).sort()).toEqual(['k-1h', 'k-50h'])
    expect(all.skipped).toEqual({EXPIRED: 1, OTHER_SCHEME: 1})
    expect(all.packetsRead).toBe(4)
    const recent = await collectLocalKeys({packetsDir: dir, now: NOW, since: NOW - 24 * 3600})
    expect(recent.keys.map((k) => k.routingKey)).toEqual(['k-1h'])
    expect(recent.skipped).toEqual({EXPIRED: 1, TOO_OLD: 1, OTHER_SCHEME: 1})
  })

  it('finds nothing in a missing folder', async () => {
    const local = await collectLocalKeys({packetsDir: path.join(tempDir(), 'none'), now: NOW})
    expect(local).toMatchObject({scheme: undefined, keys: [], stores: 0, packetsRead: 0})
  })
})
