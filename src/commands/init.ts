import {Flags} from '@oclif/core'

import {BaseCommand} from '../base.js'
import {openHome, resolveHomeDir} from '../config/home.js'
import {EMBEDDER_BACKENDS, type EmbedderBackend} from '../embed/types.js'
import {type InitAnswers, type InitResult, initHome} from '../init/init.js'
import {formatConfigValue} from '../init/config-view.js'
import {splitList} from '../init/validate.js'

export default class Init extends BaseCommand<typeof Init> {
  static summary = 'Set up this node: home, domain focus, bootstrap peers, embedder; checks the model loads and writes config.json.'
  static description = `At a terminal, a short wizard asks for what the flags did not give. Re-running init edits the config: current values are the defaults.
Without a terminal (scripts, CI) or with --json nothing is asked: pass every answer as a flag, or --yes to keep current values (or the defaults) for the rest; init names each missing answer.
Also creates the node's identity key if the home has none. The model check loads the chosen embedder and embeds one sentence; a config naming a model that does not load is not written unless --skip-model-check.`

  static examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --yes',
    '<%= config.bin %> init --yes --domain-focus clinical.oncology --bootstrap /ip4/192.0.2.10/tcp/4001',
    '<%= config.bin %> init --home ./node-b --yes --embedder transformers --model-dir ./models/all-MiniLM-L6-v2 --json',
  ]

  static flags = {
    'domain-focus': Flags.string({
      description: 'domain label this node asks peers about (repeatable, or comma-separated; "" for none)',
      multiple: true,
    }),
    bootstrap: Flags.string({description: 'multiaddr of a peer to join the swarm through (repeatable, or comma-separated; "" for none)', multiple: true}),
    listen: Flags.string({description: 'multiaddr `qis node` listens on (repeatable). Default: the current value, or /ip4/127.0.0.1/tcp/0', multiple: true}),
    embedder: Flags.string({description: 'sentence embedder', options: [...EMBEDDER_BACKENDS]}),
    'model-dir': Flags.directory({description: 'local model folder for --embedder transformers (implies it)'}),
    codebook: Flags.string({
      description: "a group's own routing codebook file (\"\" for the shipped one). Default: the current one while the embedder stays the same",
    }),
    'skip-model-check': Flags.boolean({description: 'write the config without loading the model first'}),
    yes: Flags.boolean({char: 'y', description: 'ask nothing: keep current values (or defaults) for answers not given as flags'}),
  }

  async run(): Promise<InitResult> {
    const {flags} = this
    const answers: InitAnswers = {
      domainFocus: flags['domain-focus'] === undefined ? undefined : splitList(flags['domain-focus']),
      bootstrap: flags.bootstrap === undefined ? undefined : splitList(flags.bootstrap),
      listen: flags.listen === undefined ? undefined : splitList(flags.listen),
      embedder: flags.embedder as EmbedderBackend | undefined,
      modelDir: flags['model-dir'],
      codebook: flags.codebook,
    }
    const canPrompt = Boolean(process.stdin.isTTY) && Boolean(process.stdout.isTTY) && !this.jsonEnabled() && !flags.yes
    if (canPrompt) {
      const {runWizard} = await import('../init/wizard.js')
      // --home or $QIS_HOME decide the home; otherwise the wizard asks.
      const homeDir = flags.home ?? process.env.QIS_HOME
      return runWizard({
        homeDir: homeDir === undefined ? undefined : resolveHomeDir(homeDir),
        defaultHomeDir: resolveHomeDir(),
        answers,
        skipModelCheck: flags['skip-model-check'],
      })
    }
    const home = await openHome(resolveHomeDir(flags.home))
    const result = await initHome(home, answers, {yes: flags.yes, skipModelCheck: flags['skip-model-check']})
    this.render(result)
    return result
  }

  private render(result: InitResult): void {
    const list = (xs: string[]) => (xs.length > 0 ? xs.join(', ') : '(none)')
    const {config} = result
    this.log(`${result.created ? 'Wrote' : 'Updated'} ${result.file}`)
    this.log(`  peer ID         ${result.peerId}`)
    this.log(`  domain focus    ${list(config.domainFocus)}`)
    this.log(`  bootstrap       ${list(config.bootstrap)}`)
    this.log(`  listen          ${list(config.listen)}`)
    this.log(`  embedder        ${formatConfigValue('embedder', config.embedder)}`)
    const check = result.modelCheck
    this.log(`  model check     ${check ? `loads: ${check.embedder}, ${check.dimension} dimensions, ${check.seconds.toFixed(1)} s` : 'skipped'}`)
    for (const note of result.notes) this.warn(note)
  }
}
