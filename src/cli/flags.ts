import {Flags} from '@oclif/core'

import type {QisConfig} from '../config/config.js'
import {EMBEDDER_BACKENDS, type EmbedderBackend, type EmbedderConfig} from '../embed/types.js'
import type {TextField} from '../packet/text.js'
import {QisError} from '../util/errors.js'
import {DURATION_GRAMMAR, parseDuration, parseSince} from './duration.js'
import {ENV, envRef} from './env.js'
import {requireLabel} from './label.js'

/**
 * The flags several commands share, defined once with one name, one description and one
 * environment binding each (docs/glossary.md decides the names). A command spreads the set it
 * needs into its `static flags`.
 */

/**
 * Declares `flag` under its new name while `oldNames` keep working: the kit's base command warns
 * "--old is deprecated; use --new" whenever one is used (also as --old=value).
 */
export function renamed<F extends {aliases?: string[]}>(flag: F, ...oldNames: string[]): F {
  return {...flag, aliases: [...(flag.aliases ?? []), ...oldNames], deprecateAliases: true}
}

/** The same flag with a description for one command (what it means there), e.g. init's --codebook. */
export function withDescription<F extends {description?: string}>(flag: F, description: string): F {
  return {...flag, description}
}

/** On every command (BaseCommand.baseFlags). */
export const globalFlags = {
  home: Flags.directory({
    description: 'Home folder (config, identity, packet stores, weights). Default: ~/.qis.',
    env: ENV.home.name,
    helpGroup: 'GLOBAL',
    helpValue: 'DIR',
  }),
}

export const embedderFlag = renamed(
  Flags.string({
    description: `Sentence embedder. Default: the config's (use-lite unless qis init chose another); ${envRef('modelDir')} implies transformers.`,
    options: [...EMBEDDER_BACKENDS],
    helpGroup: 'EMBEDDER',
  }),
  'backend',
)

export const modelDirFlag = Flags.directory({
  description: `Local model folder for the transformers embedder (implies --embedder transformers). Default: ${envRef('modelDir')}, then the config.`,
  helpGroup: 'EMBEDDER',
  helpValue: 'DIR',
})

export const allowDownloadFlag = Flags.boolean({
  description: 'With the transformers embedder: fetch missing model files from the hub into --model-dir.',
  default: false,
  helpGroup: 'EMBEDDER',
})

export const codebookFlag = Flags.file({
  description: "A group's own routing codebook instead of the shipped one (default: the config's). Every node of the group must use the same file.",
  helpGroup: 'EMBEDDER',
  helpValue: 'FILE',
})

/** How texts become codes: distill, hash, adjust and pull-weights (for --queries) take these. */
export const embedderFlags = {
  embedder: embedderFlag,
  'model-dir': modelDirFlag,
  'allow-download': allowDownloadFlag,
  codebook: codebookFlag,
}

export interface EmbedderFlagValues {
  embedder?: string
  'model-dir'?: string
  'allow-download'?: boolean
  codebook?: string
}

/**
 * The embedder a command uses: flags over the config (which already holds $QIS_MODEL_DIR).
 * --model-dir implies transformers, as in qis init and qis config. The config's codebook is kept
 * only while the embedder is the config's own, because a codebook is fitted for one model.
 */
export function embedderFromFlags(flags: EmbedderFlagValues, config: QisConfig['embedder'] = {backend: 'use-lite'}): EmbedderConfig {
  const modelDirFlag = flags['model-dir']
  const backend = (flags.embedder ?? (modelDirFlag === undefined ? config.backend : 'transformers')) as EmbedderBackend
  // Only the config can hold another name (the flag has options): say which file to fix, before any model loads.
  if (!EMBEDDER_BACKENDS.includes(backend)) {
    throw new QisError(`config.json: embedder.backend "${String(backend)}" is not one of ${EMBEDDER_BACKENDS.join(', ')}`, {code: 'BAD_CONFIG', hint: 'Run qis config to list every problem in the file; qis init --embedder NAME rewrites it.'})
  }
  if (backend !== 'transformers' && modelDirFlag !== undefined) {
    throw new QisError('--model-dir applies only to --embedder transformers', {code: 'BAD_FLAG', hint: 'The use-lite embedder ships its model: drop --model-dir, or pass --embedder transformers.'})
  }
  const modelDir = backend === 'transformers' ? (modelDirFlag ?? (config.backend === 'transformers' ? config.modelDir : undefined)) : undefined
  // A model fetched from the hub is named by the folder's last two parts (organisation/model).
  if (flags['allow-download'] && modelDir !== undefined && modelDir.split(/[\\/]/).filter(Boolean).length < 2) {
    throw new QisError(`--model-dir ${modelDir} is too short to name a model to download`, {code: 'BAD_FLAG', hint: 'End it with the model\'s hub name, e.g. --model-dir models/Xenova/all-MiniLM-L6-v2.'})
  }
  const sameAsConfig = backend === config.backend && modelDir === config.modelDir
  const codebook = flags.codebook ?? (sameAsConfig ? config.codebook : undefined)
  return {
    backend,
    ...(modelDir === undefined ? {} : {modelDir}),
    ...(flags['allow-download'] ? {allowDownload: true} : {}),
    ...(codebook === undefined ? {} : {codebook}),
  }
}

/**
 * The values of a repeatable flag that also takes comma-separated lists (--domain-focus a,b): split on
 * commas only, as the matching environment variables are, so "Clinical Oncology" stays one value
 * (refused as one label, with its normalised form) rather than becoming two.
 */
export function commaList(values: string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)
}

/** Peers to join the swarm through. $QIS_BOOTSTRAP reaches it through the config layer (env.ts says why). */
export const bootstrapFlag = Flags.string({
  description: `Multiaddr of a peer to join the swarm through (repeatable). Default: ${envRef('bootstrap')}, then the config.`,
  multiple: true,
  helpValue: 'MULTIADDR',
})

/**
 * The peers a command joins the swarm through: the flag's, else the config's (which holds
 * $QIS_BOOTSTRAP). None is NO_BOOTSTRAP, said the same way by every command; `need` says what wanted them.
 */
export function bootstrapPeers(flag: string[] | undefined, config: string[], need = 'no bootstrap peers'): string[] {
  const peers = flag && flag.length > 0 ? flag : config
  if (peers.length === 0) throw new QisError(`${need}: pass --bootstrap MULTIADDR (repeatable), set ${ENV.bootstrap.name}, or add "bootstrap" to the config`, {code: 'NO_BOOTSTRAP'})
  return peers
}

/** Where texts come from when they are not arguments (hash, scrub). */
export const textInputFlags = {
  input: Flags.string({char: 'i', description: 'Input file, repeatable; "-" is stdin.', multiple: true, helpValue: 'FILE'}),
  'input-format': Flags.string({description: 'How input lines are read: jsonl (the text in --field) or text (each line is one text).', options: ['jsonl', 'text'], default: 'jsonl'}),
  field: Flags.string({description: 'JSONL field holding the text.', default: 'text'}),
}

/**
 * A span of time in the one duration grammar (duration.ts), parsed to whole seconds. Returns a flag
 * factory: call it with {default: seconds, defaultHelp: '1h'} or {required: true}, as any oclif flag.
 */
export function durationFlag(options: {description: string; allowZero?: boolean}) {
  return Flags.custom<number>({
    description: `${options.description} A duration: ${DURATION_GRAMMAR}${options.allowZero ? '; 0 for none' : ''}.`,
    helpValue: 'DURATION',
    parse: async (input, _ctx, opts) => parseDuration(input, {allowZero: options.allowZero, flag: `--${opts.name}`}),
  })
}

/**
 * A label (domain, model, ...) typed by a person: refused unless valid, with the normalised form as
 * the hint. Returns a flag factory: call it with {default} or {required} as any oclif flag.
 */
export function labelFlag(field: TextField, options: {description: string}) {
  return Flags.custom<string>({
    description: options.description,
    helpValue: 'LABEL',
    parse: async (input, _ctx, opts) => requireLabel(field, input, `--${opts.name}`),
  })
}

/** A number typed by a person, in [min, max]; for what oclif's integer flag does not cover (0.5, 1e-3). */
export function numberFlag(options: {description: string; min?: number; max?: number}) {
  return Flags.custom<number>({
    description: options.description,
    helpValue: 'NUMBER',
    parse: async (input, _ctx, opts) => {
      const n = Number(input)
      const range = options.min !== undefined && options.max !== undefined ? ` from ${options.min} to ${options.max}` : options.min !== undefined ? ` >= ${options.min}` : options.max !== undefined ? ` <= ${options.max}` : ''
      if (input.trim() === '' || !Number.isFinite(n) || (options.min !== undefined && n < options.min) || (options.max !== undefined && n > options.max)) {
        throw new QisError(`--${opts.name} must be a number${range}, got "${input}"`, {code: 'BAD_FLAG'})
      }
      return n
    },
  })
}

/** A point in time: a duration back from now (7d) or an ISO date, parsed to epoch seconds (--since). */
export function sinceFlag(options: {description: string}) {
  return Flags.custom<number>({
    description: `${options.description} A duration back from now (${DURATION_GRAMMAR}) or an ISO date (2026-11-20).`,
    helpValue: 'WHEN',
    parse: async (input, _ctx, opts) => parseSince(input, {flag: `--${opts.name}`}),
  })
}

/** The weights file pull-weights writes and adjust reads: one name, --weights, on both. */
export const weightsFlag = Flags.file({
  description: 'Weights file (pull-weights writes it, adjust reads it). Default: weights.json in the home.',
  helpValue: 'FILE',
})

/** For commands that show progress (distill; publish later): no progress and no summary, errors still printed. */
export const quietFlag = Flags.boolean({char: 'q', description: 'Print no progress and no summary; errors are still printed.', default: false})
