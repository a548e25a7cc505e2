import {QisError} from '../util/errors.js'

/**
 * Model names as logs write them can name the customer: OpenAI fine-tunes carry the organisation
 * (`ft:gpt-4o-mini-2024-07-18:acme-health::9qLCdJzV`), cloud endpoints carry account and project
 * ids, and a Hugging Face repo carries whoever uploaded it. A packet carries only a public name, by
 * this rule (docs/distill.md, "Model names"):
 *
 * 1. The deployment's own alias map (config `modelAlias`, `--model-alias NAME=PUBLIC`) wins: an
 *    exact, case-insensitive match on the name as logged.
 * 2. Wrappers that hold a public base name are cut down to it: OpenAI fine-tunes
 *    `ft:BASE:ORG:SUFFIX:ID` -> `ft:BASE` (legacy `BASE:ft-ORG-DATE` -> `ft:BASE`); Google
 *    `models/NAME` and `publishers/PUB/models/NAME` -> `NAME`; Fireworks
 *    `accounts/fireworks/models/NAME` -> `NAME`.
 * 3. Names that carry an account, project or organisation and no public base are refused: AWS ARNs,
 *    Google `projects/...`, Fireworks `accounts/OTHER/...`, and `NAMESPACE/MODEL` where NAMESPACE
 *    is not one of the public model publishers below. The record is rejected with a reason that
 *    says to add an alias.
 * 4. Everything else (`gpt-4o`, `claude-3-5-sonnet-20241022`, `llama3:70b`,
 *    `anthropic.claude-3-haiku-20240307-v1:0`, `meta-llama/Llama-3.1-8B-Instruct`) is kept as it is.
 */

/** Organisations that publish open models under their own namespace (Hugging Face, Ollama, Together, OpenRouter). */
export const PUBLIC_PUBLISHERS = new Set([
  '01-ai', 'ai21labs', 'alibaba', 'allenai', 'amazon', 'anthropic', 'baai', 'bigcode', 'bigscience', 'cohere',
  'cohereforai', 'databricks', 'deepseek', 'deepseek-ai', 'eleutherai', 'google', 'huggingfaceh4', 'huggingfacetb',
  'ibm', 'ibm-granite', 'intfloat', 'lmsys', 'meta', 'meta-llama', 'microsoft', 'mistral', 'mistralai', 'mosaicml',
  'nomic-ai', 'nousresearch', 'nvidia', 'openai', 'openchat', 'qwen', 'sentence-transformers', 'snowflake',
  'stabilityai', 'teknium', 'thudm', 'tiiuae', 'togethercomputer', 'upstage', 'x-ai', 'zhipuai',
])

export type ModelNameResult = {ok: true; name: string} | {ok: false; reason: string}

const refuse = (why: string): ModelNameResult => ({
  ok: false,
  reason: `model name ${why}; map it to a public name with --model-alias NAME=PUBLIC (or modelAlias in config)`,
})

/** Lower-cased keys, so aliases match however the log capitalises the name. */
export function normaliseAliases(aliases: Record<string, string> | undefined): Map<string, string> {
  const out = new Map<string, string>()
  for (const [from, to] of Object.entries(aliases ?? {})) out.set(from.trim().toLowerCase(), to)
  return out
}

/** The public name a packet may carry for a logged model name, by the rule above. */
export function publicModelName(raw: string, aliases: Map<string, string> = new Map()): ModelNameResult {
  const name = raw.trim()
  const alias = aliases.get(name.toLowerCase())
  if (alias !== undefined) return {ok: true, name: alias}

  // OpenAI fine-tunes: ft:BASE:ORG:SUFFIX:ID (the org may be empty, "personal" or a company).
  const ft = /^ft:([^:]+)(?::|$)/i.exec(name)
  if (ft) return {ok: true, name: `ft:${ft[1]}`}
  // Legacy OpenAI fine-tunes: BASE:ft-ORG-DATE.
  const legacy = /^([a-z0-9.-]+):ft-/i.exec(name)
  if (legacy) return {ok: true, name: `ft:${legacy[1]}`}

  if (/^arn:/i.test(name)) return refuse('is a cloud resource ARN, which carries an account id')
  if (/^projects\//i.test(name) || /(?:^|\/)endpoints\//i.test(name)) return refuse('is a cloud project or endpoint path, which carries a project id')
  const google = /^(?:publishers\/[^/]+\/)?models\/([^/]+)$/i.exec(name)
  if (google) return {ok: true, name: google[1]!}
  const fireworks = /^accounts\/([^/]+)\/models\/([^/]+)$/i.exec(name)
  if (fireworks) return fireworks[1]!.toLowerCase() === 'fireworks' ? {ok: true, name: fireworks[2]!} : refuse('names a private account')

  const slash = name.indexOf('/')
  if (slash >= 0) {
    const namespace = name.slice(0, slash).toLowerCase()
    if (!PUBLIC_PUBLISHERS.has(namespace)) return refuse(`has the namespace "${name.slice(0, slash)}", which is not a known public model publisher and may name an organisation`)
  }
  return {ok: true, name}
}

/** `['my-deploy=gpt-4o']` -> `{'my-deploy': 'gpt-4o'}`; QisError (exit 2) on bad syntax. */
export function parseModelAliasFlags(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.lastIndexOf('=')
    if (eq <= 0 || eq === pair.length - 1) {
      throw new QisError(`--model-alias ${JSON.stringify(pair)}: expected NAME=PUBLIC, e.g. my-gpt4-deployment=gpt-4o`, {code: 'BAD_FLAG'})
    }
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim()
  }
  return out
}
