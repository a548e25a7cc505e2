import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {validate} from 'dockerfile-utils'
import {describe, expect, it} from 'vitest'

import {repoRoot, tempDir} from '../helpers/cli.js'

// Docker itself is not available where the tests run, so the image is checked with a Dockerfile
// linter (dockerfile-utils, the VS Code Docker language service's validator) and by what it copies
// and runs (LSP severities: 1 error, 2 warning); the systemd unit with `systemd-analyze verify` where systemd is installed.
const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, unknown>}>}

/** Every --flag in a qis command line must be one the command has. */
function expectKnownFlags(argv: string[]): void {
  const i = argv.findIndex((a) => a.endsWith('bin/run.js'))
  const command = argv[i + 1]
  expect(manifest.commands[command], `command ${command}`).toBeDefined()
  for (const a of argv.slice(i + 2).filter((x) => x.startsWith('--'))) expect(Object.keys(manifest.commands[command].flags), a).toContain(a.slice(2))
}

describe('deploy/Dockerfile', () => {
  const file = path.join(repoRoot, 'deploy/Dockerfile')
  const text = readFileSync(file, 'utf8')

  it('passes the linter with no error or warning', () => {
    const problems = validate(text).filter((d) => d.severity === 1 || d.severity === 2)
    expect(problems.map((d) => `line ${d.range.start.line + 1}: ${d.message}`)).toEqual([])
  })

  it('the linter does find problems (so the check above can fail)', () => {
    expect(validate('FROM node:20\nEXPOSE abc\nRUNN true\n').length).toBeGreaterThanOrEqual(2)
  })

  it('copies only what exists and runs qis node with flags it has, as a non-root user', () => {
    for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1].split(/\s+/)) expect(existsSync(path.join(repoRoot, src)), src).toBe(true)
    }
    const entry = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(text)![1]) as string[]
    const cmd = JSON.parse(/^CMD (.+)$/m.exec(text)![1]) as string[]
    expectKnownFlags([...entry, ...cmd])
    expect(text).toMatch(/^USER qis$/m)
    expect(text).toMatch(/healthz/)
  })
})

describe('deploy/qis-node.service', () => {
  const file = path.join(repoRoot, 'deploy/qis-node.service')
  const text = readFileSync(file, 'utf8')
  const analyze = spawnSync('systemd-analyze', ['--version'])
  if (analyze.status !== 0) console.warn('systemd-analyze is not installed: the unit is checked for its flags only')

  it('starts qis node with flags it has, restarts on failure but not on a configuration error', () => {
    const exec = /^ExecStart=(.+)$/m.exec(text)![1].split(/\s+/)
    expectKnownFlags(exec)
    expect(text).toMatch(/^Restart=on-failure$/m)
    expect(text).toMatch(/^RestartPreventExitStatus=2$/m)
  })

  it.skipIf(analyze.status !== 0)('passes systemd-analyze verify (installed under the repository instead of /opt/qis)', () => {
    const unit = path.join(tempDir('qis-unit-'), 'qis-node.service')
    writeFileSync(unit, text.replaceAll('/opt/qis', repoRoot))
    const r = spawnSync('systemd-analyze', ['verify', unit], {encoding: 'utf8'})
    expect(r.stderr + r.stdout).toBe('')
    expect(r.status).toBe(0)
  })
})
