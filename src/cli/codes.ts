/**
 * Every error code qis prints, each with the one exit code it maps to. The README's exit-code
 * table is generated from this list (test/cli/codes.test.ts checks they agree), and a test scans
 * src/ so that a code thrown anywhere must be listed here.
 *
 * This module has no imports: util/errors.ts reads it to give QisError its default exit code.
 */

/** The exit codes, by what they mean to a script. */
export const EXIT = {
  /** Done; everything asked for was produced. */
  ok: 0,
  /** Failed while running: I/O, network, a model that would not load, a bug. Re-running may help. */
  failure: 1,
  /** The command line or the input is wrong: a bad flag or argument, a missing or malformed file. Re-running as-is will not help. */
  usage: 2,
  /** The input was read but nothing came of it: empty, or every record rejected or skipped. */
  nothing: 3,
  /** Stopped by the person: Ctrl-C, SIGTERM, or a cancelled prompt. */
  interrupted: 130,
} as const

export type ExitClass = keyof typeof EXIT

export interface CodeInfo {
  exit: ExitClass
  /** One line for the README table. */
  means: string
  /** A code kept until phase B moves its throw sites to `use` (see docs/glossary.md). */
  use?: string
}

export const ERROR_CODES = {
  // --- usage or input (2) -------------------------------------------------------------------
  UNKNOWN_COMMAND: {exit: 'usage', means: 'no such command (the message names the nearest one)'},
  UNKNOWN_FLAG: {exit: 'usage', means: 'a flag the command does not have'},
  MISSING_FLAG: {exit: 'usage', means: 'a required flag was not given'},
  MISSING_ARGUMENT: {exit: 'usage', means: 'a required argument was not given'},
  UNEXPECTED_ARGUMENT: {exit: 'usage', means: 'more arguments than the command takes'},
  BAD_FLAG: {exit: 'usage', means: 'a flag value is malformed or out of range, or flags contradict each other'},
  BAD_ARGUMENT: {exit: 'usage', means: 'an argument value is not one the command accepts'},
  BAD_LABEL: {exit: 'usage', means: 'a label (domain, model, ...) is not lowercase a-z 0-9 . _ - : (the hint gives the normalised form)'},
  INPUT_NOT_FOUND: {exit: 'usage', means: 'an input file does not exist'},
  BAD_INPUT: {exit: 'usage', means: 'an input cannot be used: a folder where a file belongs, an unknown format, bad lines'},
  BAD_PACKET: {exit: 'usage', means: 'a packet or packet store is damaged or fails verification'},
  BAD_MAP: {exit: 'usage', means: '--map is not canonical=source'},
  MAP_MISSING: {exit: 'usage', means: 'a --map source field is not in the input'},
  BAD_CODEBOOK: {exit: 'usage', means: 'a codebook file is missing, damaged, or made for another model'},
  BAD_QUERY: {exit: 'usage', means: 'the query is empty'},
  BAD_ANSWER: {exit: 'usage', means: 'an init answer is not valid'},
  MISSING_ANSWERS: {exit: 'usage', means: 'init cannot prompt and answers were not given as flags'},
  BAD_MULTIADDR: {exit: 'usage', means: 'an address is not a valid multiaddr'},
  BAD_SWARM_KEY: {exit: 'usage', means: 'the swarm key file is not a /key/swarm/psk/1.0.0/ key'},
  PORT_IN_USE: {exit: 'usage', means: 'a port the node would listen on (--listen, --metrics) is taken by another process'},
  ADDRESS_NOT_PUBLIC: {exit: 'usage', means: 'an address to announce is private or loopback and the node is not configured for a LAN swarm'},
  BAD_CONFIG: {exit: 'usage', means: 'config.json is unreadable or holds an unusable value'},
  BAD_ENV: {exit: 'usage', means: 'an environment variable qis reads holds an unusable value'},
  BAD_WEIGHTS_FILE: {exit: 'usage', means: 'a weights file is not one qis wrote (or is damaged)'},
  NO_WEIGHTS: {exit: 'usage', means: 'there is no weights file yet (run qis pull-weights)'},
  NO_BOOTSTRAP: {exit: 'usage', means: 'no bootstrap peer was given (flag, env or config)'},
  SCHEME_MISMATCH: {exit: 'usage', means: 'a file was made with another hashing scheme than the one in use'},
  HOME_UNUSABLE: {exit: 'usage', means: 'the home folder cannot be used (a file, or not writable)'},
  MODEL_NOT_FOUND: {exit: 'usage', means: 'the model folder for the transformers embedder is missing or incomplete'},
  MODEL_CHECK_FAILED: {exit: 'usage', means: 'the chosen embedder does not load, so init wrote nothing'},
  REJECTED: {exit: 'usage', means: 'a record was rejected under --strict'},
  // --- runtime failure (1) ------------------------------------------------------------------
  QIS_ERROR: {exit: 'failure', means: 'a failure not yet given its own code', use: 'a specific code'},
  INTERNAL: {exit: 'failure', means: 'an unexpected error: a bug (QIS_DEBUG=1 prints the stack)'},
  UNSUPPORTED_NODE: {exit: 'failure', means: 'this Node.js is too old for qis (see engines in package.json)'},
  PERMISSION_DENIED: {exit: 'failure', means: 'the operating system refused access to a file or folder'},
  DISK_FULL: {exit: 'failure', means: 'no space left on the device'},
  IO_ERROR: {exit: 'failure', means: 'another operating-system error while reading or writing'},
  WRITE_FAILED: {exit: 'failure', means: 'an output file could not be written (nothing half-written is left)'},
  EMBEDDER_LOAD: {exit: 'failure', means: 'the embedding model failed to load'},
  STORE_UNREADABLE: {exit: 'failure', means: 'a packet store in the home cannot be read'},
  IDENTITY_UNUSABLE: {exit: 'failure', means: "the home's identity file cannot be read, is damaged, or holds a key qis cannot sign with"},
  STORAGE_UNUSABLE: {exit: 'failure', means: "the node's storage cannot be opened (or was used after it closed)"},
  STORAGE_CORRUPT: {exit: 'failure', means: "the node's storage file is not a packet store"},
  JOURNAL_UNUSABLE: {exit: 'failure', means: 'the publish journal cannot be opened'},
  JOURNAL_WRITE_FAILED: {exit: 'failure', means: 'the publish journal cannot be written'},
  NODE_START_FAILED: {exit: 'failure', means: 'the libp2p node did not start (e.g. the port is taken)'},
  SWARM_UNREACHABLE: {exit: 'failure', means: 'no bootstrap peer answered'},
  HOME_LOCKED: {exit: 'failure', means: 'another qis publish or node is running on the same home (its lock file names the process)'},
  NOT_DELIVERED: {exit: 'failure', means: 'publish: some packets were not acknowledged by enough peers; a re-run sends only those'},
  UNDER_REPLICATED: {exit: 'failure', means: 'publish: some packets reached every storage peer found, fewer than --replicas; more nodes or a lower --replicas help, a re-run does not'},
  INCOMPLETE_ANSWERS: {exit: 'failure', means: 'pull-weights: peers held more packets for some keys than they sent; those keys kept their previous weights'},
  // --- nothing produced (3) -----------------------------------------------------------------
  NOTHING_PRODUCED: {exit: 'nothing', means: 'the input was empty, or every record was rejected or skipped'},
  NOTHING_TO_ASK: {exit: 'nothing', means: 'pull-weights has no own packets to ask peers about'},
  // --- interrupted (130) --------------------------------------------------------------------
  INTERRUPTED: {exit: 'interrupted', means: 'stopped by Ctrl-C or SIGTERM; what was written is consistent'},
  CANCELLED: {exit: 'interrupted', means: 'the person cancelled at a prompt; nothing was written'},
} as const satisfies Record<string, CodeInfo>

export type ErrorCode = keyof typeof ERROR_CODES

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code)
}

/** The exit code of an error code; unknown codes are runtime failures. */
export function exitCodeFor(code: string): number {
  return isErrorCode(code) ? EXIT[ERROR_CODES[code].exit] : EXIT.failure
}
