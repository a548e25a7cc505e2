import {existsSync, readFileSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {repoRoot} from '../helpers/cli.js'

// Commands are thin and their heavy modules load lazily (issue 19). This walks the static imports
// (not `import type`, not `await import()`) from each command and lists the heavy packages reached.
// No command may reach the model runtimes, the libp2p node stack or the prompts statically. The
// identity's key code (@libp2p/crypto, ~0.2 s) and multiaddr parsing are allowed where the command
// needs them anyway, except in a command whose --help oclif loads the module for (a flag whose default
// is shown through a defaultHelp function, hasDynamicHelp in the manifest): `qis X --help` pays for
// everything such a module imports.

const HEAVY = [/^libp2p$/, /^@libp2p\/(?!crypto|peer-id)/, /^@chainsafe\//, /^onnxruntime/, /^@tensorflow\//, /^@huggingface\//, /^@energetic-ai\//, /^@clack\//]
const HEAVY_FOR_HELP = [...HEAVY, /^@libp2p\//, /^@multiformats\//]

function staticImports(file: string): string[] {
  const src = readFileSync(file, 'utf8')
  const out: string[] = []
  for (const m of src.matchAll(/^(?:import|export)\s+([^'";]*?)\s*from\s+'([^']+)'/gm)) {
    const clause = m[1]
    if (/^type\b/.test(clause)) continue
    // `import {type A, type B} from` brings in nothing at run time.
    const named = /^\{([^}]*)\}$/.exec(clause.trim())
    if (named && named[1].split(',').every((n) => !n.trim() || /^type\s/.test(n.trim()))) continue
    out.push(m[2])
  }
  for (const m of src.matchAll(/^import\s+'([^']+)'/gm)) out.push(m[1])
  return out
}

function resolveLocal(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec.replace(/\.js$/, ''))
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) if (existsSync(candidate)) return candidate
  return undefined
}

/** Heavy packages reachable from `entry` by static imports, each with the chain that reaches it. */
function heavyReached(entry: string, heavy = HEAVY): string[] {
  const seen = new Set<string>()
  const found: string[] = []
  const walk = (file: string, chain: string[]) => {
    if (seen.has(file)) return
    seen.add(file)
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) {
        const next = resolveLocal(file, spec)
        if (next) walk(next, [...chain, path.relative(repoRoot, next)])
      } else if (heavy.some((h) => h.test(spec))) found.push(`${spec} via ${chain.join(' -> ')}`)
    }
  }
  walk(entry, [path.relative(repoRoot, entry)])
  return found
}

describe('heavy modules load lazily', () => {
  const commands = readdirSync(path.join(repoRoot, 'src/commands'), {recursive: true, encoding: 'utf8'}).filter((f) => f.endsWith('.ts'))

  it('the walker sees through the layers (a module known to import libp2p statically)', () => {
    expect(heavyReached(path.join(repoRoot, 'src/identity/identity.ts'), HEAVY_FOR_HELP).some((h) => h.startsWith('@libp2p/crypto'))).toBe(true)
    expect(heavyReached(path.join(repoRoot, 'src/swarm/node.ts')).some((h) => h.startsWith('libp2p '))).toBe(true)
  })

  for (const file of commands) {
    it(`qis ${file.replace(/\.ts$/, '').split(path.sep).join(' ')} imports no heavy package statically`, () => {
      expect(heavyReached(path.join(repoRoot, 'src/commands', file))).toEqual([])
    })
  }

  it('a command whose --help loads its module imports nothing heavy statically, not even the identity', () => {
    const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {hasDynamicHelp?: boolean; relativePath: string[]}>}
    const dynamic = Object.entries(manifest.commands).filter(([, c]) => c.hasDynamicHelp)
    expect(dynamic.map(([id]) => id).sort()).toEqual(['adjust', 'distill', 'node'])
    for (const [id, c] of dynamic) {
      const source = path.join(repoRoot, c.relativePath.join('/').replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'))
      expect(heavyReached(source, HEAVY_FOR_HELP), id).toEqual([])
    }
  })
})
