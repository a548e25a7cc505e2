import {promises as fs} from 'node:fs'
import type {FileHandle} from 'node:fs/promises'

import {tempPathFor, writeAll} from '../util/atomic.js'
import {QisError, errorMessage} from '../util/errors.js'

/** One line of the rejects file. Positions and reasons only: never a byte of the record itself. */
export interface RejectLine {
  file: string
  line: number
  reason: string
  field?: string
}

/**
 * Streams rejects to a temp file beside `target` and renames it into place on commit, so the file
 * under its final name is always complete, and a run with a million bad lines holds none in memory.
 * The temp file is only created on the first reject unless `always` is set.
 */
export class RejectsWriter {
  private handle: FileHandle | undefined
  private readonly tempPath: string
  private pending: string[] = []
  private pendingBytes = 0
  private done = false
  count = 0

  constructor(
    readonly path: string,
    private readonly always: boolean,
    /** Runs before the temp file is first created (e.g. to create its folder). */
    private readonly beforeCreate?: () => Promise<void>,
  ) {
    this.tempPath = tempPathFor(path)
  }

  /** Fails early (before any work) when the folder cannot take the file. */
  async open(): Promise<void> {
    if (this.always) await this.ensureOpen()
  }

  private async ensureOpen(): Promise<FileHandle> {
    if (this.handle) return this.handle
    await this.beforeCreate?.()
    try {
      this.handle = await fs.open(this.tempPath, 'wx', 0o600)
    } catch (err) {
      throw new QisError(`cannot write rejects file ${this.path}: ${errorMessage(err)}`, {code: 'WRITE_FAILED', cause: err})
    }
    return this.handle
  }

  async add(reject: RejectLine): Promise<void> {
    const line: RejectLine = {file: reject.file, line: reject.line, reason: reject.reason}
    if (reject.field !== undefined) line.field = reject.field
    const text = JSON.stringify(line) + '\n'
    this.pending.push(text)
    this.pendingBytes += text.length
    this.count++
    if (this.pendingBytes >= 64 * 1024) await this.flush()
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return
    const handle = await this.ensureOpen()
    const data = this.pending.join('')
    this.pending = []
    this.pendingBytes = 0
    await writeAll(handle, Buffer.from(data))
  }

  /** Returns the final path, or null when nothing was written and the file was optional. */
  async commit(): Promise<string | null> {
    if (this.done) return this.handle ? this.path : null
    await this.flush()
    this.done = true
    if (!this.handle) return null
    try {
      await this.handle.sync()
      await this.handle.close()
      await fs.rename(this.tempPath, this.path)
    } catch (err) {
      await fs.rm(this.tempPath, {force: true})
      throw new QisError(`cannot finish rejects file ${this.path}: ${errorMessage(err)}`, {code: 'WRITE_FAILED', cause: err})
    }
    return this.path
  }

  async abort(): Promise<void> {
    if (this.done && !this.handle) return
    this.done = true
    if (this.handle) {
      await this.handle.close().catch(() => {})
      await fs.rm(this.tempPath, {force: true})
    }
  }
}
