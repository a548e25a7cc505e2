import {describe, expect, it} from 'vitest'

import {editDistance, nearest} from '../../src/hooks/command-not-found.js'
import {runCli, tempDir} from '../helpers/cli.js'

describe('mistyped commands without a terminal', () => {
  it('names the nearest command and exits 2 (UNKNOWN_COMMAND), as text or as the JSON envelope', async () => {
    const r = await runCli(['ids'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('Error: ids is not a qis command\nHint: Did you mean "qis id"? Run qis help for a list of available commands.\n')
    const json = await runCli(['ids', '--json'])
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout)).toEqual({
      error: {code: 'UNKNOWN_COMMAND', message: 'ids is not a qis command', hint: 'Did you mean "qis id"? Run qis help for a list of available commands.'},
    })
  })

  it('qis distil points at qis distill', async () => {
    expect((await runCli(['distil'])).stderr).toContain('Did you mean "qis distill"?')
  })

  it('handles topics and subcommands', async () => {
    expect((await runCli(['inspec'])).stderr).toContain('Did you mean "qis inspect"?')
    expect((await runCli(['inspect', 'packt'])).stderr).toContain('Did you mean "qis inspect packet"?')
  })

  it('suggests nothing for a word that resembles no command', async () => {
    const r = await runCli(['zzzzzzzz'])
    expect(r.code).toBe(2)
    expect(r.stderr).not.toContain('Did you mean')
    expect(r.stderr).toContain('Run qis help')
  })

  it('edit distance and the plausibility bound', () => {
    expect(editDistance('distil', 'distill')).toBe(1)
    expect(editDistance('kitten', 'sitting')).toBe(3)
    expect(nearest('distil', ['distill', 'id', 'inspect:packet'])).toBe('distill')
    expect(nearest('qqqqq', ['id', 'init'])).toBeUndefined()
  })
})

describe('shell completion', () => {
  it('qis autocomplete prints setup instructions without a terminal', async () => {
    const cache = tempDir()
    const r = await runCli(['autocomplete', 'bash'], {env: {XDG_CACHE_HOME: cache}})
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('qis autocomplete script bash')
    const script = await runCli(['autocomplete', 'script', 'bash'], {env: {XDG_CACHE_HOME: cache}})
    expect(script.code).toBe(0)
    expect(script.stdout).toContain('QIS_AC_BASH_SETUP_PATH')
  })
})
