/**
 * Private swarms: a pre-shared key (the `/key/swarm/psk/1.0.0/` format go-libp2p and IPFS use) with
 * which @libp2p/pnet encrypts every connection before anything else is said, so a node without the
 * key cannot even finish a handshake. This module reads and writes the key file; it loads no libp2p.
 */
import {createHash, randomBytes} from 'node:crypto'
import {promises as fs} from 'node:fs'
import path from 'node:path'

import type {Home} from '../config/home.js'
import {writeFileAtomic} from '../util/atomic.js'
import {QisError, errorMessage} from '../util/errors.js'

export const SWARM_KEY_FILE = 'swarm.key'
const HEADER = '/key/swarm/psk/1.0.0/'

export interface SwarmKey {
  file: string
  /** The file's bytes, as @libp2p/pnet takes them. */
  bytes: Uint8Array
  /** sha256 of the 32 key bytes, 16 hex: safe to print and compare between sites. */
  fingerprint: string
}

export function swarmKeyPath(home: Home): string {
  return path.join(path.dirname(home.configFile), SWARM_KEY_FILE)
}

export function newSwarmKeyText(): string {
  return `${HEADER}\n/base16/\n${randomBytes(32).toString('hex')}\n`
}

/** Checks the format and returns the key; the error names the file and the line that is wrong. */
export function parseSwarmKey(file: string, bytes: Uint8Array): SwarmKey {
  const lines = Buffer.from(bytes).toString('utf8').split(/\r?\n/)
  const bad = (line: number, what: string) =>
    new QisError(`swarm key ${file} line ${line}: ${what}`, {code: 'BAD_SWARM_KEY', hint: 'Make a new one with `qis swarm-key generate`, or copy the consortium\'s file unchanged.'})
  if (lines[0] !== HEADER) throw bad(1, `expected "${HEADER}"`)
  if (lines[1] !== '/base16/') throw bad(2, 'expected "/base16/" (the only encoding qis reads)')
  if (!/^[0-9a-fA-F]{64}$/.test(lines[2] ?? '')) throw bad(3, 'expected 64 hexadecimal characters (a 32-byte key)')
  if (lines.slice(3).some((l) => l.trim() !== '')) throw bad(4, 'unexpected text after the key')
  const key = Buffer.from(lines[2], 'hex')
  return {file, bytes: Buffer.from(`${HEADER}\n/base16/\n${lines[2]}`), fingerprint: createHash('sha256').update(key).digest('hex').slice(0, 16)}
}

/**
 * The swarm key a command uses: the file $QIS_SWARM_KEY names, else <home>/swarm.key if it exists,
 * else none (the open swarm). A named file that is missing is an error, never a silent open swarm.
 */
export async function loadSwarmKey(home: Home, env: NodeJS.ProcessEnv = process.env): Promise<SwarmKey | undefined> {
  const named = env.QIS_SWARM_KEY?.trim()
  const file = named ? path.resolve(named) : swarmKeyPath(home)
  let bytes: Uint8Array
  try {
    bytes = await fs.readFile(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !named) return undefined
    throw new QisError(`swarm key ${file} cannot be read: ${errorMessage(err)}`, {code: named ? 'INPUT_NOT_FOUND' : 'BAD_SWARM_KEY', cause: err})
  }
  return parseSwarmKey(file, bytes)
}

/** Writes a new key (mode 0600, atomically); refuses to replace one unless `force`, since that splits the node from its swarm. */
export async function writeSwarmKey(file: string, options: {force?: boolean} = {}): Promise<SwarmKey> {
  if (!options.force) {
    const exists = await fs.access(file).then(
      () => true,
      () => false,
    )
    if (exists) {
      throw new QisError(`swarm key ${file} already exists`, {code: 'BAD_FLAG', hint: 'Pass --force to replace it: nodes with the old key will no longer connect to this one.'})
    }
  }
  const text = newSwarmKeyText()
  await fs.mkdir(path.dirname(file), {recursive: true})
  await writeFileAtomic(file, text, 0o600)
  return parseSwarmKey(file, Buffer.from(text))
}
