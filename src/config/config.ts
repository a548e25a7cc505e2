import {promises as fs} from 'node:fs'
import path from 'node:path'

import {writeFileAtomic} from '../util/atomic.js'
import {QisError, errorMessage} from '../util/errors.js'
import type {Home} from './home.js'

/** The node's settings, stored as JSON in <home>/config.json (written by `qis init`). */
export interface QisConfig {
  /** Domains this node cares about beyond what its own packets say (pull-weights asks for them). */
  domainFocus: string[]
  /** Multiaddrs of peers to join the swarm through. */
  bootstrap: string[]
  /** Multiaddrs `qis node` listens on. */
  listen: string[]
  /** `codebook`: a group's own routing codebook file instead of the shipped one (docs/hashing.md). */
  embedder: {backend: 'use-lite' | 'transformers'; modelDir?: string; codebook?: string}
  /** Default domain for records that carry none. */
  defaultDomain: string
}

export type ConfigKey = keyof QisConfig
export type ConfigSource = 'default' | 'config' | 'env' | 'flag'

export const DEFAULT_CONFIG: QisConfig = {
  domainFocus: [],
  bootstrap: [],
  listen: ['/ip4/127.0.0.1/tcp/0'],
  embedder: {backend: 'use-lite'},
  defaultDomain: 'general',
}

export interface ResolvedConfig {
  config: QisConfig
  sources: Record<ConfigKey, ConfigSource>
  file: string
}

const list = (v: string | undefined) =>
  v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean)

/** Reads config.json (missing file = defaults) and applies env overrides (QIS_BOOTSTRAP, QIS_LISTEN, QIS_MODEL_DIR, QIS_DOMAIN_FOCUS). */
export async function loadConfig(home: Home, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedConfig> {
  let fromFile: Partial<QisConfig> = {}
  try {
    const text = await fs.readFile(home.configFile, 'utf8')
    fromFile = JSON.parse(text) as Partial<QisConfig>
    if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) throw new Error('top level must be an object')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new QisError(`config ${home.configFile} is unreadable: ${errorMessage(err)}`, {code: 'BAD_CONFIG', cause: err})
    }
  }
  const config: QisConfig = structuredClone(DEFAULT_CONFIG)
  const sources = Object.fromEntries(Object.keys(DEFAULT_CONFIG).map((k) => [k, 'default'])) as Record<ConfigKey, ConfigSource>
  for (const key of Object.keys(DEFAULT_CONFIG) as ConfigKey[]) {
    if (fromFile[key] !== undefined) {
      ;(config as unknown as Record<string, unknown>)[key] = fromFile[key]
      sources[key] = 'config'
    }
  }
  const envOverrides: [ConfigKey, unknown][] = [
    ['bootstrap', list(env.QIS_BOOTSTRAP)],
    ['listen', list(env.QIS_LISTEN)],
    ['domainFocus', list(env.QIS_DOMAIN_FOCUS)],
    ['embedder', env.QIS_MODEL_DIR ? {backend: 'transformers', modelDir: env.QIS_MODEL_DIR} : undefined],
  ]
  for (const [key, value] of envOverrides) {
    if (value !== undefined) {
      ;(config as unknown as Record<string, unknown>)[key] = value
      sources[key] = 'env'
    }
  }
  // A codebook named relative to config.json lives beside it, wherever qis is run from.
  const {codebook} = config.embedder ?? {}
  if (typeof codebook === 'string' && !path.isAbsolute(codebook)) {
    config.embedder = {...config.embedder, codebook: path.resolve(path.dirname(home.configFile), codebook)}
  }
  return {config, sources, file: home.configFile}
}

export async function saveConfig(home: Home, config: QisConfig): Promise<void> {
  await writeFileAtomic(home.configFile, JSON.stringify(config, null, 2) + '\n', 0o600)
}
