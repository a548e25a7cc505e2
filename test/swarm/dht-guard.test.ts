import {generateKeyPair, publicKeyToProtobuf} from '@libp2p/crypto/keys'
import {peerIdFromString} from '@libp2p/peer-id'
import * as lp from 'it-length-prefixed'
import {createHash} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type SwarmNode, createSwarmNode, recordKey} from '../../src/swarm/node.js'
import {KAD_PROTOCOL} from '../../src/swarm/protocol.js'
import {PacketStorage} from '../../src/swarm/storage.js'
import {tempDir} from '../helpers/cli.js'
import {makePacket, signerFor} from './fixtures.js'

// Issue 21 item 6: kad-dht kept ADD_PROVIDER and PUT_VALUE records in memory with no quota or
// counter. A qis node refuses both (it routes with FIND_NODE only) and counts them. The messages
// are written by hand (kad-dht's protobuf, dht.proto) as an attacker would, not through kad-dht's API.

// --- a minimal protobuf writer for kad-dht's Message --------------------------------------------
const varint = (n: number): number[] => {
  const out: number[] = []
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  out.push(n)
  return out
}
const field = (no: number, bytes: Uint8Array): number[] => [...varint((no << 3) | 2), ...varint(bytes.length), ...bytes]
const enumField = (no: number, v: number): number[] => [...varint(no << 3), ...varint(v)]
const sha256Multihash = (s: string) => Uint8Array.from([0x12, 0x20, ...createHash('sha256').update(s).digest()])

export function addProviderMessage(i: number, provider: Uint8Array, addr: Uint8Array): Uint8Array {
  const peerInfo = Uint8Array.from([...field(1, provider), ...field(2, addr)])
  return Uint8Array.from([...enumField(1, 2), ...field(2, sha256Multihash(`cid-${i}`)), ...field(9, peerInfo)])
}
export function putValueMessage(key: Uint8Array, value: Uint8Array): Uint8Array {
  const record = Uint8Array.from([...field(1, key), ...field(2, value)])
  return Uint8Array.from([...enumField(1, 0), ...field(2, key), ...field(3, record)])
}

describe('DHT records a qis node does not use', () => {
  let server: SwarmNode
  let attacker: SwarmNode
  beforeAll(async () => {
    server = await createSwarmNode({privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [], storage: await PacketStorage.open(tempDir())})
    attacker = await createSwarmNode({privateKey: await generateKeyPair('Ed25519'), listen: [], bootstrap: [server.multiaddrs()[0]]})
    expect(await attacker.dialBootstrap()).toBe(1)
  }, 30_000)
  afterAll(async () => {
    await attacker?.stop()
    await server?.stop()
  })

  /** Sends one message on its own stream; resolves with the reply frame, or undefined when the node reset the stream. */
  async function send(message: Uint8Array): Promise<Uint8Array | undefined> {
    const stream = await attacker.libp2p.dialProtocol(peerIdFromString(server.peerId), KAD_PROTOCOL, {signal: AbortSignal.timeout(10_000)})
    stream.send(lp.encode.single(message))
    await stream.close().catch(() => {})
    try {
      for await (const frame of lp.decode(stream)) return frame.subarray()
    } catch {
      // reset by the node
    }
    return undefined
  }

  it('refuses ADD_PROVIDER and PUT_VALUE (pk and qis namespaces), counts each, and keeps nothing', async () => {
    const me = attacker.libp2p.peerId.toMultihash().bytes
    const addr = Uint8Array.from([4, 127, 0, 0, 1, 6, 0x0f, 0xa1]) // /ip4/127.0.0.1/tcp/4001
    for (let i = 0; i < 5; i++) expect(await send(addProviderMessage(i, me, addr))).toBeUndefined()
    const p = makePacket(signerFor('dht-record'), 1)
    // A valid signed packet under its own key: the validator accepts it, the node still stores no record.
    expect(await send(putValueMessage(recordKey(p.keys[0]), p.bytes))).toBeUndefined()
    // A public-key record: kad-dht's own pk validator accepts it (key = /pk/ + the key's multihash).
    const pkKey = Uint8Array.from([...new TextEncoder().encode('/pk/'), ...me])
    expect(await send(putValueMessage(pkKey, publicKeyToProtobuf(attacker.libp2p.peerId.publicKey!)))).toBeUndefined()
    expect(server.guard.dhtRefused).toEqual({ADD_PROVIDER: 5, PUT_VALUE: 2})
    // Routing is untouched: a FIND_NODE (type 4) for any key is still answered on the same protocol.
    const reply = await send(Uint8Array.from([...enumField(1, 4), ...field(2, sha256Multihash('anything'))]))
    expect(reply).toBeInstanceOf(Uint8Array)
  }, 60_000)
})
