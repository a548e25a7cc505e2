import type {OutcomePacket} from './types.js'

/**
 * Text fields may carry labels, never prose: lowercase ASCII letters, digits and `. _ - :`.
 * Spaces, capitals, apostrophes and anything non-ASCII are refused, so a name or a sentence cannot
 * ride along in a packet by accident ("Dr Smith's ward" fails on the first capital).
 */
export const LABEL_PATTERN = /^[a-z0-9._:-]+$/

export const TEXT_LIMITS = {
  scheme: 40,
  domain_tag: 64,
  model_variant: 48,
  correction_type: 24,
  routing_key: 16,
} as const

export type TextField = keyof typeof TEXT_LIMITS

/** Returns an error message, or undefined when `value` is a valid label for `field`. */
export function checkLabel(field: TextField, value: unknown): string | undefined {
  if (typeof value !== 'string') return `${field} must be a string`
  if (value.length === 0) return `${field} must not be empty`
  if (value.length > TEXT_LIMITS[field]) return `${field} is ${value.length} characters; at most ${TEXT_LIMITS[field]} allowed`
  if (!LABEL_PATTERN.test(value)) {
    const bad = [...value].find((ch) => !/[a-z0-9._:-]/.test(ch)) ?? '?'
    return `${field} may contain only lowercase a-z, 0-9 and . _ - : (found ${JSON.stringify(bad)})`
  }
  return undefined
}

/**
 * Best-effort conversion of a log's label (e.g. "Clinical Oncology") into a valid one
 * ("clinical_oncology"). Returns undefined when nothing valid is left. Used for domains and
 * model names read from logs; never for anything that could be free text.
 */
export function toLabel(field: TextField, raw: string): string | undefined {
  const label = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .trim()
    .replace(/[\s/]+/g, '_')
    .replace(/[^a-z0-9._:-]/g, '')
    .replace(/_+/g, '_')
  if (label.length === 0 || label.length > TEXT_LIMITS[field]) return undefined
  return checkLabel(field, label) === undefined ? label : undefined
}

export const HEX_HASH_PATTERN = /^(?:[0-9a-f]{2}){4,16}$/

export type FieldName = keyof OutcomePacket
