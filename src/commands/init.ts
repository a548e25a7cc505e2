import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/command.js'
import {bootstrapFlag, codebookFlag, commaList, embedderFlag, modelDirFlag, withDescription} from '../cli/flags.js'
import {keyValue, lines} from '../cli/render.js'
import {openHome, resolveHomeDir} from '../config/home.js'
import type {EmbedderBackend} from '../embed/types.js'
import {formatConfigValue} from '../init/config-view.js'
import {type InitAnswers, type InitResult, initHome} from '../init/init.js'
import {splitList} from '../init/validate.js'
import {QisError} from '../util/errors.js'

export default class Init extends BaseCommand<typeof Init> {
  static summary = 'Set up this node: home, domain focus, bootstrap peers, embedder; checks the model loads and writes config.json.'
  static description = `At a terminal, a short wizard asks for what the flags did not give. Re-running init edits the config: current values are the defaults, and a run that changes nothing writes nothing.
Without a terminal (scripts, CI) or with --json nothing is asked: pass every answer as a flag, or --yes to keep current values (or the defaults) for the rest; init names each missing answer.
Also creates the node's identity key if the home has none. The model check loads the chosen embedder and embeds one sentence; a config naming a model that does not load is not written unless --skip-model-check.
Environment variables (QIS_BOOTSTRAP, ...) are never written into the file: they override it when other commands run.`

  static examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --yes',
    '<%= config.bin %> init --yes --domain-focus clinical.oncology --bootstrap /ip4/192.0.2.10/tcp/4001',
    '<%= config.bin %> init --home ./node-b --yes --embedder transformers --model-dir ./models/all-MiniLM-L6-v2 --json',
  ]

  static flags = {
    'domain-focus': Flags.string({
      description: 'Domain label this node asks peers about (repeatable, or comma-separated; "" for none).',
      multiple: true,
      helpValue: 'LABEL',
    }),
    bootstrap: withDescription(bootstrapFlag, 'Multiaddr of a peer to join the swarm through (repeatable, or comma-separated; "" for none).'),
    listen: Flags.string({
      description: 'Multiaddr `qis node` listens on (repeatable). Default: the current value, or /ip4/127.0.0.1/tcp/0.',
      multiple: true,
      helpValue: 'MULTIADDR',
    }),
    embedder: embedderFlag,
    'model-dir': modelDirFlag,
    codebook: withDescription(codebookFlag, `A group's own routing codebook file ("" for the shipped one). Default: the current one while the embedder stays the same.`),
    'skip-model-check': Flags.boolean({description: 'Write the config without loading the model first.'}),
    yes: Flags.boolean({char: 'y', description: 'Ask nothing: keep current values (or defaults) for answers not given as flags.'}),
    'swarm-key': Flags.boolean({description: 'Also create <home>/swarm.key, the pre-shared key of a private swarm (an existing key is kept); see qis swarm-key.'}),
  }

  async run(): Promise<InitResult & {swarmKey?: {file: string; fingerprint: string; created: boolean}}> {
    const result = await this.initialise()
    if (!this.flags['swarm-key']) return result
    // After the home exists, so the key lands beside its config.json.
    const {loadSwarmKey, swarmKeyPath, writeSwarmKey} = await import('../swarm/pnet.js')
    const home = await openHome(result.home)
    const existing = await loadSwarmKey(home, {})
    const key = existing ?? (await writeSwarmKey(swarmKeyPath(home)))
    if (!this.jsonEnabled()) this.log(`${existing ? 'Kept' : 'Wrote'} swarm key ${key.file} (fingerprint ${key.fingerprint}); give it to every member of the swarm (docs/operating.md).`)
    return {...result, swarmKey: {file: key.file, fingerprint: key.fingerprint, created: !existing}}
  }

  private async initialise(): Promise<InitResult> {
    const {flags} = this
    const answers: InitAnswers = {
      domainFocus: flags['domain-focus'] === undefined ? undefined : commaList(flags['domain-focus']),
      bootstrap: flags.bootstrap === undefined ? undefined : splitList(flags.bootstrap),
      listen: flags.listen === undefined ? undefined : splitList(flags.listen),
      embedder: flags.embedder as EmbedderBackend | undefined,
      modelDir: flags['model-dir'],
      codebook: flags.codebook,
    }
    const {stdin, stdout} = this.io
    const canPrompt = Boolean(stdin.isTTY) && Boolean(stdout.isTTY) && !this.jsonEnabled() && !flags.yes
    if (canPrompt) {
      const {runWizard} = await import('../init/wizard.js')
      try {
        // --home or $QIS_HOME (bound to --home) decide the home; otherwise the wizard asks.
        return await runWizard({
          homeDir: flags.home === undefined ? undefined : resolveHomeDir(flags.home),
          defaultHomeDir: resolveHomeDir(),
          answers,
          skipModelCheck: flags['skip-model-check'],
          input: stdin,
          output: stdout,
        })
      } catch (err) {
        // The wizard has said so on screen; a second "Error: cancelled" would only repeat it.
        if (err instanceof QisError && err.code === 'CANCELLED') this.exit(err.exitCode)
        throw err
      }
    }
    const home = await this.home()
    const result = await initHome(home, answers, {yes: flags.yes, skipModelCheck: flags['skip-model-check']})
    if (!this.jsonEnabled()) this.log(renderInit(result))
    for (const note of result.notes) this.warn(note)
    return result
  }
}

export function renderInit(result: InitResult): string {
  const list = (xs: string[]) => (xs.length > 0 ? xs.join(', ') : '(none)')
  const {config} = result
  const check = result.modelCheck
  return lines(
    result.created ? `Wrote ${result.file}` : result.changed ? `Updated ${result.file}` : `Unchanged ${result.file} (it already says this)`,
    keyValue(
      [
        ['peer ID', result.peerId],
        ['domain focus', list(config.domainFocus)],
        ['bootstrap', list(config.bootstrap)],
        ['listen', list(config.listen)],
        ['embedder', formatConfigValue('embedder', config.embedder)],
        ['model check', check ? `loads: ${check.embedder}, ${check.dimension} dimensions, ${check.seconds.toFixed(1)} s` : 'skipped'],
      ],
      '  ',
    ),
  )
}
