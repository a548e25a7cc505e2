import {type TextField, TEXT_LIMITS, checkLabel, toLabel} from '../packet/text.js'
import {QisError} from '../util/errors.js'

/**
 * The one label rule for values a person types (flags, init answers): a label that is not already
 * valid is refused, and the hint names the normalised form so the fix is one copy-paste away.
 * Labels read from logs are different: nobody can be asked, so readers normalise them (toLabel).
 */
export interface LabelProblem {
  /** What is wrong, naming the value, e.g. 'domain "Clinical Oncology" may contain only ...'. */
  message: string
  /** The normalised label, when one exists. */
  suggestion?: string
}

const NOUN: Record<TextField, string> = {
  scheme: 'scheme',
  domain_tag: 'domain',
  model_variant: 'model',
  correction_type: 'correction type',
  routing_key: 'routing key',
}

/** Undefined when `value` is a valid label for `field`; else what is wrong and the normalised form. */
export function labelProblem(field: TextField, value: string): LabelProblem | undefined {
  const problem = checkLabel(field, value)
  if (problem === undefined) return undefined
  const detail = problem.replace(new RegExp(`^${field} `), '')
  const message = `${NOUN[field]} ${JSON.stringify(value)} ${detail}`
  const suggestion = toLabel(field, value)
  return suggestion === undefined || suggestion === value ? {message} : {message, suggestion}
}

/** One line: the problem, plus 'did you mean "x"?' when there is a normalised form. */
export function describeLabelProblem(p: LabelProblem): string {
  return p.suggestion === undefined ? p.message : `${p.message}; did you mean ${JSON.stringify(p.suggestion)}?`
}

/**
 * Returns `value` if it is a valid label; throws BAD_LABEL otherwise, with the normalised form in
 * the hint. `where` names the value's source: a flag ("--domain", then the hint is a flag to type),
 * or anything else ("domain focus"); library callers with no source to name leave it out.
 */
export function requireLabel(field: TextField, value: string, where?: string): string {
  const p = labelProblem(field, value)
  if (p === undefined) return value
  const rule = `Labels are lowercase a-z, 0-9 and . _ - : (at most ${TEXT_LIMITS[field]} characters).`
  const flag = where?.startsWith('--') ? `${where} ` : ''
  throw new QisError(`${where ? `${where}: ` : ''}${p.message}`, {
    code: 'BAD_LABEL',
    hint: p.suggestion === undefined ? rule : `Use ${flag}${p.suggestion}. ${rule}`,
  })
}
