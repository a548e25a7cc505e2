import {readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {SUPPORTED_NODE} from '../../src/cli/main.js'
import {repoRoot} from '../helpers/cli.js'

describe('engines', () => {
  it("package.json, the README and qis's own check name the same Node range", () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'))
    expect(pkg.engines.node).toBe(SUPPORTED_NODE)
    expect(readFileSync(path.join(repoRoot, 'README.md'), 'utf8')).toContain(`\`${SUPPORTED_NODE}\``)
  })

  it('p-retry is pinned to the release whose engines allow Node 20 (same call shape as libp2p uses)', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'))
    expect(pkg.overrides['p-retry']).toBe('7.1.1')
    const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {packages: Record<string, {version?: string}>}
    const locked = Object.entries(lock.packages).filter(([p]) => p.endsWith('node_modules/p-retry'))
    expect(locked.length).toBeGreaterThan(0)
    for (const [p, info] of locked) expect(info.version, p).toBe('7.1.1')
  })
})
