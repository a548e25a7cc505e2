/**
 * An error meant for a person: the CLI prints its message without a stack trace and exits
 * with `exitCode`. Library code throws it for anything the user can fix (bad file, bad flag).
 */
export class QisError extends Error {
  readonly code: string
  readonly exitCode: number

  constructor(message: string, options: {code?: string; exitCode?: number; cause?: unknown} = {}) {
    super(message, {cause: options.cause})
    this.name = 'QisError'
    this.code = options.code ?? 'QIS_ERROR'
    this.exitCode = options.exitCode ?? 1
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
