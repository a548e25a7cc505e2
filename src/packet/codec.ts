import {decode as cborDecode, encode as cborEncode} from 'cborg'
import {createHash} from 'node:crypto'

import {semanticFingerprint} from './fingerprint.js'
import {type Signer, verifySignature} from './signer.js'
import {HEX_HASH_PATTERN, checkLabel} from './text.js'
import {
  type DecodeResult,
  type OutcomePacket,
  type PacketBody,
  type PacketError,
  type PacketInfo,
  DEFAULT_TTL_HOURS,
  MAX_PACKET_BYTES,
  LDP_PACKET_VERSION,
  MAX_OUTCOME_EPSILON,
  MAX_ROUTING_KEYS,
  MAX_TTL_HOURS,
  MIN_OUTCOME_EPSILON,
  PACKET_VERSION,
} from './types.js'

/**
 * Wire format v1 (see docs/protocol.md): a CBOR array
 *   [body, publicKey(bstr 32), signature(bstr 64)]
 * where body is the CBOR array
 *   [version, scheme, domain_tag, hash(bstr), routing_keys[], outcome‰, confidence‰, model_variant,
 *    correction_applied, correction_type|null, timestamp, ttl_hours, count]
 * and wire format v2 appends outcome_epsilon in hundredths (written only when it is set).
 * Positional arrays and integer per-mille values keep it small and leave exactly one encoding per
 * packet; the decoder re-encodes and compares bytes, so a non-canonical (malleable) packet is refused.
 * The signature covers the CBOR bytes of `body`.
 */

export class PacketEncodeError extends Error {
  constructor(readonly error: PacketError) {
    super(error.message)
    this.name = 'PacketEncodeError'
  }
}

export interface DecodeOptions {
  /** Epoch seconds used for expiry and future checks. Default: now. */
  now?: number
  /** Accept expired packets (inspect shows them; nodes refuse them). */
  allowExpired?: boolean
  /** How far in the future a timestamp may lie before it is refused (clock skew). Default 1 hour. */
  maxFutureSeconds?: number
}

const MAX_COUNT = 0xffffffff
/** Body length per known version. */
const BODY_FIELDS: Record<number, number> = {[PACKET_VERSION]: 13, [LDP_PACKET_VERSION]: 14}
const KNOWN_VERSIONS = `${PACKET_VERSION} and ${LDP_PACKET_VERSION}`

const toPermille = (x: number) => Math.round(x * 1000)
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

function fail(code: PacketError['code'], message: string, field?: PacketError['field']): PacketError {
  return field === undefined ? {code, message} : {code, message, field}
}

/** Validates the logical fields; returns the first problem found. Shared by encode and decode. */
export function validatePacketFields(p: Omit<OutcomePacket, 'public_key' | 'signature'>): PacketError | undefined {
  if (p.version !== PACKET_VERSION && p.version !== LDP_PACKET_VERSION) return fail('UNSUPPORTED_VERSION', `packet version ${p.version} is not supported (this qis reads versions ${KNOWN_VERSIONS})`, 'version')
  // The version says whether the field exists, so each packet keeps exactly one encoding.
  if ((p.version === LDP_PACKET_VERSION) !== (p.outcome_epsilon !== null)) {
    return fail('INVALID_FIELD', `outcome_epsilon must be set in a version ${LDP_PACKET_VERSION} packet and only there`, 'outcome_epsilon')
  }
  if (p.outcome_epsilon !== null) {
    const e = p.outcome_epsilon
    if (typeof e !== 'number' || !Number.isFinite(e) || e < MIN_OUTCOME_EPSILON || e > MAX_OUTCOME_EPSILON || Math.round(e * 100) / 100 !== e) {
      return fail('INVALID_FIELD', `outcome_epsilon must be a number from ${MIN_OUTCOME_EPSILON} to ${MAX_OUTCOME_EPSILON} in hundredths`, 'outcome_epsilon')
    }
  }
  for (const [field, kind] of [['scheme', 'scheme'], ['domain_tag', 'domain_tag'], ['model_variant', 'model_variant']] as const) {
    const problem = checkLabel(kind, p[field])
    if (problem) return fail('INVALID_FIELD', problem, field)
  }
  if (p.correction_type !== null) {
    const problem = checkLabel('correction_type', p.correction_type)
    if (problem) return fail('INVALID_FIELD', problem, 'correction_type')
  }
  if (typeof p.query_semantic_hash !== 'string' || !HEX_HASH_PATTERN.test(p.query_semantic_hash)) {
    return fail('INVALID_FIELD', 'query_semantic_hash must be 8 to 32 lowercase hex characters (whole bytes)', 'query_semantic_hash')
  }
  if (!Array.isArray(p.routing_keys) || p.routing_keys.length > MAX_ROUTING_KEYS) {
    return fail('INVALID_FIELD', `routing_keys must be a list of at most ${MAX_ROUTING_KEYS} keys`, 'routing_keys')
  }
  for (const key of p.routing_keys) {
    const problem = checkLabel('routing_key', key)
    if (problem) return fail('INVALID_FIELD', problem, 'routing_keys')
  }
  if (new Set(p.routing_keys).size !== p.routing_keys.length) return fail('INVALID_FIELD', 'routing_keys must not repeat', 'routing_keys')
  for (const field of ['outcome_signal', 'confidence_at_inference'] as const) {
    const v = p[field]
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) return fail('INVALID_FIELD', `${field} must be a number from 0 to 1`, field)
  }
  if (typeof p.correction_applied !== 'boolean') return fail('INVALID_FIELD', 'correction_applied must be true or false', 'correction_applied')
  if (!p.correction_applied && p.correction_type !== null) {
    return fail('INVALID_FIELD', 'correction_type is set but correction_applied is false', 'correction_type')
  }
  if (!Number.isSafeInteger(p.timestamp) || p.timestamp < 0) return fail('INVALID_FIELD', 'timestamp must be a non-negative whole number of epoch seconds', 'timestamp')
  if (!Number.isInteger(p.ttl_hours) || p.ttl_hours < 1 || p.ttl_hours > MAX_TTL_HOURS) {
    return fail('INVALID_FIELD', `ttl_hours must be a whole number from 1 to ${MAX_TTL_HOURS}`, 'ttl_hours')
  }
  if (!Number.isInteger(p.count) || p.count < 1 || p.count > MAX_COUNT) return fail('INVALID_FIELD', 'count must be a whole number of at least 1', 'count')
  return undefined
}

function bodyArray(p: Omit<OutcomePacket, 'public_key' | 'signature'>): unknown[] {
  return [
    p.version,
    p.scheme,
    p.domain_tag,
    Buffer.from(p.query_semantic_hash, 'hex'),
    p.routing_keys,
    toPermille(p.outcome_signal),
    toPermille(p.confidence_at_inference),
    p.model_variant,
    p.correction_applied,
    p.correction_type,
    p.timestamp,
    p.ttl_hours,
    p.count,
    ...(p.outcome_epsilon === null ? [] : [Math.round(p.outcome_epsilon * 100)]),
  ]
}

/** Normalises a body the way the wire will (per-mille rounding, epsilon in hundredths, defaults, the version its fields need). */
export function normaliseBody(body: PacketBody): Omit<OutcomePacket, 'public_key' | 'signature'> {
  const epsilon = body.outcome_epsilon ?? null
  return {
    version: epsilon === null ? PACKET_VERSION : LDP_PACKET_VERSION,
    scheme: body.scheme,
    domain_tag: body.domain_tag,
    query_semantic_hash: body.query_semantic_hash,
    routing_keys: body.routing_keys ?? [],
    outcome_signal: typeof body.outcome_signal === 'number' ? toPermille(body.outcome_signal) / 1000 : body.outcome_signal,
    confidence_at_inference:
      typeof body.confidence_at_inference === 'number' ? toPermille(body.confidence_at_inference) / 1000 : body.confidence_at_inference,
    model_variant: body.model_variant,
    correction_applied: body.correction_applied,
    correction_type: body.correction_type ?? null,
    timestamp: body.timestamp,
    ttl_hours: body.ttl_hours ?? DEFAULT_TTL_HOURS,
    count: body.count ?? 1,
    outcome_epsilon: typeof epsilon === 'number' ? Math.round(epsilon * 100) / 100 : epsilon,
  }
}

/** Builds, validates, signs and encodes a packet. Throws PacketEncodeError (typed) on invalid input or size. */
export function encodePacket(body: PacketBody, signer: Signer): Uint8Array {
  const fields = normaliseBody(body)
  const problem = validatePacketFields(fields)
  if (problem) throw new PacketEncodeError(problem)
  const bodyBytes = cborEncode(bodyArray(fields))
  const signature = signer.sign(bodyBytes)
  const bytes = cborEncode([bodyArray(fields), signer.publicKey, signature])
  if (bytes.length > MAX_PACKET_BYTES) {
    throw new PacketEncodeError(fail('TOO_LARGE', `packet is ${bytes.length} bytes; at most ${MAX_PACKET_BYTES} allowed`))
  }
  return bytes
}

export function packetId(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function isBytes(x: unknown, length?: number): x is Uint8Array {
  return x instanceof Uint8Array && (length === undefined || x.length === length)
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}

/** Decodes and validates everything. Never throws: any input gives a typed result. */
export function decodePacket(bytes: Uint8Array, options: DecodeOptions = {}): DecodeResult {
  try {
    return decodeUnsafe(bytes, options)
  } catch (err) {
    // Defence in depth: any unexpected failure is reported as malformed input, not thrown.
    return {ok: false, error: fail('MALFORMED', `packet could not be decoded: ${(err as Error)?.message ?? String(err)}`)}
  }
}

function decodeUnsafe(bytes: Uint8Array, options: DecodeOptions): DecodeResult {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) return {ok: false, error: fail('EMPTY', 'packet is empty')}
  if (bytes.length > MAX_PACKET_BYTES) {
    return {ok: false, error: fail('TOO_LARGE', `packet is ${bytes.length} bytes; at most ${MAX_PACKET_BYTES} allowed`)}
  }
  let outer: unknown
  try {
    outer = cborDecode(bytes, {strict: true, allowIndefinite: false, rejectDuplicateMapKeys: true, useMaps: true, allowUndefined: false, allowInfinity: false, allowNaN: false, allowBigInt: false})
  } catch (err) {
    return {ok: false, error: fail('MALFORMED', `packet is not valid CBOR: ${(err as Error).message.replace(/^CBOR decode error: /, '')}`)}
  }
  if (!Array.isArray(outer) || outer.length !== 3) return {ok: false, error: fail('MALFORMED', 'packet must be a 3-element array [body, publicKey, signature]')}
  const [body, publicKey, signature] = outer as [unknown, unknown, unknown]
  if (!Array.isArray(body) || body.length === 0) return {ok: false, error: fail('MALFORMED', `packet body must be an array`)}
  const fieldCount = typeof body[0] === 'number' ? BODY_FIELDS[body[0]] : undefined
  if (fieldCount === undefined && typeof body[0] === 'number') {
    return {ok: false, error: fail('UNSUPPORTED_VERSION', `packet version ${body[0]} is not supported (this qis reads versions ${KNOWN_VERSIONS})`, 'version')}
  }
  if (body.length !== fieldCount) return {ok: false, error: fail('MALFORMED', `packet body must be a ${fieldCount ?? BODY_FIELDS[PACKET_VERSION]}-element array`)}
  if (!isBytes(publicKey, 32)) return {ok: false, error: fail('INVALID_FIELD', 'public key must be 32 bytes', 'public_key')}
  if (!isBytes(signature, 64)) return {ok: false, error: fail('INVALID_FIELD', 'signature must be 64 bytes', 'signature')}
  const [version, scheme, domain, hash, keys, outcome, confidence, model, corrected, ctype, timestamp, ttl, count, centiEpsilon] = body as unknown[]
  if (centiEpsilon !== undefined && !Number.isSafeInteger(centiEpsilon)) {
    return {ok: false, error: fail('INVALID_FIELD', 'outcome_epsilon must be a whole number of hundredths', 'outcome_epsilon')}
  }
  if (!isBytes(hash)) return {ok: false, error: fail('INVALID_FIELD', 'query_semantic_hash must be a byte string', 'query_semantic_hash')}
  for (const [value, field] of [[outcome, 'outcome_signal'], [confidence, 'confidence_at_inference']] as const) {
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 1000) {
      return {ok: false, error: fail('INVALID_FIELD', `${field} must be a number from 0 to 1`, field)}
    }
  }
  const fields = {
    version: version as number,
    scheme: scheme as string,
    domain_tag: domain as string,
    query_semantic_hash: hex(hash),
    routing_keys: keys as string[],
    outcome_signal: (outcome as number) / 1000,
    confidence_at_inference: (confidence as number) / 1000,
    model_variant: model as string,
    correction_applied: corrected as boolean,
    correction_type: ctype as string | null,
    timestamp: timestamp as number,
    ttl_hours: ttl as number,
    count: count as number,
    outcome_epsilon: centiEpsilon === undefined ? null : (centiEpsilon as number) / 100,
  }
  const problem = validatePacketFields(fields)
  if (problem) return {ok: false, error: problem}
  const bodyBytes = cborEncode(bodyArray(fields))
  if (!bytesEqual(cborEncode([bodyArray(fields), publicKey, signature]), bytes)) {
    return {ok: false, error: fail('NOT_CANONICAL', 'packet is not in canonical encoding (it was altered or built by a non-conforming encoder)')}
  }
  const packet: OutcomePacket = {...fields, public_key: hex(publicKey), signature: hex(signature)}
  const signatureValid = verifySignature(publicKey, bodyBytes, signature)
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const expiresAt = fields.timestamp + fields.ttl_hours * 3600
  const info: PacketInfo = {
    size: bytes.length,
    id: packetId(bytes),
    fingerprint: semanticFingerprint(fields.scheme, fields.domain_tag, fields.query_semantic_hash),
    signatureValid,
    expiresAt,
    expired: now >= expiresAt,
  }
  if (!signatureValid) return {ok: false, error: fail('BAD_SIGNATURE', 'signature does not match the packet body and public key', 'signature'), packet, info}
  if (fields.timestamp > now + (options.maxFutureSeconds ?? 3600)) {
    return {ok: false, error: fail('FUTURE_TIMESTAMP', `timestamp ${fields.timestamp} lies in the future`, 'timestamp'), packet, info}
  }
  if (info.expired && !options.allowExpired) {
    return {ok: false, error: fail('EXPIRED', `packet expired at ${new Date(expiresAt * 1000).toISOString()}`, 'ttl_hours'), packet, info}
  }
  return {ok: true, packet, info}
}
