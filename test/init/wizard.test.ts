import {promises as fs} from 'node:fs'
import path from 'node:path'
import {PassThrough, Writable} from 'node:stream'
import {describe, expect, it} from 'vitest'

import {runWizard} from '../../src/init/wizard.js'
import {QisError} from '../../src/util/errors.js'
import {repoRoot, tempDir} from '../helpers/cli.js'
import {runCommand} from '../helpers/command.js'

const ENTER = '\r'
const DOWN = '\u001B[B'
const SPACE = ' '
const CTRL_C = '\u0003'
const BACKSPACE = '\u007F'
const strip = (s: string) => s.replace(/\u001B\[[0-9;?]*[A-Za-z]/g, '')

/**
 * Drives the real @clack/prompts wizard through streams: each step waits until the prompt whose
 * question contains `when` is active (◆ or ▲), then types `send`. A step that never comes fails the test.
 */
async function drive(
  options: Omit<Parameters<typeof runWizard>[0], 'input' | 'output' | 'defaultHomeDir'>,
  steps: {when: string; send: string}[],
) {
  const input = new PassThrough()
  let screen = ''
  const output = Object.assign(
    new Writable({
      write(chunk, _enc, cb) {
        screen += chunk.toString()
        cb()
      },
    }),
    {columns: 120, rows: 50},
  )
  const run = runWizard({...options, defaultHomeDir: tempDir(), input, output})
  run.catch(() => {})
  let seen = 0
  for (const step of steps) {
    const deadline = Date.now() + 15_000
    for (;;) {
      const text = strip(screen)
      // ◆ marks an active prompt, ▲ one showing a validation error (still active).
      const at = Math.max(text.indexOf(`◆  ${step.when}`, seen), text.indexOf(`▲  ${step.when}`, seen))
      if (at >= 0) {
        seen = at + 1
        break
      }
      if (Date.now() > deadline) throw new Error(`prompt "${step.when}" never appeared. Screen:\n${text.slice(-2000)}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    await new Promise((r) => setTimeout(r, 30))
    input.write(step.send)
  }
  const result = await run.then(
    (r) => ({ok: true as const, r}),
    (e: unknown) => ({ok: false as const, e}),
  )
  return {...result, screen: strip(screen)}
}

describe('qis init wizard (real prompts over streams)', () => {
  it('asks domain focus, bootstrap and embedder, shows the result, and writes it after confirmation', async () => {
    const home = path.join(tempDir(), 'home')
    const out = await drive({homeDir: home, answers: {}, skipModelCheck: true}, [
      {when: 'Domains to ask peers about', send: 'clinical.oncology, legal.contracts' + ENTER},
      {when: 'Bootstrap peers', send: '/ip4/127.0.0.1/tcp/4001' + ENTER},
      {when: 'Sentence embedder', send: ENTER},
      {when: 'Write this configuration?', send: ENTER},
    ])
    expect(out.ok).toBe(true)
    const written = JSON.parse(await fs.readFile(path.join(home, 'config.json'), 'utf8'))
    expect(written.domainFocus).toEqual(['clinical.oncology', 'legal.contracts'])
    expect(written.bootstrap).toEqual(['/ip4/127.0.0.1/tcp/4001'])
    expect(written.embedder).toEqual({backend: 'use-lite'})
    expect(out.screen).toContain('domain focus   clinical.oncology, legal.contracts')
    await fs.access(path.join(home, 'identity.key'))
  }, 30_000)

  it('asks for the home first when neither --home nor QIS_HOME chose one', async () => {
    const home = path.join(tempDir(), 'chosen-home')
    const out = await drive({homeDir: undefined, answers: {domainFocus: [], bootstrap: [], embedder: 'use-lite'}, skipModelCheck: true}, [
      // The prompt starts filled with the default home: clear it, then type the chosen one.
      {when: 'Home folder', send: BACKSPACE.repeat(200) + home + ENTER},
      {when: 'Write this configuration?', send: ENTER},
    ])
    expect(out.ok).toBe(true)
    await fs.access(path.join(home, 'config.json'))
  }, 30_000)

  it('refuses a label with capitals and spaces at the prompt, then accepts the corrected one', async () => {
    const home = path.join(tempDir(), 'home')
    const bad = 'Oncology Ward'
    const out = await drive({homeDir: home, answers: {bootstrap: []}, skipModelCheck: true}, [
      {when: 'Domains to ask peers about', send: bad + ENTER},
      // Still the same prompt (validation failed): erase and type a valid label.
      {when: 'Domains to ask peers about', send: BACKSPACE.repeat(bad.length) + 'oncology' + ENTER},
      {when: 'Sentence embedder', send: ENTER},
      {when: 'Write this configuration?', send: ENTER},
    ])
    expect(out.ok).toBe(true)
    expect(out.screen).toContain('may contain only lowercase')
    expect(JSON.parse(await fs.readFile(path.join(home, 'config.json'), 'utf8')).domainFocus).toEqual(['oncology'])
  }, 30_000)

  it('Ctrl-C at a prompt cancels with exit code 130 and writes nothing', async () => {
    const home = path.join(tempDir(), 'home')
    const out = await drive({homeDir: home, answers: {}, skipModelCheck: true}, [{when: 'Domains to ask peers about', send: CTRL_C}])
    expect(out.ok).toBe(false)
    const err = (out as {e: unknown}).e
    expect(err).toBeInstanceOf(QisError)
    expect((err as QisError).exitCode).toBe(130)
    await expect(fs.access(path.join(home, 'config.json'))).rejects.toThrow()
    expect(out.screen).toContain('Nothing was written')
  }, 30_000)

  it('qis init at a terminal: Ctrl-C says "Cancelled. Nothing was written." once, and exits 130', async () => {
    const home = path.join(tempDir(), 'home')
    const stdin = new PassThrough()
    stdin.write(CTRL_C)
    const r = await runCommand(['init', '--home', home, '--skip-model-check'], {tty: true, stdin})
    expect(r.code).toBe(130)
    expect(strip(r.stdout).match(/Cancelled/g)).toEqual(['Cancelled'])
    expect(strip(r.stdout)).toContain('Cancelled. Nothing was written.')
    expect(r.stderr).toBe('')
    await expect(fs.access(path.join(home, 'config.json'))).rejects.toThrow()
  }, 30_000)

  it('does not ask to save when the answers change nothing, and leaves the file alone', async () => {
    const home = path.join(tempDir(), 'home')
    await fs.mkdir(home, {recursive: true})
    const file = path.join(home, 'config.json')
    await fs.writeFile(file, JSON.stringify({domainFocus: ['legal.contracts'], bootstrap: [], embedder: {backend: 'use-lite'}}))
    const before = await fs.stat(file)
    const out = await drive({homeDir: home, answers: {domainFocus: ['legal.contracts'], bootstrap: [], embedder: 'use-lite'}, skipModelCheck: true}, [])
    expect(out.ok).toBe(true)
    expect(out.screen).not.toContain('Save these changes?')
    expect(out.screen).toContain(`No changes: ${file} already says this.`)
    expect((out as {r: Awaited<ReturnType<typeof runWizard>>}).r.changed).toBe(false)
    expect((await fs.stat(file)).mtimeMs).toBe(before.mtimeMs)
  }, 30_000)

  it('answering No at the confirmation writes nothing', async () => {
    const home = path.join(tempDir(), 'home')
    const out = await drive({homeDir: home, answers: {domainFocus: [], bootstrap: [], embedder: 'use-lite'}, skipModelCheck: true}, [
      {when: 'Write this configuration?', send: DOWN + ENTER},
    ])
    expect(out.ok).toBe(false)
    await expect(fs.access(path.join(home, 'config.json'))).rejects.toThrow()
  }, 30_000)

  it("keeps a group's codebook while the embedder stays, and warns when a new embedder leaves it behind", async () => {
    const home = path.join(tempDir(), 'home')
    await fs.mkdir(home, {recursive: true})
    await fs.copyFile(path.join(repoRoot, 'assets', 'codebook', 'use-lite.mmlu-anchors.qcb'), path.join(home, 'group.qcb'))
    const existing = JSON.stringify({domainFocus: [], bootstrap: [], embedder: {backend: 'use-lite', codebook: 'group.qcb'}})
    await fs.writeFile(path.join(home, 'config.json'), existing)
    // Same embedder: the codebook stays, so nothing changes and nothing is asked.
    const kept = await drive({homeDir: home, answers: {domainFocus: [], bootstrap: [], embedder: 'use-lite'}, skipModelCheck: true}, [])
    expect(kept.ok).toBe(true)
    expect(kept.screen).toContain('No changes')
    expect(JSON.parse(await fs.readFile(path.join(home, 'config.json'), 'utf8')).embedder).toEqual({backend: 'use-lite', codebook: 'group.qcb'})

    const tiny = path.join(repoRoot, 'fixtures', 'models', 'qis-tiny-bert')
    const moved = await drive({homeDir: home, answers: {domainFocus: [], bootstrap: [], modelDir: tiny}, skipModelCheck: true}, [
      {when: 'Save these changes?', send: ENTER},
    ])
    expect(moved.ok).toBe(true)
    expect(moved.screen.replace(/\s*\n[│\s]*/g, ' ')).toMatch(/group\.qcb was fitted for the previous embedder, so it is no longer used/)
    expect(JSON.parse(await fs.readFile(path.join(home, 'config.json'), 'utf8')).embedder).toEqual({backend: 'transformers', modelDir: tiny})
  }, 30_000)

  it('on a re-run offers existing values and known packet domains, and keeps them on Enter', async () => {
    const home = path.join(tempDir(), 'home')
    await fs.mkdir(path.join(home, 'packets'), {recursive: true})
    await fs.copyFile(path.join(repoRoot, 'fixtures', 'packets', 'reference.qisp'), path.join(home, 'packets', 'a.qisp'))
    await fs.writeFile(path.join(home, 'config.json'), JSON.stringify({domainFocus: ['legal.contracts'], bootstrap: ['/ip4/127.0.0.1/tcp/9']}))
    const out = await drive({homeDir: home, answers: {}, skipModelCheck: true}, [
      // legal.contracts is pre-selected; the cursor starts on it, move to clinical.oncology and toggle it on.
      {when: 'Domains to ask peers about (space toggles', send: DOWN + SPACE + ENTER},
      {when: 'Other domains', send: ENTER},
      {when: 'Bootstrap peers', send: ENTER},
      {when: 'Sentence embedder', send: ENTER},
      {when: 'Save these changes?', send: ENTER},
    ])
    expect(out.ok).toBe(true)
    expect(out.screen).toContain('Editing')
    const written = JSON.parse(await fs.readFile(path.join(home, 'config.json'), 'utf8'))
    expect([...written.domainFocus].sort()).toEqual(['clinical.oncology', 'legal.contracts'])
    expect(written.bootstrap).toEqual(['/ip4/127.0.0.1/tcp/9'])
  }, 30_000)

  it('when the model does not load, lets the person choose again and checks the new choice', async () => {
    const home = path.join(tempDir(), 'home')
    const broken = tempDir('qis-no-model-')
    const tiny = path.join(repoRoot, 'fixtures', 'models', 'qis-tiny-bert')
    const out = await drive({homeDir: home, answers: {domainFocus: [], bootstrap: [], embedder: 'transformers', modelDir: broken}}, [
      {when: 'What now?', send: ENTER},
      {when: 'Sentence embedder', send: DOWN + ENTER},
      {when: 'Model folder', send: tiny + ENTER},
      {when: 'Write this configuration?', send: ENTER},
    ])
    expect(out.ok).toBe(true)
    expect(out.screen).toContain('The model did not load')
    expect(out.screen).toMatch(/Model loads: transformers:qis-tiny-bert/)
    const result = (out as {r: Awaited<ReturnType<typeof runWizard>>}).r
    expect(result.modelCheck?.dimension).toBe(16)
    expect(JSON.parse(await fs.readFile(path.join(home, 'config.json'), 'utf8')).embedder).toEqual({backend: 'transformers', modelDir: tiny})
  }, 60_000)
})
