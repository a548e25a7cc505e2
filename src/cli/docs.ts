import {ERROR_CODES, EXIT, type ExitClass} from './codes.js'
import {ENV} from './env.js'

/**
 * The README's exit-code section: the table, then every code with what it means. Generated from
 * codes.ts; test/cli/codes.test.ts keeps the README equal to it.
 */
export function exitCodeDocs(): string {
  return `${exitCodeTable()}\nEvery code:\n\n${errorCodeList()}`
}

export function exitCodeTable(): string {
  const meaning: Record<ExitClass, string> = {
    ok: 'done',
    failure: 'runtime failure: I/O, network, a model that would not load, a bug; re-running may help',
    usage: 'usage or input error: a bad flag or argument, a missing or malformed file; re-running as-is will not help',
    nothing: 'nothing produced: the input was read but was empty, or every record was rejected or skipped',
    interrupted: 'interrupted: Ctrl-C, SIGTERM, or a cancelled prompt',
  }
  const rows = (Object.keys(EXIT) as ExitClass[]).map((cls) => {
    const codes = Object.entries(ERROR_CODES)
      .filter(([, info]) => info.exit === cls)
      .map(([code, info]) => `\`${code}\`${'use' in info && !info.use.startsWith('a ') ? ` (being replaced by \`${info.use}\`)` : ''}`)
    return `| ${EXIT[cls]} | ${meaning[cls]} | ${codes.join(', ') || '-'} |`
  })
  return ['| exit | meaning | error codes |', '|---|---|---|', ...rows].join('\n') + '\n'
}

/** The README's list of codes with one line each. */
export function errorCodeList(): string {
  return Object.entries(ERROR_CODES)
    .map(([code, info]) => `- \`${code}\` (${EXIT[info.exit]}): ${info.means}`)
    .join('\n') + '\n'
}

/** The README's table of environment variables. */
export function envTable(): string {
  return ['| variable | meaning |', '|---|---|', ...Object.values(ENV).map((e) => `| \`${e.name}\` | ${e.means} |`)].join('\n') + '\n'
}
