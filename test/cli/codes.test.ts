import {readFileSync, readdirSync, statSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {ERROR_CODES, EXIT, exitCodeFor} from '../../src/cli/codes.js'
import {envTable, exitCodeDocs} from '../../src/cli/docs.js'
import {QisError} from '../../src/util/errors.js'
import {repoRoot} from '../helpers/cli.js'

/** Every .ts file under src/. */
function sourceFiles(): string[] {
  const files: string[] = []
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (p.endsWith('.ts')) files.push(p)
    }
  }
  walk(path.join(repoRoot, 'src'))
  return files
}

/** Every `new QisError(...)` in src/: file, the codes it can carry, and an explicit exitCode if numeric. */
function throwSites(): {file: string; codes: string[]; exitCode?: number}[] {
  const files = sourceFiles()
  const sites = []
  for (const file of files) {
    const s = readFileSync(file, 'utf8')
    for (let i = s.indexOf('new QisError('); i >= 0; i = s.indexOf('new QisError(', i + 1)) {
      let depth = 0
      let j = i + 'new QisError'.length
      for (; j < s.length; j++) {
        if (s[j] === '(') depth++
        else if (s[j] === ')' && --depth === 0) break
      }
      const call = s.slice(i, j + 1)
      const codes = [...(/\bcode:\s*([^,}\n]+)/.exec(call)?.[1].matchAll(/'([A-Z_]+)'/g) ?? [])].map((m) => m[1])
      const exit = /\bexitCode:\s*(\d+)/.exec(call)?.[1]
      sites.push({file: path.relative(repoRoot, file), codes, exitCode: exit === undefined ? undefined : Number(exit)})
    }
  }
  return sites
}

// Throw sites whose explicit exit code disagrees with their code's class, in files phase B moves
// onto the kit (docs/glossary.md). Remove an entry when its site is fixed; add none.
const PHASE_B_EXIT_MISMATCHES = new Set<string>([])

describe('error codes', () => {
  const sites = throwSites()

  it('finds the throw sites (the scan itself works)', () => {
    expect(sites.length).toBeGreaterThan(50)
    expect(sites.some((s) => s.file === 'src/commands/hash.ts' && s.codes.includes('NOTHING_PRODUCED'))).toBe(true)
  })

  it('lists every code thrown anywhere in src/', () => {
    const unlisted = sites.flatMap((s) => s.codes.filter((c) => !(c in ERROR_CODES)).map((c) => `${s.file}: ${c}`))
    expect(unlisted).toEqual([])
  })

  it('an explicit exit code at a throw site agrees with its code (known phase-B exceptions listed)', () => {
    const mismatches = sites
      .filter((s) => s.exitCode !== undefined)
      .flatMap((s) => s.codes.filter((c) => exitCodeFor(c) !== s.exitCode).map((c) => `${s.file} ${c} ${s.exitCode}`))
    expect(mismatches.sort()).toEqual([...PHASE_B_EXIT_MISMATCHES].sort())
  })

  it('a throw site names no exit code: it follows from the code (known leftovers outside weights/, commands/ and cli/ listed)', () => {
    // Each still agrees with its code (the test above); remove an entry when its site drops the number.
    const leftovers: string[] = []
    const explicit = sites.filter((s) => s.exitCode !== undefined).map((s) => s.file)
    expect(explicit.sort()).toEqual(leftovers)
  })

  it('every hint is a sentence: it starts with a capital letter, as the renderer prints it after "Hint:" (known leftovers listed)', () => {
    const lower = sourceFiles().flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/\bhint: ['`"][a-z]/g)].map(() => path.relative(repoRoot, f)))
    // wizard.ts's are prompt options, not error hints; add none.
    const leftovers = ['src/init/wizard.ts', 'src/init/wizard.ts']
    expect(lower.sort()).toEqual(leftovers)
  })

  it('QisError takes its exit code from its code unless told otherwise', () => {
    expect(new QisError('x', {code: 'INPUT_NOT_FOUND'}).exitCode).toBe(2)
    expect(new QisError('x', {code: 'NOTHING_PRODUCED'}).exitCode).toBe(3)
    expect(new QisError('x', {code: 'INTERRUPTED'}).exitCode).toBe(130)
    expect(new QisError('x').exitCode).toBe(1)
    expect(new QisError('x', {code: 'SOMETHING_NEW'}).exitCode).toBe(1)
    expect(new QisError('x', {code: 'BAD_FLAG', exitCode: 1}).exitCode).toBe(1)
    expect(new QisError('x', {code: 'BAD_FLAG', hint: 'do y'}).hint).toBe('do y')
  })

  it('every exit class is used, and codes that only stay until phase B name their replacement', () => {
    const classes = new Set(Object.values(ERROR_CODES).map((c) => c.exit))
    expect([...classes].sort()).toEqual(Object.keys(EXIT).filter((k) => k !== 'ok').sort())
    for (const [code, info] of Object.entries(ERROR_CODES)) if ('use' in info) expect(info.use, code).toBeTruthy()
  })

  it("the README's exit-code table is generated from the list", () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8')
    const m = /<!-- exit-codes -->\n([\s\S]*?)<!-- \/exit-codes -->/.exec(readme)
    expect(m, 'README.md needs a <!-- exit-codes --> ... <!-- /exit-codes --> block').not.toBeNull()
    // On a mismatch, paste the expected value (exitCodeDocs() in src/cli/docs.ts) into the README.
    expect(m![1]).toBe(exitCodeDocs())
  })

  it("the glossary's table of environment variables is the one list in env.ts", () => {
    const glossary = readFileSync(path.join(repoRoot, 'docs/glossary.md'), 'utf8')
    expect(glossary).toContain(envTable())
  })
})
