import type {Failure} from './failure.js'
import {printable} from './failure.js'

/**
 * The one text renderer for summaries, tables and messages. It never wraps: at a terminal the
 * terminal wraps long lines itself, and in a pipe or a log a line stays one line, so grep and
 * scripts see whole messages. (oclif's own error printer hard-wraps at 80 columns whenever
 * stderr is not a terminal: screen.js falls back to 80, and pretty-print wraps to it. Commands
 * on the kit never print through it.)
 */

export interface Style {
  color: boolean
}

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org) or TERM is dumb. */
export function colorFor(stream: {isTTY?: boolean}, env: NodeJS.ProcessEnv = process.env): Style {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return {color: false}
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return {color: env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false'}
  return {color: Boolean(stream.isTTY) && env.TERM !== 'dumb'}
}

const SGR = {red: [31, 39], yellow: [33, 39], dim: [2, 22], bold: [1, 22]} as const

export function paint(style: Style, how: keyof typeof SGR, text: string): string {
  return style.color ? `\u001B[${SGR[how][0]}m${text}\u001B[${SGR[how][1]}m` : text
}

/** "Error: message" and "Hint: ..." lines for stderr; the stack only when asked (QIS_DEBUG). */
export function renderFailure(f: Failure, style: Style, options: {debug?: boolean} = {}): string {
  const lines = [`${paint(style, 'red', 'Error:')} ${f.message}`]
  if (f.hint) lines.push(`${paint(style, 'dim', 'Hint:')} ${f.hint}`)
  if (options.debug && f.stack) lines.push(f.stack)
  return lines.join('\n') + '\n'
}

export function renderWarning(message: string, style: Style): string {
  return `${paint(style, 'yellow', 'Warning:')} ${printable(message)}\n`
}

/** Rows of "key  value", keys padded to one width. */
export function keyValue(rows: [string, string][], indent = '  '): string {
  if (rows.length === 0) return ''
  const width = Math.max(...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `${indent}${k.padEnd(width)}  ${v}`.trimEnd()).join('\n')
}

/** A table with a header row; columns padded to their widest cell, the last one left ragged. */
export function table(header: string[], rows: string[][], indent = ''): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  return [header, ...rows].map((row) => indent + row.map((cell, i) => (i < row.length - 1 ? (cell ?? '').padEnd(widths[i]) : cell ?? '')).join('  ').trimEnd()).join('\n')
}

/** A titled block: "Title:" and indented key/value rows, or nothing when there are no rows. */
export function section(title: string, rows: [string, string][]): string {
  return rows.length === 0 ? '' : `${title}\n${keyValue(rows, '    ')}`
}

/** Joins blocks with newlines, dropping empty ones. */
export function lines(...blocks: (string | undefined | false)[]): string {
  return blocks.filter((b): b is string => typeof b === 'string' && b !== '').join('\n')
}

/** "1 packet", "3 packets". */
export function plural(n: number, word: string, plural = `${word}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? word : plural}`
}
