import {spawnSync} from 'node:child_process'
import {promises as fs, statSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {openHome} from '../../src/config/home.js'
import {acquireHomeLock} from '../../src/config/lock.js'
import {runCli, tempDir} from '../helpers/cli.js'
import {startNode} from '../helpers/swarm.js'

// Issue 21 items 12 and 13: a lock per role on a home, and a home left readable by others.

describe('home lock', () => {
  it('a second holder of the same role fails clearly naming the holder; another role, or a release, lets it in', async () => {
    const home = await openHome(tempDir())
    const first = await acquireHomeLock(home, 'publish')
    await expect(acquireHomeLock(home, 'publish')).rejects.toMatchObject({code: 'HOME_LOCKED', message: expect.stringContaining(`process ${process.pid}`)})
    const node = await acquireHomeLock(home, 'node')
    await first.release()
    const again = await acquireHomeLock(home, 'publish')
    await again.release()
    await node.release()
  })

  it('takes over a lock left by a process that is gone (kill -9)', async () => {
    const home = await openHome(tempDir())
    // A pid that existed and has exited: a finished child's.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!
    await fs.writeFile(path.join(home.root, 'publish.lock'), JSON.stringify({pid: gone, host: (await import('node:os')).hostname(), role: 'publish', since: new Date().toISOString()}))
    const lock = await acquireHomeLock(home, 'publish')
    expect(JSON.parse(await fs.readFile(lock.file, 'utf8')).pid).toBe(process.pid)
    await lock.release()
  })

  it('two `qis node`s on one home: the second exits 1 with HOME_LOCKED, the first keeps running', async () => {
    const node = await startNode()
    try {
      const second = await runCli(['node', '--home', node.home, '--listen', '/ip4/127.0.0.1/tcp/0', '--json'], {env: {QIS_BOOTSTRAP: ''}, timeoutMs: 60_000})
      expect(second.code).toBe(1)
      expect(second.stdout + second.stderr).toContain('HOME_LOCKED')
      expect(node.process.exitCode).toBeNull()
    } finally {
      expect(await node.stop()).toBe(0)
    }
    // Released at a clean stop: a node starts on the home again.
    const again = await startNode({home: node.home})
    expect(await again.stop()).toBe(0)
  }, 300_000)
})

describe('home permissions', () => {
  it('an existing home with mode 0755 is tightened to 0700, and the command says so', async () => {
    const dir = tempDir()
    await fs.chmod(dir, 0o755)
    const home = await openHome(dir)
    expect(home.permissions).toEqual({from: 0o755, to: 0o700})
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    await fs.chmod(dir, 0o755)
    const r = await runCli(['id', '--home', dir])
    expect(r.code).toBe(0)
    expect(r.stderr.replace(/\s*\n\s*›?\s*/g, ' ')).toMatch(/readable by other users \(mode 0755\); tightened to 0700/)
    expect(statSync(dir).mode & 0o777).toBe(0o700)
  }, 60_000)
})
