import {QisError} from '../util/errors.js'
import {envelope, exitErrorCode, toFailure} from './failure.js'
import {colorFor, renderFailure} from './render.js'

/** As package.json's engines field. */
export const SUPPORTED_NODE = '^20.19.0 || >=22.12.0'

/**
 * The process entry (bin/run.js, bin/dev.js): oclif's run, with qis's failure path for what
 * fails outside a command (an unknown command, a plugin's parse error, a broken install), so
 * those too print the error envelope and exit with their code instead of oclif's wrapped text.
 *
 * @oclif/core is imported only after the output settings are made: its screen module reads the
 * width once, at load.
 */
export async function main(dir: string, argv: string[] = process.argv.slice(2), options: {development?: boolean} = {}): Promise<void> {
  const g = globalThis as {oclif?: {columns?: number}}
  // Help and oclif's own messages wrap at 80 columns when stdout is not a terminal; a pipe gets whole lines.
  if (!process.stdout.isTTY) g.oclif = {...g.oclif, columns: 100_000}
  // oclif's colour detection (supports-color 8) does not know NO_COLOR.
  if (process.env.NO_COLOR && !('FORCE_COLOR' in process.env)) process.env.FORCE_COLOR = '0'
  if (options.development) process.env.NODE_ENV = 'development'
  // Packet checksums need node:zlib's crc32 (Node 20.15 / 22.2); older Nodes would fail later, obscurely.
  const zlib = await import('node:zlib')
  if (typeof (zlib as {crc32?: unknown}).crc32 !== 'function') {
    process.exit(report(new QisError(`qis needs Node.js ${SUPPORTED_NODE}; this is ${process.version}`, {code: 'UNSUPPORTED_NODE', hint: 'Install a supported Node.js (see the README).'}), argv))
  }
  const oclif = await import('@oclif/core')
  try {
    await oclif.run(argv, dir)
    await oclif.flush()
  } catch (error) {
    const code = exitErrorCode(error) ?? report(error, argv)
    await oclif.flush().catch(() => {})
    process.exit(code)
  }
}

function report(err: unknown, argv: string[]): number {
  const dashdash = argv.indexOf('--')
  const args = dashdash === -1 ? argv : argv.slice(0, dashdash)
  const json = args.includes('--json') || process.env.QIS_CONTENT_TYPE?.toLowerCase() === 'json'
  const words: string[] = []
  for (const a of args) {
    if (a.startsWith('-') || words.length === 2) break
    words.push(a)
  }
  const failure = toFailure(err, {command: words.join(' ')})
  if (json) process.stdout.write(JSON.stringify(envelope(failure), null, 2) + '\n')
  else process.stderr.write(renderFailure(failure, colorFor(process.stderr), {debug: Boolean(process.env.QIS_DEBUG) && process.env.QIS_DEBUG !== '0'}))
  return failure.exitCode
}
