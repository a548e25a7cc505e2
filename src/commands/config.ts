import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/command.js'
import {CONFIG_ENV} from '../cli/env.js'
import {bootstrapFlag, commaList, embedderFlag, modelDirFlag, withDescription} from '../cli/flags.js'
import {table} from '../cli/render.js'
import type {ConfigKey} from '../config/config.js'
import type {EmbedderBackend} from '../embed/types.js'
import {type ConfigOverrides, type ConfigView, SOURCE_LABELS, formatConfigValue, showConfig} from '../init/config-view.js'
import {splitList} from '../init/validate.js'
import {QisError} from '../util/errors.js'

export default class Config extends BaseCommand<typeof Config> {
  static summary = 'Show the effective configuration and where each value came from (default, config file, env or flag).'
  static description = `Values come from, lowest first: built-in defaults, <home>/config.json (written by qis init), environment variables (${Object.values(CONFIG_ENV).join(', ')}), and command-line flags.
Give the same flags another command would get (--bootstrap, --listen, ...) to see what it would use. A value that is unusable is a usage error (BAD_CONFIG, exit 2): the table is still shown, then the problems.`

  static examples = [
    '<%= config.bin %> config',
    '<%= config.bin %> config --json',
    'QIS_BOOTSTRAP=/ip4/127.0.0.1/tcp/4001 <%= config.bin %> config',
    '<%= config.bin %> config --listen /ip4/0.0.0.0/tcp/4001',
  ]

  static flags = {
    'domain-focus': Flags.string({description: 'Show the config as a command given this --domain-focus would see it (repeatable).', multiple: true}),
    bootstrap: withDescription(bootstrapFlag, 'Show the config with this --bootstrap (repeatable).'),
    listen: Flags.string({description: 'Show the config with this --listen (repeatable).', multiple: true}),
    embedder: withDescription(embedderFlag, 'Show the config with this --embedder.'),
    'model-dir': withDescription(modelDirFlag, 'Show the config with this --model-dir (implies --embedder transformers).'),
  }

  async run(): Promise<ConfigView> {
    const {flags} = this
    const overrides: ConfigOverrides = {
      domainFocus: flags['domain-focus'] && commaList(flags['domain-focus']),
      bootstrap: flags.bootstrap && splitList(flags.bootstrap),
      listen: flags.listen && splitList(flags.listen),
    }
    if (flags.embedder !== undefined || flags['model-dir'] !== undefined) {
      const backend = (flags.embedder ?? 'transformers') as EmbedderBackend
      overrides.embedder = flags['model-dir'] === undefined ? {backend} : {backend, modelDir: flags['model-dir']}
    }
    const view = await showConfig(await this.readHome(), {overrides})
    // The deployment's own recognisers are checked as scrub and distill would compile them.
    const {customProblems} = await import('../privacy/scrubber.js')
    for (const message of customProblems(view.values.privacy.value)) view.problems.push({key: 'privacy', message})
    for (const [name, to] of Object.entries(view.values.modelAlias.value ?? {})) {
      if (typeof to !== 'string' || to.trim() === '') view.problems.push({key: 'modelAlias', message: `modelAlias "${name}" must map to a public model name`})
    }
    if (!this.jsonEnabled()) this.render(view)
    if (view.problems.length > 0) {
      const each = view.problems.map((p) => `${p.key} (from ${origin(view, p.key)}): ${p.message}`)
      this.failAfterOutput(
        new QisError(`${view.problems.length === 1 ? 'an unusable value' : `${view.problems.length} unusable values`} in the configuration: ${each.join('; ')}`, {
          code: 'BAD_CONFIG',
          hint: `Fix ${view.file} (qis init rewrites it), or override the value with a flag or environment variable.`,
        }),
      )
    }
    return view
  }

  private render(view: ConfigView): void {
    this.log(`Config file: ${view.file}${view.exists ? '' : ' (not written yet: run qis init)'}`)
    this.log('')
    const rows = (Object.keys(view.values) as ConfigKey[]).map((key) => {
      const {value, source} = view.values[key]
      const shown = key === 'privacy' ? formatPrivacy(value as ConfigView['values']['privacy']['value']) : key === 'profiles' ? formatProfiles(value as Record<string, unknown>) : formatConfigValue(key, value)
      return [key, shown, source === 'env' && CONFIG_ENV[key] ? `env ${CONFIG_ENV[key]}` : SOURCE_LABELS[source]]
    })
    this.log(table(['KEY', 'VALUE', 'SOURCE'], rows))
  }
}

/** Where a value came from, for a problem: the file, the variable, or the label of its source. */
function origin(view: ConfigView, key: ConfigKey): string {
  const {source} = view.values[key]
  return source === 'config' ? view.file : source === 'env' && CONFIG_ENV[key] ? `env ${CONFIG_ENV[key]}` : SOURCE_LABELS[source]
}

/** Recognisers as TYPE /pattern/, deny-lists as TYPE: words, then what is never scrubbed. */
function formatPrivacy(p: {recognizers?: Array<{type: string; pattern: string; flags?: string}>; deny?: Array<{type: string; words: string[]}>; allow?: string[]} | undefined): string {
  const parts: string[] = []
  for (const r of p?.recognizers ?? []) parts.push(`${r.type} /${r.pattern}/${r.flags ?? ''}`)
  for (const d of p?.deny ?? []) parts.push(`${d.type}: ${(d.words ?? []).join(' | ')}`)
  if (p?.allow?.length) parts.push(`allow: ${p.allow.join(' | ')}`)
  return parts.length ? parts.join('; ') : '(built-in recognisers only)'
}

function formatProfiles(p: Record<string, unknown> | undefined): string {
  const names = Object.keys(p ?? {})
  return names.length ? names.map((n) => `${n} ${JSON.stringify(p![n])}`).join('; ') : '(none)'
}
