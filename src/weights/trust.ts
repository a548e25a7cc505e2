import {promises as fs} from 'node:fs'
import path from 'node:path'

import {type Home, ensureDir} from '../config/home.js'
import {acquireHomeLock} from '../config/lock.js'
import {writeFileAtomic} from '../util/atomic.js'
import {QisError, errorMessage} from '../util/errors.js'
import {PUBLISHER_ID_CHARS} from './synthesize.js'

/**
 * The trust list (`<home>/trust.json`): publishers this deployment vouches for, e.g. partner
 * clinics whose peer ids it was given. Trusted publishers are never "new" (the newcomer bound does
 * not shrink them), and `pull-weights --trusted-only` uses nobody else. The weights file records
 * the share of each key's evidence they hold.
 *
 *   {"version": 1, "trusted": [{"publicKey": "<64 hex>", "peerId": "12D3KooW...", "label": "clinic-a", "addedAt": "ISO"}]}
 */
export const TRUST_FILE_VERSION = 1

export interface TrustedPublisher {
  /** Raw ed25519 public key, lowercase hex: what signs the publisher's packets. */
  publicKey: string
  /** The same key as a libp2p peer id (what `qis id` prints). */
  peerId: string
  label: string
  addedAt: string
}

export function trustFile(home: Home): string {
  return path.join(home.root, 'trust.json')
}

function bad(file: string, where: string, message: string): QisError {
  return new QisError(`trust file ${file}: ${where}: ${message}`, {code: 'BAD_CONFIG'})
}

export async function readTrustList(file: string): Promise<TrustedPublisher[]> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new QisError(`cannot read trust file ${file}: ${errorMessage(err)}`, {code: 'BAD_CONFIG', cause: err})
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw bad(file, 'JSON', errorMessage(err))
  }
  const d = data as Record<string, unknown>
  if (typeof d !== 'object' || d === null || Array.isArray(d)) throw bad(file, 'top level', 'must be a JSON object')
  if (d.version !== TRUST_FILE_VERSION) throw bad(file, 'field "version"', `must be ${TRUST_FILE_VERSION}`)
  if (!Array.isArray(d.trusted)) throw bad(file, 'field "trusted"', 'must be an array')
  return d.trusted.map((t: unknown, i: number) => {
    const e = t as Record<string, unknown>
    if (typeof e !== 'object' || e === null) throw bad(file, `trusted[${i}]`, 'must be an object')
    if (typeof e.publicKey !== 'string' || !/^[0-9a-f]{64}$/.test(e.publicKey)) throw bad(file, `trusted[${i}].publicKey`, 'must be 64 lowercase hex characters')
    for (const f of ['peerId', 'label', 'addedAt'] as const) if (typeof e[f] !== 'string') throw bad(file, `trusted[${i}].${f}`, 'must be a string')
    return e as unknown as TrustedPublisher
  })
}

async function writeTrustList(file: string, list: TrustedPublisher[]): Promise<void> {
  try {
    // openHome creates nothing, so trusting a peer may be the first thing a new home holds.
    await ensureDir(path.dirname(file))
    await writeFileAtomic(file, JSON.stringify({version: TRUST_FILE_VERSION, trusted: list}, null, 2) + '\n', 0o600)
  } catch (err) {
    throw new QisError(`cannot write trust file ${file}: ${errorMessage(err)}`, {code: 'WRITE_FAILED', cause: err})
  }
}

/** A peer id (`qis id` of the other deployment) or a 64-hex public key, as both forms. */
export async function parsePublisher(input: string): Promise<{publicKey: string; peerId: string}> {
  const text = input.trim()
  const {peerIdFromString, peerIdFromPublicKey} = await import('@libp2p/peer-id')
  const {publicKeyFromRaw} = await import('@libp2p/crypto/keys')
  try {
    if (/^[0-9a-fA-F]{64}$/.test(text)) {
      const publicKey = text.toLowerCase()
      return {publicKey, peerId: peerIdFromPublicKey(publicKeyFromRaw(Buffer.from(publicKey, 'hex'))).toString()}
    }
    const id = peerIdFromString(text)
    if (id.type !== 'Ed25519' || !id.publicKey) throw new Error('not an ed25519 peer id')
    return {publicKey: Buffer.from(id.publicKey.raw).toString('hex'), peerId: id.toString()}
  } catch {
    throw new QisError(`"${text.slice(0, 80)}" is not a qis peer id (what \`qis id\` prints, 12D3KooW...) or a 64-character hex public key`, {code: 'BAD_ARGUMENT'})
  }
}

/**
 * Runs a read-change-write of the trust list under the home's trust lock: two `qis trust add` at
 * once would otherwise each rewrite the list they read, and one entry would be lost. An edit takes
 * milliseconds, so a held lock is waited for (briefly) rather than refused.
 */
async function editTrustList<T>(home: Home, edit: () => Promise<T>, create: boolean): Promise<T> {
  // Removing from a home that does not exist finds nothing to remove, and must not create it.
  if (create) await ensureDir(home.root)
  else if (!(await fs.stat(home.root).catch(() => undefined))) return edit()
  const deadline = Date.now() + 10_000
  for (;;) {
    try {
      const lock = await acquireHomeLock(home, 'trust')
      try {
        return await edit()
      } finally {
        await lock.release()
      }
    } catch (err) {
      if (!(err instanceof QisError && err.code === 'HOME_LOCKED') || Date.now() > deadline) throw err
      await new Promise((r) => setTimeout(r, 25 + Math.random() * 50))
    }
  }
}

export async function trustAdd(home: Home, input: string, label?: string, now = new Date()): Promise<{added: boolean; publisher: TrustedPublisher}> {
  const {publicKey, peerId} = await parsePublisher(input)
  return editTrustList(home, () => addLocked(home, publicKey, peerId, label, now), true)
}

async function addLocked(home: Home, publicKey: string, peerId: string, label: string | undefined, now: Date): Promise<{added: boolean; publisher: TrustedPublisher}> {
  const file = trustFile(home)
  const list = await readTrustList(file)
  const had = list.find((t) => t.publicKey === publicKey)
  if (had) {
    if (label === undefined || label === had.label) return {added: false, publisher: had}
    had.label = label
    await writeTrustList(file, list)
    return {added: false, publisher: had}
  }
  const publisher = {publicKey, peerId, label: label ?? peerId.slice(-8), addedAt: now.toISOString()}
  list.push(publisher)
  await writeTrustList(file, list)
  return {added: true, publisher}
}

/** Removes by peer id, public key or label. */
export async function trustRemove(home: Home, input: string): Promise<TrustedPublisher> {
  return editTrustList(home, () => removeLocked(home, input), false)
}

async function removeLocked(home: Home, input: string): Promise<TrustedPublisher> {
  const file = trustFile(home)
  const list = await readTrustList(file)
  let index = list.findIndex((t) => t.label === input || t.peerId === input || t.publicKey === input.toLowerCase())
  if (index < 0) {
    const parsed = await parsePublisher(input).catch(() => undefined)
    if (parsed) index = list.findIndex((t) => t.publicKey === parsed.publicKey)
  }
  if (index < 0) throw new QisError(`"${input.slice(0, 80)}" is not on the trust list (${file}); \`qis trust list\` shows it`, {code: 'BAD_ARGUMENT'})
  const [removed] = list.splice(index, 1)
  await writeTrustList(file, list)
  return removed
}

/** The 16-hex publisher ids (as in the weights file) of the trusted publishers. */
export function trustedIds(list: TrustedPublisher[]): Set<string> {
  return new Set(list.map((t) => t.publicKey.slice(0, PUBLISHER_ID_CHARS)))
}
