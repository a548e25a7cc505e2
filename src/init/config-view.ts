import {promises as fs} from 'node:fs'
import path from 'node:path'

import {type ConfigKey, type ConfigSource, type QisConfig, type ResolvedConfig, DEFAULT_CONFIG, loadConfig} from '../config/config.js'
import type {Home} from '../config/home.js'
import type {EmbedderBackend} from '../embed/types.js'
import {type ConfigProblem, configProblems} from './validate.js'

/** Values a command was given on its command line; they win over env, file and defaults. */
export interface ConfigOverrides {
  domainFocus?: string[]
  bootstrap?: string[]
  listen?: string[]
  embedder?: {backend: EmbedderBackend; modelDir?: string}
}

export interface ConfigView {
  file: string
  /** False until `qis init` (or a person) writes the file. */
  exists: boolean
  values: {[K in ConfigKey]: {value: QisConfig[K]; source: ConfigSource}}
  /** Values that are not usable (a hand-edited file, a bad env var), each naming its key. */
  problems: ConfigProblem[]
}

/** Layers command-line values over a resolved config: default < config file < env < flag. */
export function applyOverrides(resolved: ResolvedConfig, overrides: ConfigOverrides): ResolvedConfig {
  const config = structuredClone(resolved.config)
  const sources = {...resolved.sources}
  for (const key of Object.keys(overrides) as (keyof ConfigOverrides)[]) {
    const value = overrides[key]
    if (value === undefined) continue
    ;(config as unknown as Record<string, unknown>)[key] = structuredClone(value)
    sources[key] = 'flag'
  }
  return {config, sources, file: resolved.file}
}

/** The effective configuration and where each value came from, for `qis config`. */
export async function showConfig(
  home: Home,
  options: {overrides?: ConfigOverrides; env?: NodeJS.ProcessEnv} = {},
): Promise<ConfigView> {
  const resolved = applyOverrides(await loadConfig(home, options.env ?? process.env), options.overrides ?? {})
  const exists = await fs.access(home.configFile).then(
    () => true,
    () => false,
  )
  const values = Object.fromEntries(
    (Object.keys(DEFAULT_CONFIG) as ConfigKey[]).map((key) => [key, {value: resolved.config[key], source: resolved.sources[key]}]),
  ) as ConfigView['values']
  return {file: path.resolve(resolved.file), exists, values, problems: configProblems(resolved.config)}
}

/** How a value reads in the table: lists joined, the embedder with its folder and codebook. */
export function formatConfigValue(key: ConfigKey, value: unknown): string {
  if (Array.isArray(value)) return value.length > 0 ? value.join(', ') : '(none)'
  if (key === 'embedder' && typeof value === 'object' && value !== null) {
    const {backend, modelDir, codebook} = value as {backend?: unknown; modelDir?: unknown; codebook?: unknown}
    return `${String(backend)}${modelDir ? ` (${String(modelDir)})` : ''}${codebook ? `, codebook ${String(codebook)}` : ''}`
  }
  return typeof value === 'string' ? value : JSON.stringify(value)
}

export const SOURCE_LABELS: Record<ConfigSource, string> = {
  default: 'default',
  config: 'config file',
  env: 'env',
  flag: 'flag',
}
