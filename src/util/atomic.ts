import {randomBytes} from 'node:crypto'
import {promises as fs} from 'node:fs'
import path from 'node:path'

/** A temp path beside `target`, so the final rename stays on one filesystem and is atomic. */
export function tempPathFor(target: string): string {
  const dir = path.dirname(target)
  return path.join(dir, `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
}

/**
 * Write a whole file atomically: readers see the old file or the new one, never half of it,
 * even if the process is killed mid-write (temp file + fsync + rename).
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = tempPathFor(target)
  const handle = await fs.open(tmp, 'wx', mode)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } catch (err) {
    await handle.close().catch(() => {})
    await fs.rm(tmp, {force: true})
    throw err
  }
  await handle.close()
  try {
    await fs.rename(tmp, target)
  } catch (err) {
    await fs.rm(tmp, {force: true})
    throw err
  }
}

/**
 * Writes every byte or throws. A plain `handle.write` may write only part of the buffer (a disk
 * filling up mid-write returns a short count instead of failing), which would let a caller fsync,
 * rename or acknowledge data that is not on disk.
 */
export async function writeAll(handle: import('node:fs/promises').FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0
  while (offset < data.length) {
    const {bytesWritten} = await handle.write(data, offset, data.length - offset)
    if (bytesWritten <= 0) {
      throw Object.assign(new Error(`no space left on device (wrote ${offset} of ${data.length} bytes)`), {code: 'ENOSPC'})
    }
    offset += bytesWritten
  }
}
