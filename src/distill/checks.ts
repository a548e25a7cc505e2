import {requireLabel} from '../cli/label.js'
import {DEFAULT_TTL_HOURS, MAX_OUTCOME_EPSILON, MAX_TTL_HOURS, MIN_OUTCOME_EPSILON} from '../packet/types.js'
import {QisError} from '../util/errors.js'
import {DEFAULT_MAX_GROUPS} from './aggregate.js'
import type {DistillOptions} from './types.js'

export const DEFAULT_TIME_RESOLUTION_SECONDS = 3600
/** Records per embedding call: use-lite embeds a call's texts in groups of equal token count, and larger calls make larger groups. */
export const DEFAULT_BATCH_SIZE = 256

export interface Checked {
  timeResolutionSeconds: number
  minCount: number
  ttlHours: number
  batchSize: number
  maxGroups: number
  domain: string | undefined
}

const badFlag = (message: string) => new QisError(message, {code: 'BAD_FLAG'})

/** The options with defaults filled in, or a BAD_FLAG naming the flag, before anything is read. */
export function checkOptions(o: DistillOptions): Checked {
  if (o.files.length === 0) throw badFlag('no log files given: qis distill FILE... (use - for stdin)')
  if (o.files.filter((f) => f === '-').length > 1) throw badFlag('stdin (-) can be read only once')
  const timeResolutionSeconds = o.timeResolutionSeconds ?? DEFAULT_TIME_RESOLUTION_SECONDS
  if (!Number.isInteger(timeResolutionSeconds) || timeResolutionSeconds < 0) throw badFlag('--time-resolution must be a whole number of seconds, 0 or more')
  const minCount = o.minCount ?? 1
  if (!Number.isInteger(minCount) || minCount < 1) throw badFlag(`--min-count must be a whole number of at least 1, got ${minCount}`)
  if (minCount > 1 && !o.aggregate) throw badFlag('--min-count only applies to aggregates: add --aggregate')
  // Packets state the epsilon in hundredths (outcome_epsilon), so it must be one they can state.
  if (o.epsilon !== undefined && !(Number.isFinite(o.epsilon) && o.epsilon >= MIN_OUTCOME_EPSILON && o.epsilon <= MAX_OUTCOME_EPSILON)) {
    throw badFlag(`--epsilon must be a number from ${MIN_OUTCOME_EPSILON} to ${MAX_OUTCOME_EPSILON}, got ${o.epsilon}`)
  }
  if (o.defaultConfidence !== undefined && !(o.defaultConfidence >= 0 && o.defaultConfidence <= 1)) throw badFlag(`--default-confidence must be from 0 to 1, got ${o.defaultConfidence}`)
  const ttlHours = o.ttlHours ?? DEFAULT_TTL_HOURS
  if (!Number.isInteger(ttlHours) || ttlHours < 1 || ttlHours > MAX_TTL_HOURS) throw badFlag(`--ttl must be whole hours from 1h to ${MAX_TTL_HOURS / 24}d, got ${ttlHours} hours`)
  const batchSize = o.batchSize ?? DEFAULT_BATCH_SIZE
  if (!Number.isInteger(batchSize) || batchSize < 1) throw badFlag(`batch size must be a positive whole number, got ${batchSize}`)
  const maxGroups = o.maxGroups ?? DEFAULT_MAX_GROUPS
  if (!Number.isInteger(maxGroups) || maxGroups < 1) throw badFlag(`--max-groups must be a positive whole number, got ${maxGroups}`)
  // A label a person typed is refused unless valid (BAD_LABEL, the normalised form as hint), as init does.
  const domain = o.domain === undefined ? undefined : requireLabel('domain_tag', o.domain, '--domain')
  return {timeResolutionSeconds, minCount, ttlHours, batchSize, maxGroups, domain}
}
