import {statSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {runCli, tempDir} from '../helpers/cli.js'

describe('qis id', () => {
  it('creates a 0600 ed25519 key on first use and prints the same peer ID afterwards', async () => {
    const home = tempDir()
    const first = await runCli(['id', '--json', '--home', home])
    expect(first.code).toBe(0)
    const {peerId} = JSON.parse(first.stdout)
    expect(peerId).toMatch(/^12D3KooW[1-9A-HJ-NP-Za-km-z]+$/)
    expect(statSync(path.join(home, 'identity.key')).mode & 0o777).toBe(0o600)
    expect(statSync(home).mode & 0o777).toBe(0o700)
    const second = await runCli(['id'], {env: {QIS_HOME: home}})
    expect(second.stdout.trim()).toBe(peerId)
  })
})
