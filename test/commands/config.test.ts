import {promises as fs} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {runCli, tempDir} from '../helpers/cli.js'
import {runCommand} from '../helpers/command.js'

describe('qis config', () => {
  it('shows defaults before init, and says the file is not written yet', async () => {
    const home = tempDir()
    const r = await runCli(['config', '--home', home])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('not written yet: run qis init')
    expect(r.stdout).toMatch(/^embedder\s+use-lite\s+default$/m)
    const json = JSON.parse((await runCli(['config', '--home', home, '--json'])).stdout)
    expect(json.file).toBe(path.join(home, 'config.json'))
    expect(json.exists).toBe(false)
    expect(json.values.listen).toEqual({value: ['/ip4/127.0.0.1/tcp/0'], source: 'default'})
  })

  it('names the source of each value: config file, env and flag', async () => {
    const home = tempDir()
    await runCli(['init', '--home', home, '--yes', '--skip-model-check', '--domain-focus', 'clinical.oncology'])
    const env = {QIS_BOOTSTRAP: '/ip4/127.0.0.1/tcp/4001,/ip4/127.0.0.1/tcp/4003'}
    const r = await runCli(['config', '--home', home, '--listen', '/ip4/0.0.0.0/tcp/4002'], {env})
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^domainFocus\s+clinical\.oncology\s+config file$/m)
    expect(r.stdout).toMatch(/^bootstrap\s+\/ip4\/127\.0\.0\.1\/tcp\/4001, \/ip4\/127\.0\.0\.1\/tcp\/4003\s+env QIS_BOOTSTRAP$/m)
    expect(r.stdout).toMatch(/^listen\s+\/ip4\/0\.0\.0\.0\/tcp\/4002\s+flag$/m)
    const json = JSON.parse((await runCli(['config', '--home', home, '--json', '--model-dir', home], {env})).stdout)
    expect(json.values.bootstrap.source).toBe('env')
    expect(json.values.domainFocus.source).toBe('config')
    expect(json.values.embedder).toEqual({value: {backend: 'transformers', modelDir: home}, source: 'flag'})
  })

  it('--domain-focus splits on commas only, as $QIS_DOMAIN_FOCUS does: "Clinical Oncology" is one value, shown with its normalised form', async () => {
    const r = await runCommand(['config', '--home', tempDir(), '--domain-focus', 'Clinical Oncology,legal', '--json'], {env: {QIS_DOMAIN_FOCUS: undefined}})
    expect(r.code).toBe(2)
    const json = JSON.parse(r.stdout)
    expect(json.values.domainFocus).toEqual({value: ['Clinical Oncology', 'legal'], source: 'flag'})
    expect(json.error.message).toContain('did you mean "clinical_oncology"?')
  })

  it('a config.json that is not JSON is an error naming the file', async () => {
    const home = tempDir()
    await fs.writeFile(path.join(home, 'config.json'), '{"bootstrap": [')
    const r = await runCli(['config', '--home', home])
    expect(r.code).toBe(2) // BAD_CONFIG: a usage error (src/cli/codes.ts)
    expect(r.stderr).toContain(path.join(home, 'config.json'))
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/)
  })

  it('reports unusable values with key and origin: the table, then BAD_CONFIG, exit 2', async () => {
    const home = tempDir()
    await fs.writeFile(path.join(home, 'config.json'), JSON.stringify({bootstrap: ['localhost:4001'], embedder: {backend: 'transformers'}}))
    const r = await runCli(['config', '--home', home])
    expect(r.code).toBe(2)
    expect(r.stdout).toMatch(/^bootstrap\s+localhost:4001\s+config file$/m)
    expect(r.stderr).toMatch(/^Error: 2 unusable values in the configuration: /)
    expect(r.stderr).toContain(`bootstrap (from ${path.join(home, 'config.json')}): "localhost:4001" is not a valid multiaddr`)
    expect(r.stderr).toContain('; embedder (from ')
    const j = await runCli(['config', '--home', home, '--json'])
    expect(j.code).toBe(2)
    const json = JSON.parse(j.stdout)
    expect(json.problems.map((p: {key: string}) => p.key).sort()).toEqual(['bootstrap', 'embedder'])
    expect(json.error.code).toBe('BAD_CONFIG')
  })
})
