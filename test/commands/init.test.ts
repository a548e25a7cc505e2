import {promises as fs} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {repoRoot, tempDir} from '../helpers/cli.js'
import {runCommand} from '../helpers/command.js'

const tinyModel = path.join(repoRoot, 'fixtures', 'models', 'qis-tiny-bert')
const exists = (f: string) => fs.access(f).then(() => true, () => false)

// In-process with no terminal: init never prompts. (The wizard itself: test/init/wizard.test.ts.)
const runCli = (args: string[], options: {env?: Record<string, string | undefined>} = {}) => runCommand(args, {env: {QIS_MODEL_DIR: undefined, ...options.env}})

describe('qis init (no terminal: never prompts)', () => {
  it('names each missing answer by its flag, exits 2 and writes nothing', async () => {
    const home = tempDir()
    const r = await runCli(['init', '--home', home, '--bootstrap', '/ip4/127.0.0.1/tcp/4001'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--domain-focus')
    expect(r.stderr).toContain('--embedder')
    expect(r.stderr).toContain('--yes')
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/)
    expect(await exists(path.join(home, 'config.json'))).toBe(false)
  })

  it('with --json reports the missing answers as a JSON error', async () => {
    const home = tempDir()
    const r = await runCli(['init', '--home', home, '--json'])
    expect(r.code).toBe(2)
    const out = JSON.parse(r.stdout)
    expect(out.error.code).toBe('MISSING_ANSWERS')
    expect(out.error.message).toContain('--domain-focus')
  })

  it("--codebook names a group's codebook; a later run with another embedder warns that it is left behind", async () => {
    const home = tempDir()
    const book = path.join(home, 'group.qcb')
    await fs.copyFile(path.join(repoRoot, 'assets', 'codebook', 'use-lite.mmlu-anchors.qcb'), book)
    const set = await runCli(['init', '--home', home, '--yes', '--skip-model-check', '--codebook', book])
    expect(set.code, set.stderr).toBe(0)
    expect(set.stdout).toMatch(new RegExp(`\\n  embedder +use-lite, codebook ${book}\\n`))
    expect(JSON.parse(await fs.readFile(path.join(home, 'config.json'), 'utf8')).embedder).toEqual({backend: 'use-lite', codebook: 'group.qcb'})

    const moved = await runCli(['init', '--home', home, '--yes', '--skip-model-check', '--model-dir', tinyModel, '--json'])
    expect(moved.code, moved.stderr).toBe(0)
    expect(JSON.parse(moved.stdout).notes).toEqual([expect.stringMatching(/group\.qcb was fitted for the previous embedder/)])
    const human = await runCli(['init', '--home', home, '--yes', '--skip-model-check', '--embedder', 'use-lite', '--codebook', book])
    expect(human.code, human.stderr).toBe(0)
    const back = await runCli(['init', '--home', home, '--yes', '--skip-model-check', '--model-dir', tinyModel])
    expect(back.stderr).toMatch(/^Warning: The codebook \S*group\.qcb was fitted for the previous embedder, so it is no longer used: .*\n$/)
  }, 60_000)

  it('--yes with flags writes config.json and returns the typed result', async () => {
    const home = tempDir()
    const r = await runCli([
      'init', '--home', home, '--yes', '--skip-model-check', '--json',
      '--domain-focus', 'clinical.oncology', '--domain-focus', 'legal.contracts,finance',
      '--bootstrap', '/ip4/127.0.0.1/tcp/4001', '--listen', '/ip4/127.0.0.1/tcp/4002',
    ])
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result.created).toBe(true)
    expect(result.modelCheck).toBeNull()
    expect(result.peerId).toMatch(/^12D3KooW/)
    expect(result.file).toBe(path.join(home, 'config.json'))
    const onDisk = JSON.parse(await fs.readFile(result.file, 'utf8'))
    expect(onDisk).toEqual(result.config)
    expect(onDisk.domainFocus).toEqual(['clinical.oncology', 'legal.contracts', 'finance'])
    expect(onDisk.listen).toEqual(['/ip4/127.0.0.1/tcp/4002'])
    expect((await fs.stat(result.file)).mode & 0o777).toBe(0o600)

    // A re-run keeps what it is not told to change; "" clears a list.
    const again = await runCli(['init', '--home', home, '--yes', '--skip-model-check', '--json', '--bootstrap', ''])
    const second = JSON.parse(again.stdout)
    expect(second.created).toBe(false)
    expect(second.peerId).toBe(result.peerId)
    expect(second.config.bootstrap).toEqual([])
    expect(second.config.domainFocus).toEqual(['clinical.oncology', 'legal.contracts', 'finance'])
    expect(second.changed).toBe(true)

    // The same answers again change nothing, and nothing is rewritten.
    const before = await fs.stat(result.file)
    const same = await runCli(['init', '--home', home, '--yes', '--skip-model-check'])
    expect(same.code).toBe(0)
    expect(same.stdout).toContain(`Unchanged ${result.file} (it already says this)`)
    expect((await fs.stat(result.file)).mtimeMs).toBe(before.mtimeMs)
  })

  it('every flag answered, no --yes needed; a person gets a summary', async () => {
    const home = tempDir()
    const r = await runCli(['init', '--home', home, '--skip-model-check', '--domain-focus', '', '--bootstrap', '', '--embedder', 'use-lite'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`Wrote ${path.join(home, 'config.json')}`)
    expect(r.stdout).toMatch(/model check\s+skipped/)
  })

  it('refuses a home that is a file, before creating anything', async () => {
    const file = path.join(tempDir(), 'not-a-folder')
    await fs.writeFile(file, 'x')
    const r = await runCli(['init', '--home', file, '--yes', '--json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error).toMatchObject({code: 'HOME_UNUSABLE', message: `home ${file} is a file, not a folder`})
  })

  it('refuses a label that is not one and names the normalised form', async () => {
    const r = await runCli(['init', '--home', tempDir(), '--yes', '--skip-model-check', '--domain-focus', 'Clinical.Oncology'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('Error: --domain-focus: domain "Clinical.Oncology" may contain only lowercase a-z, 0-9 and . _ - : (found "C"); did you mean "clinical.oncology"?\n')
  })

  it('a --domain-focus with a space is one label, refused with its normalised form as every label flag does', async () => {
    const r = await runCommand(['init', '--home', tempDir(), '--yes', '--skip-model-check', '--domain-focus', 'Clinical Oncology, legal'], {env: {QIS_DOMAIN_FOCUS: undefined}})
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('Error: --domain-focus: domain "Clinical Oncology" may contain only lowercase a-z, 0-9 and . _ - : (found "C"); did you mean "clinical_oncology"?\n')
  })

  it('refuses bad answers with the flag and value named', async () => {
    const home = tempDir()
    const r = await runCli(['init', '--home', home, '--yes', '--skip-model-check', '--domain-focus', 'Oncology', '--bootstrap', 'localhost:4001'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--domain-focus: domain "Oncology"')
    expect(r.stderr).toContain('--bootstrap: "localhost:4001" is not a valid multiaddr')
    expect(await exists(path.join(home, 'config.json'))).toBe(false)
  })

  it('--embedder transformers needs --model-dir, even with --yes', async () => {
    const r = await runCli(['init', '--home', tempDir(), '--yes', '--embedder', 'transformers'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--model-dir')
  })

  it('--yes alone checks the default use-lite model for real', async () => {
    const r = await runCli(['init', '--home', tempDir(), '--yes', '--json'])
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result.config.embedder).toEqual({backend: 'use-lite'})
    expect(result.modelCheck).toMatchObject({embedder: 'use-lite', dimension: 512})
  }, 120_000)

  it('checks that the chosen model loads before writing', async () => {
    const home = tempDir()
    const r = await runCli(['init', '--home', home, '--yes', '--model-dir', tinyModel, '--json'])
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout)
    expect(result.config.embedder).toEqual({backend: 'transformers', modelDir: tinyModel})
    expect(result.modelCheck.embedder).toMatch(/^transformers:qis-tiny-bert/)
    expect(result.modelCheck.dimension).toBe(16)

    const broken = tempDir('qis-no-model-')
    const bad = await runCli(['init', '--home', tempDir(), '--yes', '--model-dir', broken])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('did not load')
    expect(bad.stderr).toContain('--skip-model-check')
  }, 60_000)
})

describe('qis init --swarm-key', () => {
  it('creates <home>/swarm.key once and keeps it on later runs', async () => {
    const home = path.join(tempDir(), 'home')
    const first = await runCommand(['init', '--home', home, '--yes', '--skip-model-check', '--swarm-key', '--json'])
    expect(first.code, first.stderr).toBe(0)
    const made = JSON.parse(first.stdout).swarmKey as {file: string; fingerprint: string; created: boolean}
    expect(made).toMatchObject({file: path.join(home, 'swarm.key'), created: true})
    expect((await fs.stat(made.file)).mode & 0o777).toBe(0o600)
    const again = await runCommand(['init', '--home', home, '--yes', '--skip-model-check', '--swarm-key', '--json'])
    expect(JSON.parse(again.stdout).swarmKey).toEqual({...made, created: false})
  })
})
