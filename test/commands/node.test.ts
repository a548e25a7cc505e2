import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {repoRoot, runCli, runJs, tempDir} from '../helpers/cli.js'
import {runCommand} from '../helpers/command.js'

// Needs `npm run build` (runs dist/ through bin/run.js).

describe('qis node', () => {
  it('prints its peer ID and "listening <multiaddr>" lines, and exits 0 on SIGINT', async () => {
    const home = tempDir()
    const child = spawn(process.execPath, [runJs, 'node', '--home', home, '--listen', '/ip4/127.0.0.1/tcp/0'], {
      cwd: repoRoot,
      env: {...process.env, NO_COLOR: '1', QIS_BOOTSTRAP: ''},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line; stdout: ${stdout}; stderr: ${stderr}`)), 90_000)
      child.stdout.on('data', (d) => {
        stdout += d
        if (/^listening \S+/m.test(stdout)) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    const peerId = /^qis node (\S+)$/m.exec(stdout)?.[1]
    expect(peerId).toMatch(/^12D3KooW/)
    const addr = /^listening (\S+)$/m.exec(stdout)?.[1]
    expect(addr).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${peerId}$`))
    // The identity is the home's: `qis id` names the same peer.
    const id = await runCli(['id', '--home', home])
    expect(id.stdout.trim()).toBe(peerId)

    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(stdout).toMatch(/stopping \(SIGINT\)/)
    expect(stdout).toMatch(/stopped: 0 packet\(s\) kept/)
  }, 150_000)

  it('refuses a malformed listen, bootstrap or announce address with a clear message, and writes nothing in the home', async () => {
    const home = path.join(tempDir(), 'typo')
    const r = await runCommand(['node', '--home', home, '--listen', 'not-a-multiaddr'], {env: {QIS_BOOTSTRAP: ''}})
    expect(r.code).toBe(2) // BAD_MULTIADDR: a usage error (src/cli/codes.ts)
    expect(r.stderr).toMatch(/^Error: listen: "not-a-multiaddr" is not a valid multiaddr/)
    for (const flags of [['--bootstrap', 'localhost:4001'], ['--announce', '/ip4/1.2.3']]) {
      const bad = await runCommand(['node', '--home', home, '--listen', '/ip4/127.0.0.1/tcp/0', ...flags, '--json'], {env: {QIS_BOOTSTRAP: ''}})
      expect(bad.code, bad.stdout).toBe(2)
      expect(JSON.parse(bad.stdout).error).toMatchObject({code: 'BAD_MULTIADDR', message: expect.stringContaining(`${flags[0].slice(2)}: "${flags[1]}" is not a valid multiaddr`)})
    }
    expect(existsSync(home)).toBe(false)
  }, 90_000)

  it('node storage that cannot be opened is STORAGE_UNUSABLE (exit 1), in words', async () => {
    const home = tempDir()
    const {mkdirSync} = await import('node:fs')
    mkdirSync(`${home}/node/packets.qisp`, {recursive: true})
    const r = await runCommand(['node', '--home', home, '--listen', '/ip4/127.0.0.1/tcp/0', '--json'], {env: {QIS_BOOTSTRAP: ''}})
    expect(r.code).toBe(1)
    const {error} = JSON.parse(r.stdout)
    expect(error).toMatchObject({code: 'STORAGE_UNUSABLE', message: expect.stringContaining(`cannot open node storage ${home}/node/packets.qisp: `)})
    expect(error.message).not.toMatch(/\bE[A-Z]{3,}\b/)
  }, 90_000)

  it('refuses node storage that is not a packet store, naming the file', async () => {
    const home = tempDir()
    const {mkdirSync, writeFileSync} = await import('node:fs')
    mkdirSync(`${home}/node`)
    writeFileSync(`${home}/node/packets.qisp`, 'garbage')
    const r = await runCommand(['node', '--home', home, '--listen', '/ip4/127.0.0.1/tcp/0'], {env: {QIS_BOOTSTRAP: ''}})
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/node\/packets\.qisp is not a packet store/)
    // A failed start releases the home lock: a second try meets the same error, not HOME_LOCKED.
    expect((await runCommand(['node', '--home', home, '--listen', '/ip4/127.0.0.1/tcp/0', '--json'], {env: {QIS_BOOTSTRAP: ''}})).stdout).toMatch(/STORAGE_CORRUPT/)
  }, 90_000)
})
