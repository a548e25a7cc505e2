import {generateKeyPair} from '@libp2p/crypto/keys'
import {encode as cborEncode} from 'cborg'
import fc from 'fast-check'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {packetId} from '../../src/packet/codec.js'
import {fetchPackets, openSwarmClient, publishPackets} from '../../src/swarm/client.js'
import {type SwarmNode, createSwarmNode, validateRecord, recordKey} from '../../src/swarm/node.js'
import {
  FETCH_PROTOCOL,
  PROTOCOL_LIMITS,
  ProtocolError,
  STORE_PROTOCOL,
  decodeFetchFrame,
  decodeFetchRequest,
  decodeStoreRequest,
  decodeStoreResponse,
  encodeFetchRequest,
  encodeStoreRequest,
  readOneFrame,
  writeFrame,
} from '../../src/swarm/protocol.js'
import {PacketStorage} from '../../src/swarm/storage.js'
import {tempDir} from '../helpers/cli.js'
import {makePacket, makePackets, signerFor} from './fixtures.js'

describe('message decoders', () => {
  const decoders = [decodeStoreRequest, decodeFetchRequest, decodeFetchFrame, (b: Uint8Array) => decodeStoreResponse(b, 3)]

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
    for (let i = 0; i < 3; i++) {
      const storage = await PacketStorage.open(tempDir())
      const node = await createSwarmNode({privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: nodes.map((n) => n.multiaddrs()[0]), storage})
      await node.dialBootstrap()
      nodes.push(node)
    }
  })

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
      expect(decodeFetchFrame(await readOneFrame(stream))).toEqual({done: true, truncated: false})
    } finally {
      await client.close()
    }
  }, 30_000)
})
