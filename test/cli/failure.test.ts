import {Args, Flags, Parser} from '@oclif/core'
import {mkdirSync, promises as fs, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {describeErrno, envelope, printable, toFailure} from '../../src/cli/failure.js'
import {durationFlag, labelFlag} from '../../src/cli/flags.js'
import {QisError} from '../../src/util/errors.js'
import {tempDir} from '../helpers/cli.js'

/** The error oclif's real parser throws for `argv`. */
async function parseError(argv: string[]): Promise<unknown> {
  try {
    await Parser.parse(argv, {
      args: {query: Args.string({required: true, description: 'the query'})},
      flags: {
        domain: Flags.string({required: true}),
        limit: Flags.integer({min: 1}),
        embedder: Flags.string({options: ['use-lite', 'transformers']}),
        since: durationFlag({description: 'x'})(),
        label: labelFlag('domain_tag', {description: 'x'})(),
      },
    })
  } catch (error) {
    return error
  }
  throw new Error(`${argv.join(' ')} parsed`)
}

const context = {command: 'adjust', flags: ['domain', 'limit', 'embedder', 'since', 'label', 'json', 'home']}

describe('toFailure: every failure as code, message, hint and exit code', () => {
  it("oclif's parse errors become usage errors with a clean message and the command's help as hint", async () => {
    const cases: [string[], string, string][] = [
      [['q'], 'MISSING_FLAG', 'missing required flag --domain'],
      [['--domain', 'd'], 'MISSING_ARGUMENT', 'missing argument QUERY'],
      [['q', '--domain', 'd', 'extra'], 'UNEXPECTED_ARGUMENT', 'unexpected argument: extra'],
      [['q', '--domain', 'd', '--limit', '0'], 'BAD_FLAG', '--limit: expected an integer greater than or equal to 1 but received: 0'],
      [['q', '--domain', 'd', '--embedder', 'nope'], 'BAD_FLAG', 'Expected --embedder=nope to be one of: use-lite, transformers'],
      [['q', '--domain', 'd', '--since', '1x'], 'BAD_FLAG', '--since "1x" is not a duration'],
      [['q', '--domain', 'd', '--label', 'Bad Label'], 'BAD_LABEL', '--label: domain "Bad Label" may contain only lowercase a-z, 0-9 and . _ - : (found "B")'],
      [['q', '--domain'], 'BAD_FLAG', 'flag --domain expects a value'],
    ]
    for (const [argv, code, message] of cases) {
      const f = toFailure(await parseError(argv), context)
      expect({code: f.code, message: f.message, exitCode: f.exitCode}, argv.join(' ')).toEqual({code, message, exitCode: 2})
      expect(f.hint, argv.join(' ')).toMatch(code === 'BAD_FLAG' && argv.includes('--since') ? /1h30m/ : code === 'BAD_LABEL' ? /^Use --label bad_label\./ : /See qis adjust --help\.$/)
    }
  })

  it('an unknown flag suggests the nearest one', async () => {
    const f = toFailure(await parseError(['q', '--domain', 'd', '--embeder', 'x']), context)
    expect(f).toEqual({code: 'UNKNOWN_FLAG', message: 'unknown flag --embeder', hint: 'Did you mean --embedder? See qis adjust --help.', exitCode: 2})
  })

  it('raw operating-system errors become words, with the path', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'f')
    writeFileSync(file, 'x')
    const errno = (fn: () => unknown) => {
      try {
        fn()
      } catch (error) {
        return error as NodeJS.ErrnoException
      }
      throw new Error('no error')
    }
    expect(toFailure(errno(() => readFileSync(dir)))).toMatchObject({code: 'BAD_INPUT', message: 'the path is a folder; a file is needed here', exitCode: 2})
    expect(toFailure(errno(() => readFileSync(path.join(dir, 'nope'))))).toMatchObject({code: 'INPUT_NOT_FOUND', message: `${path.join(dir, 'nope')} does not exist`})
    expect(toFailure(errno(() => mkdirSync(file, {recursive: true})))).toMatchObject({code: 'BAD_INPUT', message: `${file} exists and is not a folder`})
    expect(toFailure(errno(() => readFileSync(path.join(file, 'x'))))).toMatchObject({code: 'BAD_INPUT', message: `${path.join(file, 'x')}: a part of the path is a file, not a folder`})
    expect(describeErrno(Object.assign(new Error('x'), {code: 'ENOSPC', syscall: 'write'}))).toMatchObject({code: 'DISK_FULL'})
    expect(describeErrno(new Error('plain'))).toBeUndefined()
  })

  it('a QisError keeps its code and hint; raw errno text inside its message is replaced', async () => {
    const file = path.join(tempDir(), 'home')
    writeFileSync(file, '')
    const cause = await fs.mkdir(file, {recursive: true}).then(
      () => undefined,
      (error: Error) => error,
    )
    const wrapped = new QisError(`cannot use QIS home ${file}: ${cause!.message}`, {code: 'HOME_UNUSABLE', cause})
    expect(toFailure(wrapped)).toEqual({code: 'HOME_UNUSABLE', message: `cannot use QIS home ${file}: ${file} exists and is not a folder`, exitCode: 2})
    expect(toFailure(new QisError('x', {code: 'BAD_FLAG', hint: 'do y'}))).toEqual({code: 'BAD_FLAG', message: 'x', hint: 'do y', exitCode: 2})
  })

  it('an operating-system error without words of its own gets libuv\'s, never the errno name; a path already named is not named twice', () => {
    const loop = path.join(tempDir(), 'loop')
    symlinkSync(loop, loop)
    let cause: NodeJS.ErrnoException | undefined
    try {
      statSync(loop)
    } catch (error) {
      cause = error as NodeJS.ErrnoException
    }
    expect(cause!.code).toBe('ELOOP')
    expect(toFailure(cause)).toMatchObject({code: 'IO_ERROR', message: `${loop}: stat failed: too many symbolic links encountered`, exitCode: 1})
    const wrapped = toFailure(new QisError(`cannot read ${loop}: ${cause!.message}`, {code: 'STORE_UNREADABLE', cause}))
    expect(wrapped.message).toBe(`cannot read ${loop}: stat failed: too many symbolic links encountered`)
  })

  it('a QisError coded INTERNAL (a broken invariant) is reported as a bug: the hint says so, the stack is kept', () => {
    const f = toFailure(new QisError('cannot store a packet of 0 bytes', {code: 'INTERNAL'}))
    expect(f).toMatchObject({code: 'INTERNAL', exitCode: 1, hint: expect.stringMatching(/bug in qis.*QIS_DEBUG=1/)})
    expect(f.stack).toContain('QisError')
  })

  it('binary bytes never reach the terminal', () => {
    let parseError: Error | undefined
    try {
      JSON.parse('\u0000\u0001\u001b[2J\ufffd')
    } catch (error) {
      parseError = error as Error
    }
    const f = toFailure(new QisError(`weights file w.json: JSON: ${parseError!.message}`, {code: 'BAD_WEIGHTS_FILE'}))
    expect(f.message).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F\ufffd]/)
    expect(f.message).toContain('\\x00')
    expect(printable('a\tb\nc\u0007')).toBe('a\tb\nc\\x07')
  })

  it('anything else is INTERNAL (exit 1) with the stack kept for QIS_DEBUG, and the envelope holds code, message, hint', () => {
    const f = toFailure(new TypeError('x is not a function'))
    expect(f).toMatchObject({code: 'INTERNAL', message: 'x is not a function', exitCode: 1})
    expect(f.stack).toContain('TypeError')
    expect(envelope(f)).toEqual({error: {code: 'INTERNAL', message: 'x is not a function', hint: f.hint}})
    expect(Object.keys(envelope({code: 'A', message: 'b', exitCode: 1}).error)).toEqual(['code', 'message'])
  })
})
