import {exitCodeFor} from '../cli/codes.js'

/**
 * An error meant for a person: the CLI prints its message (and hint) without a stack trace and
 * exits with `exitCode`. Library code throws it for anything the user can fix (bad file, bad flag).
 * `code` is one of src/cli/codes.ts; the exit code follows from it unless given.
 */
export class QisError extends Error {
  readonly code: string
  readonly exitCode: number
  /** What to do about it, shown after the message (and as "hint" in --json). */
  readonly hint?: string

  constructor(message: string, options: {code?: string; exitCode?: number; cause?: unknown; hint?: string} = {}) {
    super(message, {cause: options.cause})
    this.name = 'QisError'
    this.code = options.code ?? 'QIS_ERROR'
    this.exitCode = options.exitCode ?? exitCodeFor(this.code)
    if (options.hint !== undefined) this.hint = options.hint
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
