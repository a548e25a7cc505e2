import {Flags, Parser} from '@oclif/core'
import {EventEmitter} from 'node:events'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {bootstrapPeers, commaList, durationFlag, embedderFromFlags, labelFlag, numberFlag, renamed, sinceFlag} from '../../src/cli/flags.js'
import {COMMANDS, runCommand} from '../helpers/command.js'
import {tempDir} from '../helpers/temp.js'
import {interruptSignal} from '../../src/cli/interrupt.js'
import {QisError} from '../../src/util/errors.js'

const parse = (argv: string[]) =>
  Parser.parse(argv, {
    flags: {
      resolution: durationFlag({description: 'x', allowZero: true})({default: 3600}),
      since: sinceFlag({description: 'x'})(),
      domain: labelFlag('domain_tag', {description: 'x'})({default: 'general'}),
      epsilon: numberFlag({description: 'x', min: 0})(),
      embedder: renamed(Flags.string({options: ['use-lite', 'transformers']}), 'backend'),
    },
  })

describe('shared flags', () => {
  it('parse to typed values through the kit grammars', async () => {
    const {flags} = await parse(['--resolution', '1h30m', '--since', '2d', '--domain', 'legal.contracts', '--epsilon', '0.5', '--backend', 'transformers'])
    expect(flags.resolution).toBe(5400)
    expect(Math.floor(Date.now() / 1000) - flags.since!).toBeGreaterThanOrEqual(172_800)
    expect(flags.domain).toBe('legal.contracts')
    expect(flags.epsilon).toBe(0.5)
    expect(flags.embedder).toBe('transformers')
    expect((await parse([])).flags).toMatchObject({resolution: 3600, domain: 'general'})
    expect((await parse(['--resolution', '0'])).flags.resolution).toBe(0)
  })

  it('refuse bad values with BAD_FLAG or BAD_LABEL', async () => {
    await expect(parse(['--epsilon', '-1'])).rejects.toThrow('--epsilon must be a number >= 0, got "-1"')
    await expect(parse(['--since', 'soon'])).rejects.toThrow('--since "soon" is neither a duration nor a date')
    await expect(parse(['--domain', 'Legal'])).rejects.toMatchObject({code: 'BAD_LABEL'})
  })

  it('embedderFromFlags: flags over the config; --model-dir implies transformers; a codebook stays with its embedder', () => {
    const config = {backend: 'transformers' as const, modelDir: '/m', codebook: '/m/group.qcb'}
    expect(embedderFromFlags({}, config)).toEqual(config)
    expect(embedderFromFlags({embedder: 'use-lite'}, config)).toEqual({backend: 'use-lite'})
    expect(embedderFromFlags({'model-dir': '/other'}, {backend: 'use-lite'})).toEqual({backend: 'transformers', modelDir: '/other'})
    expect(embedderFromFlags({'model-dir': '/other'}, config)).toEqual({backend: 'transformers', modelDir: '/other'})
    expect(embedderFromFlags({codebook: '/x.qcb', 'allow-download': true})).toEqual({backend: 'use-lite', codebook: '/x.qcb', allowDownload: true})
    expect(() => embedderFromFlags({embedder: 'use-lite', 'model-dir': '/m'})).toThrow(QisError)
  })

  it('an embedder the config names wrongly is BAD_CONFIG, and a model folder too short to name a download BAD_FLAG (both exit 2, before any model loads)', async () => {
    expect(() => embedderFromFlags({}, {backend: 'foo' as never})).toThrow(expect.objectContaining({code: 'BAD_CONFIG', message: expect.stringContaining('embedder.backend "foo"')}))
    expect(() => embedderFromFlags({'model-dir': '/x', 'allow-download': true})).toThrow(expect.objectContaining({code: 'BAD_FLAG'}))
    expect(embedderFromFlags({'model-dir': '/models/Xenova/m', 'allow-download': true})).toMatchObject({modelDir: '/models/Xenova/m'})
    const home = tempDir()
    writeFileSync(path.join(home, 'config.json'), JSON.stringify({embedder: {backend: 'foo'}}))
    const bad = await runCommand(['hash', 'hello', '--home', home, '--json'])
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.stdout).error.code).toBe('BAD_CONFIG')
    const short = await runCommand(['hash', 'hello', '--model-dir', '/x', '--allow-download', '--json'])
    expect(short.code).toBe(2)
    expect(JSON.parse(short.stdout).error).toMatchObject({code: 'BAD_FLAG', message: '--model-dir /x is too short to name a model to download'})
  })

  it('bootstrapPeers: the flag, else the config; none is one NO_BOOTSTRAP, said alike by publish, pull-weights and adjust --live', async () => {
    expect(bootstrapPeers(['/ip4/127.0.0.1/tcp/1'], ['/ip4/127.0.0.1/tcp/2'])).toEqual(['/ip4/127.0.0.1/tcp/1'])
    expect(bootstrapPeers([], ['/ip4/127.0.0.1/tcp/2'])).toEqual(['/ip4/127.0.0.1/tcp/2'])
    expect(() => bootstrapPeers(undefined, [])).toThrow(expect.objectContaining({code: 'NO_BOOTSTRAP', exitCode: 2}))
    const env = {QIS_BOOTSTRAP: undefined, QIS_HOME: tempDir()}
    const messages = []
    for (const argv of [['publish'], ['pull-weights'], ['adjust', 'q', '--domain', 'general', '--live']]) {
      const r = await runCommand([...argv, '--json'], {env})
      const {error} = JSON.parse(r.stdout) as {error: {code: string; message: string}}
      expect(error.code, argv[0]).toBe('NO_BOOTSTRAP')
      messages.push(error.message.replace(/^[^:]*: /, ''))
    }
    expect(new Set(messages).size).toBe(1)
    expect(messages[0]).toBe('pass --bootstrap MULTIADDR (repeatable), set QIS_BOOTSTRAP, or add "bootstrap" to the config')
  })

  it('every visible flag of every command is described alike: a sentence with a capital letter', async () => {
    const odd: string[] = []
    for (const [id, load] of Object.entries(COMMANDS)) {
      const cmd = (await load()).default as {flags?: Record<string, {description?: string; summary?: string; hidden?: boolean}>}
      for (const [name, flag] of Object.entries(cmd.flags ?? {})) {
        if (flag.hidden) continue
        const text = flag.description ?? flag.summary ?? ''
        if (!/^[A-Z$<]/.test(text)) odd.push(`${id} --${name}: ${text.slice(0, 40)}`)
      }
    }
    expect(odd).toEqual([])
  })

  it('commaList splits repeatable list flags on commas only', () => {
    expect(commaList(['a,b', ' c ', '', 'Clinical Oncology'])).toEqual(['a', 'b', 'c', 'Clinical Oncology'])
  })

  it('interruptSignal aborts with an INTERRUPTED QisError and removes its handlers', () => {
    const proc = new EventEmitter() as unknown as NodeJS.Process
    const {signal, dispose} = interruptSignal('stopped', proc)
    ;(proc as unknown as EventEmitter).emit('SIGINT')
    expect(signal.aborted).toBe(true)
    expect(signal.reason).toMatchObject({code: 'INTERRUPTED', exitCode: 130, message: 'stopped'})
    dispose()
    expect((proc as unknown as EventEmitter).listenerCount('SIGTERM')).toBe(0)
  })
})
