import {readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {tempDir} from '../helpers/cli.js'
import {runCommand} from '../helpers/command.js'

describe('qis id', () => {
  it('creates a 0600 ed25519 key on first use and prints the same peer ID afterwards', async () => {
    const home = tempDir()
    const first = await runCommand(['id', '--json', '--home', home])
    expect(first.code).toBe(0)
    const {peerId} = JSON.parse(first.stdout)
    expect(peerId).toMatch(/^12D3KooW[1-9A-HJ-NP-Za-km-z]+$/)
    expect(statSync(path.join(home, 'identity.key')).mode & 0o777).toBe(0o600)
    expect(statSync(home).mode & 0o777).toBe(0o700)
    const second = await runCommand(['id'], {env: {QIS_HOME: home}})
    expect(second.stdout).toBe(`${peerId}\n`)
  })

  it('names a home that is a file instead of printing a raw EEXIST', async () => {
    const file = path.join(tempDir(), 'home')
    writeFileSync(file, '')
    const r = await runCommand(['id', '--home', file])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(`Error: home ${file} is a file, not a folder\nHint: Pass --home (or set QIS_HOME) to a folder; qis creates it if it does not exist.\n`)
  })

  it('a damaged identity file is IDENTITY_UNUSABLE (exit 1), naming the file, and is left as it was', async () => {
    const home = tempDir()
    const file = path.join(home, 'identity.key')
    writeFileSync(file, 'not a key', {mode: 0o600})
    const r = await runCommand(['id', '--json', '--home', home])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout).error).toMatchObject({code: 'IDENTITY_UNUSABLE', message: expect.stringContaining(`identity ${file} is corrupt`)})
    expect(readFileSync(file, 'utf8')).toBe('not a key')
  })

  it('an identity file that cannot be read (a folder) is IDENTITY_UNUSABLE (exit 1) in words, not EISDIR', async () => {
    const home = tempDir()
    const {mkdirSync} = await import('node:fs')
    mkdirSync(path.join(home, 'identity.key'))
    const r = await runCommand(['id', '--json', '--home', home])
    expect(r.code).toBe(1)
    const {error} = JSON.parse(r.stdout)
    expect(error).toMatchObject({code: 'IDENTITY_UNUSABLE', message: expect.stringContaining(`cannot read identity ${path.join(home, 'identity.key')}: `)})
    expect(error.message).not.toMatch(/\bE[A-Z]{3,}\b/)
  })
})
