import {promises as fs} from 'node:fs'
import path from 'node:path'

import {ENV} from '../cli/env.js'
import {writeFileAtomic} from '../util/atomic.js'
import {QisError, errorMessage} from '../util/errors.js'
import type {ScoreMapping} from '../ingest/formats/index.js'
import {type Home, ensureDir} from './home.js'

export type {ScoreMapping}

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
  /** A deployment's own model names -> the public name packets carry (`qis distill --model-alias`). */
  modelAlias: Record<string, string>
  /** Named ways to read a log source (`qis distill --profile NAME`): format, field maps, scores. */
  profiles: Record<string, IngestProfile>
  /** The deployment's own recognisers, deny-lists and allow-lists, honoured by `qis scrub` and `qis distill`. */
  privacy: PrivacyConfig
  /** How `qis node` is reached and run: advertised addresses, relaying, metrics (docs/operating.md). Flags win. */
  network: NetworkConfig
}

/** `qis node` settings that an operator fixes once (each has a flag of the same meaning). */
export interface NetworkConfig {
  /** As --announce: the addresses peers are told instead of the listen addresses. */
  announce: string[]
  /** As --lan / --no-lan / --lan-range: whether private and loopback addresses are advertised ("auto": only for a loopback-only node). */
  lan: boolean | 'auto' | string[]
  /** As --relay: serve as a circuit relay. */
  relay: boolean
  /** As --reserve-relay / --no-reserve-relay ("auto": when the node has no address others can dial). */
  reserveRelay: boolean | 'auto'
  /** As --upnp. */
  upnp: boolean
  /** As --metrics HOST:PORT; empty = no metrics endpoint. */
  metrics: string
}

/** How to read one kind of log, saved under a name in config `profiles`. Flags given on the command line win. */
export interface IngestProfile {
  /** As --input-format. */
  inputFormat?: string
  /** canonical -> source, as --map. */
  map?: Record<string, string>
  /** As --corrections-format. */
  correctionsFormat?: string
  /** canonical -> source for the correction logs, as --corrections-map. */
  correctionsMap?: Record<string, string>
  /** Langfuse scores: which score names give the outcome, and which mark a correction (with its type). */
  scores?: ScoreMapping
  domain?: string
  defaultConfidence?: number
}

/** User-defined recognisers (docs/pii.md, "Your own recognisers"). */
export interface PrivacyConfig {
  /** Regular expressions (JavaScript syntax) whose matches are replaced by `<TYPE>`. */
  recognizers: Array<{type: string; pattern: string; flags?: string}>
  /** Words and phrases always replaced by `<TYPE>` (whole words, case-insensitive). */
  deny: Array<{type: string; words: string[]}>
  /** Words and phrases never replaced (whole words, case-insensitive): a hospital's drug or ward names. */
  allow: string[]
}

export type ConfigKey = keyof QisConfig
export type ConfigSource = 'default' | 'config' | 'env' | 'flag'

export const DEFAULT_CONFIG: QisConfig = {
  domainFocus: [],
  bootstrap: [],
  listen: ['/ip4/127.0.0.1/tcp/0'],
  embedder: {backend: 'use-lite'},
  defaultDomain: 'general',
  modelAlias: {},
  profiles: {},
  privacy: {recognizers: [], deny: [], allow: []},
  network: {announce: [], lan: 'auto', relay: false, reserveRelay: 'auto', upnp: false, metrics: ''},
}

export interface ResolvedConfig {
  config: QisConfig
  sources: Record<ConfigKey, ConfigSource>
  file: string
}

const list = (v: string | undefined) =>
  v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean)

/** Reads config.json (missing file = defaults) and applies the environment's overrides (the variables of src/cli/env.ts that name a config key). */
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
      // A partial network block keeps the defaults of what it leaves out.
      const value = key === 'network' && typeof fromFile[key] === 'object' && fromFile[key] !== null ? {...DEFAULT_CONFIG.network, ...fromFile.network} : fromFile[key]
      ;(config as unknown as Record<string, unknown>)[key] = value
      sources[key] = 'config'
    }
  }
  const modelDir = env[ENV.modelDir.name]
  const envOverrides: [ConfigKey, unknown][] = [
    ['bootstrap', list(env[ENV.bootstrap.name])],
    ['listen', list(env[ENV.listen.name])],
    ['domainFocus', list(env[ENV.domainFocus.name])],
    ['embedder', modelDir ? {backend: 'transformers', modelDir} : undefined],
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
  await ensureDir(path.dirname(home.configFile))
  await writeFileAtomic(home.configFile, JSON.stringify(config, null, 2) + '\n', 0o600)
}
