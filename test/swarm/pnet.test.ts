import {generateKeyPair} from '@libp2p/crypto/keys'
import {copyFileSync, mkdirSync} from 'node:fs'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {openHome} from '../../src/config/home.js'
import {fetchPackets, openSwarmClient} from '../../src/swarm/client.js'
import {loadSwarmKey, parseSwarmKey, swarmKeyPath, writeSwarmKey} from '../../src/swarm/pnet.js'
import {runCli, tempDir} from '../helpers/cli.js'
import {type NodeProcess, startNode, stopAll, waitForFullRouting} from '../helpers/swarm.js'
import {makePackets, signerFor, writeStore} from './fixtures.js'

describe('swarm key file', () => {
  it('writes a 0600 key in the go-libp2p format, reads it back, refuses to overwrite without force', async () => {
    const home = await openHome(tempDir())
    const file = swarmKeyPath(home)
    const made = await writeSwarmKey(file)
    const loaded = await loadSwarmKey(home, {})
    expect(loaded?.fingerprint).toBe(made.fingerprint)
    expect(loaded?.fingerprint).toMatch(/^[0-9a-f]{16}$/)
    await expect(writeSwarmKey(file)).rejects.toThrow(/already exists/)
    const again = await writeSwarmKey(file, {force: true})
    expect(again.fingerprint).not.toBe(made.fingerprint)
  })

  it('no file means the open swarm; a file named by QIS_SWARM_KEY must exist', async () => {
    const home = await openHome(tempDir())
    expect(await loadSwarmKey(home, {})).toBeUndefined()
    await expect(loadSwarmKey(home, {QIS_SWARM_KEY: path.join(tempDir(), 'nope.key')})).rejects.toMatchObject({code: 'INPUT_NOT_FOUND'})
  })

  it('names the file and line of a malformed key', () => {
    const hex = 'ab'.repeat(32)
    expect(() => parseSwarmKey('k', Buffer.from(`/key/swarm/psk/2.0.0/\n/base16/\n${hex}\n`))).toThrow(/k line 1/)
    expect(() => parseSwarmKey('k', Buffer.from(`/key/swarm/psk/1.0.0/\n/base64/\n${hex}\n`))).toThrow(/k line 2/)
    expect(() => parseSwarmKey('k', Buffer.from(`/key/swarm/psk/1.0.0/\n/base16/\n${hex.slice(2)}\n`))).toThrow(/k line 3/)
    expect(() => parseSwarmKey('k', Buffer.from(`/key/swarm/psk/1.0.0/\n/base16/\n${hex}\nmore\n`))).toThrow(/k line 4/)
  })
})

// Separate `qis node` processes on 127.0.0.1: two with the consortium's key, one with none, one with another key.
describe('private swarm (pnet) across processes', () => {
  const nodes: NodeProcess[] = []
  afterAll(async () => {
    await stopAll(nodes)
  })

  it('nodes with the key connect and serve; nodes without it, or with another, cannot connect', async () => {
    const keyed = async (source?: string) => {
      const root = tempDir('qis-pnet-')
      const home = await openHome(root)
      if (source) copyFileSync(source, swarmKeyPath(home))
      return root
    }
    const first = await keyed()
    const r = await runCli(['swarm-key', 'generate', '--home', first, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const {file, fingerprint} = JSON.parse(r.stdout) as {file: string; fingerprint: string}

    const a = await startNode({home: first})
    nodes.push(a)
    expect(a.events.find((e) => e.event === 'started')?.swarmKey).toBe(fingerprint)
    const b = await startNode({home: await keyed(file), bootstrap: [a.multiaddrs[0]]})
    nodes.push(b)
    await a.waitForEvent((e) => e.event === 'peer:connect' && e.peer === b.peerId, 45_000)
    // A connection is not yet a routing-table entry; the --replicas 2 publish below needs both.
    await waitForFullRouting([a, b])

    const otherKey = tempDir('qis-pnet-other-')
    await writeSwarmKey(path.join(otherKey, 'swarm.key'))
    const outsiders = await Promise.all([startNode({bootstrap: [a.multiaddrs[0]]}), startNode({home: await keyed(path.join(otherKey, 'swarm.key')), bootstrap: [a.multiaddrs[0]]})])
    nodes.push(...outsiders)
    for (const o of outsiders) {
      const failed = await o.waitForEvent((e) => e.event === 'bootstrap:failed', 45_000)
      expect(failed.multiaddr).toBe(a.multiaddrs[0])
      expect(a.events.some((e) => e.event === 'peer:connect' && e.peer === o.peerId)).toBe(false)
    }

    // A member's client publishes and fetches through the private swarm; an outsider's client cannot join.
    const keyBytes = (await loadSwarmKey(await openHome(first), {}))!.bytes
    const publisherHome = await keyed(file)
    mkdirSync(path.join(publisherHome, 'packets'))
    await writeStore(path.join(publisherHome, 'packets', 'p.qisp'), makePackets(signerFor('pnet'), 4, {keyCount: 2}))
    const pub = await runCli(['publish', '--home', publisherHome, '--bootstrap', a.multiaddrs[0], '--replicas', '2', '--yes', '--json'])
    expect(pub.code, pub.stderr).toBe(0)
    expect(JSON.parse(pub.stdout)).toMatchObject({published: 4, failed: 0})

    const keys = makePackets(signerFor('pnet'), 4, {keyCount: 2}).flatMap((p) => p.keys)
    const member = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [a.multiaddrs[0]], swarmKey: keyBytes, joinTimeoutMs: 30_000})
    try {
      const got = await fetchPackets(member, [...new Set(keys)])
      expect(new Set(got.packets.map((p) => p.bytes.toString())).size).toBe(4)
    } finally {
      await member.close()
    }
    await expect(openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [a.multiaddrs[0]], joinTimeoutMs: 3000})).rejects.toMatchObject({code: 'SWARM_UNREACHABLE'})
  }, 360_000)
})
