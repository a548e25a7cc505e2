import {peerIdFromPublicKey} from '@libp2p/peer-id'
import {publicKeyFromRaw} from '@libp2p/crypto/keys'
import {promises as fs} from 'node:fs'

import {QisError, errorMessage} from '../util/errors.js'
import {decodePacket} from './codec.js'
import {isDomainSummary} from './summary.js'
import {looksLikeStore, readStoreBytes, readStoreFile, type StoreEntry} from './store.js'
import type {OutcomePacket, PacketError} from './types.js'

export interface InspectedPacket {
  index: number
  size: number
  /** Decoded, well-formed and signed; expiry does not make a packet invalid here, it is reported. */
  valid: boolean
  signatureValid: boolean
  expired: boolean
  expiresAt: string | null
  /** The query fingerprint: semanticFingerprint(scheme, domain, fine hash); not a DHT key (docs/glossary.md). */
  queryFingerprint: string | null
  /** The packet id: what nodes and the publish journal de-duplicate by. */
  id: string | null
  signer: string | null
  packet: OutcomePacket | null
  /** `domain-summary`: one publisher's records of a domain and model variant (routing key `domain:<s>`); `record`: any other packet. Null when undecodable. */
  kind: 'record' | 'domain-summary' | null
  errors: string[]
}

export interface InspectResult {
  source: string
  kind: 'store' | 'packet'
  packets: InspectedPacket[]
  /** Store-level problems (torn tail, unreadable header). */
  storeErrors: string[]
  total: number
  invalid: number
  /** Of `total`, the domain summaries (docs/protocol.md, "Domain summaries"): they stand for no single record, so a reader counting records' packets leaves them out. */
  summaries: number
}

export interface InspectOptions {
  index?: number
  limit?: number
  now?: number
  /** What "-" reads. Default: process.stdin. */
  stdin?: AsyncIterable<Uint8Array | string>
}

function signerOf(publicKeyHex: string): string | null {
  try {
    return peerIdFromPublicKey(publicKeyFromRaw(Buffer.from(publicKeyHex, 'hex'))).toString()
  } catch {
    return null
  }
}

function describeError(error: PacketError): string {
  return error.field ? `${error.code} (${error.field}): ${error.message}` : `${error.code}: ${error.message}`
}

export function inspectPacketBytes(bytes: Uint8Array, index: number, now?: number): InspectedPacket {
  const result = decodePacket(bytes, {now, allowExpired: true})
  const info = result.info
  const packet = result.packet ?? null
  return {
    index,
    size: bytes.length,
    valid: result.ok,
    signatureValid: info?.signatureValid ?? false,
    expired: info?.expired ?? false,
    expiresAt: info ? new Date(info.expiresAt * 1000).toISOString() : null,
    queryFingerprint: info?.fingerprint ?? null,
    id: info?.id ?? null,
    signer: packet ? signerOf(packet.public_key) : null,
    packet,
    kind: packet ? (isDomainSummary(packet) ? 'domain-summary' : 'record') : null,
    errors: result.ok ? [] : [describeError(result.error)],
  }
}

/**
 * Reads a single packet given as hex or base64 text. Store files are binary and start with the
 * magic "QISP", so they are told apart before this is tried.
 */
export function parsePacketText(text: string): Uint8Array | undefined {
  const t = text.trim()
  let b: Buffer | undefined
  if (/^(?:[0-9a-fA-F]{2})+$/.test(t)) b = Buffer.from(t, 'hex')
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) b = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  // Shorter than any packet: a mistyped file name ("nope" is valid base64), not a packet.
  return b !== undefined && b.length >= MIN_PACKET_BYTES ? b : undefined
}

/** A packet holds at least its public key (32 bytes) and signature (64 bytes). */
const MIN_PACKET_BYTES = 96

async function readSource(source: string, stdin: AsyncIterable<Uint8Array | string> = process.stdin): Promise<Uint8Array | {file: string}> {
  if (source === '-') {
    const chunks: Buffer[] = []
    let total = 0
    for await (const chunk of stdin) {
      const bytes = Buffer.from(chunk)
      chunks.push(bytes)
      total += bytes.length
      if (total > 256 * 1024 * 1024) throw new QisError('stdin is larger than 256 MiB; pass a store file instead', {code: 'BAD_INPUT'})
    }
    return Buffer.concat(chunks)
  }
  try {
    const st = await fs.stat(source)
    if (st.isFile()) return {file: source}
    throw new QisError(st.isDirectory() ? `${source} is a folder; give a packet store or packet file` : `${source} is not a file`, {code: 'BAD_INPUT'})
  } catch (err) {
    if (err instanceof QisError) throw err
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      // Not a file: maybe the packet itself, as hex or base64 on the command line.
      const bytes = parsePacketText(source)
      if (bytes) return bytes
      throw new QisError(`${source}: no such file, and not a packet in hex or base64`, {code: 'INPUT_NOT_FOUND'})
    }
    throw new QisError(`cannot read ${source}: ${errorMessage(err)}`, {code: 'STORE_UNREADABLE', cause: err})
  }
}

async function isStoreFile(file: string): Promise<boolean> {
  const handle = await fs.open(file, 'r')
  try {
    const head = Buffer.alloc(4)
    const {bytesRead} = await handle.read(head, 0, 4, 0)
    return looksLikeStore(head.subarray(0, bytesRead))
  } finally {
    await handle.close()
  }
}

/**
 * Decodes a store file, a single packet (file of raw bytes, hex or base64 text) or stdin, for a
 * person to read. Bad packets are reported by index and never hide the good ones.
 */
export async function inspectSource(source: string, options: InspectOptions = {}): Promise<InspectResult> {
  const input = await readSource(source, options.stdin)
  let entries: AsyncIterable<StoreEntry>
  let kind: InspectResult['kind'] = 'store'
  if ('file' in input) {
    if (await isStoreFile(input.file)) entries = readStoreFile(input.file)
    else {
      const raw = await fs.readFile(input.file)
      const text = raw.length <= 4096 ? parsePacketText(raw.toString('latin1')) : undefined
      entries = singleEntry(text ?? raw)
      kind = 'packet'
    }
  } else if (looksLikeStore(input)) entries = readStoreBytes(input)
  else {
    const text = parsePacketText(Buffer.from(input).toString('latin1'))
    entries = singleEntry(text ?? input)
    kind = 'packet'
  }

  const first = options.index ?? 0
  const limit = options.limit ?? Number.POSITIVE_INFINITY
  const packets: InspectedPacket[] = []
  const storeErrors: string[] = []
  let total = 0
  let invalid = 0
  let summaries = 0
  for await (const entry of entries) {
    if (entry.kind === 'corrupt' && entry.fatal) {
      storeErrors.push(`at byte ${entry.offset} (record ${entry.index}): ${entry.reason}`)
      break
    }
    total++
    const shown = entry.index >= first && packets.length < limit
    if (entry.kind === 'corrupt') {
      invalid++
      if (shown) packets.push({...emptyInspected(entry.index, 0), errors: [`CORRUPT: ${entry.reason} at byte ${entry.offset}`]})
      continue
    }
    const inspected = inspectPacketBytes(entry.bytes, entry.index, options.now)
    if (!inspected.valid) invalid++
    if (inspected.kind === 'domain-summary') summaries++
    if (shown) packets.push(inspected)
  }
  return {source, kind, packets, storeErrors, total, invalid, summaries}
}

function emptyInspected(index: number, size: number): InspectedPacket {
  return {index, size, valid: false, signatureValid: false, expired: false, expiresAt: null, queryFingerprint: null, id: null, signer: null, packet: null, kind: null, errors: []}
}

async function* singleEntry(bytes: Uint8Array): AsyncGenerator<StoreEntry> {
  yield {kind: 'packet', index: 0, offset: 0, bytes}
}
