import {promises as fs} from 'node:fs'
import type {FileHandle} from 'node:fs/promises'
import path from 'node:path'

import {writeAll, writeFileAtomic} from '../util/atomic.js'
import {QisError, errorMessage} from '../util/errors.js'

export const JOURNAL_FILE = 'published.log'

const LINE = /^([0-9a-f]{64}) ([0-9a-f]{32})$/

/**
 * What peers have acknowledged, so a re-run of `qis publish` sends only what is left. One line per
 * (packet id, key fingerprint) pair, appended and fsynced after each acknowledged batch. A crash
 * between a peer's ack and the journal write only means the pair is sent again, and nodes
 * de-duplicate by packet id, so nothing is stored twice. A torn last line (kill -9 mid-write) is
 * cut off on open.
 */
export class PublishJournal {
  private constructor(
    readonly file: string,
    private readonly done: Set<string>,
    private handle: FileHandle | undefined,
  ) {}

  static async open(dir: string): Promise<PublishJournal> {
    const file = path.join(dir, JOURNAL_FILE)
    const done = new Set<string>()
    try {
      await fs.mkdir(dir, {recursive: true, mode: 0o700})
      let text = ''
      try {
        text = await fs.readFile(file, 'utf8')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
      const end = text.lastIndexOf('\n') + 1
      if (end < text.length) await fs.truncate(file, Buffer.byteLength(text.slice(0, end)))
      for (const line of text.slice(0, end).split('\n')) {
        const m = LINE.exec(line)
        if (m) done.add(`${m[1]} ${m[2]}`)
      }
      const handle = await fs.open(file, 'a', 0o600)
      return new PublishJournal(file, done, handle)
    } catch (err) {
      throw new QisError(`cannot use the publish journal ${file}: ${errorMessage(err)}`, {code: 'JOURNAL_UNUSABLE', cause: err})
    }
  }

  has(id: string, key: string): boolean {
    return this.done.has(`${id} ${key}`)
  }

  /** How many (packet, key) pairs are recorded. */
  get size(): number {
    return this.done.size
  }

  /** Appends acknowledged pairs and fsyncs before resolving. */
  async record(pairs: {id: string; key: string}[]): Promise<void> {
    const fresh = pairs.filter((p) => !this.has(p.id, p.key))
    if (fresh.length === 0) return
    if (!this.handle) throw new QisError(`publish journal ${this.file} is closed`, {code: 'INTERNAL'})
    try {
      await writeAll(this.handle, Buffer.from(fresh.map((p) => `${p.id} ${p.key}\n`).join('')))
      await this.handle.datasync()
    } catch (err) {
      throw new QisError(`cannot write the publish journal ${this.file}: ${errorMessage(err)}`, {code: 'JOURNAL_WRITE_FAILED', cause: err})
    }
    for (const p of fresh) this.done.add(`${p.id} ${p.key}`)
  }

  /**
   * Drops the pairs of packets `keep` rejects (expired, or gone from every store), when they are at
   * least `minDead` and at least half of the journal: the journal grows by one line per (packet,
   * key) ever acknowledged, and a packet that will never be sent again needs no line. The new
   * journal is written to a temp file, fsynced and renamed over the old one, so a crash keeps one
   * or the other. Returns how many pairs were dropped (0 when below the thresholds).
   */
  async compact(keep: (id: string) => boolean, minDead = 1000): Promise<number> {
    const live = [...this.done].filter((pair) => keep(pair.slice(0, 64)))
    const dead = this.done.size - live.length
    if (dead < minDead || dead * 2 < this.done.size) return 0
    if (!this.handle) throw new QisError(`publish journal ${this.file} is closed`, {code: 'INTERNAL'})
    try {
      await writeFileAtomic(this.file, live.map((pair) => `${pair}\n`).join(''), 0o600)
      await this.handle.close()
      this.handle = await fs.open(this.file, 'a', 0o600)
    } catch (err) {
      throw new QisError(`cannot compact the publish journal ${this.file}: ${errorMessage(err)}`, {code: 'JOURNAL_WRITE_FAILED', cause: err})
    }
    this.done.clear()
    for (const pair of live) this.done.add(pair)
    return dead
  }

  async close(): Promise<void> {
    const h = this.handle
    this.handle = undefined
    await h?.close()
  }
}
