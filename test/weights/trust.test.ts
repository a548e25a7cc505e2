import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {ensureDir, openHome} from '../../src/config/home.js'
import {loadOrCreateIdentity} from '../../src/identity/identity.js'
import {signerFromIdentity} from '../../src/packet/signer.js'
import {PacketStoreWriter} from '../../src/packet/store.js'
import {type FetchedPackets, pullWeights} from '../../src/weights/pull.js'
import {NEW_PUBLISHER_SHARE, synthesizeWeights} from '../../src/weights/synthesize.js'
import {parsePublisher, readTrustList, trustAdd, trustRemove, trustedIds} from '../../src/weights/trust.js'
import {tempDir} from '../helpers/cli.js'
import {runCommand} from '../helpers/command.js'
import {NOW, SCHEME, asked, fp, packet, publisher, served} from './fixtures.js'

const A = publisher('a')
const B = publisher('b')
const ME = publisher('me')

describe('trust list', () => {
  it('takes a peer id or a public key, and lists, relabels and removes', async () => {
    const home = await openHome(tempDir())
    const other = await loadOrCreateIdentity(await openHome(tempDir()))
    const hex = Buffer.from(other.publicKey).toString('hex')
    expect(await parsePublisher(other.peerId)).toEqual({publicKey: hex, peerId: other.peerId})
    expect(await parsePublisher(hex.toUpperCase())).toEqual({publicKey: hex, peerId: other.peerId})
    await expect(parsePublisher('12D3KooWnope')).rejects.toMatchObject({code: 'BAD_ARGUMENT', exitCode: 2})

    expect((await trustAdd(home, other.peerId, 'clinic-a')).added).toBe(true)
    expect((await trustAdd(home, hex)).added).toBe(false)
    expect(await readTrustList(path.join(home.root, 'trust.json'))).toMatchObject([{publicKey: hex, peerId: other.peerId, label: 'clinic-a'}])
    await expect(trustRemove(home, 'clinic-b')).rejects.toMatchObject({code: 'BAD_ARGUMENT'})
    expect((await trustRemove(home, 'clinic-a')).publicKey).toBe(hex)
    expect(await readTrustList(path.join(home.root, 'trust.json'))).toEqual([])
  })

  it('qis trust add | list | remove, on a home that does not exist yet', async () => {
    const root = path.join(tempDir(), 'new-home')
    const other = await loadOrCreateIdentity(await openHome(tempDir()))
    const add = await runCommand(['trust', 'add', other.peerId, '--label', 'clinic-a', '--home', root, '--json'])
    expect(add.code, add.stderr).toBe(0)
    expect(JSON.parse(add.stdout)).toMatchObject({added: true, publisher: {peerId: other.peerId, label: 'clinic-a'}})
    const list = await runCommand(['trust', 'list', '--home', root])
    expect(list.stdout).toMatch(new RegExp(`^clinic-a  ${other.peerId}  since `))
    const rm = await runCommand(['trust', 'remove', 'clinic-a', '--home', root])
    expect(rm.code, rm.stderr).toBe(0)
    expect((await runCommand(['trust', 'list', '--home', root])).stdout).toMatch(/^No trusted peers/)
  })

  it('trusted publishers are never new, so the newcomer bound holds even on a home with no history', () => {
    const options = {scheme: SCHEME, ownPublicKey: ME.hex, keys: [asked('k1')], now: NOW, firstSeen: new Map<string, number>()}
    const honest = served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 60, count: 4}))
    const sybils = Array.from({length: 20}, (_, i) => served(packet(publisher(`s${i}`), {outcome: 0, confidence: 1, timestamp: NOW + 3480, count: 16})))
    const trusted = new Set([A.hex.slice(0, 16)])
    const without = synthesizeWeights([honest, ...sybils], options).weights.get(fp('k1'))!
    expect(without.newShare).toBe(1)
    const w = synthesizeWeights([honest, ...sybils], {...options, trusted}).weights.get(fp('k1'))!
    expect(w.newShare).toBeCloseTo(NEW_PUBLISHER_SHARE, 12)
    expect(w.trustedShare).toBeCloseTo(1 - NEW_PUBLISHER_SHARE, 12)
    const only = synthesizeWeights([honest, ...sybils], {...options, trusted, trustedOnly: true})
    expect(only.refused).toEqual({NOT_TRUSTED: 20})
    expect(only.weights.get(fp('k1'))).toMatchObject({publishers: 1, trustedShare: 1, evidence: {success: 1}})
  })

  it('pull-weights --trusted-only uses only trusted publishers, and refuses to run with an empty list', async () => {
    const home = await openHome(tempDir())
    const me = signerFromIdentity(await loadOrCreateIdentity(home))
    await ensureDir(home.packetsDir)
    const w = await PacketStoreWriter.create(path.join(home.packetsDir, 'mine.qisp'))
    await w.append(packet(me, {outcome: 1, confidence: 1, timestamp: NOW - 3600}))
    await w.commit()
    const fetch = async (): Promise<FetchedPackets> => ({
      packets: [served(packet(A, {outcome: 1, confidence: 1, timestamp: NOW - 60})), served(packet(B, {outcome: 0, confidence: 1, timestamp: NOW - 60}))],
      peers: 1,
      failures: {},
      unanswered: [],
    })
    await expect(pullWeights({home, ownEvidence: false, fetch, now: NOW, trustedOnly: true})).rejects.toMatchObject({code: 'BAD_FLAG'})
    await trustAdd(home, A.hex, 'a')
    const r = await pullWeights({home, ownEvidence: false, fetch, now: NOW, trustedOnly: true})
    expect(r).toMatchObject({accepted: 1, refused: {NOT_TRUSTED: 1}, trust: {listed: 1, only: true}})
    const file = JSON.parse(readFileSync(home.weightsFile, 'utf8'))
    expect(file.weights[fp('k1')]).toMatchObject({publishers: 1, trustedShare: 1})
    expect(trustedIds(await readTrustList(path.join(home.root, 'trust.json')))).toEqual(new Set([A.hex.slice(0, 16)]))
  })
})

describe('trust list edits at once', () => {
  it('loses no entry when several trust add run at the same time on one home (they take the trust lock in turn)', async () => {
    const home = await openHome(path.join(tempDir(), 'new-home'))
    const others = await Promise.all(Array.from({length: 6}, async () => loadOrCreateIdentity(await openHome(tempDir()))))
    const results = await Promise.all(others.map((o, i) => trustAdd(home, o.peerId, `peer-${i}`)))
    expect(results.every((r) => r.added)).toBe(true)
    const list = await readTrustList(path.join(home.root, 'trust.json'))
    expect(list.map((t) => t.label).sort()).toEqual(others.map((_, i) => `peer-${i}`).sort())
    expect(existsSync(path.join(home.root, 'trust.lock'))).toBe(false)
  })
})
