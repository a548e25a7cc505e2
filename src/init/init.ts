import {promises as fs} from 'node:fs'
import path from 'node:path'
import {isDeepStrictEqual} from 'node:util'

import {type ConfigKey, type QisConfig, DEFAULT_CONFIG, loadConfig, saveConfig} from '../config/config.js'
import type {Home} from '../config/home.js'
import type {EmbedderBackend} from '../embed/types.js'
import {loadOrCreateIdentity} from '../identity/identity.js'
import {readCodebookFile} from '../hash/index.js'
import {QisError} from '../util/errors.js'
import {type ModelCheck, checkModel} from './model-check.js'
import {configProblems, domainProblem, embedderProblem, modelDirProblem, multiaddrProblem} from './validate.js'

/** What `qis init` asks. Every answer is also a flag; undefined means "not given". */
export interface InitAnswers {
  domainFocus?: string[]
  bootstrap?: string[]
  listen?: string[]
  embedder?: EmbedderBackend
  modelDir?: string
  /** A group's own routing codebook file; '' for the shipped one. Flag-only, like `listen`. */
  codebook?: string
}

export type AnswerName = keyof InitAnswers

/** The flag that gives each answer, for error messages that tell a script what to pass. */
export const ANSWER_FLAGS: Record<AnswerName, string> = {
  domainFocus: '--domain-focus',
  bootstrap: '--bootstrap',
  listen: '--listen',
  embedder: '--embedder',
  modelDir: '--model-dir',
  codebook: '--codebook',
}

/** The answers the wizard asks for; `listen` is flag-only (the default suits one machine). */
export const PROMPTED_ANSWERS: readonly AnswerName[] = ['domainFocus', 'bootstrap', 'embedder']

export interface InitResult {
  home: string
  file: string
  /** True when there was no config.json before this run. */
  created: boolean
  /** False when config.json already said exactly this, so it was not rewritten. */
  changed: boolean
  peerId: string
  config: QisConfig
  /** Null when the check was skipped (--skip-model-check). */
  modelCheck: ModelCheck | null
  /** What a person should know about the change, e.g. a group codebook left behind. */
  notes: string[]
}

/**
 * The config as written in the home, with built-in defaults for what the file lacks, but without
 * environment overrides: init writes the file, and an env var of this shell must not be frozen into it.
 */
export async function existingConfig(home: Home): Promise<{config: QisConfig; exists: boolean}> {
  const exists = await fs.access(home.configFile).then(
    () => true,
    () => false,
  )
  const {config} = await loadConfig(home, {})
  // A hand-edited value of the wrong shape is not offered back as a default: init is how it gets fixed.
  for (const key of new Set(configProblems(config).map((p) => p.key))) {
    if (!isWellShaped(key, config[key])) (config as unknown as Record<string, unknown>)[key] = structuredClone(DEFAULT_CONFIG[key])
  }
  return {config, exists}
}

function isWellShaped(key: ConfigKey, value: unknown): boolean {
  if (key === 'embedder') return typeof value === 'object' && value !== null && embedderProblem((value as {backend?: unknown}).backend) === undefined
  if (key === 'defaultDomain') return typeof value === 'string' && domainProblem(value) === undefined
  return Array.isArray(value) && value.every((v) => typeof v === 'string')
}

/** The model folder to offer for the transformers backend: the file's, else $QIS_MODEL_DIR. */
export function defaultModelDir(base: QisConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return (base.embedder.backend === 'transformers' ? base.embedder.modelDir : undefined) ?? (env.QIS_MODEL_DIR || undefined)
}

/**
 * Turns answers into a config without asking anything (scripts, CI, --json, no TTY).
 * Without `yes`, every question the wizard would ask must be answered by a flag; with `yes`, the
 * existing config's values (or the defaults) stand in. A model folder has no default unless one is
 * known, so `--embedder transformers` without a folder is missing either way. All problems are
 * reported at once, each naming its flag.
 */
export async function resolveAnswers(
  base: QisConfig,
  answers: InitAnswers,
  options: {yes: boolean; env?: NodeJS.ProcessEnv; cwd?: string},
): Promise<QisConfig> {
  return (await resolveAnswersWithNotes(base, answers, options)).config
}

/** resolveAnswers, plus what a person should be told about the change. */
export async function resolveAnswersWithNotes(
  base: QisConfig,
  answers: InitAnswers,
  options: {yes: boolean; env?: NodeJS.ProcessEnv; cwd?: string},
): Promise<{config: QisConfig; notes: string[]}> {
  const missing: string[] = []
  const problems: string[] = []
  if (!options.yes) for (const name of PROMPTED_ANSWERS) if (answers[name] === undefined) missing.push(ANSWER_FLAGS[name])

  // A model folder alone means the transformers backend; pairing it with use-lite is a contradiction.
  let backend: EmbedderBackend = answers.embedder ?? (answers.modelDir !== undefined ? 'transformers' : base.embedder.backend)
  if (answers.embedder === undefined && answers.modelDir !== undefined) {
    const i = missing.indexOf(ANSWER_FLAGS.embedder)
    if (i >= 0) missing.splice(i, 1)
  }
  const embedderIssue = embedderProblem(backend)
  if (embedderIssue) {
    problems.push(`--embedder: ${embedderIssue}`)
    backend = 'use-lite'
  }
  let modelDir: string | undefined
  if (backend === 'transformers') {
    modelDir = answers.modelDir ?? (options.yes ? defaultModelDir(base, options.env) : undefined)
    if (modelDir === undefined || modelDir === '') missing.push(`${ANSWER_FLAGS.modelDir} (a local model folder; required with --embedder transformers)`)
    else modelDir = path.resolve(options.cwd ?? process.cwd(), modelDir)
  } else if (answers.modelDir !== undefined) {
    problems.push('--model-dir applies only to --embedder transformers (use-lite ships its model)')
  }

  const embedder: QisConfig['embedder'] = backend === 'transformers' ? {backend, ...(modelDir ? {modelDir} : {})} : {backend}
  const {codebook, note} = chooseCodebook(base, embedder, answers.codebook, options.cwd)
  const config: QisConfig = {
    ...structuredClone(base),
    domainFocus: answers.domainFocus ?? base.domainFocus,
    bootstrap: answers.bootstrap ?? base.bootstrap,
    listen: answers.listen ?? base.listen,
    embedder: {...embedder, ...(codebook ? {codebook} : {})},
  }
  problems.push(...answerProblems(config))
  if (missing.length > 0) {
    problems.unshift(
      `qis init cannot ask (no terminal, or --json), so these answers must be given: ${missing.join(', ')}. ` +
        'Pass them as flags, or add --yes to keep the current values (see qis config) for the rest.',
    )
  }
  if (problems.length > 0) throw new QisError(problems.join('\n'), {code: missing.length > 0 ? 'MISSING_ANSWERS' : 'BAD_ANSWER'})
  return {config, notes: note ? [note] : []}
}

/**
 * The routing codebook the new config names: the --codebook answer ('' for the shipped one), else
 * the current one while the embedder (backend and model folder) stays. A group's codebook is
 * fitted for one model, so a new embedder leaves it behind, and the note says so: the node's
 * packets stop meeting the group's.
 */
export function chooseCodebook(
  base: QisConfig,
  embedder: QisConfig['embedder'],
  answer: string | undefined,
  cwd: string = process.cwd(),
): {codebook?: string; note?: string} {
  if (answer !== undefined) return answer === '' ? {} : {codebook: path.resolve(cwd, answer)}
  const current = base.embedder.codebook
  if (!current) return {}
  if (base.embedder.backend === embedder.backend && base.embedder.modelDir === embedder.modelDir) return {codebook: current}
  return {
    note:
      `The codebook ${current} was fitted for the previous embedder, so it is no longer used: this node's packets will not ` +
      "meet the group's. Pass --codebook FILE to name one fitted for the new embedder.",
  }
}

/** Problems with answers, each prefixed by its flag. */
export function answerProblems(config: Pick<QisConfig, 'domainFocus' | 'bootstrap' | 'listen'>): string[] {
  const problems: string[] = []
  for (const d of config.domainFocus) {
    const p = domainProblem(d)
    if (p) problems.push(`--domain-focus: ${p}`)
  }
  for (const a of config.bootstrap) {
    const p = multiaddrProblem(a)
    if (p) problems.push(`--bootstrap: ${p}`)
  }
  if (config.listen.length === 0) problems.push('--listen: at least one listen address is needed')
  for (const a of config.listen) {
    const p = multiaddrProblem(a)
    if (p) problems.push(`--listen: ${p}`)
  }
  return problems
}

/**
 * True unless config.json exists and already holds exactly `config` (defaults filled in, a codebook
 * beside the file read as its full path, no environment applied): then there is nothing to save.
 */
export async function configChanged(home: Home, config: QisConfig): Promise<boolean> {
  const exists = await fs.access(home.configFile).then(
    () => true,
    () => false,
  )
  if (!exists) return true
  const current = await loadConfig(home, {}).then(
    (r) => r.config,
    () => undefined,
  )
  return !isDeepStrictEqual(current, config)
}

/**
 * Checks the model (unless skipped), creates the node identity if the home has none, and writes
 * config.json unless it already says exactly this. The model check comes first so a config naming
 * a model that does not load is never written.
 */
export async function writeInit(
  home: Home,
  config: QisConfig,
  options: {skipModelCheck?: boolean; created: boolean; modelCheck?: ModelCheck | null; notes?: string[]},
): Promise<InitResult> {
  let modelCheck: ModelCheck | null = options.modelCheck ?? null
  // Needs no model, so it runs even with --skip-model-check: a missing or damaged file is never written in.
  if (config.embedder.codebook) readCodebookFile(config.embedder.codebook)
  if (!options.skipModelCheck && modelCheck === null) {
    if (config.embedder.backend === 'transformers' && config.embedder.modelDir) {
      const problem = await modelDirProblem(config.embedder.modelDir)
      if (problem) throw new QisError(`--model-dir: ${problem}`, {code: 'MODEL_CHECK_FAILED'})
    }
    try {
      modelCheck = await checkModel(config.embedder)
    } catch (err) {
      if (err instanceof QisError) {
        throw new QisError(`${err.message}\nNothing was written. Fix the model, or pass --skip-model-check to write the config anyway.`, {
          code: err.code,
          cause: err,
        })
      }
      throw err
    }
  }
  const identity = await loadOrCreateIdentity(home)
  const changed = await configChanged(home, config)
  if (changed) await saveConfig(home, besideConfig(home, config))
  return {home: home.root, file: home.configFile, created: options.created, changed, peerId: identity.peerId, config, modelCheck, notes: options.notes ?? []}
}

/** A codebook beside config.json is written by its bare name, so the home can move (loadConfig reads it beside the file). */
function besideConfig(home: Home, config: QisConfig): QisConfig {
  const {codebook} = config.embedder
  if (!codebook || path.dirname(codebook) !== path.dirname(home.configFile)) return config
  return {...config, embedder: {...config.embedder, codebook: path.basename(codebook)}}
}

/** Non-interactive init in one call: what `qis init --yes ...` does, for libraries and scripts. */
export async function initHome(
  home: Home,
  answers: InitAnswers,
  options: {yes?: boolean; skipModelCheck?: boolean; env?: NodeJS.ProcessEnv; cwd?: string} = {},
): Promise<InitResult> {
  const {config: base, exists} = await existingConfig(home)
  const {config, notes} = await resolveAnswersWithNotes(base, answers, {yes: options.yes ?? false, env: options.env, cwd: options.cwd})
  return writeInit(home, config, {skipModelCheck: options.skipModelCheck, created: !exists, notes})
}
