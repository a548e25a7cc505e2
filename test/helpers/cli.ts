import {spawn} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {tempDir} from './temp.js'

export {tempDir}

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const runJs = path.join(repoRoot, 'bin', 'run.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Run the real CLI (bin/run.js, compiled dist/) as a separate process, as a user would. Without
 * QIS_HOME in `env` it gets a fresh home, as runCommand does: the real ~/.qis is never touched, and
 * two tests that start `qis node` without --home cannot meet on its lock (seen: HOME_LOCKED, exit 1,
 * where a test expected its own error).
 */
export function runCli(
  args: string[],
  options: {input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number} = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runJs, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: {...process.env, NO_COLOR: '1', QIS_HOME: path.join(tempDir(), 'home'), ...options.env},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr})
    })
    if (options.input !== undefined) child.stdin.end(options.input)
    else child.stdin.end()
  })
}
