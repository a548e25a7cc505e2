import {type Command, Config} from '@oclif/core'
import path from 'node:path'
import {Readable, Writable} from 'node:stream'

import {type CommandIO, withIO} from '../../src/cli/io.js'
import {repoRoot} from './cli.js'
import {tempDir} from './temp.js'

/**
 * The fast test tier: runs a command class in this process, with captured stdout/stderr, a given
 * stdin and environment, and its exit code, through the same oclif parse and the kit's failure
 * path as the real CLI. No build, no subprocess. Use runCli (helpers/cli.ts) where the test is
 * about the process itself: signals, exit timing, real terminals, bin/run.js.
 */
export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

/** Every command id, with its source module. Test files import what they run; nothing loads from dist/. */
type CommandClass = (new (argv: string[], config: Config) => Command) & typeof Command

export const COMMANDS: Record<string, () => Promise<{default: unknown}>> = {
  adjust: () => import('../../src/commands/adjust.js'),
  config: () => import('../../src/commands/config.js'),
  distill: () => import('../../src/commands/distill.js'),
  hash: () => import('../../src/commands/hash.js'),
  id: () => import('../../src/commands/id.js'),
  init: () => import('../../src/commands/init.js'),
  'inspect:packet': () => import('../../src/commands/inspect/packet.js'),
  node: () => import('../../src/commands/node.js'),
  publish: () => import('../../src/commands/publish.js'),
  'pull-weights': () => import('../../src/commands/pull-weights.js'),
  scrub: () => import('../../src/commands/scrub.js'),
  'trust:add': () => import('../../src/commands/trust/add.js'),
  'trust:list': () => import('../../src/commands/trust/list.js'),
  'trust:remove': () => import('../../src/commands/trust/remove.js'),
  'swarm-key:generate': () => import('../../src/commands/swarm-key/generate.js'),
  'swarm-key:show': () => import('../../src/commands/swarm-key/show.js'),
}

let config: Promise<Config> | undefined

export interface RunCommandOptions {
  /** Standard input: the bytes, or a stream to write to while the command runs. Default: empty. */
  stdin?: string | Buffer | Readable
  /** Variables set for the run (undefined removes one); the process's are restored afterwards. QIS_HOME defaults to a fresh temp folder. */
  env?: Record<string, string | undefined>
  /** Pretend stdin and stdout are a terminal. Default false, as for a script. */
  tty?: boolean
}

/** Runs `qis <argv...>` in-process: argv as typed, e.g. ['inspect', 'packet', file, '--json']. */
export async function runCommand(argv: string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  const id = COMMANDS[`${argv[0]}:${argv[1]}`] ? `${argv[0]}:${argv[1]}` : argv[0]
  const load = COMMANDS[id]
  if (!load) throw new Error(`runCommand: no command "${argv.slice(0, 2).join(' ')}"`)
  const Cmd = (await load()).default as CommandClass
  Cmd.id = id
  config ??= Config.load({root: repoRoot})
  const loaded = await config

  let stdout = ''
  let stderr = ''
  const sink = (append: (s: string) => void) =>
    Object.assign(
      new Writable({
        write(chunk, _enc, cb) {
          append(chunk.toString())
          cb()
        },
      }),
      {isTTY: options.tty ?? false},
    )
  const stdin = options.stdin instanceof Readable ? options.stdin : Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)])
  // A prompt library puts a terminal into raw mode; a stream that pretends to be one accepts that.
  const io: CommandIO = {
    stdin: Object.assign(stdin, options.tty ? {isTTY: true, setRawMode: () => stdin} : {isTTY: false}),
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
  }

  const savedEnv: Record<string, string | undefined> = {}
  // A test never reaches the real ~/.qis by accident: without QIS_HOME (or --home) it gets a fresh home.
  const vars = {QIS_HOME: path.join(tempDir(), 'home'), ...options.env}
  for (const [k, v] of Object.entries(vars)) {
    savedEnv[k] = process.env[k]
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  const savedExitCode = process.exitCode
  process.exitCode = undefined
  let code: number
  try {
    // What Command.run does once a config is loaded; one config serves every run.
    await withIO(io, () => (new Cmd(argv.slice(id.split(':').length), loaded) as unknown as {_run(): Promise<unknown>})._run())
    code = Number(process.exitCode ?? 0)
  } catch (err) {
    const exit = (err as {oclif?: {exit?: number}}).oclif?.exit
    if (typeof exit !== 'number') throw err
    code = exit
  } finally {
    process.exitCode = savedExitCode
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  return {code, stdout, stderr}
}
