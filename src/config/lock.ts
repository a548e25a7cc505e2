import {promises as fs, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import type {ErrorCode} from '../cli/codes.js'
import {QisError, errorMessage} from '../util/errors.js'
import type {Home} from './home.js'

/** What holds a home lock: `publish` (the journal), `node` (the node's storage, log and peer id) or `trust` (the trust list, while it is rewritten). */
export type LockRole = 'publish' | 'node' | 'trust'

interface LockInfo {
  pid: number
  host: string
  role: LockRole
  since: string
}

export interface HomeLock {
  file: string
  release(): Promise<void>
  /** For a process 'exit' handler: removes the file unless already released. */
  releaseSync(): void
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but is another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes `<home>/<role>.lock`, created exclusively with this process's pid, so two `qis publish`
 * runs (which would send everything twice) or two `qis node`s (same peer id, same storage log) on
 * one home fail clearly instead (issue 21 item 12). A lock left by a process that is gone (kill -9)
 * is taken over; one on another host (a shared home) is never presumed stale.
 */
export async function acquireHomeLock(home: Home, role: LockRole): Promise<HomeLock> {
  const file = path.join(home.root, `${role}.lock`)
  const mine: LockInfo = {pid: process.pid, host: os.hostname(), role, since: new Date().toISOString()}
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await fs.open(file, 'wx', 0o600)
      try {
        await handle.writeFile(JSON.stringify(mine) + '\n')
      } catch (err) {
        // A lock created but not written (a full disk) would read as held by a process mid-write
        // and refuse the next run for nothing: it is ours, so it goes.
        await handle.close().catch(() => {})
        await fs.rm(file, {force: true})
        throw err
      } finally {
        await handle.close().catch(() => {})
      }
      let released = false
      return {
        file,
        async release() {
          if (released) return
          released = true
          await fs.rm(file, {force: true})
        },
        releaseSync() {
          if (released) return
          released = true
          rmSync(file, {force: true})
        },
      }
    } catch (err) {
      const errno = (err as NodeJS.ErrnoException).code
      if (errno !== 'EEXIST') {
        const why = errno === 'ENOSPC' ? 'no space left on device' : errorMessage(err)
        const untouched = role === 'publish' ? 'nothing was sent and the journal is untouched' : role === 'node' ? 'the node storage is untouched' : 'the trust list is untouched'
        const code: ErrorCode = errno === 'ENOSPC' ? 'DISK_FULL' : ['EACCES', 'EPERM', 'EROFS'].includes(errno ?? '') ? 'PERMISSION_DENIED' : 'IO_ERROR'
        throw new QisError(`cannot take the ${role} lock ${file} (${untouched}): ${why}`, {code, cause: err})
      }
    }
    let held: Partial<LockInfo> | undefined
    try {
      held = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<LockInfo>
    } catch {
      // Unreadable: written by a process killed mid-write, or removed meanwhile. Stale only once it is old.
      const st = await fs.stat(file).catch(() => undefined)
      if (st && Date.now() - st.mtimeMs < 5000) held = {pid: -1}
    }
    const stale = held === undefined || (held.host === os.hostname() && typeof held.pid === 'number' && held.pid > 0 && !isAlive(held.pid))
    if (!stale) {
      const who = held?.pid && held.pid > 0 ? `process ${held.pid}${held.host && held.host !== os.hostname() ? ` on ${held.host}` : ''}${held.since ? ` (since ${held.since})` : ''}` : 'another process'
      throw new QisError(`another qis ${role} is running on the home ${home.root}: ${who} holds ${file}`, {
        code: 'HOME_LOCKED',
        hint: `Wait for it to finish, or use another --home; if no such process runs, delete ${file}.`,
      })
    }
    await fs.rm(file, {force: true})
  }
  throw new QisError(`cannot lock ${file}: it keeps reappearing`, {code: 'HOME_LOCKED'})
}
