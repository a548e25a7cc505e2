import {Command, Flags, Interfaces} from '@oclif/core'

import {type Home, openHome, resolveHomeDir} from './config/home.js'
import {QisError} from './util/errors.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/**
 * Shared by every qis command: `--home`, `--json`, and errors printed for a person
 * (message, no stack trace) with the exit code the library chose.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static baseFlags = {
    home: Flags.directory({
      description: 'QIS home folder (config, identity, packet stores, weights). Default: $QIS_HOME or ~/.qis',
      helpGroup: 'GLOBAL',
    }),
  }

  static enableJsonFlag = true

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>

  public async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      args: this.ctor.args,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
  }

  /** The home, created on first use. */
  protected async home(): Promise<Home> {
    return openHome(resolveHomeDir(this.flags.home))
  }

  /** True when output is for a person at a terminal (progress bars, prompts, colour). */
  protected get interactive(): boolean {
    return Boolean(process.stdout.isTTY) && !this.jsonEnabled()
  }

  protected async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    if (err instanceof QisError) {
      if (this.jsonEnabled()) {
        this.logJson({error: {code: err.code, message: err.message}})
        this.exit(err.exitCode)
      }
      this.error(err.message, {exit: err.exitCode})
    }
    return super.catch(err)
  }
}
