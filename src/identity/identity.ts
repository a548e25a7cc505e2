import {generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf} from '@libp2p/crypto/keys'
import type {Ed25519PrivateKey, PrivateKey} from '@libp2p/interface'
import {peerIdFromPrivateKey} from '@libp2p/peer-id'
import {promises as fs} from 'node:fs'
import path from 'node:path'

import {type Home, ensureDir} from '../config/home.js'
import {writeFileAtomic} from '../util/atomic.js'
import {QisError, errorMessage} from '../util/errors.js'

/**
 * The node's identity: one ed25519 key that signs packets and is also the libp2p peer identity,
 * so a packet's signer and the peer that stored it are the same name. Stored in libp2p's protobuf
 * key format so libp2p can use it as-is.
 */
export interface Identity {
  privateKey: Ed25519PrivateKey
  peerId: string
  /** Raw 32-byte ed25519 public key, as carried in packets. */
  publicKey: Uint8Array
}

export async function loadOrCreateIdentity(home: Home): Promise<Identity> {
  let bytes: Uint8Array | undefined
  try {
    bytes = await fs.readFile(home.identityFile)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new QisError(`cannot read identity ${home.identityFile}: ${errorMessage(err)}`, {code: 'IDENTITY_UNUSABLE', cause: err})
    }
  }
  if (bytes === undefined) {
    const key = await generateKeyPair('Ed25519')
    await ensureDir(path.dirname(home.identityFile))
    await writeFileAtomic(home.identityFile, privateKeyToProtobuf(key), 0o600)
    return toIdentity(key)
  }
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new QisError(`identity ${home.identityFile} is corrupt: ${errorMessage(err)}`, {code: 'IDENTITY_UNUSABLE', cause: err})
  }
  if (key.type !== 'Ed25519') throw new QisError(`identity ${home.identityFile} is a ${key.type} key; qis needs Ed25519`, {code: 'IDENTITY_UNUSABLE'})
  return toIdentity(key)
}

export function toIdentity(key: Ed25519PrivateKey): Identity {
  return {privateKey: key, peerId: peerIdFromPrivateKey(key).toString(), publicKey: key.publicKey.raw}
}
