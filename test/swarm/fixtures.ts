import {generateKeyPair} from '@libp2p/crypto/keys'
import {createHash} from 'node:crypto'

import {encodePacket, keyFingerprint, packetId, PacketStoreWriter, signerFromSeed, type PacketBody, type Signer} from '../../src/packet/index.js'
import {type SwarmNode, type SwarmNodeOptions, createSwarmNode} from '../../src/swarm/node.js'
import {PacketStorage} from '../../src/swarm/storage.js'
import {tempDir} from '../helpers/temp.js'

export const SCHEME = 'test-scheme-v1'
export const DOMAIN = 'clinical'

export function signerFor(name: string): Signer {
  return signerFromSeed(createHash('sha256').update(`qis-test-signer:${name}`).digest())
}

export interface TestPacket {
  bytes: Uint8Array
  id: string
  /** Key fingerprints of its routing keys. */
  keys: string[]
  routingKeys: string[]
}

/** A valid signed packet; `i` varies the hash, `routingKeys` default to two of `keyCount` labels. */
export function makePacket(signer: Signer, i: number, options: {routingKeys?: string[]; keyCount?: number; timestamp?: number; ttlHours?: number; domain?: string; epsilon?: number} = {}): TestPacket {
  const keyCount = options.keyCount ?? 10
  const routingKeys = options.routingKeys ?? [`rk${i % keyCount}`, `rk${(i + 3) % keyCount}`].filter((k, j, a) => a.indexOf(k) === j)
  const domain = options.domain ?? DOMAIN
  const body: PacketBody = {
    scheme: SCHEME,
    domain_tag: domain,
    query_semantic_hash: createHash('sha256').update(`q${i}`).digest('hex').slice(0, 16),
    routing_keys: routingKeys,
    outcome_signal: (i % 10) / 10,
    confidence_at_inference: 0.5 + (i % 5) / 10,
    model_variant: 'llama-3-8b',
    correction_applied: i % 3 === 0,
    correction_type: i % 3 === 0 ? 'factual' : null,
    timestamp: options.timestamp ?? Math.floor(Date.now() / 1000) - 60,
    ttl_hours: options.ttlHours ?? 168,
    outcome_epsilon: options.epsilon ?? null,
  }
  const bytes = encodePacket(body, signer)
  return {bytes, id: packetId(bytes), keys: routingKeys.map((k) => keyFingerprint(SCHEME, domain, k)), routingKeys}
}

export function makePackets(signer: Signer, count: number, options: {keyCount?: number; offset?: number} = {}): TestPacket[] {
  return Array.from({length: count}, (_, i) => makePacket(signer, i + (options.offset ?? 0), {keyCount: options.keyCount}))
}

export async function writeStore(file: string, packets: TestPacket[]): Promise<void> {
  const w = await PacketStoreWriter.create(file)
  for (const p of packets) await w.append(p.bytes)
  await w.commit()
}

/**
 * `count` in-process storage nodes on 127.0.0.1, each bootstrapped from those before it, pushed to
 * `into` as they start (so the caller's afterAll stops them even if a later one fails), returned once
 * every routing table holds all the others: exact closest sets need complete tables, which kad-dht
 * fills only after identify has run on each connection, and under CI load that lags behind dialBootstrap.
 */
export async function startLoopbackNodes(count: number, into: SwarmNode[], options: Partial<SwarmNodeOptions> = {}): Promise<SwarmNode[]> {
  for (let i = 0; i < count; i++) {
    const storage = await PacketStorage.open(tempDir('qis-swarm-'))
    const node = await createSwarmNode({privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: into.map((n) => n.multiaddrs()[0]), storage, ...options})
    await node.dialBootstrap()
    into.push(node)
  }
  const deadline = Date.now() + 45_000
  while (into.some((n) => n.routingTableSize() < into.length - 1)) {
    if (Date.now() > deadline) throw new Error(`routing tables incomplete: ${into.map((n) => n.routingTableSize())}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return into
}
