import {generateKeyPair} from '@libp2p/crypto/keys'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ensureDir, openHome} from '../../src/config/home.js'
import {loadOrCreateIdentity} from '../../src/identity/identity.js'
import {signerFromIdentity} from '../../src/packet/signer.js'
import {type PublishItem, openSwarmClient, publishPackets} from '../../src/swarm/client.js'
import {runCli, tempDir} from '../helpers/cli.js'
import {type NodeProcess, startSwarm, stopAll} from '../helpers/swarm.js'
import {type TestPacket, makePacket, signerFor, writeStore} from '../swarm/fixtures.js'

// Issue 21 item 3 as a user meets it (the library side is test/swarm/fetch-truncation.test.ts):
// one key of ours is flooded past what the swarm pages out, and `qis pull-weights` must say so with
// exit 1 and INCOMPLETE_ANSWERS, keep that key's previous weight, and still update the others.
// Three real `qis node` processes on 127.0.0.1 whose replies carry two packets each
// (--fetch-max-packets 2: one per key when both keys are asked together), so the client's page bound
// (100 pages per key and peer) is passed by a flood of 300 packets rather than 5,000,000.
// Run `npm run build` first.

let nodes: NodeProcess[] = []

async function publish(list: TestPacket[]): Promise<void> {
  const client = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [nodes[0]!.multiaddrs[0]!]})
  try {
    const items: PublishItem[] = list.flatMap((p) => p.keys.map((key) => ({key, bytes: p.bytes, id: p.id})))
    const r = await publishPackets(client, items, {replicas: 3})
    expect(r.failed, JSON.stringify(r.failures)).toBe(0)
  } finally {
    await client.close()
  }
}

describe('qis pull-weights when a peer holds more under a key than it sends', () => {
  let home: string
  let flooded: string
  let quiet: string

  beforeAll(async () => {
    nodes = await startSwarm(3, {args: ['--fetch-max-packets', '2']})
    // Our own packet asks about two keys.
    home = tempDir()
    const h = await openHome(home)
    const me = signerFromIdentity(await loadOrCreateIdentity(h))
    await ensureDir(h.packetsDir)
    const own = makePacket(me, 0, {routingKeys: ['flooded', 'quiet']})
    await writeStore(path.join(h.packetsDir, 'own.qisp'), [own])
    ;[flooded, quiet] = own.keys as [string, string]
  }, 120_000)

  afterAll(async () => {
    await stopAll(nodes)
  })

  const pull = () => runCli(['pull-weights', '--home', home, '--bootstrap', nodes[1]!.multiaddrs[0]!, '--hamming-threshold', '64', '--no-own-evidence', '--json'])
  const weightsFile = () => JSON.parse(readFileSync(path.join(home, 'weights.json'), 'utf8')) as {weights: Record<string, {weight: number; packets: number}>}

  it('exits 1 with INCOMPLETE_ANSWERS, keeps the flooded key\'s weight, and updates the other key', async () => {
    // Before the flood: honest evidence for both keys, pulled cleanly.
    const honest = signerFor('honest-peer')
    await publish([makePacket(honest, 1, {routingKeys: ['flooded', 'quiet']}), makePacket(honest, 2, {routingKeys: ['flooded', 'quiet']})])
    const first = await pull()
    expect(first.code, first.stdout + first.stderr).toBe(0)
    const before = weightsFile().weights
    expect(Object.keys(before).sort()).toEqual([flooded, quiet].sort())
    expect(before[flooded]!.packets).toBe(2)

    // The flood under one key, and one more honest packet under the other.
    const flood: TestPacket[] = []
    for (let i = 0; i < 300; i++) flood.push(makePacket(signerFor(`flooder-${i % 5}`), 100 + i, {routingKeys: ['flooded']}))
    await publish([...flood, makePacket(honest, 3, {routingKeys: ['quiet']})])

    const r = await pull()
    expect(r.code, r.stdout + r.stderr).toBe(1)
    const out = JSON.parse(r.stdout)
    expect(out.error).toMatchObject({code: 'INCOMPLETE_ANSWERS'})
    expect(out.keysIncomplete).toBe(1)
    const after = weightsFile().weights
    // The flooded key: the weight from before, not one computed from part of the evidence, nor dropped.
    expect(after[flooded]).toEqual(before[flooded])
    // The other key is answered in full and moves on.
    expect(after[quiet]!.packets).toBe(3)
  }, 240_000)
})
