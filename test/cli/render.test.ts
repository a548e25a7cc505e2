import {describe, expect, it} from 'vitest'

import {colorFor, keyValue, renderFailure, table} from '../../src/cli/render.js'

describe('the renderer', () => {
  it('never wraps, however long the line', () => {
    const message = `cannot read ${'/very/long/path'.repeat(20)}`
    const text = renderFailure({code: 'BAD_INPUT', message, hint: 'h '.repeat(100), exitCode: 2}, {color: false})
    expect(text.split('\n')).toEqual([`Error: ${message}`, `Hint: ${'h '.repeat(100)}`, ''])
  })

  it('colours only a terminal, and never with NO_COLOR or TERM=dumb', () => {
    expect(colorFor({isTTY: true}, {})).toEqual({color: true})
    expect(colorFor({isTTY: false}, {})).toEqual({color: false})
    expect(colorFor({isTTY: true}, {NO_COLOR: '1'})).toEqual({color: false})
    expect(colorFor({isTTY: true}, {NO_COLOR: '1', FORCE_COLOR: '1'})).toEqual({color: false})
    expect(colorFor({isTTY: true}, {TERM: 'dumb'})).toEqual({color: false})
    expect(colorFor({isTTY: false}, {FORCE_COLOR: '1'})).toEqual({color: true})
    expect(renderFailure({code: 'X', message: 'm', exitCode: 1}, {color: true})).toBe('\u001B[31mError:\u001B[39m m\n')
  })

  it('aligns key/value rows and tables without trailing spaces', () => {
    expect(keyValue([['a', '1'], ['long key', '']])).toBe('  a         1\n  long key')
    expect(table(['KEY', 'VALUE'], [['a', 'x'], ['bb', '']])).toBe('KEY  VALUE\na    x\nbb')
  })
})
