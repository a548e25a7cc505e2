import {contentText, userText} from './messages.js'

/**
 * Log schemas of the tools deployments already run, turned into flat rows with qis's field names
 * (docs/ingest.md, "Log formats"). Each converter takes one parsed object (a JSONL line, a JSON array
 * element, a CSV or Parquet row) and returns the rows it holds: one for most formats, one per span
 * for OpenTelemetry. A row keeps the object it came from under SOURCE, so `--map` can name any of
 * its fields, while the built-in field names see only what the converter extracted (a Langfuse
 * `input` array is never misread as query text).
 */
export const SCHEMAS = ['generic', 'otel', 'langfuse', 'langsmith', 'openai-batch', 'helicone'] as const
export type Schema = (typeof SCHEMAS)[number]

/** The object a converted row came from, for `--map`. */
export const SOURCE = Symbol('source')
export type Row = Record<string, unknown> & {[SOURCE]?: Record<string, unknown>}

/** How scores and feedback become an outcome or a correction (config profiles' `scores`). */
export interface ScoreMapping {
  /** Score names that give the outcome. Default: every numeric or boolean score. */
  outcome?: string[]
  /** Score names that mark a correction; a text value becomes the correction type. Default: correction, corrected, human-correction. */
  correction?: string[]
  /** Numeric outcome scores are 1..5 ratings. */
  ratingScale?: boolean
}

const DEFAULT_CORRECTION_SCORES = ['correction', 'corrected', 'human-correction', 'human_correction']

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v)

/** JSON text in a CSV or Parquet cell, parsed; anything else as it is. */
function json(v: unknown): unknown {
  if (typeof v !== 'string') return v
  const t = v.trim()
  if (!(t.startsWith('{') || t.startsWith('['))) return v
  try {
    return JSON.parse(t)
  } catch {
    return v
  }
}

function path(o: unknown, ...keys: string[]): unknown {
  let v: unknown = o
  for (const k of keys) {
    v = json(v)
    if (!isObj(v)) return undefined
    v = v[k]
  }
  return v
}

const first = (...vs: unknown[]) => vs.find((v) => v !== undefined && v !== null && v !== '')

/** Which schema one parsed object is in, from keys only those tools write. `generic` when none fits. */
export function detectSchema(o: Obj): Schema {
  const has = (k: string) => k in o
  if (has('resourceSpans')) return 'otel'
  if (has('custom_id') && (has('body') || has('response') || has('error'))) return 'openai-batch'
  if ((has('run_type') && (has('inputs') || has('outputs'))) || (has('run_id') && has('key') && (has('score') || has('value') || has('correction')))) return 'langsmith'
  if (has('request_body') && (has('request_id') || has('request_created_at'))) return 'helicone'
  if (has('traceId') && has('name') && has('value') && (has('dataType') || has('source') || has('observationId'))) return 'langfuse'
  if (has('traceId') && (has('startTime') || has('type')) && (has('input') || has('output') || has('model'))) return 'langfuse'
  if (has('id') && has('timestamp') && (has('input') || has('output')) && ['sessionId', 'userId', 'htmlPath', 'observations', 'projectId', 'latency', 'totalCost'].some(has)) return 'langfuse'
  return 'generic'
}

/**
 * Rows of one object in `schema`. A row that is not an inference (a Langfuse SPAN, an HTTP span, a
 * LangSmith tool run) carries `skip` with the reason; a row that only adds to another record (a
 * score, feedback, a batch output) carries `join: true`.
 */
export function convert(schema: Schema, o: Obj, scores: ScoreMapping = {}): Row[] {
  switch (schema) {
    case 'generic':
      return [o]
    case 'otel':
      return otelRows(o)
    case 'langfuse':
      return [langfuseRow(o, scores)]
    case 'langsmith':
      return [langsmithRow(o, scores)]
    case 'openai-batch':
      return [openaiBatchRow(o)]
    case 'helicone':
      return [heliconeRow(o, scores)]
  }
}

function withSource(row: Row, o: Obj): Row {
  row[SOURCE] = o
  for (const k of Object.keys(row)) if (row[k] === undefined) delete row[k]
  return row
}

/** Outcome and correction from named scores ({name: value} pairs), by the mapping. */
function fromScores(pairs: Array<{name: string; value: unknown; text?: unknown}>, m: ScoreMapping): {outcome?: number; outcomeField?: string; correctionType?: string; correction: boolean; invalid?: string} {
  const corrections = new Set((m.correction ?? DEFAULT_CORRECTION_SCORES).map((s) => s.toLowerCase()))
  const outcomes = m.outcome ? new Set(m.outcome.map((s) => s.toLowerCase())) : undefined
  let sum = 0
  let n = 0
  let correction = false
  let correctionType: string | undefined
  let invalid: string | undefined
  for (const {name, value, text} of pairs) {
    const key = name.toLowerCase()
    if (corrections.has(key)) {
      if (value === false || value === 0 || value === 'false') continue
      correction = true
      correctionType = typeof text === 'string' && text !== '' ? text : typeof value === 'string' && value !== '' && value !== 'true' ? value : name
      continue
    }
    if (outcomes && !outcomes.has(key)) continue
    const raw = typeof value === 'boolean' ? (value ? 1 : 0) : typeof value === 'string' && value.trim() !== '' ? Number(value) : value
    if (typeof raw !== 'number' || !Number.isFinite(raw)) continue // categorical scores say nothing numeric
    let v = raw
    if (m.ratingScale) {
      if (v < 1 || v > 5) {
        invalid = `score "${name}" ${v} is outside 1..5`
        continue
      }
      v = (v - 1) / 4
    } else if (v < 0 || v > 1) {
      invalid = `score "${name}" ${v} is outside 0..1 (for 1..5 ratings set scores.ratingScale in a profile)`
      continue
    }
    sum += v
    n++
  }
  return {outcome: n ? sum / n : undefined, correction, correctionType, invalid: n ? undefined : invalid}
}

function scoreRowFields(s: ReturnType<typeof fromScores>): Row {
  const row: Row = {}
  if (s.outcome !== undefined) row.outcome = s.outcome
  if (s.correction) {
    row.correction_applied = true
    if (s.correctionType) row.correction_type = s.correctionType
  }
  if (s.invalid && s.outcome === undefined) row.__invalid = s.invalid
  return row
}

// ---------------------------------------------------------------- OpenTelemetry GenAI (OTLP JSON)

/** OTLP JSON AnyValue -> a plain value. */
function anyValue(v: unknown): unknown {
  if (!isObj(v)) return v
  if ('stringValue' in v) return v.stringValue
  if ('intValue' in v) return Number(v.intValue)
  if ('doubleValue' in v) return Number(v.doubleValue)
  if ('boolValue' in v) return v.boolValue
  if ('arrayValue' in v) return ((v.arrayValue as Obj)?.values as unknown[] | undefined)?.map(anyValue) ?? []
  if ('kvlistValue' in v) return attributes((v.kvlistValue as Obj)?.values)
  return undefined
}

function attributes(list: unknown): Obj {
  const out: Obj = {}
  if (Array.isArray(list)) for (const kv of list) if (isObj(kv) && typeof kv.key === 'string') out[kv.key] = anyValue(kv.value)
  return out
}

/** Indexed attributes (gen_ai.prompt.0.role, llm.input_messages.1.message.content) -> messages in order. */
function indexedMessages(attrs: Obj, prefix: string, roleKey: string, contentKey: string): Obj[] {
  const out: Obj[] = []
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)\\.`)
  for (const k of Object.keys(attrs)) {
    const m = re.exec(k)
    if (!m) continue
    const i = Number(m[1])
    out[i] ??= {}
    const rest = k.slice(m[0].length)
    if (rest === roleKey) out[i]!.role = attrs[k]
    else if (rest === contentKey) out[i]!.content = attrs[k]
    else if (rest.startsWith('message.contents.') && rest.endsWith('.message_content.text')) {
      out[i]!.content = ((out[i]!.content as string | undefined) ?? '') + String(attrs[k])
    }
  }
  return out.filter(Boolean)
}

const nanosToMs = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : Math.round(Number(v) / 1e6))

function otelRows(o: Obj): Row[] {
  const rows: Row[] = []
  for (const rs of (o.resourceSpans as unknown[]) ?? []) {
    if (!isObj(rs)) continue
    for (const ss of ((rs.scopeSpans ?? rs.instrumentationLibrarySpans) as unknown[]) ?? []) {
      if (!isObj(ss)) continue
      for (const span of (ss.spans as unknown[]) ?? []) if (isObj(span)) rows.push(otelSpan(span))
    }
  }
  return rows
}

function otelSpan(span: Obj): Row {
  const attrs = attributes(span.attributes)
  const events = Array.isArray(span.events) ? (span.events as Obj[]).filter(isObj) : []
  const kind = attrs['openinference.span.kind']
  const genai = Object.keys(attrs).some((k) => k.startsWith('gen_ai.')) || events.some((e) => typeof e.name === 'string' && e.name.startsWith('gen_ai.'))
  const isLlm = kind === 'LLM' || (kind === undefined && (genai || 'llm.model_name' in attrs || 'llm.input_messages.0.message.role' in attrs))
  const row: Row = {id: span.spanId, trace_id: span.traceId, timestamp: nanosToMs(span.startTimeUnixNano)}
  if (!isLlm) {
    row.__skip = kind ? `OpenInference ${String(kind)} span (only LLM spans are inferences)` : 'span without GenAI attributes (not an inference)'
    return withSource(row, attrs)
  }
  let query: string | undefined
  // Newest conventions: gen_ai.input.messages as JSON [{role, parts: [{type: "text", content}]}].
  if (attrs['gen_ai.input.messages'] !== undefined) query = userText(attrs['gen_ai.input.messages'])
  if (query === undefined) {
    const prompt = indexedMessages(attrs, 'gen_ai.prompt', 'role', 'content')
    if (prompt.length) query = userText(prompt)
  }
  if (query === undefined) {
    const oi = indexedMessages(attrs, 'llm.input_messages', 'message.role', 'message.content')
    if (oi.length) query = userText(oi)
  }
  if (query === undefined) {
    // Event forms: gen_ai.user.message (content attribute), gen_ai.content.prompt (gen_ai.prompt attribute).
    for (let i = events.length - 1; i >= 0 && query === undefined; i--) {
      const e = events[i]!
      const ea = attributes(e.attributes)
      if (e.name === 'gen_ai.user.message') query = typeof ea.content === 'string' ? (userText(ea.content) ?? ea.content) : contentText(ea.content) ?? userText(ea['gen_ai.event.content'])
      else if (e.name === 'gen_ai.content.prompt') query = userText(ea['gen_ai.prompt'])
    }
  }
  if (query === undefined && attrs['input.value'] !== undefined) query = userText(attrs['input.value'])
  row.query = query
  row.model = first(attrs['gen_ai.response.model'], attrs['gen_ai.request.model'], attrs['llm.model_name'])
  // gen_ai.evaluation.result events carry a score for the span.
  const evals = events.filter((e) => e.name === 'gen_ai.evaluation.result').map((e) => attributes(e.attributes))
  const values = evals.map((a) => a['gen_ai.evaluation.score.value']).filter((v) => typeof v === 'number') as number[]
  if (values.length && values.every((v) => v >= 0 && v <= 1)) row.outcome = values.reduce((a, b) => a + b, 0) / values.length
  return withSource(row, attrs)
}

// ---------------------------------------------------------------- Langfuse

function langfuseRow(o: Obj, m: ScoreMapping): Row {
  // Scores (GET /api/public/scores, or a scores export): join on observationId, else traceId.
  if ('value' in o && 'name' in o && ('traceId' in o || 'observationId' in o) && !('input' in o)) {
    const s = fromScores([{name: String(o.name), value: o.dataType === 'CATEGORICAL' ? o.stringValue ?? o.value : o.value, text: o.stringValue}], m)
    const row: Row = {id: first(o.observationId, o.traceId), join: true, correction_applied: false, timestamp: o.timestamp, ...scoreRowFields(s)}
    if (row.outcome === undefined && !row.correction_applied && !row.__invalid) row.__skip = `score "${String(o.name)}" is neither an outcome nor a correction score`
    return withSource(row, o)
  }
  const isObservation = 'traceId' in o
  const row: Row = {
    id: o.id,
    trace_id: isObservation ? o.traceId : undefined,
    query: userText(json(o.input)),
    model: first(o.model, path(o, 'metadata', 'model'), path(o, 'metadata', 'ls_model_name')),
    timestamp: first(o.startTime, o.timestamp),
    domain: first(path(o, 'metadata', 'domain'), path(o, 'metadata', 'domain_tag')),
  }
  if (isObservation && o.type !== undefined && o.type !== 'GENERATION') row.__skip = `Langfuse ${String(o.type)} observation (only GENERATION observations are inferences)`
  // Trace exports may carry their scores inline: [{name, value, ...}].
  const scores = json(o.scores)
  if (Array.isArray(scores)) {
    const pairs = scores.filter(isObj).map((s) => ({name: String(s.name), value: s.dataType === 'CATEGORICAL' ? s.stringValue ?? s.value : s.value, text: s.stringValue}))
    Object.assign(row, scoreRowFields(fromScores(pairs, m)))
  }
  return withSource(row, o)
}

// ---------------------------------------------------------------- LangSmith

function langsmithRow(o: Obj, m: ScoreMapping): Row {
  if ('run_id' in o && 'key' in o) {
    // Feedback export: join on run_id; a `correction` means a person corrected the output.
    const corrected = o.correction !== undefined && o.correction !== null && o.correction !== ''
    const s = fromScores([{name: String(o.key), value: first(o.score, o.value)}], m)
    const row: Row = {id: o.run_id, join: true, correction_applied: false, ...scoreRowFields(s)}
    if (corrected) {
      row.correction_applied = true
      row.correction_type ??= String(o.key)
    }
    if (row.outcome === undefined && !row.correction_applied && !row.__invalid) row.__skip = `feedback "${String(o.key)}" has no numeric score`
    return withSource(row, o)
  }
  const extra = json(o.extra)
  const row: Row = {
    id: o.id,
    trace_id: o.trace_id,
    query: userText(json(o.inputs)),
    model: first(path(extra, 'metadata', 'ls_model_name'), path(extra, 'invocation_params', 'model'), path(extra, 'invocation_params', 'model_name')),
    timestamp: first(o.start_time, o.start_time_ms),
  }
  const root = o.parent_run_id === undefined || o.parent_run_id === null || o.parent_run_id === ''
  if (o.run_type !== 'llm' && !root) row.__skip = `LangSmith ${String(o.run_type)} run inside a trace (only LLM runs and root runs are inferences)`
  // feedback_stats: {key: {n, avg}}
  const stats = json(o.feedback_stats)
  if (isObj(stats)) {
    const pairs = Object.entries(stats).filter(([, v]) => isObj(v)).map(([name, v]) => ({name, value: (v as Obj).avg}))
    Object.assign(row, scoreRowFields(fromScores(pairs, m)))
  }
  return withSource(row, o)
}

// ---------------------------------------------------------------- OpenAI Batch API

function openaiBatchRow(o: Obj): Row {
  if ('body' in o && !('response' in o)) {
    // Input file: {custom_id, method, url, body: {model, messages | input | prompt}}.
    const body = json(o.body)
    return withSource({id: o.custom_id, query: userText(isObj(body) ? first(body.messages, body.input, body.prompt) : undefined), model: path(body, 'model')}, o)
  }
  // Output file: {custom_id, response: {status_code, body: {model, created, choices}}, error}: joined to the input by custom_id.
  const status = path(o, 'response', 'status_code')
  const body = path(o, 'response', 'body')
  const row: Row = {id: o.custom_id, join: true, correction_applied: false}
  if (o.error || (typeof status === 'number' && status !== 200)) {
    row.__skip = `batch request failed (${typeof status === 'number' ? `status ${status}` : 'error'})`
    return withSource(row, o)
  }
  row.model = path(body, 'model')
  const created = path(body, 'created')
  if (typeof created === 'number') row.timestamp = created
  // With logprobs requested, the geometric mean token probability is the model's own confidence.
  const lp = path(body, 'choices') as unknown
  const tokens = Array.isArray(lp) && isObj(lp[0]) ? (path(lp[0], 'logprobs', 'content') as unknown) : undefined
  if (Array.isArray(tokens) && tokens.length) {
    const vals = tokens.map((t) => (isObj(t) ? Number(t.logprob) : NaN)).filter(Number.isFinite)
    if (vals.length) row.confidence = Math.exp(vals.reduce((a, b) => a + b, 0) / vals.length)
  }
  return withSource(row, o)
}

// ---------------------------------------------------------------- Helicone

function heliconeRow(o: Obj, m: ScoreMapping): Row {
  const body = json(o.request_body)
  const row: Row = {
    id: o.request_id,
    query: userText(isObj(body) ? first(body.messages, body.input, body.prompt) : undefined),
    model: first(o.model, o.response_model, o.request_model, path(body, 'model')),
    timestamp: o.request_created_at,
    domain: first(path(o, 'properties', 'domain'), path(o, 'request_properties', 'domain')),
  }
  const rating = o.feedback_rating
  if (typeof rating === 'boolean' || rating === 'true' || rating === 'false') row.outcome = rating === true || rating === 'true' ? 1 : 0
  const scores = json(o.scores)
  if (row.outcome === undefined && isObj(scores)) Object.assign(row, scoreRowFields(fromScores(Object.entries(scores).map(([name, value]) => ({name, value})), m)))
  return withSource(row, o)
}
