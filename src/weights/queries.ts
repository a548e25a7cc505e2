import {promises as fs} from 'node:fs'

import {toLabel} from '../packet/text.js'
import {QisError, errorMessage} from '../util/errors.js'

/** One query a deployment is answering or about to answer (`pull-weights --queries`). */
export interface QueryLine {
  query: string
  domain: string
  /** 1-based line in the file. */
  line: number
}

/** Field names read for the query text, as inference logs commonly name it. */
const QUERY_FIELDS = ['query', 'prompt', 'question', 'input', 'text'] as const

/**
 * Reads a queries file: JSONL, one object per line with the text in `query` (or `prompt`,
 * `question`, `input`, `text`) and optionally `domain`; or plain text, one query per line. A line
 * without a domain takes `domain` (--domain); neither is an error naming the line. Domains are
 * made labels the way distill makes them, and one the scrubber would change is refused, since a
 * domain is part of what is hashed into the key fingerprints that leave the machine.
 */
export async function readQueriesFile(file: string, options: {domain?: string; scrubber: {scrub(text: string): {text: string}}}): Promise<QueryLine[]> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new QisError(`queries file ${file} does not exist`, {code: 'INPUT_NOT_FOUND', cause: err})
    throw new QisError(`cannot read queries file ${file}: ${errorMessage(err)}`, {code: 'BAD_INPUT', cause: err})
  }
  const lines = text.split(/\r?\n/)
  const firstContent = lines.find((l) => l.trim() !== '')?.trim()
  const jsonl = firstContent?.startsWith('{') ?? false
  const bad = (line: number, field: string, message: string) => new QisError(`${file}:${line}: field "${field}": ${message}`, {code: 'BAD_INPUT'})
  const labels = new Map<string, string | undefined>()
  const domainLabel = (raw: string, line: number, field: string): string => {
    if (!labels.has(raw)) labels.set(raw, options.scrubber.scrub(raw).text !== raw ? undefined : toLabel('domain_tag', raw))
    const label = labels.get(raw)
    if (label === undefined) throw bad(line, field, `"${raw}" cannot be a domain (a short category such as clinical.oncology, with nothing personal in it)`)
    return label
  }
  let fallback: string | undefined
  if (options.domain !== undefined) {
    fallback = options.scrubber.scrub(options.domain).text === options.domain ? toLabel('domain_tag', options.domain) : undefined
    if (fallback === undefined) throw new QisError(`--domain "${options.domain}" cannot be a domain (a short category such as clinical.oncology, with nothing personal in it)`, {code: 'BAD_FLAG'})
  }
  const out: QueryLine[] = []
  lines.forEach((raw, i) => {
    const line = i + 1
    if (raw.trim() === '') return
    let query: string
    let domain: string | undefined
    if (jsonl) {
      let record: unknown
      try {
        record = JSON.parse(raw)
      } catch (err) {
        throw new QisError(`${file}:${line}: not JSON: ${errorMessage(err)}`, {code: 'BAD_INPUT'})
      }
      if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new QisError(`${file}:${line}: must be a JSON object`, {code: 'BAD_INPUT'})
      const r = record as Record<string, unknown>
      const field = QUERY_FIELDS.find((f) => r[f] !== undefined)
      if (field === undefined) throw bad(line, 'query', `missing (one of ${QUERY_FIELDS.join(', ')})`)
      if (typeof r[field] !== 'string' || (r[field] as string).trim() === '') throw bad(line, field, 'must be non-empty text')
      query = r[field] as string
      if (r.domain !== undefined && r.domain !== null && r.domain !== '') {
        if (typeof r.domain !== 'string') throw bad(line, 'domain', 'must be text')
        domain = domainLabel(r.domain, line, 'domain')
      }
    } else {
      query = raw
    }
    domain ??= fallback
    if (domain === undefined) throw bad(line, 'domain', 'missing: give each line a "domain", or pass --domain for the whole file')
    out.push({query, domain, line})
  })
  return out
}
