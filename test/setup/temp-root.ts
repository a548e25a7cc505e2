import {mkdtempSync, readdirSync, rmSync, statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * vitest globalSetup: the whole run (workers and the CLI processes they start) gets a private
 * TMPDIR, so what one run leaves behind is never confused with another run's (engineers share the
 * machine), and nothing is left in /tmp afterwards. At the end, whatever tests did not clean up
 * themselves is listed by prefix (so a leak is visible and has a name) and removed. With
 * QIS_TEST_STRICT_TMP=1 a leftover fails the run.
 */
export function setup(): () => void {
  const root = mkdtempSync(path.join(os.tmpdir(), 'qis-vitest-'))
  process.env.TMPDIR = root
  return () => {
    const left = readdirSync(root)
    if (left.length > 0) {
      const byPrefix = new Map<string, number>()
      for (const name of left) {
        const prefix = name.replace(/[-_][A-Za-z0-9]{6}$/, '-*')
        byPrefix.set(prefix, (byPrefix.get(prefix) ?? 0) + 1)
      }
      const bytes = left.reduce((n, name) => n + du(path.join(root, name)), 0)
      const list = [...byPrefix].sort((a, b) => b[1] - a[1]).map(([p, n]) => `${p} x${n}`).join(', ')
      console.warn(`\nTemp folders the tests did not remove (${left.length}, ${(bytes / 1024 / 1024).toFixed(1)} MiB; now removed): ${list}\n`)
    }
    rmSync(root, {recursive: true, force: true, maxRetries: 3})
    if (left.length > 0 && process.env.QIS_TEST_STRICT_TMP === '1') throw new Error(`tests left ${left.length} temp folder(s) behind`)
  }
}

function du(p: string): number {
  try {
    const st = statSync(p)
    if (!st.isDirectory()) return st.size
    return readdirSync(p).reduce((n, name) => n + du(path.join(p, name)), 0)
  } catch {
    return 0
  }
}
