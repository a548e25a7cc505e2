import {generateKeyPair} from '@libp2p/crypto/keys'
import {peerIdFromString} from '@libp2p/peer-id'
import {execFileSync} from 'node:child_process'
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, writeSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it, onTestFinished} from 'vitest'

import {readStoreFile} from '../../src/packet/store.js'
import {openSwarmClient} from '../../src/swarm/client.js'
import {JOURNAL_FILE} from '../../src/swarm/journal.js'
import {FETCH_PROTOCOL, STORE_PROTOCOL, decodeFetchFrame, decodeStoreResponse, encodeFetchRequest, encodeStoreRequest, readFrames, readOneFrame, writeFrame} from '../../src/swarm/protocol.js'
import {type CliResult, repoRoot, runCli, tempDir} from '../helpers/cli.js'
import {type NodeProcess, startNode, startSwarm, stopAll} from '../helpers/swarm.js'
import {makePackets, signerFor, writeStore} from '../swarm/fixtures.js'

// Write failures through the real CLI (run `npm run build` first): a home or output path that cannot
// be a directory (tests run as root, so permission bits would not stop a write), and a full disk,
// simulated with a small tmpfs filled to the last byte. Each must give a clear message, a non-zero
// exit and no stack trace, and lose nothing that was already written.

const env = {QIS_MODEL_DIR: path.join(repoRoot, 'fixtures/models/qis-tiny-bert'), QIS_BOOTSTRAP: ''}
const LOG = path.join(repoRoot, 'fixtures/logs/inference.jsonl')

const mountPoint = tempDir('qis-diskfull-')
let mounted = false
let whyNotMounted = ''

function fill(dir: string): string {
  const filler = path.join(dir, 'filler')
  const fd = openSync(filler, 'w')
  const chunk = Buffer.alloc(4096)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
  } finally {
    closeSync(fd)
  }
  return filler
}

function expectCleanFailure(r: CliResult, mentions: RegExp): void {
  expect(r.code, `${r.stdout}\n${r.stderr}`).not.toBe(0)
  // oclif wraps long messages onto ' ›   ' continuation lines; read them as one line.
  expect(r.stderr.replace(/\s*\n\s*(›\s*)?/g, ' ')).toMatch(mentions)
  // No stack frames: the user sees a message, not the implementation.
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/)
  expect(r.stdout).not.toMatch(/\n\s+at .+:\d+:\d+/)
}

const run = (args: string[]) => runCli(args, {env, timeoutMs: 120_000})
const nonTempFiles = (dir: string) => readdirSync(dir).filter((f) => !f.startsWith('.'))

beforeAll(() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint], {stdio: 'pipe'})
    mounted = true
  } catch (err) {
    whyNotMounted = (err as Error).message
    console.warn(`disk-full cases skipped: cannot mount a tmpfs at ${mountPoint} (${whyNotMounted})`)
  }
})

afterAll(() => {
  if (mounted) execFileSync('umount', ['-l', mountPoint])
})

describe('a home or output path that cannot be a directory', () => {
  const blocker = path.join(tempDir('qis-wf-'), 'a-file')
  beforeAll(() => writeFileSync(blocker, 'not a directory\n'))

  it.each([
    ['distill', ['distill', LOG]],
    ['publish', ['publish', '--bootstrap', '/ip4/127.0.0.1/tcp/9/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN', '--yes']],
    ['pull-weights', ['pull-weights', '--bootstrap', '/ip4/127.0.0.1/tcp/9/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN']],
    ['node', ['node']],
  ])('%s with --home naming a regular file fails clearly and leaves the file alone', async (_name, args) => {
    const r = await run([...args, '--home', blocker])
    expectCleanFailure(r, new RegExp(blocker.replaceAll('/', '\\/')))
    expect(readFileSync(blocker, 'utf8')).toBe('not a directory\n')
  }, 120_000)

  it('distill --out under a regular file fails clearly, naming the path, and writes nothing', async () => {
    const home = tempDir('qis-wf-home-')
    const r = await run(['distill', LOG, '--home', home, '--out', path.join(blocker, 'x.qisp')])
    expectCleanFailure(r, new RegExp(blocker.replaceAll('/', '\\/')))
    expect(existsSync(path.join(home, 'packets')) ? nonTempFiles(path.join(home, 'packets')) : []).toEqual([])
  }, 120_000)
})

describe('a full disk', () => {
  // Whether the tmpfs mounted is known only once beforeAll ran, so each case checks and says why it did nothing.
  const skip = () => {
    if (!mounted) console.warn(`skipped: ${whyNotMounted}`)
    return !mounted
  }

  describe('distill', () => {
    let home: string
    let firstStore: string
    let firstBytes: Buffer
    let failed: CliResult

    beforeAll(async () => {
      if (skip()) return
      home = path.join(mountPoint, 'distill-home')
      const first = await run(['distill', LOG, '--home', home, '--json'])
      expect(first.code, first.stderr).toBe(0)
      firstStore = JSON.parse(first.stdout).out
      firstBytes = readFileSync(firstStore)
      const filler = fill(mountPoint)
      try {
        failed = await run(['distill', LOG, '--home', home])
      } finally {
        rmSync(filler)
      }
    }, 240_000)

    it('fails with a clear message and keeps the store already written', () => {
      if (skip()) return
      expectCleanFailure(failed, /cannot write packet store .*no space left on device/i)
      expect(readFileSync(firstStore).equals(firstBytes)).toBe(true)
      // Nothing under a final name but the first store and its rejects file.
      expect(nonTempFiles(path.dirname(firstStore)).filter((f) => f.endsWith('.qisp'))).toEqual([path.basename(firstStore)])
    })

    it('leaves no temp file behind', () => {
      if (skip()) return
      expect(readdirSync(path.dirname(firstStore)).filter((f) => f.startsWith('.'))).toEqual([])
    })
  })

  it('distill on a disk that fills up part-way through the store fails instead of committing a short store', async () => {
    if (skip()) return
    const home = path.join(mountPoint, 'distill-partial')
    mkdirSync(home)
    const filler = fill(mountPoint)
    let r: CliResult
    try {
      // Leave 12 KiB: the store header fits, the ~30 KiB of packets do not.
      const {size} = statSync(filler)
      truncateSync(filler, size - 12 * 1024)
      r = await run(['distill', LOG, '--home', home, '--out', path.join(home, 'out.qisp'), '--rejects', path.join(home, 'rejects.jsonl')])
    } finally {
      rmSync(filler)
    }
    const out = path.join(home, 'out.qisp')
    if (existsSync(out)) {
      // A store under the final name must be whole: every record readable.
      let records = 0
      for await (const e of readStoreFile(out)) {
        expect(e.kind, `record ${records} of ${out}`).toBe('packet')
        records++
      }
    }
    expectCleanFailure(r, /no space left on device|ENOSPC|short write/i)
    expect(existsSync(out)).toBe(false)
  }, 120_000)

  describe('publish, pull-weights and node storage', () => {
    let nodes: NodeProcess[] = []
    let bootstrap: string

    beforeAll(async () => {
      if (skip()) return
      nodes = await startSwarm(3, {env})
      bootstrap = nodes[0].multiaddrs[0]
    }, 120_000)

    afterAll(async () => {
      await stopAll(nodes)
    })

    it('publish: a full disk (at the home lock or the journal) fails clearly; journaled pairs stay and a re-run finishes', async () => {
      if (skip()) return
      const home = path.join(mountPoint, 'publish-home')
      mkdirSync(path.join(home, 'packets'), {recursive: true})
      const signer = signerFor('wf-publisher')
      await writeStore(path.join(home, 'packets', 'a.qisp'), makePackets(signer, 20, {keyCount: 4}))
      const first = await run(['publish', '--home', home, '--bootstrap', bootstrap, '--yes', '--json'])
      expect(first.code, first.stderr).toBe(0)
      const journal = path.join(home, 'journal', JOURNAL_FILE)
      const journalBefore = readFileSync(journal)
      expect(journalBefore.length).toBeGreaterThan(0)

      await writeStore(path.join(home, 'packets', 'b.qisp'), makePackets(signer, 20, {keyCount: 4, offset: 100}))
      const filler = fill(mountPoint)
      let failed: CliResult
      try {
        failed = await run(['publish', '--home', home, '--bootstrap', bootstrap, '--yes'])
      } finally {
        rmSync(filler)
      }
      expectCleanFailure(failed, /journal.*no space left on device|no space left on device.*journal/i)
      expect(readFileSync(journal).subarray(0, journalBefore.length).equals(journalBefore)).toBe(true)

      // The home lock is the first write: it must not be left behind, empty, to refuse the re-run.
      expect(existsSync(path.join(home, 'publish.lock'))).toBe(false)
      const again = await run(['publish', '--home', home, '--bootstrap', bootstrap, '--yes', '--json'])
      expect(again.code, again.stderr + again.stdout).toBe(0)
      expect(JSON.parse(again.stdout)).toMatchObject({failed: 0, skipped: 20, published: 20})
    }, 240_000)

    it('pull-weights: a full disk fails clearly and the existing weights file is untouched', async () => {
      if (skip()) return
      const peer = tempDir('qis-wf-peer-')
      mkdirSync(path.join(peer, 'packets'))
      await writeStore(path.join(peer, 'packets', 'p.qisp'), makePackets(signerFor('wf-peer'), 10, {keyCount: 3, offset: 300}))
      const home = path.join(mountPoint, 'pull-home')
      mkdirSync(path.join(home, 'packets'), {recursive: true})
      await writeStore(path.join(home, 'packets', 'own.qisp'), makePackets(signerFor('wf-own'), 10, {keyCount: 3, offset: 300}))
      for (const h of [peer, home]) {
        const p = await run(['publish', '--home', h, '--bootstrap', bootstrap, '--yes'])
        expect(p.code, p.stderr).toBe(0)
      }
      const first = await run(['pull-weights', '--home', home, '--bootstrap', bootstrap, '--json'])
      expect(first.code, first.stderr).toBe(0)
      const weightsFile = JSON.parse(first.stdout).out
      const before = readFileSync(weightsFile)
      expect(Object.keys(JSON.parse(before.toString()).weights).length).toBeGreaterThan(0)

      // New peer packets, so a successful pull would change the file.
      const more = tempDir('qis-wf-peer2-')
      mkdirSync(path.join(more, 'packets'))
      await writeStore(path.join(more, 'packets', 'p.qisp'), makePackets(signerFor('wf-peer-2'), 10, {keyCount: 3, offset: 300}))
      expect((await run(['publish', '--home', more, '--bootstrap', bootstrap, '--yes'])).code).toBe(0)

      const filler = fill(mountPoint)
      let failed: CliResult
      try {
        failed = await run(['pull-weights', '--home', home, '--bootstrap', bootstrap])
      } finally {
        rmSync(filler)
      }
      expectCleanFailure(failed, /no space left on device/i)
      expect(failed.stderr.replace(/\s*\n\s*(›\s*)?/g, ' ')).toContain(weightsFile)
      expect(readFileSync(weightsFile).equals(before)).toBe(true)
      expect(readdirSync(path.dirname(weightsFile)).filter((f) => f.startsWith('.'))).toEqual([])

      const again = await run(['pull-weights', '--home', home, '--bootstrap', bootstrap])
      expect(again.code, again.stderr).toBe(0)
      expect(readFileSync(weightsFile).equals(before)).toBe(false)
    }, 300_000)

    it('node: a full disk refuses new packets as STORAGE_ERROR, keeps serving, and loses nothing acknowledged', async () => {
      if (skip()) return
      const home = path.join(mountPoint, 'node-home')
      const node = await startNode({home, bootstrap: [bootstrap], env})
      // A failed assertion must not leave the node running.
      onTestFinished(async () => {
        await node.stop()
      })
      // 20 go in first; the other 100 (~16 KiB) cannot fit in the slack of the log's last page.
      const packets = makePackets(signerFor('wf-node'), 120, {keyCount: 1})
      const key = packets[0].keys[0]
      const client = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [node.multiaddrs[0]]})
      const store = async (batch: typeof packets) => {
        const stream = await client.node.libp2p.dialProtocol(peerIdFromString(node.peerId), STORE_PROTOCOL, {signal: AbortSignal.timeout(20_000)})
        await writeFrame(stream, encodeStoreRequest({key, packets: batch.map((p) => p.bytes)}))
        await stream.close()
        return decodeStoreResponse(await readOneFrame(stream), batch.length).results
      }
      let filler = ''
      let second: string[] = []
      try {
        expect(await store(packets.slice(0, 20))).toEqual(Array(20).fill('stored'))
        filler = fill(mountPoint)
        second = await store(packets.slice(20))
        // Still serving what it acknowledged before the disk filled. Asked directly: a DHT fetch may
        // be answered by whichever peers are closest to the key, which need not include this node.
        const stream = await client.node.libp2p.dialProtocol(peerIdFromString(node.peerId), FETCH_PROTOCOL, {signal: AbortSignal.timeout(20_000)})
        await writeFrame(stream, encodeFetchRequest({keys: [key]}))
        let served = 0
        for await (const frame of readFrames(stream, 1000)) {
          const f = decodeFetchFrame(frame)
          if ('done' in f) break
          served += f.packets.length
        }
        expect(served).toBeGreaterThanOrEqual(20)
      } finally {
        await client.close()
        if (filler) rmSync(filler)
      }
      expect(await node.stop()).toBe(0)
      const acknowledged = 20 + second.filter((s) => s === 'stored').length
      for (const s of second) expect(['stored', 'STORAGE_ERROR']).toContain(s)

      // Every packet the node acknowledged must be on its disk: a restart loads exactly those.
      const restarted = await startNode({home, env})
      let reloaded: unknown
      try {
        reloaded = restarted.events.find((e) => e.event === 'started')?.packets
      } finally {
        await restarted.stop()
      }
      expect(reloaded, `acknowledged ${acknowledged} packets, ${reloaded} survived a restart`).toBe(acknowledged)
      // ~16 KiB cannot fit in the slack of the log's last page: the node must have refused, and counted it.
      const stopped = node.events.find((e) => e.event === 'stopped') as unknown as {storage: {refused: Record<string, number>}}
      expect(stopped.storage.refused.STORAGE_ERROR).toBe(second.filter((s) => s === 'STORAGE_ERROR').length)
      expect(second).toContain('STORAGE_ERROR')
    }, 180_000)
  })
})
