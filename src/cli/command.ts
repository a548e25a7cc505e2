import {Command, Errors, type Interfaces} from '@oclif/core'
import {promises as fs} from 'node:fs'
import {format} from 'node:util'

import {type Home, homeLayout, openHome, resolveHomeDir} from '../config/home.js'
import {QisError} from '../util/errors.js'
import {type Failure, envelope, exitErrorCode, toFailure} from './failure.js'
import {globalFlags} from './flags.js'
import {type CommandIO, currentIO} from './io.js'
import {type Style, colorFor, renderFailure, renderWarning} from './render.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/**
 * What every qis command stands on:
 * - flags and args parsed once, in init (`this.flags`, `this.args`, and `this.positionals` for
 *   every positional argument, which is where `static strict = false` commands find theirs);
 * - one failure path: whatever run() throws (a QisError, an oclif parse error, a raw system error)
 *   becomes `{"error": {"code", "message", "hint"?}}` on stdout under --json, or "Error: ..." /
 *   "Hint: ..." on stderr, unwrapped, and the exit code of its code (src/cli/codes.ts);
 * - partial failures (`this.failAfterOutput`): the result is still printed, then the error;
 * - output through `this.io` (swappable for the in-process test harness), NO_COLOR honoured;
 * - renamed flags that warn (`renamed()` in flags.ts).
 * Commands stay thin: parse, call a library function, render; run() returns a typed result, which
 * is what --json prints.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static baseFlags = globalFlags

  static enableJsonFlag = true

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  /** Every positional argument in order, declared or not. */
  protected positionals: string[] = []
  /** The streams this command reads and writes (the process's unless a harness set others). */
  protected readonly io: CommandIO = currentIO()
  private partial?: Failure

  public async init(): Promise<void> {
    await super.init()
    const {args, argv, flags} = await this.parse({
      args: this.ctor.args,
      baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.positionals = argv.map(String)
  }

  /** The home, created on first use. A path that exists and is not a folder is refused before anything is created. */
  protected async home(): Promise<Home> {
    const dir = resolveHomeDir(this.flags.home)
    await refuseNonFolder(dir)
    const home = await openHome(dir)
    const p = home.permissions
    const octal = (m: number) => `0${m.toString(8)}`
    if (p && !p.error) this.warn(`the home ${home.root} was readable by other users (mode ${octal(p.from)}); tightened to ${octal(p.to)}`)
    else if (p) this.warn(`the home ${home.root} is readable by other users (mode ${octal(p.from)}) and could not be tightened: ${p.error}`)
    return home
  }

  /** The home's layout without creating anything: for commands that only read it (nothing to create on a typo). */
  protected async readHome(): Promise<Home> {
    const dir = resolveHomeDir(this.flags.home)
    await refuseNonFolder(dir)
    return homeLayout(dir)
  }

  /** True when output is for a person at a terminal (progress bars, prompts, colour). */
  protected get interactive(): boolean {
    return Boolean(this.io.stdout.isTTY) && !this.jsonEnabled()
  }

  /**
   * The result is still printed (text, or the --json document), then the command exits with
   * `err`'s code: the error goes to stderr after the text, or under "error" beside the result
   * in --json. For runs that produced something but not everything (bad input lines).
   */
  protected failAfterOutput(err: QisError): void {
    this.partial = toFailure(err, this.failureContext())
  }

  protected style(stream: {isTTY?: boolean}): Style {
    return colorFor(stream)
  }

  public log(message = '', ...args: unknown[]): void {
    if (!this.jsonEnabled()) this.io.stdout.write(format(message, ...args) + '\n')
  }

  public logToStderr(message = '', ...args: unknown[]): void {
    if (!this.jsonEnabled()) this.io.stderr.write(format(message, ...args) + '\n')
  }

  protected logJson(json: unknown): void {
    this.io.stdout.write(JSON.stringify(json, null, 2) + '\n')
  }

  public warn(input: string | Error): string | Error {
    if (!this.jsonEnabled()) this.io.stderr.write(renderWarning(typeof input === 'string' ? input : input.message, this.style(this.io.stderr)))
    return input
  }

  protected toSuccessJson(result: unknown): unknown {
    if (!this.partial) return result
    return typeof result === 'object' && result !== null && !Array.isArray(result) ? {...result, ...envelope(this.partial)} : {result, ...envelope(this.partial)}
  }

  protected async _run<R>(): Promise<R> {
    const result = await super._run<R>()
    if (this.partial) {
      if (!this.jsonEnabled()) this.io.stderr.write(renderFailure(this.partial, this.style(this.io.stderr)))
      throw new Errors.ExitError(this.partial.exitCode)
    }
    return result
  }

  protected async catch(err: Error & {exitCode?: number}): Promise<never> {
    // this.exit(n) chose its code and printed what it meant to.
    if (exitErrorCode(err) !== undefined) throw err
    const failure = toFailure(err, this.failureContext())
    if (this.jsonEnabled()) this.logJson(envelope(failure))
    else this.io.stderr.write(renderFailure(failure, this.style(this.io.stderr), {debug: isDebug()}))
    throw new Errors.ExitError(failure.exitCode)
  }

  /** "--old is deprecated; use --new", for renamed() flags, however the old name was written. */
  protected warnIfFlagDeprecated(flags: Record<string, unknown>): void {
    const defs = {...this.ctor.baseFlags, ...this.ctor.flags} as Record<string, {aliases?: string[]; deprecateAliases?: boolean; deprecated?: unknown}>
    for (const name of Object.keys(flags)) {
      const def = defs[name]
      if (def?.deprecated && this.argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`))) {
        const to = typeof def.deprecated === 'object' ? (def.deprecated as {to?: string}).to : undefined
        this.io.stderr.write(renderWarning(`--${name} is deprecated${to ? `; use ${to}` : ''}`, this.style(this.io.stderr)))
      }
      if (!def?.deprecateAliases) continue
      for (const alias of def.aliases ?? []) {
        const used = this.argv.some((a) => a === `--${alias}` || a.startsWith(`--${alias}=`) || (alias.length === 1 && a === `-${alias}`))
        if (used) this.io.stderr.write(renderWarning(`--${alias} is deprecated; use --${name}`, this.style(this.io.stderr)))
      }
    }
  }

  private failureContext() {
    const flags = Object.keys({...this.ctor.baseFlags, ...this.ctor.flags, ...(this.ctor.enableJsonFlag ? {json: true} : {})})
    return {command: (this.id ?? '').replaceAll(':', ' '), flags, bin: this.config?.bin ?? 'qis'}
  }
}

const isDebug = () => Boolean(process.env.QIS_DEBUG) && process.env.QIS_DEBUG !== '0'

async function refuseNonFolder(dir: string): Promise<void> {
  const hint = 'Pass --home (or set QIS_HOME) to a folder; qis creates it if it does not exist.'
  const st = await fs.stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    // A file on the way (ENOTDIR) is a home that can never be made, not a config.json that is "unreadable" later.
    if (err.code === 'ENOTDIR') throw new QisError(`home ${dir} cannot be made: a part of the path is a file, not a folder`, {code: 'HOME_UNUSABLE', hint})
    throw new QisError(`cannot use home ${dir}: ${err.message}`, {code: 'HOME_UNUSABLE', cause: err})
  })
  if (st && !st.isDirectory()) throw new QisError(`home ${dir} is a file, not a folder`, {code: 'HOME_UNUSABLE', hint})
}
