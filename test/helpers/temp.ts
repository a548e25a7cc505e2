import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * Temp folders for tests, removed when their test file ends (test/setup/temp-cleanup.ts runs the
 * removal after the file's own afterAll hooks, so nodes started in a folder are stopped first).
 */
const created = new Set<string>()

export function tempDir(prefix = 'qis-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  created.add(dir)
  return dir
}

/** Removes every folder tempDir made in this test file; returns how many. */
export function removeTempDirs(): number {
  const n = created.size
  for (const dir of created) rmSync(dir, {recursive: true, force: true, maxRetries: 3})
  created.clear()
  return n
}
