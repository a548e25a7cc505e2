/**
 * Wire format versions. Version 1 is the 13-field body; version 2 adds `outcome_epsilon` (field 13)
 * and is written only for packets whose outcome was randomised (`qis distill --epsilon`), so every
 * other packet stays readable by nodes that know version 1 only. Decoders refuse versions they do
 * not know.
 */
export const PACKET_VERSION = 1
export const LDP_PACKET_VERSION = 2
/** `outcome_epsilon` travels in hundredths: the smallest epsilon a packet can state, and the largest. */
export const MIN_OUTCOME_EPSILON = 0.01
export const MAX_OUTCOME_EPSILON = 10_000
/** The whole encoded packet (body, public key and signature) never exceeds this. */
export const MAX_PACKET_BYTES = 512
/** At most this many routing keys per packet (issue: "at most 8 per query"). */
export const MAX_ROUTING_KEYS = 8
/** Upper bound on TTL: a year. Longer-lived outcome signals are stale by the time they are read. */
export const MAX_TTL_HOURS = 24 * 365
export const DEFAULT_TTL_HOURS = 168

/**
 * One outcome packet, as the library and `--json` output see it. Field names follow the reference
 * pattern (snake_case) so a packet reads the same in Python sketches, JSON output and docs.
 * Nothing here can hold free text: every string is checked against TEXT_RULES.
 */
export interface OutcomePacket {
  version: number
  /** Hash scheme id: which embedder + hashing produced the semantic hash and keys. Never compare across schemes. */
  scheme: string
  domain_tag: string
  /** Fine semantic hash of the (scrubbed) query embedding, lowercase hex, 8..32 chars. */
  query_semantic_hash: string
  /** Coarse routing keys the packet is published under (see src/hash). */
  routing_keys: string[]
  /** 0..1, three decimals. */
  outcome_signal: number
  /** 0..1, three decimals. */
  confidence_at_inference: number
  model_variant: string
  correction_applied: boolean
  correction_type: string | null
  /** Epoch seconds (coarsened by distill's --time-resolution). */
  timestamp: number
  ttl_hours: number
  /** How many log records this packet distils (1 unless aggregated). */
  count: number
  /**
   * The epsilon of the randomised response applied to `outcome_signal` (`qis distill --epsilon`),
   * in hundredths; null when the outcome is exact. Receivers use it to undo the noise's bias and
   * to count such a record as the information it carries (docs/weights.md, "Randomised outcomes").
   */
  outcome_epsilon: number | null
  /** Signer's raw ed25519 public key, lowercase hex (64 chars). */
  public_key: string
  /** ed25519 signature over the canonical body, lowercase hex (128 chars). */
  signature: string
}

/** What a caller supplies to build a packet; version, key and signature are added by encode. */
export type PacketBody = Omit<OutcomePacket, 'version' | 'public_key' | 'signature' | 'count' | 'ttl_hours' | 'routing_keys' | 'correction_type' | 'outcome_epsilon'> & {
  count?: number
  outcome_epsilon?: number | null
  ttl_hours?: number
  routing_keys?: string[]
  correction_type?: string | null
}

export type PacketErrorCode =
  | 'EMPTY'
  | 'TOO_LARGE'
  | 'MALFORMED'
  | 'NOT_CANONICAL'
  | 'UNSUPPORTED_VERSION'
  | 'INVALID_FIELD'
  | 'BAD_SIGNATURE'
  | 'EXPIRED'
  | 'FUTURE_TIMESTAMP'

export interface PacketError {
  code: PacketErrorCode
  message: string
  field?: keyof OutcomePacket
}

/** Facts about an encoded packet that are not fields of it. */
export interface PacketInfo {
  /** Encoded size in bytes. */
  size: number
  /** sha256 of the encoded bytes, hex: the packet's identity for de-duplication and journals. */
  id: string
  /** The reference pattern's semantic fingerprint of (scheme, domain, query hash). */
  fingerprint: string
  signatureValid: boolean
  /** Epoch seconds after which the packet is expired. */
  expiresAt: number
  expired: boolean
}

export type DecodeResult =
  | {ok: true; packet: OutcomePacket; info: PacketInfo}
  /** `packet`/`info` are present when the bytes parsed into a well-formed packet that then failed a check (signature, expiry). */
  | {ok: false; error: PacketError; packet?: OutcomePacket; info?: PacketInfo}
