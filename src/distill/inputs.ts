import type {IngestProfile, QisConfig} from '../config/config.js'
import type {InputFormat, SourceInfo} from '../ingest/types.js'
import {QisError} from '../util/errors.js'
import type {DistillOptions} from './types.js'

/** What a run reads, after a config profile filled in what the command line did not say. */
export interface InputSettings {
  format?: InputFormat
  map?: string[]
  correctionsFormat?: InputFormat
  correctionsMap?: string[]
  scores?: IngestProfile['scores']
  domain?: string
  defaultConfidence?: number
}

const pairs = (m: Record<string, string> | undefined) => (m ? Object.entries(m).map(([k, v]) => `${k}=${v}`) : undefined)

/** Options over the named profile over nothing; an unknown profile is a flag error naming the known ones. */
export function inputSettings(options: DistillOptions, config: QisConfig, configFile: string): InputSettings {
  let p: IngestProfile = {}
  if (options.profile !== undefined) {
    const profiles = config.profiles ?? {}
    const found = profiles[options.profile]
    if (!found || typeof found !== 'object') {
      const known = Object.keys(profiles)
      throw new QisError(`--profile ${options.profile}: no such profile in ${configFile} (${known.length ? `known: ${known.join(', ')}` : 'it has none; add one under "profiles"'})`, {code: 'BAD_FLAG'})
    }
    p = found
  }
  return {
    format: options.format ?? (p.inputFormat as InputFormat | undefined),
    map: options.map?.length ? options.map : pairs(p.map),
    correctionsFormat: options.correctionsFormat ?? (p.correctionsFormat as InputFormat | undefined),
    correctionsMap: options.correctionsMap?.length ? options.correctionsMap : pairs(p.correctionsMap),
    scores: options.scores ?? p.scores,
    domain: options.domain ?? p.domain,
    defaultConfidence: options.defaultConfidence ?? p.defaultConfidence,
  }
}

/** Per-file tallies, for saying what a file that gave nothing looked like. */
export class FileTally {
  private readonly info = new Map<string, SourceInfo>()
  private readonly emitted = new Map<string, number>()
  private readonly missing = new Map<string, Map<string, number>>()

  seen = (info: SourceInfo): void => {
    this.info.set(info.file, info)
  }

  emit(file: string): void {
    this.emitted.set(file, (this.emitted.get(file) ?? 0) + 1)
  }

  /** A record skipped because `field` (outcome, confidence, query) was missing. */
  lacked(file: string, field: 'outcome' | 'confidence' | 'query'): void {
    const m = this.missing.get(file) ?? new Map<string, number>()
    m.set(field, (m.get(field) ?? 0) + 1)
    this.missing.set(file, m)
  }

  /**
   * For each file none of whose records could be used for want of a field: which keys it has, and
   * the --map that would name the field, guessed from the key names.
   */
  hints(): string[] {
    const out: string[] = []
    for (const [file, lacks] of this.missing) {
      if ((this.emitted.get(file) ?? 0) > 0) continue
      const info = this.info.get(file)
      const keys = info?.keys ?? []
      const what = [...lacks.entries()].sort((a, b) => b[1] - a[1]).map(([f]) => f)
      const saw = keys.length ? `${info!.container === 'csv' ? 'columns' : 'keys'} seen: ${keys.slice(0, 20).join(', ')}${keys.length > 20 ? ', ...' : ''}` : 'no keys seen'
      const schema = info && info.schema !== 'generic' ? ` (read as ${info.schema})` : ''
      const maps = what.map((f) => `--map ${f}=${guess(f, keys) ?? 'COLUMN'}`)
      out.push(`${file}${schema}: no record had ${what.join(' or ')}; ${saw}. If one of them holds it, name it: ${maps.join(' ')}${what.includes('confidence') ? ' (or --default-confidence C)' : ''}`)
    }
    return out
  }
}

const GUESS: Record<string, RegExp> = {
  outcome: /score|rating|quality|feedback|grade|label|correct|success|result|accept|helpful|thumb|vote|reward/i,
  confidence: /conf|prob|certain|logprob/i,
  query: /question|prompt|query|input|text|message|request|ask|utterance/i,
}

function guess(field: string, keys: string[]): string | undefined {
  return keys.find((k) => GUESS[field]!.test(k))
}
