import {Flags} from '@oclif/core'

import {BaseCommand} from '../base.js'
import type {ConfigKey} from '../config/config.js'
import {EMBEDDER_BACKENDS, type EmbedderBackend} from '../embed/types.js'
import {type ConfigOverrides, type ConfigView, SOURCE_LABELS, formatConfigValue, showConfig} from '../init/config-view.js'
import {splitList} from '../init/validate.js'

const ENV_NAMES: Partial<Record<ConfigKey, string>> = {
  domainFocus: 'QIS_DOMAIN_FOCUS',
  bootstrap: 'QIS_BOOTSTRAP',
  listen: 'QIS_LISTEN',
  embedder: 'QIS_MODEL_DIR',
}

export default class Config extends BaseCommand<typeof Config> {
  static summary = 'Show the effective configuration and where each value came from (default, config file, env or flag).'
  static description = `Values come from, lowest first: built-in defaults, <home>/config.json (written by qis init), environment variables (QIS_DOMAIN_FOCUS, QIS_BOOTSTRAP, QIS_LISTEN, QIS_MODEL_DIR), and command-line flags.
Give the same flags another command would get (--bootstrap, --listen, ...) to see what it would use. Exit code 1 when a value is unusable.`

  static examples = [
    '<%= config.bin %> config',
    '<%= config.bin %> config --json',
    'QIS_BOOTSTRAP=/ip4/127.0.0.1/tcp/4001 <%= config.bin %> config',
    '<%= config.bin %> config --listen /ip4/0.0.0.0/tcp/4001',
  ]

  static flags = {
    'domain-focus': Flags.string({description: 'show the config as a command given this --domain-focus would see it (repeatable)', multiple: true}),
    bootstrap: Flags.string({description: 'show the config with this --bootstrap (repeatable)', multiple: true}),
    listen: Flags.string({description: 'show the config with this --listen (repeatable)', multiple: true}),
    embedder: Flags.string({description: 'show the config with this --embedder', options: [...EMBEDDER_BACKENDS]}),
    'model-dir': Flags.directory({description: 'show the config with this --model-dir (implies --embedder transformers)'}),
  }

  async run(): Promise<ConfigView> {
    const {flags} = this
    const overrides: ConfigOverrides = {
      domainFocus: flags['domain-focus'] && splitList(flags['domain-focus']),
      bootstrap: flags.bootstrap && splitList(flags.bootstrap),
      listen: flags.listen && splitList(flags.listen),
    }
    if (flags.embedder !== undefined || flags['model-dir'] !== undefined) {
      const backend = (flags.embedder ?? 'transformers') as EmbedderBackend
      overrides.embedder = flags['model-dir'] === undefined ? {backend} : {backend, modelDir: flags['model-dir']}
    }
    const view = await showConfig(await this.home(), {overrides})
    // The deployment's own recognisers are checked as scrub and distill would compile them.
    const {customProblems} = await import('../privacy/scrubber.js')
    for (const message of customProblems(view.values.privacy.value)) view.problems.push({key: 'privacy', message})
    for (const [name, to] of Object.entries(view.values.modelAlias.value ?? {})) {
      if (typeof to !== 'string' || to.trim() === '') view.problems.push({key: 'modelAlias', message: `modelAlias "${name}" must map to a public model name`})
    }
    if (view.problems.length > 0) process.exitCode = 1
    if (!this.jsonEnabled()) this.render(view)
    return view
  }

  private render(view: ConfigView): void {
    this.log(`Config file: ${view.file}${view.exists ? '' : ' (not written yet: run qis init)'}`)
    this.log('')
    const rows = (Object.keys(view.values) as ConfigKey[]).map((key) => {
      const {value, source} = view.values[key]
      const from = source === 'env' && ENV_NAMES[key] ? `env ${ENV_NAMES[key]}` : SOURCE_LABELS[source]
      return [key, key === 'privacy' ? formatPrivacy(value as ConfigView['values']['privacy']['value']) : key === 'profiles' ? formatProfiles(value as Record<string, unknown>) : formatConfigValue(key, value), from]
    })
    const header = ['KEY', 'VALUE', 'SOURCE']
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
    for (const row of [header, ...rows]) this.log(row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]) : cell)).join('  ').trimEnd())
    if (view.problems.length > 0) {
      this.log('')
      for (const p of view.problems) {
        const {source} = view.values[p.key]
        const where = source === 'config' ? view.file : source === 'env' ? `env ${ENV_NAMES[p.key]}` : SOURCE_LABELS[source]
        this.logToStderr(`problem: ${p.key} (from ${where}): ${p.message}`)
      }
    }
  }
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
