import {multiaddr} from '@multiformats/multiaddr'
import {promises as fs} from 'node:fs'

import type {ConfigKey, QisConfig} from '../config/config.js'
import {describeLabelProblem, labelProblem} from '../cli/label.js'
import {EMBEDDER_BACKENDS, type EmbedderBackend} from '../embed/types.js'
import {errorMessage} from '../util/errors.js'

/**
 * Checks for the answers `qis init` takes and for a config as `qis config` shows it. Each returns a
 * message for a person, or undefined when the value is fine. Domain labels follow the kit's label
 * rule (refused, with the normalised form named), because domain focus is matched against packets' domain_tag.
 */
export function domainProblem(label: string): string | undefined {
  const problem = labelProblem('domain_tag', label)
  return problem === undefined ? undefined : describeLabelProblem(problem)
}

export function multiaddrProblem(addr: string): string | undefined {
  try {
    multiaddr(addr)
    return undefined
  } catch (err) {
    return `"${addr}" is not a valid multiaddr: ${errorMessage(err)} (e.g. /ip4/192.0.2.10/tcp/4001)`
  }
}

export function embedderProblem(backend: unknown): string | undefined {
  return EMBEDDER_BACKENDS.includes(backend as EmbedderBackend) ? undefined : `embedder "${String(backend)}" is not one of ${EMBEDDER_BACKENDS.join(', ')}`
}

/** A model folder must at least exist; whether a model loads from it is the model check's job. */
export async function modelDirProblem(dir: string): Promise<string | undefined> {
  try {
    const st = await fs.stat(dir)
    return st.isDirectory() ? undefined : `model folder ${dir} is not a folder`
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? `model folder ${dir} does not exist` : `model folder ${dir} cannot be read: ${errorMessage(err)}`
  }
}

/**
 * Splits what a person types at a prompt or passes to a repeatable flag ("a, b c") into items.
 * Multiaddrs and labels contain no commas or spaces, so either separates.
 */
export function splitList(values: string | string[]): string[] {
  const parts = Array.isArray(values) ? values : [values]
  return parts.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean)
}

export interface ConfigProblem {
  key: ConfigKey
  message: string
}

/** Everything wrong with a (possibly hand-edited) config, so `qis config` can name it. */
export function configProblems(config: QisConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const list = (key: 'domainFocus' | 'bootstrap' | 'listen', check: (item: string) => string | undefined) => {
    const value = config[key] as unknown
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      problems.push({key, message: `${key} must be a list of strings`})
      return
    }
    for (const item of value as string[]) {
      const problem = check(item)
      if (problem) problems.push({key, message: problem})
    }
  }
  list('domainFocus', domainProblem)
  list('bootstrap', multiaddrProblem)
  list('listen', multiaddrProblem)
  const embedder = config.embedder as unknown
  if (typeof embedder !== 'object' || embedder === null) {
    problems.push({key: 'embedder', message: 'embedder must be an object like {"backend": "use-lite"}'})
  } else {
    const {backend, modelDir, codebook} = embedder as {backend?: unknown; modelDir?: unknown; codebook?: unknown}
    const problem = embedderProblem(backend)
    if (problem) problems.push({key: 'embedder', message: problem})
    if (modelDir !== undefined && typeof modelDir !== 'string') problems.push({key: 'embedder', message: 'embedder.modelDir must be a path'})
    if (codebook !== undefined && typeof codebook !== 'string') problems.push({key: 'embedder', message: 'embedder.codebook must be a path to a codebook file'})
    if (backend === 'transformers' && !modelDir) problems.push({key: 'embedder', message: 'the transformers embedder needs embedder.modelDir (a local model folder)'})
  }
  const domain = domainProblem(config.defaultDomain)
  if (domain) problems.push({key: 'defaultDomain', message: domain})
  return problems
}
