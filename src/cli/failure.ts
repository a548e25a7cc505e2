import {getSystemErrorMap} from 'node:util'

import {EXIT, type ErrorCode, exitCodeFor} from './codes.js'
import {QisError} from '../util/errors.js'

/**
 * Anything a command can throw, turned into what the person (or script) is shown: a code from
 * codes.ts, a clean one-paragraph message, an optional hint, and the exit code. oclif's parse
 * errors, raw operating-system errors and unexpected exceptions all come through here, so no
 * raw object, errno string or stray control byte reaches the terminal.
 */
export interface Failure {
  code: string
  message: string
  hint?: string
  exitCode: number
  /** Only for unexpected errors (code INTERNAL): shown with QIS_DEBUG=1. */
  stack?: string
}

/** What `--json` prints on failure (and beside a result that is printed anyway, see partial failures). */
export interface ErrorEnvelope {
  error: {code: string; message: string; hint?: string}
}

export interface FailureContext {
  /** The command as typed, e.g. "inspect packet"; used in hints ("see qis inspect packet --help"). */
  command?: string
  /** The command's flag names, to suggest the nearest for an unknown one. */
  flags?: string[]
  bin?: string
}

export function envelope(f: Failure): ErrorEnvelope {
  return {error: f.hint === undefined ? {code: f.code, message: f.message} : {code: f.code, message: f.message, hint: f.hint}}
}

/** oclif's ExitError (from this.exit()): a chosen exit code, nothing to print. */
export function exitErrorCode(err: unknown): number | undefined {
  const e = err as {code?: unknown; oclif?: {exit?: unknown}} | null
  return e && e.code === 'EEXIT' && typeof e.oclif?.exit === 'number' ? e.oclif.exit : undefined
}

export function toFailure(err: unknown, context: FailureContext = {}): Failure {
  const help = `See ${context.bin ?? 'qis'} ${context.command ? `${context.command} ` : ''}--help.`
  if (err instanceof QisError) {
    const u = unwrapFlagParse(err.message)
    const text = u === undefined ? err.message : u.message.startsWith(u.flag) ? u.message : `${u.flag}: ${u.message}`
    const message = cleanMessage(text, err.cause)
    // A broken invariant thrown as a QisError is a bug all the same: say so, and keep where it happened.
    if (err.code === 'INTERNAL') return finish({code: err.code, message, hint: err.hint ?? BUG_HINT, exitCode: err.exitCode, stack: err.stack})
    return finish({code: err.code, message, hint: err.hint, exitCode: err.exitCode})
  }
  if (!(err instanceof Error)) return finish({code: 'INTERNAL', message: String(err), exitCode: EXIT.failure, hint: BUG_HINT})

  const name = err.constructor?.name
  const raw = stripAnsi(err.message)
  const parsed = unwrapFlagParse(raw)
  if (parsed) return finish(coded('BAD_FLAG', `${parsed.flag}: ${lowerFirst(cleanMessage(parsed.message, undefined))}`, help))
  switch (name) {
    case 'NonExistentFlagsError': {
      const names = [...body(raw).join(' ').matchAll(/(?:^|[\s,:])(-{1,2}[\w-]+)/g)].map((m) => m[1])
      const near = names.length === 1 && context.flags ? nearestFlag(names[0], context.flags) : undefined
      return finish(coded('UNKNOWN_FLAG', `unknown flag${names.length === 1 ? '' : 's'} ${names.join(', ')}`, near ? `Did you mean --${near}? ${help}` : help))
    }
    case 'RequiredArgsError': {
      const lines = body(raw)
      const names = lines.slice(1).filter((l) => l.trim() && !l.startsWith('Note:') && !l.startsWith('Alternatively')).map((l) => l.trim().split(/\s+/)[0].toUpperCase())
      return finish(coded('MISSING_ARGUMENT', `missing argument${names.length === 1 ? '' : 's'} ${names.join(', ')}`, help))
    }
    case 'UnexpectedArgsError':
      return finish(coded('UNEXPECTED_ARGUMENT', lowerFirst(body(raw)[0]), help))
    case 'FlagInvalidOptionError':
      // oclif's own words ("Expected --format=xml to be one of: jsonl, csv") say it well, and scripts match on them.
      return finish(coded('BAD_FLAG', body(raw).join(' '), help))
    case 'ArgInvalidOptionError':
      return finish(coded('BAD_ARGUMENT', lowerFirst(body(raw).join(' ')), help))
    case 'FailedFlagValidationError':
    case 'ViolatedFlagConstraintError': {
      const reasons = body(raw).slice(1).map((l) => l.trim()).filter(Boolean)
      const missing = reasons.map((r) => /^Missing required flag ([\w-]+)$/.exec(r)?.[1])
      if (reasons.length > 0 && missing.every(Boolean)) {
        return finish(coded('MISSING_FLAG', `missing required flag${missing.length === 1 ? '' : 's'} ${missing.map((f) => `--${f}`).join(', ')}`, help))
      }
      return finish(coded('BAD_FLAG', reasons.map(lowerFirst).join('; '), help))
    }
    case 'InvalidArgsSpecError':
      return finish(coded('INTERNAL', lowerFirst(body(raw).join(' ')), BUG_HINT))
  }
  const errno = errnoFailure(err)
  if (errno) return finish(errno)
  const oclifExit = (err as {oclif?: {exit?: unknown}}).oclif?.exit
  if (name === 'CLIError' || typeof oclifExit === 'number') {
    // oclif's own usage errors ("Flag --x expects a value") and this.error() in not-yet-migrated code.
    const exit = typeof oclifExit === 'number' ? oclifExit : EXIT.usage
    const code: ErrorCode = exit === 127 ? 'UNKNOWN_COMMAND' : exit === EXIT.usage ? (/\bflag\b/i.test(raw) ? 'BAD_FLAG' : 'BAD_ARGUMENT') : exit === EXIT.interrupted ? 'INTERRUPTED' : 'QIS_ERROR'
    return finish(coded(code, lowerFirst(body(raw).join(' ')), exit === EXIT.usage ? help : undefined))
  }
  return finish({code: 'INTERNAL', message: raw || name || 'unknown error', hint: BUG_HINT, exitCode: EXIT.failure, stack: err.stack})
}

const BUG_HINT = 'This looks like a bug in qis. Run again with QIS_DEBUG=1 to see where it happened, and report it.'

function coded(code: ErrorCode, message: string, hint?: string): Failure {
  return {code, message, hint, exitCode: exitCodeFor(code)}
}

function finish(f: Failure): Failure {
  const out: Failure = {code: f.code, message: printable(f.message.trim()), exitCode: f.exitCode}
  if (f.hint) out.hint = printable(f.hint)
  if (f.stack) out.stack = f.stack
  return out
}

/** oclif wraps an error thrown while parsing a flag value as "Parsing --name \n\t<message>\nSee more help with --help". */
function unwrapFlagParse(message: string): {flag: string; message: string} | undefined {
  const m = /^Parsing (--[\w-]+) \n\t([\s\S]*?)(?:\nSee more help with --help)?$/.exec(message)
  return m ? {flag: m[1], message: m[2]} : undefined
}

/** The message's lines without oclif's trailing "See more help with --help". */
function body(message: string): string[] {
  return message.replace(/\n?See more help with --help\s*$/, '').split('\n')
}

const lowerFirst = (s: string) => (/^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s)

/** Replaces an embedded raw errno message ("EEXIST: file already exists, mkdir '/x'") with words, naming the path once. */
function cleanMessage(message: string, cause: unknown): string {
  const described = cause instanceof Error ? describeErrno(cause) : undefined
  if (!described || !(cause instanceof Error) || !message.includes(cause.message)) return message
  const {path: p} = cause as NodeJS.ErrnoException
  const before = message.slice(0, message.indexOf(cause.message))
  const text = p && before.includes(p) && described.text.startsWith(`${p}: `) ? described.text.slice(p.length + 2) : described.text
  return message.replace(cause.message, text)
}

function errnoFailure(err: NodeJS.ErrnoException): Failure | undefined {
  const d = describeErrno(err)
  return d ? {code: d.code, message: d.text, exitCode: exitCodeFor(d.code), hint: d.hint} : undefined
}

/** Words for the operating-system errors people meet; undefined for anything that is not one. */
export function describeErrno(err: NodeJS.ErrnoException & {dest?: string; address?: string; port?: number}): {code: ErrorCode; text: string; hint?: string} | undefined {
  if (typeof err.code !== 'string' || !/^E[A-Z0-9]+$/.test(err.code) || (err.syscall === undefined && err.errno === undefined)) return undefined
  const p = err.path ?? err.dest
  const at = p ? `${p}: ` : ''
  switch (err.code) {
    case 'ENOENT':
      return {code: 'INPUT_NOT_FOUND', text: p ? `${p} does not exist` : 'a file or folder does not exist'}
    case 'EISDIR':
      return {code: 'BAD_INPUT', text: `${p ?? 'the path'} is a folder; a file is needed here`}
    case 'ENOTDIR':
      return {code: 'BAD_INPUT', text: `${at}a part of the path is a file, not a folder`}
    case 'EEXIST':
      return {code: 'BAD_INPUT', text: err.syscall === 'mkdir' ? `${p ?? 'the path'} exists and is not a folder` : `${p ?? 'the path'} already exists`}
    case 'EACCES':
    case 'EPERM':
      return {code: 'PERMISSION_DENIED', text: `${at}permission denied`, hint: 'Check the owner and mode of the file or folder, or choose another path.'}
    case 'EROFS':
      return {code: 'PERMISSION_DENIED', text: `${at}the file system is read-only`}
    case 'ENOSPC':
      return {code: 'DISK_FULL', text: `${at}no space left on device`}
    case 'EMFILE':
    case 'ENFILE':
      return {code: 'IO_ERROR', text: 'too many open files', hint: 'Raise the limit (ulimit -n) or give fewer inputs at once.'}
    case 'EADDRINUSE':
      return {code: 'IO_ERROR', text: `${err.address ?? 'the address'}${err.port ? `:${err.port}` : ''} is already in use`}
    default:
      // libuv's own words ("too many symbolic links encountered"), not the errno name.
      return {code: 'IO_ERROR', text: `${at}${err.syscall ?? 'I/O'} failed: ${errnoWords(err.code)}`}
  }
}

function errnoWords(code: string): string {
  for (const [name, words] of getSystemErrorMap().values()) if (name === code) return words
  return 'an operating-system error'
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001B\[[0-9;?]*[A-Za-z]/g
export const stripAnsi = (s: string) => s.replace(ANSI, '')

/**
 * Text safe to print: control characters (other than newline and tab) and the replacement
 * character left by undecodable bytes are shown as escapes, so a binary file named in an error
 * cannot garble the terminal.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return stripAnsi(text).replace(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F\uFFFD]/g, (ch) => {
    const c = ch.charCodeAt(0)
    return c === 0xfffd ? '\\ufffd' : `\\x${c.toString(16).padStart(2, '0')}`
  })
}

/** The closest flag by edit distance, if plausibly a typo. */
export function nearestFlag(typed: string, flags: string[]): string | undefined {
  const t = typed.replace(/^-+/, '').split('=')[0]
  let best: {f: string; d: number} | undefined
  for (const f of flags) {
    const d = editDistance(t, f)
    if (best === undefined || d < best.d) best = {f, d}
  }
  return best && best.d <= Math.max(2, Math.floor(best.f.length / 3)) ? best.f : undefined
}

export function editDistance(a: string, b: string): number {
  let prev = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = row
  }
  return prev[b.length]
}
