import {promises as fs} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {decodePacket, packetId} from '../../src/packet/codec.js'
import {readStoreFile} from '../../src/packet/store.js'
import {DEFAULT_STORAGE_LIMITS, STORAGE_FILE, PacketStorage} from '../../src/swarm/storage.js'
import {tempDir} from '../helpers/cli.js'
import {makePacket, makePackets, signerFor} from './fixtures.js'

const publisherOf = (bytes: Uint8Array): string => {
  const d = decodePacket(bytes)
  if (!d.ok) throw new Error(d.error.message)
  return d.packet.public_key
}

async function logIds(dir: string): Promise<number> {
  let n = 0
  for await (const e of readStoreFile(path.join(dir, STORAGE_FILE))) if (e.kind === 'packet') n++
  return n
}

describe('PacketStorage', () => {
  it('stores a batch under a key it matches, indexes it under all its keys, and keeps it across reopen', async () => {
    const dir = tempDir()
    const packets = makePackets(signerFor('a'), 20, {keyCount: 5})
    const key = packets[0].keys[0]
    const underKey = packets.filter((p) => p.keys.includes(key))
    const s = await PacketStorage.open(dir)
    expect(await s.storeBatch(key, underKey.map((p) => p.bytes))).toEqual(underKey.map(() => 'stored'))
    const otherKey = underKey[0].keys[1]
    expect(s.get(otherKey).map((b) => Buffer.from(b).toString('hex'))).toContain(Buffer.from(underKey[0].bytes).toString('hex'))
    await s.close()
    const again = await PacketStorage.open(dir)
    expect(again.stats().packets).toBe(underKey.length)
    expect(again.get(key)).toHaveLength(underKey.length)
  })

  it('refuses forged, expired, future, wrong-key and garbage packets with counted reasons', async () => {
    const s = await PacketStorage.open(tempDir())
    const signer = signerFor('b')
    const good = makePacket(signer, 1)
    const forged = new Uint8Array(good.bytes)
    forged[forged.length - 5] ^= 0xff // inside the signature: still canonical CBOR, signature no longer matches
    const expired = makePacket(signer, 2, {routingKeys: good.routingKeys, timestamp: Math.floor(Date.now() / 1000) - 7200, ttlHours: 1})
    const future = makePacket(signer, 3, {routingKeys: good.routingKeys, timestamp: Math.floor(Date.now() / 1000) + 86_400})
    const wrongKey = makePacket(signer, 4, {routingKeys: ['elsewhere']})
    const results = await s.storeBatch(good.keys[0], [forged, expired.bytes, future.bytes, wrongKey.bytes, new Uint8Array([1, 2, 3]), new Uint8Array(600), good.bytes])
    expect(results).toEqual(['BAD_SIGNATURE', 'EXPIRED', 'FUTURE_TIMESTAMP', 'KEY_MISMATCH', 'MALFORMED', 'TOO_LARGE', 'stored'])
    expect(s.stats().refused).toEqual({BAD_SIGNATURE: 1, EXPIRED: 1, FUTURE_TIMESTAMP: 1, KEY_MISMATCH: 1, MALFORMED: 1, TOO_LARGE: 1})
    expect(s.stats().packets).toBe(1)
  })

  it('stores a packet once however often and under however many keys it arrives', async () => {
    const dir = tempDir()
    const s = await PacketStorage.open(dir)
    const p = makePacket(signerFor('c'), 7)
    expect(await s.storeBatch(p.keys[0], [p.bytes, p.bytes])).toEqual(['stored', 'duplicate'])
    expect(await s.storeBatch(p.keys[1], [p.bytes])).toEqual(['duplicate'])
    expect(s.stats()).toMatchObject({packets: 1, stored: 1, duplicates: 2})
    await s.close()
    expect(await logIds(dir)).toBe(1)
  })

  it('bounds each publisher by packets and bytes, and the node as a whole', async () => {
    const s = await PacketStorage.open(tempDir(), {limits: {maxPacketsPerPublisher: 3, maxPackets: 5}})
    const key = 'rk0'
    const mk = (name: string, n: number) => Array.from({length: n}, (_, i) => makePacket(signerFor(name), i, {routingKeys: [key]}))
    const a = mk('qa', 4)
    const k = a[0].keys[0]
    expect(await s.storeBatch(k, a.map((p) => p.bytes))).toEqual(['stored', 'stored', 'stored', 'PUBLISHER_QUOTA'])
    const b = mk('qb', 3)
    expect(await s.storeBatch(k, b.map((p) => p.bytes))).toEqual(['stored', 'stored', 'NODE_FULL'])
    expect(s.stats().refused).toEqual({PUBLISHER_QUOTA: 1, NODE_FULL: 1})

    const bytesLimited = await PacketStorage.open(tempDir(), {limits: {maxBytesPerPublisher: a[0].bytes.length + a[1].bytes.length}})
    expect(await bytesLimited.storeBatch(k, a.slice(0, 3).map((p) => p.bytes))).toEqual(['stored', 'stored', 'PUBLISHER_QUOTA'])
  })

  it('a limit passed as undefined (a `qis node` flag not given) keeps its default, not no limit at all', async () => {
    const s = await PacketStorage.open(tempDir(), {limits: {maxPackets: undefined, maxPacketsPerPublisher: undefined, maxBytes: undefined, maxBytesPerPublisher: undefined}})
    expect(s.limits).toEqual(DEFAULT_STORAGE_LIMITS)
    await s.close()
  })

  it('drops expired packets on load and on sweep, and compacts a mostly dead log', async () => {
    const dir = tempDir()
    let now = Math.floor(Date.now() / 1000)
    const s = await PacketStorage.open(dir, {now: () => now})
    const signer = signerFor('d')
    const shortLived = Array.from({length: 1200}, (_, i) => makePacket(signer, i, {routingKeys: ['k'], ttlHours: 1}))
    const longLived = makePacket(signer, 99_999, {routingKeys: ['k'], ttlHours: 48})
    const key = longLived.keys[0]
    for (let i = 0; i < shortLived.length; i += 200) await s.storeBatch(key, shortLived.slice(i, i + 200).map((p) => p.bytes))
    await s.storeBatch(key, [longLived.bytes])
    expect(s.get(key)).toHaveLength(1201)
    now += 2 * 3600
    // Expired packets are not served even before a sweep runs.
    expect(s.get(key)).toHaveLength(1)
    expect(await s.sweep()).toBe(1200)
    expect(s.stats()).toMatchObject({packets: 1, expired: 1200, deadRecords: 0})
    await s.close()
    expect(await logIds(dir)).toBe(1)
    const reopened = await PacketStorage.open(dir, {now: () => now})
    expect(reopened.get(key)).toHaveLength(1)
  })

  // Issue 21 item 7. Publishers are ranked by arrival; the earliest, holding up to 1 - newcomerShare
  // of the node, are the senior tier, and the rest share the remainder equally (src/swarm/storage.ts).
  it('a node filled by fresh identities: a flood evicts no earlier publisher, an established one reclaims room, a brand-new one gets a fair share (issue 21 item 7)', async () => {
    const dir = tempDir()
    const limits = {maxPackets: 100, newcomerShare: 0.3}
    const s = await PacketStorage.open(dir, {limits})
    const honest = signerFor('established')
    const key = makePacket(honest, 0, {routingKeys: ['k']}).keys[0]
    const held = (name: string) => s.get(key).filter((b) => publisherOf(b) === Buffer.from(signerFor(name).publicKey).toString('hex')).length
    const early = Array.from({length: 30}, (_, i) => makePacket(honest, i, {routingKeys: ['k']}))
    expect(await s.storeBatch(key, early.map((p) => p.bytes))).toEqual(Array(30).fill('stored'))

    // 10 fresh identities, 20 packets each: the first two fit in the senior tier (30 + 40 = 70);
    // the other eight share the last 30 packets, each taking from the largest junior.
    const flood = Array.from({length: 10}, (_, k) => Array.from({length: 20}, (_, i) => makePacket(signerFor(`sybil-${k}`), 1000 + k * 20 + i, {routingKeys: ['k']}))).flat()
    const floodResults = await s.storeBatch(key, flood.map((p) => p.bytes))
    expect(s.stats().packets).toBe(100)
    expect(held('established')).toBe(30)
    expect([held('sybil-0'), held('sybil-1')]).toEqual([20, 20])
    const juniors = Array.from({length: 8}, (_, k) => held(`sybil-${k + 2}`))
    expect(juniors.reduce((a, b) => a + b, 0)).toBe(30)
    // Each junior that came after the tier filled took room until it held as much as the largest less one.
    expect(Math.max(...juniors) - Math.min(...juniors)).toBeLessThanOrEqual(1)
    expect(s.stats().evicted).toBe(floodResults.filter((r) => r === 'stored').length - 70)

    // A brand-new honest publisher: stored up to a fair share of the junior tier (30 / 9 juniors),
    // taken from the flood's juniors only.
    const newcomer = Array.from({length: 10}, (_, i) => makePacket(signerFor('newcomer'), 3000 + i, {routingKeys: ['k']}))
    const newResults = await s.storeBatch(key, newcomer.map((p) => p.bytes))
    expect(newResults.filter((r) => r === 'stored').length).toBeGreaterThanOrEqual(Math.floor(30 / 9))
    expect(newResults.filter((r) => r === 'stored').length).toBe(held('newcomer'))
    expect(held('established')).toBe(30)
    expect([held('sybil-0'), held('sybil-1')]).toEqual([20, 20])
    expect(Math.max(...Array.from({length: 8}, (_, k) => held(`sybil-${k + 2}`)))).toBeLessThanOrEqual(held('newcomer') + 1)

    // The established publisher publishes again: stored, by evicting the newest arrivals' packets first.
    const later = Array.from({length: 15}, (_, i) => makePacket(honest, 100 + i, {routingKeys: ['k']}))
    expect(await s.storeBatch(key, later.map((p) => p.bytes))).toEqual(Array(15).fill('stored'))
    expect(held('established')).toBe(45)
    const heldIds = new Set(s.get(key).map((b) => packetId(b)))
    for (const p of [...early, ...later]) expect(heldIds.has(p.id)).toBe(true)

    // The flood again, from fresh identities: nothing of the established publisher moves.
    const again = Array.from({length: 30}, (_, i) => makePacket(signerFor(`sybil-late-${i}`), 5000 + i, {routingKeys: ['k']}))
    await s.storeBatch(key, again.map((p) => p.bytes))
    expect(held('established')).toBe(45)
    expect(s.stats().packets).toBe(100)
    const final = new Set(s.get(key).map((b) => packetId(b)))
    await s.close()
    // A restart replays the log (evicted packets are still in it) by the same rule and ends with the same packets.
    const reopened = await PacketStorage.open(dir, {limits})
    expect(new Set(reopened.get(key).map((b) => packetId(b)))).toEqual(final)
    expect(reopened.stats().packets).toBe(100)
    await reopened.close()
  })

  it('pages a key by cursor: packets expiring between pages shift nothing', async () => {
    let now = Math.floor(Date.now() / 1000)
    const s = await PacketStorage.open(tempDir(), {now: () => now})
    const signer = signerFor('pager')
    const packets = Array.from({length: 10}, (_, i) => makePacket(signer, i, {routingKeys: ['k'], ttlHours: i < 2 ? 1 : 48}))
    const key = packets[0].keys[0]
    await s.storeBatch(key, packets.map((p) => p.bytes))
    const first = s.page(key, 0, 4)
    expect(first).toMatchObject({more: true})
    expect(first.packets.map((b) => packetId(b))).toEqual(packets.slice(0, 4).map((p) => p.id))
    // The two oldest expire and are swept before the next page: an offset would now skip two live packets.
    now += 2 * 3600
    await s.sweep()
    const second = s.page(key, first.cursor, 4)
    expect(second.packets.map((b) => packetId(b))).toEqual(packets.slice(4, 8).map((p) => p.id))
    const third = s.page(key, second.cursor, 4)
    expect(third).toMatchObject({more: false})
    expect(third.packets.map((b) => packetId(b))).toEqual(packets.slice(8).map((p) => p.id))
    await s.close()
  })

  it('cuts a torn tail left by a crash mid-append and keeps every whole record', async () => {
    const dir = tempDir()
    const s = await PacketStorage.open(dir)
    const packets = makePackets(signerFor('e'), 6, {keyCount: 1})
    await s.storeBatch(packets[0].keys[0], packets.map((p) => p.bytes))
    await s.close()
    const file = path.join(dir, STORAGE_FILE)
    await fs.appendFile(file, Buffer.from([0x01, 0x20, 0xaa, 0xbb])) // a record header promising 288 bytes, then the crash
    const reopened = await PacketStorage.open(dir)
    expect(reopened.stats().packets).toBe(6)
    const more = makePacket(signerFor('e'), 100, {routingKeys: packets[0].routingKeys})
    expect(await reopened.storeBatch(packets[0].keys[0], [more.bytes])).toEqual(['stored'])
    await reopened.close()
    expect(await logIds(dir)).toBe(7)
  })

  it('refuses to open a file that is not a packet store, naming it', async () => {
    const dir = tempDir()
    await fs.writeFile(path.join(dir, STORAGE_FILE), 'not a store at all')
    await expect(PacketStorage.open(dir)).rejects.toThrow(/packets\.qisp is not a packet store/)
  })
})
