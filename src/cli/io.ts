import {AsyncLocalStorage} from 'node:async_hooks'
import type {Readable, Writable} from 'node:stream'

/**
 * The streams a command reads and writes. Commands take them from here instead of reaching for
 * process.stdin/stdout/stderr, so the in-process test harness (test/helpers/command.ts) can run a
 * command with captured output and a given stdin, without a build or a subprocess.
 */
export interface CommandIO {
  stdin: Readable & {isTTY?: boolean}
  stdout: Writable & {isTTY?: boolean}
  stderr: Writable & {isTTY?: boolean}
}

const scope = new AsyncLocalStorage<CommandIO>()

export function processIO(): CommandIO {
  return {stdin: process.stdin, stdout: process.stdout, stderr: process.stderr}
}

/** The streams of the command running in this async context: the process's, unless a harness set others. */
export function currentIO(): CommandIO {
  return scope.getStore() ?? processIO()
}

/** Runs `fn` with `io` as every command's streams (for tests and embedding). */
export function withIO<T>(io: CommandIO, fn: () => Promise<T>): Promise<T> {
  return scope.run(io, fn)
}

/** Writes one chunk, waiting when the stream is full, so output never piles up in memory. */
export function writeWithBackpressure(stream: Writable, chunk: string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(chunk)) resolve()
    else stream.once('drain', () => resolve())
  })
}
