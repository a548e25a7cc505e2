import {promises as fs} from 'node:fs'
import path from 'node:path'

import {PacketStoreWriter, removeOrphanedTempStores} from '../packet/store.js'
import {QisError, errorMessage} from '../util/errors.js'
import {RejectsWriter} from './rejects.js'

/**
 * The packet store and rejects file of one run. Nothing is created until there is something to
 * write: the store (and its folder) when the first record reaches hashing, so a run that yields
 * no packet (an empty or binary file, every record rejected) leaves no store and no new folder.
 * Both are written under temp names and renamed into place on commit.
 */
export class Outputs {
  private writer: PacketStoreWriter | undefined
  private opening: Promise<PacketStoreWriter> | undefined
  /** Folders this run created, deepest last: removed again when the run writes nothing. */
  private readonly created: string[] = []
  readonly rejects: RejectsWriter

  private constructor(
    readonly out: string,
    readonly rejectsPath: string,
    private readonly explicitRejects: boolean,
    /** Orphaned temp stores of killed runs removed from the output folder(s). */
    readonly tempFilesRemoved: number,
  ) {
    this.rejects = new RejectsWriter(rejectsPath, explicitRejects, () => this.makeDir(path.dirname(rejectsPath)))
  }

  /** Checks both paths can be written (creating nothing but an explicit --rejects file), and clears orphans of killed runs. */
  static async prepare(out: string, rejects: string | undefined, rejectsPathFor: (store: string) => string): Promise<Outputs> {
    const rejectsPath = path.resolve(rejects ?? rejectsPathFor(out))
    if (rejectsPath === out) throw new QisError('--rejects and --out name the same file', {code: 'BAD_FLAG'})
    const outStat = await fs.stat(out).catch(() => undefined)
    if (outStat?.isDirectory()) throw new QisError(`--out ${out} is a folder; name the store file to write (e.g. ${path.join(out, 'run.qisp')})`, {code: 'BAD_FLAG'})
    await checkWritable(path.dirname(out), `packet store ${out}`)
    if (rejects !== undefined) await checkWritable(path.dirname(rejectsPath), `rejects file ${rejectsPath}`)
    // A killed run (kill -9, OOM) leaves its temp store behind; the next run in the folder removes it.
    const dirs = [...new Set([path.dirname(out), path.dirname(rejectsPath)])]
    let removed = 0
    for (const dir of dirs) removed += (await removeOrphanedTempStores(dir)).length
    const outputs = new Outputs(out, rejectsPath, rejects !== undefined, removed)
    if (rejects !== undefined) await outputs.rejects.open()
    return outputs
  }

  /** The store, created on first call. */
  store(): Promise<PacketStoreWriter> {
    this.opening ??= (async () => {
      await this.makeDir(path.dirname(this.out))
      this.writer = await PacketStoreWriter.create(this.out)
      return this.writer
    })()
    return this.opening
  }

  /** Commits the store when it holds packets (else removes it), and the rejects file when there is a store or it was asked for. */
  async commit(packets: number): Promise<{out: string | null; rejects: string | null}> {
    if (packets === 0) {
      if (this.opening) await (await this.opening.catch(() => undefined))?.abort()
      const rejects = this.explicitRejects ? await this.rejects.commit() : (await this.rejects.abort(), null)
      await this.removeCreatedDirs()
      return {out: null, rejects}
    }
    await this.writer!.commit()
    return {out: this.out, rejects: await this.rejects.commit()}
  }

  async abort(): Promise<void> {
    if (this.opening) await (await this.opening.catch(() => undefined))?.abort()
    await this.rejects.abort()
    await this.removeCreatedDirs()
  }

  private async makeDir(dir: string): Promise<void> {
    let first: string | undefined
    try {
      first = await fs.mkdir(dir, {recursive: true, mode: 0o700})
    } catch (err) {
      throw new QisError(`cannot create folder ${dir}: ${errorMessage(err)}`, {code: 'WRITE_FAILED', cause: err})
    }
    if (first === undefined) return
    for (let d = dir; ; d = path.dirname(d)) {
      this.created.unshift(d)
      if (d === first || d === path.dirname(d)) break
    }
  }

  private async removeCreatedDirs(): Promise<void> {
    // Deepest first; a folder something else wrote into meanwhile is not empty and stays.
    for (const dir of [...this.created].reverse()) await fs.rmdir(dir).catch(() => {})
    this.created.length = 0
  }
}

/**
 * Says plainly, before any work, why an output could not be written (a file in the way, no
 * permission), without creating anything: the nearest existing folder on the path must be writable.
 */
async function checkWritable(dir: string, what: string): Promise<void> {
  for (let d = dir; ; d = path.dirname(d)) {
    const st = await fs.stat(d).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' || err.code === 'ENOTDIR' ? undefined : Promise.reject(err)))
    if (st) {
      if (!st.isDirectory()) throw new QisError(`cannot write ${what}: ${d} is a file, not a folder`, {code: 'WRITE_FAILED'})
      await fs.access(d, fs.constants.W_OK).catch(() => {
        throw new QisError(`cannot write ${what}: ${d} is not writable`, {code: 'PERMISSION_DENIED'})
      })
      return
    }
    if (d === path.dirname(d)) return
  }
}
