import {promises as fs} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {homeLayout} from '../../src/config/home.js'
import {JOURNAL_FILE, PublishJournal} from '../../src/swarm/journal.js'
import {planPublish} from '../../src/swarm/publish.js'
import {tempDir} from '../helpers/cli.js'
import {makePacket, makePackets, signerFor, writeStore} from './fixtures.js'

describe('PublishJournal', () => {
  it('keeps recorded pairs across reopen and cuts a torn last line', async () => {
    const dir = tempDir()
    const j = await PublishJournal.open(dir)
    const a = {id: 'a'.repeat(64), key: '1'.repeat(32)}
    const b = {id: 'b'.repeat(64), key: '2'.repeat(32)}
    await j.record([a, b])
    await j.close()
    // kill -9 in the middle of writing the next line
    await fs.appendFile(path.join(dir, JOURNAL_FILE), `${'c'.repeat(64)} 33`)
    const again = await PublishJournal.open(dir)
    expect(again.size).toBe(2)
    expect(again.has(a.id, a.key)).toBe(true)
    expect(again.has('c'.repeat(64), '3'.repeat(32))).toBe(false)
    const c = {id: 'c'.repeat(64), key: '3'.repeat(32)}
    await again.record([c])
    await again.close()
    expect(await fs.readFile(path.join(dir, JOURNAL_FILE), 'utf8')).toBe(`${a.id} ${a.key}\n${b.id} ${b.key}\n${c.id} ${c.key}\n`)
  })
})

describe('planPublish', () => {
  it('sends only unjournaled (packet, key) pairs, once across stores, and never expired packets', async () => {
    const home = homeLayout(tempDir())
    await fs.mkdir(home.packetsDir, {recursive: true})
    const signer = signerFor('plan')
    const packets = makePackets(signer, 10, {keyCount: 4})
    const expired = makePacket(signer, 99, {timestamp: Math.floor(Date.now() / 1000) - 7200, ttlHours: 1})
    await writeStore(path.join(home.packetsDir, 'a.qisp'), [...packets.slice(0, 6), expired])
    await writeStore(path.join(home.packetsDir, 'b.qisp'), packets.slice(4)) // 4 and 5 in both stores
    await fs.writeFile(path.join(home.packetsDir, '.c.qisp.123.tmp'), 'a writer still at work')
    const journal = await PublishJournal.open(home.journalDir)
    // Packet 0 fully published, packet 1 under one of its two keys only.
    await journal.record([...packets[0].keys.map((key) => ({id: packets[0].id, key})), {id: packets[1].id, key: packets[1].keys[0]}])

    const plan = await planPublish({home, journal})
    expect(plan.stores.map((s) => path.basename(s))).toEqual(['a.qisp', 'b.qisp'])
    expect(plan.skipped).toBe(1)
    expect(plan.expired).toBe(1)
    expect(plan.pending).toBe(9)
    const expectedPairs = packets.slice(1).flatMap((p) => p.keys.map((key) => `${p.id} ${key}`)).filter((pair) => pair !== `${packets[1].id} ${packets[1].keys[0]}`)
    expect(plan.items.map((i) => `${i.id} ${i.key}`).sort()).toEqual(expectedPairs.sort())
    // What the journal must keep: every unexpired packet read, sent before or not; never the expired one.
    expect([...plan.live].sort()).toEqual(packets.map((p) => p.id).sort())
    await journal.close()
  })

  it('names a missing store given on the command line', async () => {
    const home = homeLayout(tempDir())
    const journal = await PublishJournal.open(home.journalDir)
    await expect(planPublish({home, journal, stores: ['/nonexistent/x.qisp']})).rejects.toThrow(/packet store \/nonexistent\/x\.qisp cannot be read/)
    await journal.close()
  })
})

describe('PublishJournal.compact', () => {
  const pair = (i: number, k = 0) => ({id: i.toString(16).padStart(64, '0'), key: k.toString(16).padStart(32, '0')})

  it('drops the pairs of packets no longer kept, atomically, and keeps appending after', async () => {
    const dir = tempDir()
    const j = await PublishJournal.open(dir)
    await j.record(Array.from({length: 30}, (_, i) => pair(i, i % 3)))
    const keepIds = new Set([pair(1).id, pair(2).id])
    // Below the thresholds nothing is rewritten.
    expect(await j.compact((id) => keepIds.has(id), 100)).toBe(0)
    expect(j.size).toBe(30)
    expect(await j.compact((id) => keepIds.has(id), 10)).toBe(28)
    expect(j.size).toBe(2)
    expect(j.has(pair(1).id, pair(1, 1).key)).toBe(true)
    expect(j.has(pair(5).id, pair(5, 2).key)).toBe(false)
    await j.record([pair(99)])
    await j.close()
    expect((await fs.readdir(dir)).sort()).toEqual([JOURNAL_FILE])
    const again = await PublishJournal.open(dir)
    expect(again.size).toBe(3)
    expect(again.has(pair(99).id, pair(99).key)).toBe(true)
    expect(again.has(pair(2).id, pair(2, 2).key)).toBe(true)
    await again.close()
  })

  it('leaves a journal alone while fewer than half its pairs are dead', async () => {
    const dir = tempDir()
    const j = await PublishJournal.open(dir)
    await j.record(Array.from({length: 10}, (_, i) => pair(i)))
    expect(await j.compact((id) => id !== pair(0).id && id !== pair(1).id, 1)).toBe(0)
    expect(j.size).toBe(10)
    await j.close()
  })
})
