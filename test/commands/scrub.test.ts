import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {gzipSync} from 'node:zlib'
import {describe, expect, it} from 'vitest'

import {runCli, tempDir} from '../helpers/cli.js'
import {runCommand} from '../helpers/command.js'

const lines = (s: string) => s.trimEnd().split('\n').map((l) => JSON.parse(l))

describe('qis scrub', () => {
  it('scrubs JSONL from stdin line by line, bad lines in place, exit 2', async () => {
    const input = [
      JSON.stringify({text: 'Hi, I am Anna Schmidt, email anna@example.org'}),
      'not json',
      JSON.stringify({text: 'card 4539301019673114 ok', other: 'ignored'}),
      JSON.stringify({body: 'x'}),
      JSON.stringify({text: 42}),
    ].join('\n')
    const r = await runCli(['scrub'], {input})
    expect(r.code).toBe(2)
    const out = lines(r.stdout)
    expect(out).toHaveLength(5)
    expect(out[0]).toEqual({
      text: 'Hi, I am <PERSON>, email <EMAIL>',
      spans: [
        {start: 9, end: 21, type: 'PERSON'},
        {start: 29, end: 45, type: 'EMAIL'},
      ],
    })
    expect(out[1]).toEqual({line: 2, error: 'malformed JSON'})
    expect(out[2]).toEqual({text: 'card <CREDIT_CARD> ok', spans: [{start: 5, end: 21, type: 'CREDIT_CARD'}]})
    expect(out[3]).toEqual({line: 4, error: 'no "text" field'})
    expect(out[4]).toEqual({line: 5, error: '"text" is not a string'})
    expect(r.stderr).toContain('<stdin>:2: malformed JSON')
    expect(r.stderr).toContain('3 of 5 lines could not be read')
  })

  it('plain text lines, --field, several files including .gz, exit 0 when all lines are good', async () => {
    const dir = tempDir()
    const a = path.join(dir, 'a.jsonl')
    const b = path.join(dir, 'b.jsonl.gz')
    writeFileSync(a, JSON.stringify({prompt: 'SSN 205-46-4452'}) + '\n')
    writeFileSync(b, gzipSync(JSON.stringify({prompt: 'no personal data here'}) + '\n'))
    const r = await runCli(['scrub', '--field', 'prompt', a, b])
    expect(r.code).toBe(0)
    expect(lines(r.stdout).map((l) => l.text)).toEqual(['SSN <SSN>', 'no personal data here'])

    const t = await runCli(['scrub', '--input-format', 'text'], {input: 'Call Kent Jaworski on +1 415 555 0100\n\nplain\n'})
    expect(t.code).toBe(0)
    expect(lines(t.stdout).map((l) => l.text)).toEqual(['Call <PERSON> on <PHONE>', '', 'plain'])
  })

  it('reads --input files as qis hash does, beside FILE arguments, in order', async () => {
    const dir = tempDir()
    const a = path.join(dir, 'a.jsonl')
    const b = path.join(dir, 'b.jsonl')
    writeFileSync(a, JSON.stringify({text: 'SSN 205-46-4452'}) + '\n')
    writeFileSync(b, JSON.stringify({text: 'plain'}) + '\n')
    const r = await runCommand(['scrub', a, '--input', b, '--json'], {env: {QIS_HOME: path.join(dir, 'home')}})
    expect(r.code, r.stdout).toBe(0)
    expect(JSON.parse(r.stdout).results.map((l: {text: string}) => l.text)).toEqual(['SSN <SSN>', 'plain'])
    const missing = await runCommand(['scrub', '--input', path.join(dir, 'nope.jsonl'), '--json'], {env: {QIS_HOME: path.join(dir, 'home')}})
    expect(JSON.parse(missing.stdout).error.code).toBe('INPUT_NOT_FOUND')
  })

  it('names the file on errors when reading several, and fails cleanly on a missing file', async () => {
    const dir = tempDir()
    const a = path.join(dir, 'a.jsonl')
    writeFileSync(a, '{"text":"ok"}\n{oops\n')
    const r = await runCli(['scrub', a, a])
    expect(r.code).toBe(2)
    expect(lines(r.stdout)[1]).toEqual({file: a, line: 2, error: 'malformed JSON'})
    const missing = await runCli(['scrub', path.join(dir, 'nope.jsonl')])
    expect(missing.code).toBe(2) // a missing file is a usage error everywhere (src/cli/codes.ts)
    expect(missing.stderr).toMatch(/^Error: input file .*nope\.jsonl does not exist\n$/)
  })
})

describe('qis scrub with the deployment\'s own recognisers', () => {
  it('applies config privacy recognisers, deny- and allow-lists; qis config shows them; a bad one is exit 2', async () => {
    const home = tempDir('qis-scrub-custom-')
    try {
      writeFileSync(
        path.join(home, 'config.json'),
        JSON.stringify({privacy: {recognizers: [{type: 'WARD', pattern: '\\bWard [A-Z]\\d\\b'}], deny: [{type: 'TRIAL', words: ['Project Zeta']}], allow: ['Keytruda']}}),
      )
      const input = JSON.stringify({text: 'Keytruda for Anna Smith in Ward B4 (project zeta), key sk_live_51HxYzABcdEFgh1234567890'}) + '\n'
      const r = await runCli(['scrub', '--home', home], {input})
      expect(r.code, r.stderr).toBe(0)
      expect(lines(r.stdout)[0].text).toBe('Keytruda for <PERSON> in <WARD> (<TRIAL>), key <SECRET>')
      const c = await runCli(['config', '--home', home])
      expect(c.stdout).toMatch(/privacy\s+WARD \/\\bWard \[A-Z\]\\d\\b\/; TRIAL: Project Zeta; allow: Keytruda\s+config file/)
      writeFileSync(path.join(home, 'config.json'), JSON.stringify({privacy: {recognizers: [{type: 'WARD', pattern: '('}]}}))
      const bad = await runCli(['scrub', '--home', home], {input})
      expect(bad.code).toBe(2)
      expect(bad.stderr).toMatch(/privacy\.recognizers\[0\]: pattern "\(" is not a valid regular expression/)
      const badConfig = await runCli(['config', '--home', home])
      expect(badConfig.code).toBe(2)
    } finally {
      rmSync(home, {recursive: true, force: true})
    }
  })
})
