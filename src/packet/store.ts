import {createReadStream, promises as fs, readdirSync, rmSync} from 'node:fs'
import type {FileHandle} from 'node:fs/promises'
import path from 'node:path'
import {Readable} from 'node:stream'
import {crc32} from 'node:zlib'

import {tempPathFor, writeAll} from '../util/atomic.js'
import {QisError, errorMessage} from '../util/errors.js'
import {MAX_PACKET_BYTES} from './types.js'

/**
 * Packet store (.qisp): an 8-byte header, then records appended one after another:
 *
 *   header:  "QISP" | version u8 (=1) | 3 reserved zero bytes
 *   record:  length u16 BE | packet bytes | crc32(packet) u32 BE
 *
 * The length prefix lets a reader stream without framing ambiguity; the CRC tells a record torn by a
 * crash or flipped on disk from a good one. A store under its final name was always completed
 * (written to a temp file, fsynced, renamed); appends to an existing store are detectable if torn.
 */
export const STORE_MAGIC = Buffer.from('QISP', 'ascii')
export const STORE_VERSION = 1
export const STORE_HEADER_BYTES = 8
export const STORE_EXTENSION = '.qisp'

export type StoreEntry =
  | {kind: 'packet'; index: number; offset: number; bytes: Uint8Array}
  /** A record that could not be read. `fatal` means reading cannot continue past it. */
  | {kind: 'corrupt'; index: number; offset: number; reason: string; fatal: boolean}

export function storeHeader(): Buffer {
  const header = Buffer.alloc(STORE_HEADER_BYTES)
  STORE_MAGIC.copy(header, 0)
  header[4] = STORE_VERSION
  return header
}

// Every caller hands over a packet the codec made or checked (at most MAX_PACKET_BYTES), so a
// size outside it is a bug, never something a person did.
export function frameRecord(packet: Uint8Array): Buffer {
  if (packet.length === 0 || packet.length > MAX_PACKET_BYTES) throw new QisError(`cannot store a packet of ${packet.length} bytes`, {code: 'INTERNAL'})
  const out = Buffer.alloc(2 + packet.length + 4)
  out.writeUInt16BE(packet.length, 0)
  out.set(packet, 2)
  out.writeUInt32BE(crc32(packet), 2 + packet.length)
  return out
}

/** True when `bytes` start like a packet store (used to tell a store file from a single packet). */
export function looksLikeStore(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && Buffer.from(bytes.subarray(0, 4)).equals(STORE_MAGIC)
}

/**
 * Streams the entries of a store from any byte source, holding at most one chunk plus one record in
 * memory. Never throws on bad content: problems are yielded as `corrupt` entries.
 */
export async function* readStoreStream(source: AsyncIterable<Uint8Array>): AsyncGenerator<StoreEntry> {
  let buf: Buffer = Buffer.alloc(0)
  let offset = 0 // file offset of buf[0]
  let headerDone = false
  let index = 0
  for await (const chunk of source) {
    buf = buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([buf, chunk])
    if (!headerDone) {
      if (buf.length < STORE_HEADER_BYTES) continue
      const problem = checkHeader(buf)
      if (problem) {
        yield {kind: 'corrupt', index: 0, offset: 0, reason: problem, fatal: true}
        return
      }
      buf = buf.subarray(STORE_HEADER_BYTES)
      offset = STORE_HEADER_BYTES
      headerDone = true
    }
    for (;;) {
      if (buf.length < 2) break
      const length = buf.readUInt16BE(0)
      if (length === 0 || length > MAX_PACKET_BYTES) {
        yield {kind: 'corrupt', index, offset, reason: `record length ${length} is impossible (1..${MAX_PACKET_BYTES}); the rest of the store cannot be read`, fatal: true}
        return
      }
      if (buf.length < 2 + length + 4) break
      const bytes = buf.subarray(2, 2 + length)
      const crc = buf.readUInt32BE(2 + length)
      if (crc32(bytes) === crc) yield {kind: 'packet', index, offset, bytes: new Uint8Array(bytes)}
      else yield {kind: 'corrupt', index, offset, reason: 'checksum mismatch (record damaged)', fatal: false}
      index++
      offset += 2 + length + 4
      buf = buf.subarray(2 + length + 4)
    }
  }
  if (!headerDone) {
    yield {kind: 'corrupt', index: 0, offset: 0, reason: buf.length === 0 ? 'file is empty (no store header)' : 'file is shorter than a store header', fatal: true}
    return
  }
  if (buf.length > 0) {
    yield {kind: 'corrupt', index, offset, reason: `torn tail: ${buf.length} trailing bytes do not form a whole record (interrupted write?)`, fatal: true}
  }
}

function checkHeader(buf: Buffer): string | undefined {
  if (!buf.subarray(0, 4).equals(STORE_MAGIC)) return 'not a qis packet store (bad magic bytes)'
  if (buf[4] !== STORE_VERSION) return `packet store version ${buf[4]} is not supported (this qis reads version ${STORE_VERSION})`
  return undefined
}

export function readStoreFile(file: string): AsyncGenerator<StoreEntry> {
  return readStoreStream(createReadStream(file, {highWaterMark: 64 * 1024}))
}

export function readStoreBytes(bytes: Uint8Array): AsyncGenerator<StoreEntry> {
  return readStoreStream(Readable.from([bytes]))
}

/**
 * Writes a new store atomically: records go to a temp file beside the target, and `commit()` fsyncs
 * and renames it into place. Until then (crash, Ctrl-C, kill -9) no file exists under the final name.
 * Writes are buffered so a million small packets cost few syscalls.
 */
export class PacketStoreWriter {
  private pending: Buffer[] = []
  private pendingBytes = 0
  private closed = false
  count = 0
  bytes = STORE_HEADER_BYTES

  private constructor(
    readonly path: string,
    readonly tempPath: string,
    private readonly handle: FileHandle,
  ) {}

  static async create(target: string): Promise<PacketStoreWriter> {
    const tmp = tempPathFor(target)
    let handle: FileHandle | undefined
    try {
      handle = await fs.open(tmp, 'wx', 0o600)
      await writeAll(handle, storeHeader())
    } catch (err) {
      await handle?.close().catch(() => {})
      await fs.rm(tmp, {force: true})
      throw new QisError(`cannot write packet store ${target}: ${errorMessage(err)}`, {code: 'WRITE_FAILED', cause: err})
    }
    return new PacketStoreWriter(target, tmp, handle)
  }

  async append(packet: Uint8Array): Promise<void> {
    const framed = frameRecord(packet)
    this.pending.push(framed)
    this.pendingBytes += framed.length
    this.count++
    this.bytes += framed.length
    if (this.pendingBytes >= 256 * 1024) await this.flush()
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return
    const data = Buffer.concat(this.pending)
    this.pending = []
    this.pendingBytes = 0
    try {
      await writeAll(this.handle, data)
    } catch (err) {
      throw new QisError(`cannot write packet store ${this.path}: ${errorMessage(err)}`, {code: 'WRITE_FAILED', cause: err})
    }
  }

  async commit(): Promise<void> {
    if (this.closed) return
    await this.flush()
    try {
      await this.handle.sync()
      await this.handle.close()
      this.closed = true
      await fs.rename(this.tempPath, this.path)
    } catch (err) {
      await this.abort()
      throw new QisError(`cannot finish packet store ${this.path}: ${errorMessage(err)}`, {code: 'WRITE_FAILED', cause: err})
    }
  }

  /** Discards the temp file; nothing appears under the final name. */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true
      await this.handle.close().catch(() => {})
    }
    await fs.rm(this.tempPath, {force: true})
  }
}

/**
 * Appends records to an existing store (creating it with a header if missing), for long-lived
 * stores such as a node's. Each append is one write of whole records followed by fsync, so a crash
 * leaves at worst a torn last record, which readers report and `repairStoreTail` cuts off.
 */
export async function appendToStore(file: string, packets: Uint8Array[]): Promise<void> {
  const handle = await fs.open(file, 'a', 0o600)
  try {
    const {size} = await handle.stat()
    const parts = size === 0 ? [storeHeader()] : []
    for (const p of packets) parts.push(frameRecord(p))
    try {
      await writeAll(handle, Buffer.concat(parts))
      await handle.sync()
    } catch (err) {
      // Cut the partial records off so the next append does not land behind a torn one.
      await handle.truncate(size).catch(() => {})
      throw err
    }
  } finally {
    await handle.close()
  }
}

/** Truncates a torn tail left by a crash mid-append; returns how many bytes were cut. */
export async function repairStoreTail(file: string): Promise<number> {
  let goodEnd = STORE_HEADER_BYTES
  let fatalAt: number | undefined
  for await (const entry of readStoreFile(file)) {
    if (entry.kind === 'corrupt' && entry.fatal) {
      fatalAt = entry.offset
      break
    }
    if (entry.kind === 'packet') goodEnd = entry.offset + 2 + entry.bytes.length + 4
  }
  if (fatalAt === undefined || fatalAt < STORE_HEADER_BYTES) return 0
  const {size} = await fs.stat(file)
  await fs.truncate(file, goodEnd)
  return size - goodEnd
}

/**
 * Temp files an atomic writer leaves beside its target when its process is killed (`kill -9`, OOM,
 * power loss): `.NAME.qisp.PID.RAND.tmp` for stores, `.NAME.rejects.jsonl.PID.RAND.tmp` for their
 * rejects files (the names `tempPathFor` makes).
 */
const ORPHAN_TEMP = /^\..+\.(?:qisp|rejects\.jsonl)\.(\d+)\.[0-9a-f]{8}\.tmp$/

/** A writer whose process is alive may be idle for hours (aggregating, or embedding a slow model); past this, its PID was reused. */
export const ORPHAN_MAX_AGE_MS = 7 * 24 * 3600 * 1000

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes orphaned temp stores (and temp rejects files) in `dir`: those whose writer's PID is no
 * longer running, and any not modified for `maxAgeMs` (default a week), whose PID has likely been
 * reused. This process's own temp files are never touched. Returns the names removed. Missing
 * folder: nothing to do. A file that vanishes or cannot be removed meanwhile is skipped.
 */
export async function removeOrphanedTempStores(dir: string, options: {maxAgeMs?: number; now?: number; alive?: (pid: number) => boolean} = {}): Promise<string[]> {
  const maxAge = options.maxAgeMs ?? ORPHAN_MAX_AGE_MS
  const now = options.now ?? Date.now()
  const alive = options.alive ?? processAlive
  let names: string[]
  try {
    names = await fs.readdir(dir)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names) {
    const m = ORPHAN_TEMP.exec(name)
    if (!m) continue
    const pid = Number(m[1])
    if (pid === process.pid) continue
    const file = path.join(dir, name)
    const st = await fs.lstat(file).catch(() => undefined)
    if (!st?.isFile()) continue
    if (alive(pid) && now - st.mtimeMs < maxAge) continue
    try {
      await fs.rm(file)
      removed.push(name)
    } catch {
      // Gone already, or not ours to remove: leave it.
    }
  }
  return removed
}

/**
 * Removes this process's own temp stores in `dir`, synchronously: for a second Ctrl-C, which exits
 * at once without waiting for the run to unwind.
 */
export function removeOwnTempStoresSync(dir: string): void {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    const m = ORPHAN_TEMP.exec(name)
    if (m && Number(m[1]) === process.pid) rmSync(path.join(dir, name), {force: true})
  }
}
