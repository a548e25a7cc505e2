import path from 'node:path'
import type {Readable, Writable} from 'node:stream'

import type {QisConfig} from '../config/config.js'
import {openHome} from '../config/home.js'
import type {EmbedderBackend} from '../embed/types.js'
import {QisError, errorMessage} from '../util/errors.js'
import {knownDomains} from './domains.js'
import {formatConfigValue} from './config-view.js'
import {type InitAnswers, type InitResult, answerProblems, chooseCodebook, configChanged, defaultModelDir, existingConfig, writeInit} from './init.js'
import {type ModelCheck, checkModel} from './model-check.js'
import {domainProblem, modelDirProblem, multiaddrProblem, splitList} from './validate.js'

export interface WizardOptions {
  /** The home from --home or $QIS_HOME; when undefined the wizard asks, offering `defaultHomeDir`. */
  homeDir?: string
  defaultHomeDir: string
  /** Answers already given as flags: their questions are skipped. */
  answers: InitAnswers
  skipModelCheck?: boolean
  env?: NodeJS.ProcessEnv
  /** Streams for the prompts (tests drive the wizard through these). Default: the process's. */
  input?: Readable
  output?: Writable
}

/**
 * The interactive `qis init`: asks what flags did not answer, shows the result, checks that the
 * model loads, and writes config.json only after the person confirms. Existing values are the
 * defaults, so re-running init is how a config is edited.
 */
export async function runWizard(options: WizardOptions): Promise<InitResult> {
  const p = await import('@clack/prompts')
  const io = {input: options.input, output: options.output}
  const env = options.env ?? process.env
  const given = options.answers

  // Every prompt goes through here: a cancelled prompt ends the wizard with nothing written.
  const cancelled = (): never => {
    p.cancel('Cancelled. Nothing was written.', io)
    throw new QisError('qis init was cancelled; nothing was written', {code: 'CANCELLED'})
  }
  const ask = async <T>(prompt: Promise<T>): Promise<Exclude<T, symbol>> => {
    const value = await prompt
    return p.isCancel(value) ? cancelled() : (value as Exclude<T, symbol>)
  }
  const listValidator = (check: (item: string) => string | undefined) => (value: string | undefined) => {
    for (const item of splitList(value ?? '')) {
      const problem = check(item)
      if (problem) return problem
    }
    return undefined
  }

  p.intro('qis init: set up this node', io)

  const homeDir =
    options.homeDir ??
    (await ask(
      p.text({
        ...io,
        message: 'Home folder (config, identity, packet stores, weights)',
        initialValue: options.defaultHomeDir,
        validate: (v) => (v && v.trim() ? undefined : 'a folder is needed'),
      }),
    )).trim()
  const home = await openHome(homeDir)
  const {config: base, exists} = await existingConfig(home)
  if (exists) p.log.info(`Editing ${home.configFile}: its current values are the defaults.`, io)

  let domainFocus = given.domainFocus
  if (domainFocus === undefined) {
    const seen = await knownDomains(home)
    const candidates = [...new Set([...base.domainFocus, ...seen.map((d) => d.domain)])]
    let picked: string[] = []
    if (candidates.length > 0) {
      const counts = new Map(seen.map((d) => [d.domain, d.packets]))
      picked = await ask(
        p.multiselect<string>({
          ...io,
          message: 'Domains to ask peers about (space toggles, enter accepts)',
          options: candidates.map((d) => ({value: d, label: d, hint: counts.has(d) ? `${counts.get(d)} packets here` : 'in config'})),
          initialValues: base.domainFocus,
          required: false,
        }),
      )
    }
    const more = await ask(
      p.text({
        ...io,
        message: candidates.length > 0 ? 'Other domains (comma-separated labels, empty for none)' : 'Domains to ask peers about (comma-separated labels like clinical.oncology, empty for none)',
        placeholder: 'clinical.oncology, legal.contracts',
        defaultValue: '',
        validate: listValidator(domainProblem),
      }),
    )
    domainFocus = [...new Set([...picked, ...splitList(more)])]
  }

  const bootstrap =
    given.bootstrap ??
    splitList(
      await ask(
        p.text({
          ...io,
          message: 'Bootstrap peers (multiaddrs, comma-separated; empty to start the first node)',
          placeholder: '/ip4/192.0.2.10/tcp/4001/p2p/12D3Koo...',
          initialValue: base.bootstrap.join(', '),
          defaultValue: '',
          validate: listValidator(multiaddrProblem),
        }),
      ),
    )

  const listen = given.listen ?? base.listen
  let backend: EmbedderBackend | undefined = given.embedder ?? (given.modelDir !== undefined ? 'transformers' : undefined)
  let modelDir = given.modelDir
  let modelCheck: ModelCheck | null = null
  let embedder: QisConfig['embedder']
  let codebookNote: string | undefined
  for (;;) {
    backend ??= await ask(
      p.select<EmbedderBackend>({
        ...io,
        message: 'Sentence embedder (peers only compare packets made with the same one)',
        initialValue: base.embedder.backend,
        options: [
          {value: 'use-lite', label: 'use-lite', hint: 'default: Universal Sentence Encoder lite, ships with qis, offline'},
          {value: 'transformers', label: 'transformers', hint: 'a local ONNX model folder, e.g. all-MiniLM-L6-v2'},
        ],
      }),
    )
    if (backend === 'transformers' && modelDir === undefined) {
      modelDir = (
        await ask(
          p.text({
            ...io,
            message: 'Model folder (config.json, tokenizer.json, onnx/model.onnx)',
            initialValue: defaultModelDir(base, env) ?? '',
            validate: (v) => (v && v.trim() ? undefined : 'a model folder is needed for the transformers embedder'),
          }),
        )
      ).trim()
    }
    const chosen: QisConfig['embedder'] = backend === 'transformers' ? {backend, modelDir: path.resolve(modelDir!)} : {backend: 'use-lite'}
    const {codebook, note} = chooseCodebook(base, chosen, given.codebook)
    embedder = {...chosen, ...(codebook ? {codebook} : {})}
    codebookNote = note
    if (options.skipModelCheck) break
    const spin = p.spinner({...io})
    spin.start(`Loading the ${backend} model`)
    try {
      const problem = embedder.modelDir ? await modelDirProblem(embedder.modelDir) : undefined
      if (problem) throw new QisError(problem, {code: 'MODEL_NOT_FOUND'})
      modelCheck = await checkModel(embedder)
      spin.stop(`Model loads: ${modelCheck.embedder}, ${modelCheck.dimension} dimensions, ${modelCheck.seconds.toFixed(1)} s`)
      break
    } catch (err) {
      spin.error(`The model did not load: ${errorMessage(err)}`)
      const next = await ask(
        p.select<'again' | 'keep' | 'cancel'>({
          ...io,
          message: 'What now?',
          options: [
            {value: 'again', label: 'Choose the embedder again'},
            {value: 'keep', label: 'Keep this choice and write the config anyway'},
            {value: 'cancel', label: 'Cancel'},
          ],
        }),
      )
      if (next === 'keep') break
      if (next === 'cancel') cancelled()
      backend = undefined
      modelDir = undefined
    }
  }

  const config: QisConfig = {
    ...structuredClone(base),
    domainFocus,
    bootstrap,
    listen,
    embedder,
  }
  const problems = answerProblems(config)
  if (problems.length > 0) throw new QisError(problems.join('\n'), {code: 'BAD_ANSWER'})
  if (codebookNote) p.log.warn(codebookNote, io)

  // Nothing to confirm when the answers change nothing (a re-run to look, or Enter all the way).
  const changed = await configChanged(home, config)
  if (changed) {
    p.note(describeConfig(config), exists ? `Update ${home.configFile}` : `Write ${home.configFile}`, io)
    const ok = await ask(p.confirm({...io, message: exists ? 'Save these changes?' : 'Write this configuration?', initialValue: true}))
    if (!ok) cancelled()
  }
  const result = await writeInit(home, config, {created: !exists, skipModelCheck: true, modelCheck, notes: codebookNote ? [codebookNote] : []})
  p.outro(changed ? `Done. Peer ID ${result.peerId}. Next: qis distill <logs>, then qis publish.` : `No changes: ${home.configFile} already says this. Peer ID ${result.peerId}.`, io)
  return result
}

/** The config as a few lines for a person (also used by the command's summary). */
export function describeConfig(config: QisConfig): string {
  const list = (xs: string[]) => (xs.length > 0 ? xs.join(', ') : '(none)')
  return [
    `domain focus   ${list(config.domainFocus)}`,
    `bootstrap      ${list(config.bootstrap)}`,
    `listen         ${list(config.listen)}`,
    `embedder       ${formatConfigValue('embedder', config.embedder)}`,
    `default domain ${config.defaultDomain}`,
  ].join('\n')
}
