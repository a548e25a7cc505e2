import '../util/polyfill.js'

import {decode as cborDecode, encode as cborEncode} from 'cborg'
import * as lp from 'it-length-prefixed'
import type {Libp2p, PeerId, Stream} from '@libp2p/interface'

import {MAX_PACKET_BYTES, type PacketErrorCode} from '../packet/types.js'

/**
 * Wire protocols of the qis swarm (docs/swarm.md has the message flow). kad-dht only routes;
 * packets travel over two protocols of our own, each one request and one response per stream,
 * every message a varint-length-prefixed CBOR value with a hard size cap checked before decoding.
 */
export const KAD_PROTOCOL = '/qis/kad/1.0.0'
export const STORE_PROTOCOL = '/qis/store/1.0.0'
export const FETCH_PROTOCOL = '/qis/fetch/1.0.0'
/** Batched FIND_NODE: the closest storage peers a node knows for many keys in one request (src/swarm/lookup.ts). */
export const CLOSEST_PROTOCOL = '/qis/closest/1.0.0'
/** Which of these packets (by id prefix) do you lack under these keys: re-replication's check before it sends packets (src/swarm/replicate.ts). */
export const HAVE_PROTOCOL = '/qis/have/1.0.0'
/** DHT record namespace: keys `/qis/<fingerprint>`. The store protocol carries the data; the DHT validator refuses anything that is not a valid signed packet under a matching key. */
export const RECORD_NAMESPACE = 'qis'

/** A key fingerprint: 32 lowercase hex chars (semanticFingerprint). */
export const FINGERPRINT_PATTERN = /^[0-9a-f]{32}$/

export const PROTOCOL_LIMITS = {
  /** Packets in one store request (one key). */
  maxStoreBatch: 256,
  /** Store requests on one stream (each answered before the next is read). */
  maxStoreRequestsPerStream: 64,
  /** Keys in one fetch request. */
  maxFetchKeys: 64,
  /** Packets per fetch response frame. */
  maxPacketsPerFrame: 128,
  /** Any single frame we read; a store request of maxStoreBatch full packets fits with room. */
  maxFrameBytes: 256 * 1024,
  /**
   * Packets one fetch response carries in total. The budget is shared out per key, so a key
   * holding more than its share cannot starve the others; what did not fit is named in the `done`
   * frame's `more` with a cursor, and the client asks again from there (paging).
   */
  maxFetchPackets: 50_000,
  /** Keys in one closest-peers request. */
  maxClosestKeys: 256,
  /** Peers asked for per key in one closest-peers request. */
  maxClosestCount: 20,
  /** Distinct peers one closest-peers response may name (each key's list indexes into them). */
  maxClosestPeers: 512,
  /** Multiaddrs per peer in a closest-peers response, and the length of each. */
  maxPeerAddrs: 4,
  maxAddrChars: 128,
  /** Keys in one have request, and packet ids over all of them (8 bytes each: 128 KiB fits a frame with room). */
  maxHaveKeys: 256,
  maxHaveIds: 16_384,
} as const

/**
 * Bytes of a packet id (sha256 of the packet) sent in a have request. The answer is per key, and a
 * key holds at most 50,000 packets on a node: two of them sharing their first 64 bits has a
 * chance of about 1e-10, and its cost would be one packet not pushed to one peer in one round.
 */
export const HAVE_ID_BYTES = 8

// Per-packet CBOR overhead in a batch is at most 3 bytes (bstr header); 1 KiB covers the envelope.
const STORE_REQUEST_MAX = PROTOCOL_LIMITS.maxStoreBatch * (MAX_PACKET_BYTES + 3) + 1024
if (STORE_REQUEST_MAX > PROTOCOL_LIMITS.maxFrameBytes) throw new Error('maxFrameBytes is too small for a full store batch')

/** Why a packet (or a whole request) was refused. Packet decode codes plus the node's own checks. */
export type RefusalReason =
  | PacketErrorCode
  /** None of the packet's routing keys has the fingerprint it was pushed under. */
  | 'KEY_MISMATCH'
  /** The publisher already holds its packet or byte quota on this node. */
  | 'PUBLISHER_QUOTA'
  /** The node as a whole is full. */
  | 'NODE_FULL'
  /** The request itself was unreadable (bad CBOR, wrong shape, oversized frame, too many packets). */
  | 'BAD_REQUEST'
  /** The node could not persist the batch (disk); the publisher should retry. */
  | 'STORAGE_ERROR'

/** Per packet in a store request, in request order: stored now, already held, or refused. */
export type StoreStatus = 'stored' | 'duplicate' | RefusalReason

export interface StoreRequest {
  key: string
  packets: Uint8Array[]
}

export interface StoreResponse {
  /** Same length and order as the request's packets; empty when the whole request was refused. */
  results: StoreStatus[]
  /** Set when the whole request was refused. */
  error?: RefusalReason
}

export interface FetchRequest {
  keys: string[]
  /**
   * Per key, in `keys` order: a cursor from an earlier reply's `more`; only packets after it are
   * sent. Absent (or 0) means from the start.
   */
  after?: number[]
}

/** A key the reply did not finish, and the cursor to ask again from. */
export type FetchMore = [key: string, after: number]

export interface ClosestRequest {
  keys: string[]
  /** How many peers to name per key (1..maxClosestCount). */
  count: number
}

/** A peer named in a closest-peers response: its peer id and where to dial it. */
export interface PeerRecord {
  id: string
  addrs: string[]
}

export interface ClosestResponse {
  /** Every peer named below, once. */
  peers: PeerRecord[]
  /** Per requested key, in request order: indexes into `peers`, closest first. */
  closest: number[][]
}

export interface HaveRequest {
  keys: string[]
  /** Per key, in `keys` order: the first HAVE_ID_BYTES of each packet id, concatenated. */
  ids: Uint8Array[]
}

export interface HaveResponse {
  /** Per key, in request order: indexes (into that key's ids) of the packets the peer does not hold. */
  missing: number[][]
}

/**
 * One fetch response frame: packets for one key, or the end marker. `truncated` is set when `more`
 * is not empty; every key of the request not in `more` was answered in full.
 */
export type FetchFrame = {key: string; packets: Uint8Array[]} | {done: true; truncated: boolean; more: FetchMore[]}

export class ProtocolError extends Error {
  constructor(readonly reason: RefusalReason, message: string) {
    super(message)
    this.name = 'ProtocolError'
  }
}

const STATUSES = new Set<string>([
  'stored', 'duplicate', 'EMPTY', 'TOO_LARGE', 'MALFORMED', 'NOT_CANONICAL', 'UNSUPPORTED_VERSION', 'INVALID_FIELD',
  'BAD_SIGNATURE', 'EXPIRED', 'FUTURE_TIMESTAMP', 'KEY_MISMATCH', 'PUBLISHER_QUOTA', 'NODE_FULL', 'BAD_REQUEST', 'STORAGE_ERROR',
])

function decodeCbor(bytes: Uint8Array): unknown {
  try {
    return cborDecode(bytes, {strict: true, allowIndefinite: false, rejectDuplicateMapKeys: true, allowUndefined: false, allowInfinity: false, allowNaN: false, allowBigInt: false})
  } catch (err) {
    throw new ProtocolError('BAD_REQUEST', `message is not valid CBOR: ${(err as Error).message}`)
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array)
}

function checkPacketList(x: unknown, max: number): Uint8Array[] {
  if (!Array.isArray(x) || x.length > max) throw new ProtocolError('BAD_REQUEST', `packets must be a list of at most ${max} byte strings`)
  for (const p of x) if (!(p instanceof Uint8Array)) throw new ProtocolError('BAD_REQUEST', 'every packet must be a byte string')
  return x as Uint8Array[]
}

function checkKey(x: unknown): string {
  if (typeof x !== 'string' || !FINGERPRINT_PATTERN.test(x)) throw new ProtocolError('BAD_REQUEST', 'key must be a 32-character lowercase hex fingerprint')
  return x
}

export const encodeStoreRequest = (r: StoreRequest): Uint8Array => cborEncode({v: 1, key: r.key, packets: r.packets})

export function decodeStoreRequest(bytes: Uint8Array): StoreRequest {
  const m = decodeCbor(bytes)
  if (!isObject(m) || m.v !== 1) throw new ProtocolError('BAD_REQUEST', 'store request must be a map with v=1')
  return {key: checkKey(m.key), packets: checkPacketList(m.packets, PROTOCOL_LIMITS.maxStoreBatch)}
}

export const encodeStoreResponse = (r: StoreResponse): Uint8Array => cborEncode(r.error ? {v: 1, results: r.results, error: r.error} : {v: 1, results: r.results})

export function decodeStoreResponse(bytes: Uint8Array, expected: number): StoreResponse {
  const m = decodeCbor(bytes)
  if (!isObject(m) || m.v !== 1 || !Array.isArray(m.results)) throw new ProtocolError('BAD_REQUEST', 'store response must be a map with v=1 and results')
  if (m.error !== undefined) {
    if (typeof m.error !== 'string' || !STATUSES.has(m.error)) throw new ProtocolError('BAD_REQUEST', 'store response has an unknown error')
    return {results: [], error: m.error as RefusalReason}
  }
  if (m.results.length !== expected) throw new ProtocolError('BAD_REQUEST', `store response has ${m.results.length} results for ${expected} packets`)
  for (const s of m.results) if (typeof s !== 'string' || !STATUSES.has(s)) throw new ProtocolError('BAD_REQUEST', 'store response has an unknown status')
  return {results: m.results as StoreStatus[]}
}

export const encodeFetchRequest = (r: FetchRequest): Uint8Array =>
  cborEncode(r.after && r.after.some((a) => a > 0) ? {v: 1, keys: r.keys, after: r.after} : {v: 1, keys: r.keys})

const isCursor = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0

export function decodeFetchRequest(bytes: Uint8Array): FetchRequest {
  const m = decodeCbor(bytes)
  if (!isObject(m) || m.v !== 1 || !Array.isArray(m.keys) || m.keys.length === 0 || m.keys.length > PROTOCOL_LIMITS.maxFetchKeys) {
    throw new ProtocolError('BAD_REQUEST', `fetch request must be a map with v=1 and 1..${PROTOCOL_LIMITS.maxFetchKeys} keys`)
  }
  const keys = m.keys.map(checkKey)
  if (m.after === undefined) return {keys}
  if (!Array.isArray(m.after) || m.after.length !== keys.length || !m.after.every(isCursor)) {
    throw new ProtocolError('BAD_REQUEST', 'fetch request "after" must list one non-negative integer cursor per key')
  }
  return {keys, after: m.after as number[]}
}

export const encodeFetchFrame = (f: FetchFrame): Uint8Array =>
  cborEncode('done' in f ? {v: 1, done: true, truncated: f.truncated, more: f.more} : {v: 1, key: f.key, packets: f.packets})

/** `request` is the fetch it answers: `more` may only name keys that were asked. */
export function decodeFetchFrame(bytes: Uint8Array, request?: FetchRequest): FetchFrame {
  const m = decodeCbor(bytes)
  if (!isObject(m) || m.v !== 1) throw new ProtocolError('BAD_REQUEST', 'fetch frame must be a map with v=1')
  if (m.done === true) {
    const truncated = m.truncated === true
    if (m.more === undefined) {
      // A peer that says it truncated without saying where: every key asked is unfinished, none is "answered and empty".
      return {done: true, truncated, more: truncated ? (request?.keys ?? []).map((k, i): FetchMore => [k, request?.after?.[i] ?? 0]) : []}
    }
    const asked = new Set(request?.keys ?? [])
    if (!Array.isArray(m.more) || m.more.length > PROTOCOL_LIMITS.maxFetchKeys) throw new ProtocolError('BAD_REQUEST', 'fetch end marker "more" must be a list of [key, cursor]')
    const more = m.more.map((e): FetchMore => {
      if (!Array.isArray(e) || e.length !== 2 || !isCursor(e[1])) throw new ProtocolError('BAD_REQUEST', 'fetch end marker "more" must be a list of [key, cursor]')
      const key = checkKey(e[0])
      if (request && !asked.has(key)) throw new ProtocolError('BAD_REQUEST', `fetch end marker names key ${key}, which was not asked for`)
      return [key, e[1]]
    })
    return {done: true, truncated: truncated || more.length > 0, more}
  }
  return {key: checkKey(m.key), packets: checkPacketList(m.packets, PROTOCOL_LIMITS.maxPacketsPerFrame)}
}

/**
 * Reads length-prefixed frames from a stream, refusing any frame above `maxFrameBytes` before
 * buffering it and stopping after `maxFrames`. Errors become ProtocolError('BAD_REQUEST').
 */
export async function* readFrames(stream: Stream, maxFrames: number, maxFrameBytes: number = PROTOCOL_LIMITS.maxFrameBytes): AsyncGenerator<Uint8Array> {
  let n = 0
  try {
    for await (const frame of lp.decode(stream, {maxDataLength: maxFrameBytes, maxLengthLength: 4})) {
      if (++n > maxFrames) throw new ProtocolError('BAD_REQUEST', `more than ${maxFrames} frames on one stream`)
      yield frame.subarray()
    }
  } catch (err) {
    if (err instanceof ProtocolError) throw err
    throw new ProtocolError('BAD_REQUEST', `unreadable frame: ${(err as Error).message}`)
  }
}

/** Reads exactly one frame (the request or response); the peer must then close its side. */
export async function readOneFrame(stream: Stream, maxFrameBytes?: number): Promise<Uint8Array> {
  for await (const frame of readFrames(stream, 1, maxFrameBytes)) return frame
  throw new ProtocolError('BAD_REQUEST', 'stream ended before a message arrived')
}

/** Writes one length-prefixed frame, waiting for the muxer to drain when its buffer is full. */
export async function writeFrame(stream: Stream, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
  if (!stream.send(lp.encode.single(bytes))) await stream.onDrain({signal})
}

export const encodeClosestRequest = (r: ClosestRequest): Uint8Array => cborEncode({v: 1, keys: r.keys, count: r.count})

export function decodeClosestRequest(bytes: Uint8Array): ClosestRequest {
  const m = decodeCbor(bytes)
  if (!isObject(m) || m.v !== 1 || !Array.isArray(m.keys) || m.keys.length === 0 || m.keys.length > PROTOCOL_LIMITS.maxClosestKeys) {
    throw new ProtocolError('BAD_REQUEST', `closest-peers request must be a map with v=1 and 1..${PROTOCOL_LIMITS.maxClosestKeys} keys`)
  }
  const count = m.count
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > PROTOCOL_LIMITS.maxClosestCount) {
    throw new ProtocolError('BAD_REQUEST', `closest-peers count must be an integer in 1..${PROTOCOL_LIMITS.maxClosestCount}`)
  }
  return {keys: m.keys.map(checkKey), count}
}

export const encodeClosestResponse = (r: ClosestResponse): Uint8Array => cborEncode({v: 1, peers: r.peers.map((p) => [p.id, p.addrs]), closest: r.closest})

// A base58btc peer id (identity or sha256 multihash): bounded here, parsed by the caller with peerIdFromString.
const PEER_ID_PATTERN = /^[1-9A-HJ-NP-Za-km-z]{32,64}$/

/**
 * Checks shape and bounds only; peer ids and multiaddrs are parsed (and a bad one dropped) by the
 * lookup, which must survive a peer that lies about who is close.
 */
export function decodeClosestResponse(bytes: Uint8Array, request: ClosestRequest): ClosestResponse {
  const m = decodeCbor(bytes)
  if (!isObject(m) || m.v !== 1 || !Array.isArray(m.peers) || !Array.isArray(m.closest)) {
    throw new ProtocolError('BAD_REQUEST', 'closest-peers response must be a map with v=1, peers and closest')
  }
  if (m.peers.length > PROTOCOL_LIMITS.maxClosestPeers) throw new ProtocolError('BAD_REQUEST', `closest-peers response names more than ${PROTOCOL_LIMITS.maxClosestPeers} peers`)
  const peers: PeerRecord[] = m.peers.map((p) => {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || !PEER_ID_PATTERN.test(p[0]) || !Array.isArray(p[1]) || p[1].length > PROTOCOL_LIMITS.maxPeerAddrs) {
      throw new ProtocolError('BAD_REQUEST', 'closest-peers response has a malformed peer')
    }
    for (const a of p[1]) if (typeof a !== 'string' || a.length === 0 || a.length > PROTOCOL_LIMITS.maxAddrChars) throw new ProtocolError('BAD_REQUEST', 'closest-peers response has a malformed multiaddr')
    return {id: p[0], addrs: p[1] as string[]}
  })
  if (m.closest.length !== request.keys.length) throw new ProtocolError('BAD_REQUEST', `closest-peers response has ${m.closest.length} lists for ${request.keys.length} keys`)
  const closest = m.closest.map((list) => {
    if (!Array.isArray(list) || list.length > request.count) throw new ProtocolError('BAD_REQUEST', `closest-peers response lists more than ${request.count} peers for a key`)
    for (const i of list) if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= peers.length) throw new ProtocolError('BAD_REQUEST', 'closest-peers response has a peer index out of range')
    return list as number[]
  })
  return {peers, closest}
}

export const encodeHaveRequest = (r: HaveRequest): Uint8Array => cborEncode({v: 1, keys: r.keys, ids: r.ids})

export function decodeHaveRequest(bytes: Uint8Array): HaveRequest {
  const m = decodeCbor(bytes)
  if (!isObject(m) || m.v !== 1 || !Array.isArray(m.keys) || m.keys.length === 0 || m.keys.length > PROTOCOL_LIMITS.maxHaveKeys) {
    throw new ProtocolError('BAD_REQUEST', `have request must be a map with v=1 and 1..${PROTOCOL_LIMITS.maxHaveKeys} keys`)
  }
  const keys = m.keys.map(checkKey)
  if (!Array.isArray(m.ids) || m.ids.length !== keys.length) throw new ProtocolError('BAD_REQUEST', 'have request "ids" must hold one byte string per key')
  let total = 0
  for (const b of m.ids) {
    if (!(b instanceof Uint8Array) || b.length % HAVE_ID_BYTES !== 0) throw new ProtocolError('BAD_REQUEST', `have request ids must be byte strings of ${HAVE_ID_BYTES}-byte id prefixes`)
    total += b.length / HAVE_ID_BYTES
  }
  if (total > PROTOCOL_LIMITS.maxHaveIds) throw new ProtocolError('BAD_REQUEST', `have request names more than ${PROTOCOL_LIMITS.maxHaveIds} packet ids`)
  return {keys, ids: m.ids as Uint8Array[]}
}

export const encodeHaveResponse = (r: HaveResponse): Uint8Array => cborEncode({v: 1, missing: r.missing})

/** `request` is the one answered: every index must point into that key's ids. */
export function decodeHaveResponse(bytes: Uint8Array, request: HaveRequest): HaveResponse {
  const m = decodeCbor(bytes)
  if (!isObject(m) || m.v !== 1 || !Array.isArray(m.missing) || m.missing.length !== request.keys.length) {
    throw new ProtocolError('BAD_REQUEST', `have response must be a map with v=1 and one "missing" list per key (${request.keys.length})`)
  }
  const missing = m.missing.map((list, k) => {
    const n = request.ids[k].length / HAVE_ID_BYTES
    if (!Array.isArray(list) || list.length > n) throw new ProtocolError('BAD_REQUEST', 'have response lists more missing packets than were asked')
    for (const i of list) if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= n) throw new ProtocolError('BAD_REQUEST', 'have response has an index out of range')
    return list as number[]
  })
  return {missing}
}

/**
 * One request and its reply on a fresh stream: send the request, close our side, let `read` take
 * the reply. On any failure the stream is aborted, so a half-read stream never lingers.
 */
export async function sendRequest<T>(
  libp2p: Pick<Libp2p, 'dialProtocol'>,
  peer: PeerId,
  protocol: string,
  body: Uint8Array,
  signal: AbortSignal,
  read: (stream: Stream) => Promise<T>,
): Promise<T> {
  const stream = await libp2p.dialProtocol(peer, protocol, {signal, runOnLimitedConnection: true})
  try {
    await writeFrame(stream, body, signal)
    await stream.close({signal})
    return await read(stream)
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}
