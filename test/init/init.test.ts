import {promises as fs} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {DEFAULT_CONFIG, type QisConfig, loadConfig} from '../../src/config/config.js'
import {openHome} from '../../src/config/home.js'
import {applyOverrides, showConfig} from '../../src/init/config-view.js'
import {knownDomains} from '../../src/init/domains.js'
import {existingConfig, initHome, resolveAnswers, resolveAnswersWithNotes} from '../../src/init/init.js'
import {checkModel} from '../../src/init/model-check.js'
import {configProblems, splitList} from '../../src/init/validate.js'
import {QisError} from '../../src/util/errors.js'
import {repoRoot, tempDir} from '../helpers/cli.js'

const tinyModel = path.join(repoRoot, 'fixtures', 'models', 'qis-tiny-bert')
const shippedCodebook = path.join(repoRoot, 'assets', 'codebook', 'use-lite.mmlu-anchors.qcb')
const base = (): QisConfig => structuredClone(DEFAULT_CONFIG)

async function rejection(p: Promise<unknown>): Promise<QisError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(QisError)
  return err as QisError
}

describe('resolveAnswers (init without prompts)', () => {
  it('without --yes names every unanswered question by its flag', async () => {
    const err = await rejection(resolveAnswers(base(), {bootstrap: []}, {yes: false}))
    expect(err.code).toBe('MISSING_ANSWERS')
    expect(err.exitCode).toBe(2)
    expect(err.message).toContain('--domain-focus')
    expect(err.message).toContain('--embedder')
    expect(err.message).not.toContain('--bootstrap,')
  })

  it('with --yes keeps the current values for what flags did not give', async () => {
    const current = {...base(), domainFocus: ['legal.contracts'], bootstrap: ['/ip4/127.0.0.1/tcp/4001']}
    const config = await resolveAnswers(current, {domainFocus: ['clinical.oncology']}, {yes: true})
    expect(config.domainFocus).toEqual(['clinical.oncology'])
    expect(config.bootstrap).toEqual(['/ip4/127.0.0.1/tcp/4001'])
    expect(config.embedder).toEqual({backend: 'use-lite'})
  })

  it('requires a model folder for transformers even with --yes, unless one is known', async () => {
    const err = await rejection(resolveAnswers(base(), {embedder: 'transformers'}, {yes: true, env: {}}))
    expect(err.message).toContain('--model-dir')
    const fromEnv = await resolveAnswers(base(), {embedder: 'transformers'}, {yes: true, env: {QIS_MODEL_DIR: '/models/m'}})
    expect(fromEnv.embedder).toEqual({backend: 'transformers', modelDir: '/models/m'})
  })

  it('a model folder implies transformers and is made absolute; with use-lite it is a contradiction', async () => {
    const config = await resolveAnswers(base(), {modelDir: 'models/m', domainFocus: [], bootstrap: []}, {yes: false, cwd: '/srv'})
    expect(config.embedder).toEqual({backend: 'transformers', modelDir: '/srv/models/m'})
    const err = await rejection(resolveAnswers(base(), {embedder: 'use-lite', modelDir: 'm'}, {yes: true}))
    expect(err.message).toContain('--model-dir applies only to --embedder transformers')
  })

  it('reports every bad value at once, each with its flag', async () => {
    const err = await rejection(
      resolveAnswers(base(), {domainFocus: ['ok.domain', "Dr Smith's ward"], bootstrap: ['/ip4/1.2.3/tcp/1'], listen: ['tcp:4001']}, {yes: true}),
    )
    expect(err.code).toBe('BAD_ANSWER')
    const lines = err.message.split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatch(/^--domain-focus: domain "Dr Smith's ward"/)
    expect(lines[1]).toMatch(/^--bootstrap: "\/ip4\/1.2.3\/tcp\/1" is not a valid multiaddr/)
    expect(lines[2]).toMatch(/^--listen: "tcp:4001" is not a valid multiaddr/)
  })
})

describe('a group codebook across init runs', () => {
  const withCodebook = (): QisConfig => ({...base(), embedder: {backend: 'use-lite', codebook: '/srv/qis/group.qcb'}})

  it('keeps the current codebook while the embedder stays; --codebook names another, relative to cwd, or "" drops it', async () => {
    expect((await resolveAnswers(withCodebook(), {}, {yes: true})).embedder).toEqual({backend: 'use-lite', codebook: '/srv/qis/group.qcb'})
    expect((await resolveAnswers(withCodebook(), {codebook: 'other.qcb'}, {yes: true, cwd: '/work'})).embedder).toEqual({backend: 'use-lite', codebook: '/work/other.qcb'})
    expect((await resolveAnswers(withCodebook(), {codebook: ''}, {yes: true})).embedder).toEqual({backend: 'use-lite'})
  })

  it('leaves it behind when the embedder changes, and says so', async () => {
    const {config, notes} = await resolveAnswersWithNotes(withCodebook(), {modelDir: tinyModel}, {yes: true})
    expect(config.embedder).toEqual({backend: 'transformers', modelDir: tinyModel})
    expect(notes).toHaveLength(1)
    expect(notes[0]).toMatch(/codebook \/srv\/qis\/group\.qcb was fitted for the previous embedder.*--codebook/)
    expect((await resolveAnswersWithNotes(withCodebook(), {}, {yes: true})).notes).toEqual([])
  })

  it('a re-run keeps a codebook beside config.json, still by its bare name', async () => {
    const home = await openHome(tempDir())
    await fs.copyFile(shippedCodebook, path.join(home.root, 'group.qcb'))
    await fs.writeFile(home.configFile, JSON.stringify({embedder: {backend: 'use-lite', codebook: 'group.qcb'}}))
    const result = await initHome(home, {domainFocus: ['legal.contracts']}, {yes: true, skipModelCheck: true})
    expect(result.config.embedder.codebook).toBe(path.join(home.root, 'group.qcb'))
    expect(JSON.parse(await fs.readFile(home.configFile, 'utf8')).embedder).toEqual({backend: 'use-lite', codebook: 'group.qcb'})
  })

  it('refuses a missing codebook even without the model check, and one that does not fit the model with it; nothing is written', async () => {
    const home = await openHome(tempDir())
    const missing = path.join(home.root, 'nope.qcb')
    const gone = await rejection(initHome(home, {codebook: missing}, {yes: true, skipModelCheck: true}))
    expect(gone.code).toBe('BAD_CODEBOOK')
    expect(gone.message).toContain(missing)
    // The shipped use-lite book is 512-d; the tiny model embeds 16-d.
    const misfit = await rejection(initHome(home, {modelDir: tinyModel, codebook: shippedCodebook}, {yes: true}))
    expect(misfit.code).toBe('MODEL_CHECK_FAILED')
    expect(misfit.message).toMatch(/the codebook does not fit the transformers:qis-tiny-bert\S* embedder: codebook .*is 512-d/)
    await expect(fs.access(home.configFile)).rejects.toThrow()
  }, 60_000)
})

describe('initHome', () => {
  it('writes config.json and the identity; a re-run keeps values it was not given', async () => {
    const home = await openHome(tempDir())
    const first = await initHome(home, {domainFocus: ['clinical.oncology'], bootstrap: ['/ip4/127.0.0.1/tcp/4001'], embedder: 'use-lite'}, {skipModelCheck: true})
    expect(first.created).toBe(true)
    expect(first.modelCheck).toBeNull()
    expect(first.peerId).toMatch(/^12D3KooW/)
    const onDisk = JSON.parse(await fs.readFile(home.configFile, 'utf8'))
    expect(onDisk.domainFocus).toEqual(['clinical.oncology'])
    const second = await initHome(home, {bootstrap: []}, {yes: true, skipModelCheck: true})
    expect(second.created).toBe(false)
    expect(second.peerId).toBe(first.peerId)
    expect(second.config.domainFocus).toEqual(['clinical.oncology'])
    expect(second.config.bootstrap).toEqual([])
  })

  it('does not freeze environment overrides into the file', async () => {
    const home = await openHome(tempDir())
    const prev = process.env.QIS_BOOTSTRAP
    process.env.QIS_BOOTSTRAP = '/ip4/10.0.0.1/tcp/1'
    try {
      await initHome(home, {}, {yes: true, skipModelCheck: true})
    } finally {
      if (prev === undefined) delete process.env.QIS_BOOTSTRAP
      else process.env.QIS_BOOTSTRAP = prev
    }
    expect(JSON.parse(await fs.readFile(home.configFile, 'utf8')).bootstrap).toEqual([])
  })

  it('replaces a hand-broken value with the default instead of offering it back', async () => {
    const home = await openHome(tempDir())
    await fs.writeFile(home.configFile, JSON.stringify({bootstrap: 'not-a-list', domainFocus: ['kept.domain'], embedder: {backend: 'gpt'}}))
    const {config} = await existingConfig(home)
    expect(config.bootstrap).toEqual([])
    expect(config.embedder).toEqual({backend: 'use-lite'})
    expect(config.domainFocus).toEqual(['kept.domain'])
  })

  it('checks the model before writing: a folder without a model leaves no config behind', async () => {
    const home = await openHome(tempDir())
    const empty = tempDir('qis-empty-model-')
    const err = await rejection(initHome(home, {modelDir: empty}, {yes: true}))
    expect(err.code).toBe('MODEL_CHECK_FAILED')
    expect(err.message).toContain(empty)
    expect(err.message).toContain('--skip-model-check')
    await expect(fs.access(home.configFile)).rejects.toThrow()
  })

  it('loads a real transformers model from a local folder and records what loaded', async () => {
    const home = await openHome(tempDir())
    const result = await initHome(home, {modelDir: tinyModel}, {yes: true})
    expect(result.modelCheck?.embedder).toMatch(/^transformers:qis-tiny-bert/)
    expect(result.modelCheck?.dimension).toBe(16)
    expect(result.config.embedder).toEqual({backend: 'transformers', modelDir: tinyModel})
  }, 60_000)
})

describe('checkModel', () => {
  it('wraps a load failure in a QisError that names the backend and folder', async () => {
    const err = await rejection(checkModel({backend: 'transformers', modelDir: '/nonexistent/model'}))
    expect(err.message).toMatch(/^the transformers embedder did not load from \/nonexistent\/model/)
  })
})

describe('config view', () => {
  it('layers default < file < env < flag and names each source', async () => {
    const home = await openHome(tempDir())
    await fs.writeFile(home.configFile, JSON.stringify({domainFocus: ['a.b'], listen: ['/ip4/127.0.0.1/tcp/1']}))
    const view = await showConfig(home, {env: {QIS_LISTEN: '/ip4/127.0.0.1/tcp/2'}, overrides: {bootstrap: ['/ip4/127.0.0.1/tcp/3']}})
    expect(view.exists).toBe(true)
    expect(view.values.domainFocus).toEqual({value: ['a.b'], source: 'config'})
    expect(view.values.listen).toEqual({value: ['/ip4/127.0.0.1/tcp/2'], source: 'env'})
    expect(view.values.bootstrap).toEqual({value: ['/ip4/127.0.0.1/tcp/3'], source: 'flag'})
    expect(view.values.defaultDomain).toEqual({value: 'general', source: 'default'})
    expect(view.problems).toEqual([])
  })

  it('applyOverrides leaves the input untouched and ignores absent flags', async () => {
    const home = await openHome(tempDir())
    const resolved = await loadConfig(home, {})
    const out = applyOverrides(resolved, {listen: ['/ip4/0.0.0.0/tcp/4001'], bootstrap: undefined})
    expect(out.sources.listen).toBe('flag')
    expect(out.sources.bootstrap).toBe('default')
    expect(resolved.config.listen).toEqual(DEFAULT_CONFIG.listen)
  })

  it('configProblems names each unusable value by key', () => {
    const problems = configProblems({
      ...base(),
      bootstrap: ['/ip4/127.0.0.1/tcp/1', 'localhost:4001'],
      embedder: {backend: 'transformers'},
      defaultDomain: 'General Medicine',
      domainFocus: 'x' as unknown as string[],
    })
    expect(problems.map((p) => p.key).sort()).toEqual(['bootstrap', 'defaultDomain', 'domainFocus', 'embedder'])
    expect(configProblems(base())).toEqual([])
  })

  it("reads a group's codebook from config.json relative to the file; a codebook that is not a path is a problem", async () => {
    const home = await openHome(tempDir())
    await fs.writeFile(home.configFile, JSON.stringify({embedder: {backend: 'use-lite', codebook: 'books/group.qcb'}}))
    const resolved = await loadConfig(home, {})
    expect(resolved.config.embedder.codebook).toBe(path.join(path.dirname(home.configFile), 'books/group.qcb'))
    await fs.writeFile(home.configFile, JSON.stringify({embedder: {backend: 'use-lite', codebook: '/abs/group.qcb'}}))
    expect((await loadConfig(home, {})).config.embedder.codebook).toBe('/abs/group.qcb')
    const problems = configProblems({...base(), embedder: {backend: 'use-lite', codebook: 7 as unknown as string}})
    expect(problems).toEqual([{key: 'embedder', message: 'embedder.codebook must be a path to a codebook file'}])
  })
})

describe('helpers', () => {
  it('splitList accepts commas, spaces and repeats', () => {
    expect(splitList(['a,b', ' c  d ', ''])).toEqual(['a', 'b', 'c', 'd'])
    expect(splitList('')).toEqual([])
  })

  it('knownDomains counts the domains of packets already in the home', async () => {
    const home = await openHome(tempDir())
    await fs.mkdir(home.packetsDir, {recursive: true})
    await fs.copyFile(path.join(repoRoot, 'fixtures', 'packets', 'reference.qisp'), path.join(home.packetsDir, 'run.qisp'))
    const domains = await knownDomains(home)
    expect(domains.length).toBeGreaterThan(0)
    expect(domains.map((d) => d.domain)).toContain('clinical.oncology')
    expect(domains.every((d, i) => i === 0 || domains[i - 1].packets >= d.packets)).toBe(true)
  })
})
