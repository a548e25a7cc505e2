import {generateKeyPair} from '@libp2p/crypto/keys'
import {encode as cborEncode} from 'cborg'
import {createHash} from 'node:crypto'
import fc from 'fast-check'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {packetId} from '../../src/packet/codec.js'
import {fetchPackets, openSwarmClient, publishPackets} from '../../src/swarm/client.js'
import {type SwarmNode, validateRecord, recordKey} from '../../src/swarm/node.js'
import {compareXor, keyKadId} from '../../src/swarm/lookup.js'
import {
  CLOSEST_PROTOCOL,
  FETCH_PROTOCOL,
  HAVE_ID_BYTES,
  PROTOCOL_LIMITS,
  ProtocolError,
  STORE_PROTOCOL,
  decodeClosestRequest,
  decodeClosestResponse,
  decodeFetchFrame,
  encodeFetchFrame,
  decodeFetchRequest,
  decodeHaveRequest,
  decodeHaveResponse,
  decodeStoreRequest,
  decodeStoreResponse,
  encodeClosestRequest,
  encodeClosestResponse,
  encodeFetchRequest,
  encodeHaveRequest,
  encodeHaveResponse,
  encodeStoreRequest,
  readOneFrame,
  writeFrame,
} from '../../src/swarm/protocol.js'
import {makePacket, makePackets, signerFor, startLoopbackNodes} from './fixtures.js'

describe('message decoders', () => {
  const asked = {keys: ['ab'.repeat(16)], count: 3}
  const decoders = [
    decodeStoreRequest,
    decodeFetchRequest,
    decodeFetchFrame,
    (b: Uint8Array) => decodeStoreResponse(b, 3),
    decodeClosestRequest,
    (b: Uint8Array) => decodeClosestResponse(b, asked),
    decodeHaveRequest,
    (b: Uint8Array) => decodeHaveResponse(b, {keys: ['ab'.repeat(16)], ids: [new Uint8Array(HAVE_ID_BYTES * 3)]}),
  ]

  it('turn any bytes into a message or a ProtocolError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({maxLength: 2048}), (bytes) => {
        for (const decode of decoders) {
          try {
            decode(bytes)
          } catch (err) {
            expect(err).toBeInstanceOf(ProtocolError)
          }
        }
      }),
      {numRuns: 2000},
    )
  })

  it('refuse well-formed CBOR of the wrong shape', () => {
    fc.assert(
      fc.property(fc.anything({maxDepth: 3}), (value) => {
        let bytes: Uint8Array
        try {
          bytes = cborEncode(value)
        } catch {
          return
        }
        for (const decode of decoders) {
          try {
            decode(bytes)
          } catch (err) {
            expect(err).toBeInstanceOf(ProtocolError)
          }
        }
      }),
      {numRuns: 1000},
    )
  })

  it('round-trip and enforce their caps', () => {
    const key = 'ab'.repeat(16)
    expect(decodeStoreRequest(encodeStoreRequest({key, packets: [new Uint8Array([1])]}))).toEqual({key, packets: [new Uint8Array([1])]})
    expect(() => decodeStoreRequest(encodeStoreRequest({key, packets: Array.from({length: PROTOCOL_LIMITS.maxStoreBatch + 1}, () => new Uint8Array([1]))}))).toThrow(ProtocolError)
    expect(() => decodeStoreRequest(encodeStoreRequest({key: 'AB'.repeat(16), packets: []}))).toThrow(/fingerprint/)
    expect(() => decodeFetchRequest(encodeFetchRequest({keys: Array.from({length: PROTOCOL_LIMITS.maxFetchKeys + 1}, () => key)}))).toThrow(ProtocolError)
    expect(() => decodeFetchRequest(encodeFetchRequest({keys: []}))).toThrow(ProtocolError)
    // Paging: one cursor per key; the end marker names only asked keys.
    const other = 'cd'.repeat(16)
    expect(decodeFetchRequest(encodeFetchRequest({keys: [key, other], after: [0, 7]}))).toEqual({keys: [key, other], after: [0, 7]})
    expect(() => decodeFetchRequest(encodeFetchRequest({keys: [key, other], after: [7]}))).toThrow(/cursor/)
    const asked = {keys: [key], after: [3]}
    expect(decodeFetchFrame(encodeFetchFrame({done: true, truncated: true, more: [[key, 9]]}), asked)).toEqual({done: true, truncated: true, more: [[key, 9]]})
    expect(() => decodeFetchFrame(encodeFetchFrame({done: true, truncated: true, more: [[other, 9]]}), asked)).toThrow(/not asked/)
    // A peer that truncates without saying where leaves every asked key unfinished, never "answered and empty".
    expect(decodeFetchFrame(cborEncode({v: 1, done: true, truncated: true}), asked)).toEqual({done: true, truncated: true, more: [[key, 3]]})

    expect(decodeClosestRequest(encodeClosestRequest({keys: [key], count: 6}))).toEqual({keys: [key], count: 6})
    expect(() => decodeClosestRequest(encodeClosestRequest({keys: [key], count: PROTOCOL_LIMITS.maxClosestCount + 1}))).toThrow(/count/)
    expect(() => decodeClosestRequest(encodeClosestRequest({keys: Array.from({length: PROTOCOL_LIMITS.maxClosestKeys + 1}, () => key), count: 1}))).toThrow(ProtocolError)
    const peer = {id: '12D3KooWGRUVh8AW3UZ1JNexW5BLyVRb4TTGwD8xvy3YdrHUdpvA', addrs: ['/ip4/127.0.0.1/tcp/4001']}
    const request = {keys: [key, 'cd'.repeat(16)], count: 2}
    expect(decodeClosestResponse(encodeClosestResponse({peers: [peer], closest: [[0], []]}), request)).toEqual({peers: [peer], closest: [[0], []]})
    // A list per asked key, indexes that exist, no more than asked for.
    expect(() => decodeClosestResponse(encodeClosestResponse({peers: [peer], closest: [[0]]}), request)).toThrow(/2 keys/)
    expect(() => decodeClosestResponse(encodeClosestResponse({peers: [peer], closest: [[1], []]}), request)).toThrow(/out of range/)
    expect(() => decodeClosestResponse(encodeClosestResponse({peers: [peer], closest: [[0, 0, 0], []]}), request)).toThrow(/more than 2/)
    expect(() => decodeClosestResponse(encodeClosestResponse({peers: [{id: 'not a peer id!', addrs: []}], closest: [[], []]}), request)).toThrow(/malformed peer/)

    // Have: whole id prefixes, one byte string per key, a bounded number of ids; answers index only what was asked.
    const have = {keys: [key, other], ids: [new Uint8Array(HAVE_ID_BYTES * 2).fill(1), new Uint8Array(0)]}
    expect(decodeHaveRequest(encodeHaveRequest(have))).toEqual(have)
    expect(() => decodeHaveRequest(encodeHaveRequest({keys: [key], ids: [new Uint8Array(HAVE_ID_BYTES + 1)]}))).toThrow(/prefixes/)
    expect(() => decodeHaveRequest(encodeHaveRequest({keys: [key, other], ids: [new Uint8Array(HAVE_ID_BYTES)]}))).toThrow(/one byte string per key/)
    expect(() => decodeHaveRequest(encodeHaveRequest({keys: [key], ids: [new Uint8Array(HAVE_ID_BYTES * (PROTOCOL_LIMITS.maxHaveIds + 1))]}))).toThrow(/more than/)
    expect(() => decodeHaveRequest(encodeHaveRequest({keys: Array.from({length: PROTOCOL_LIMITS.maxHaveKeys + 1}, () => key), ids: Array.from({length: PROTOCOL_LIMITS.maxHaveKeys + 1}, () => new Uint8Array(0))}))).toThrow(ProtocolError)
    expect(decodeHaveResponse(encodeHaveResponse({missing: [[1], []]}), have)).toEqual({missing: [[1], []]})
    expect(() => decodeHaveResponse(encodeHaveResponse({missing: [[2], []]}), have)).toThrow(/out of range/)
    expect(() => decodeHaveResponse(encodeHaveResponse({missing: [[0]]}), have)).toThrow(/one "missing" list per key/)
  })

  it('DHT record validator accepts only a valid packet under one of its own keys', () => {
    const p = makePacket(signerFor('dht'), 1)
    expect(() => validateRecord(recordKey(p.keys[0]), p.bytes)).not.toThrow()
    expect(() => validateRecord(recordKey('0'.repeat(32)), p.bytes)).toThrow(/no routing key/)
    expect(() => validateRecord(recordKey(p.keys[0]), new Uint8Array([1, 2, 3]))).toThrow(/not a valid packet/)
    expect(() => validateRecord(new TextEncoder().encode('/other/x'), p.bytes)).toThrow(/not a qis record key/)
  })
})

describe('in-process nodes on 127.0.0.1', () => {
  const nodes: SwarmNode[] = []

  beforeAll(async () => {
    await startLoopbackNodes(3, nodes)
  }, 60_000)

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
  })

  it('an oversized frame is refused and counted, and the node keeps serving honest peers', async () => {
    const target = nodes[0]
    const client = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [target.multiaddrs()[0]]})
    try {
      const before = target.storage!.stats().refused.BAD_REQUEST ?? 0
      const stream = await client.node.libp2p.dialProtocol(target.libp2p.peerId, STORE_PROTOCOL, {signal: AbortSignal.timeout(10_000)})
      // Announce a 10 MB frame and send its first bytes: the node must refuse before buffering it.
      const varint = [0x80, 0xad, 0xe2, 0x04] // 10,000,000
      stream.send(Uint8Array.from([...varint, ...new Uint8Array(1000)]))
      const reply = decodeStoreResponse(await readOneFrame(stream), 0)
      expect(reply.error).toBe('BAD_REQUEST')
      expect(target.storage!.stats().refused.BAD_REQUEST).toBe(before + 1)

      const packets = makePackets(signerFor('honest'), 10, {keyCount: 2})
      const items = packets.flatMap((p) => p.keys.map((key) => ({key, bytes: p.bytes, id: p.id})))
      const published = await publishPackets(client, items, {replicas: 3})
      expect(published).toMatchObject({acked: items.length, failed: 0})
      const fetched = await fetchPackets(client, [...new Set(items.map((i) => i.key))])
      const got = new Set(fetched.packets.map((p) => `${p.key} ${packetId(p.bytes)}`))
      for (const i of items) expect(got.has(`${i.key} ${i.id}`)).toBe(true)
      expect(fetched.unanswered).toEqual([])
    } finally {
      await client.close()
    }
  }, 60_000)

  it('a fetch for keys nobody holds ends cleanly with no packets', async () => {
    const client = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [nodes[1].multiaddrs()[0]]})
    try {
      const stream = await client.node.libp2p.dialProtocol(nodes[1].libp2p.peerId, FETCH_PROTOCOL, {signal: AbortSignal.timeout(10_000)})
      await writeFrame(stream, encodeFetchRequest({keys: ['0'.repeat(32)]}))
      await stream.close()
      expect(decodeFetchFrame(await readOneFrame(stream))).toEqual({done: true, truncated: false, more: []})
    } finally {
      await client.close()
    }
  }, 30_000)

  it('a batched lookup names the storage peers closest to each key, and never a client', async () => {
    // Another client connected to every node meanwhile: it must never be named as a storage peer.
    const other = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: nodes.map((n) => n.multiaddrs()[0])})
    const client = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [nodes[2].multiaddrs()[0]]})
    try {
      const keys = Array.from({length: 40}, (_, i) => createHash('sha256').update(`lookup-${i}`).digest('hex').slice(0, 32))
      const result = await client.node.lookup(keys, {count: 2, signal: AbortSignal.timeout(20_000)})
      const kad = (n: SwarmNode) => createHash('sha256').update(n.libp2p.peerId.toMultihash().bytes).digest()
      for (const key of keys) {
        const target = keyKadId(key)
        const truth = [...nodes].sort((a, b) => compareXor(target, kad(a), kad(b))).slice(0, 2).map((n) => n.peerId)
        const failures = [...result.failures].map(([peer, err]) => `${peer}: ${String(err)}`)
        expect(result.closest.get(key)!.map(String), `key ${key}; failures ${JSON.stringify(failures)}`).toEqual(truth)
      }
      // 40 keys cost a handful of requests, not 40 lookups.
      expect(result.stats.requests).toBeLessThanOrEqual(2 * nodes.length)
      expect(result.stats.queries).toBeGreaterThanOrEqual(keys.length * 2)
      expect(result.failures.size).toBe(0)
      expect([...result.closest.values()].flat().map(String)).not.toContain(other.peerId)
    } finally {
      await client.close()
      await other.close()
    }
  }, 30_000)

  it('a malformed closest-peers request is refused and counted', async () => {
    const target = nodes[0]
    const client = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [target.multiaddrs()[0]]})
    try {
      const before = target.storage!.stats().refused.BAD_REQUEST ?? 0
      const stream = await client.node.libp2p.dialProtocol(target.libp2p.peerId, CLOSEST_PROTOCOL, {signal: AbortSignal.timeout(10_000)})
      await writeFrame(stream, cborEncode({v: 1, keys: ['0'.repeat(32)], count: 500}))
      await stream.close()
      await expect(readOneFrame(stream)).rejects.toThrow()
      expect(target.storage!.stats().refused.BAD_REQUEST).toBe(before + 1)
    } finally {
      await client.close()
    }
  }, 30_000)
})
