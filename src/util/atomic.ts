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
