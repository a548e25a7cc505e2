import {createPrivateKey, createPublicKey, sign, verify, type KeyObject} from 'node:crypto'

import type {Identity} from '../identity/identity.js'

// DER prefixes that wrap a raw ed25519 key as PKCS#8 / SPKI, so node:crypto can sign and verify
// synchronously (libp2p's key API may return promises, which would make decode async).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

export interface Signer {
  /** Raw 32-byte ed25519 public key. */
  readonly publicKey: Uint8Array
  sign(data: Uint8Array): Uint8Array
}

export function signerFromSeed(seed: Uint8Array): Signer {
  if (seed.length !== 32) throw new Error('ed25519 seed must be 32 bytes')
  const key = createPrivateKey({key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8'})
  const spki = createPublicKey(key).export({format: 'der', type: 'spki'})
  const publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.length))
  return {publicKey, sign: (data) => new Uint8Array(sign(null, data, key))}
}

/** libp2p's Ed25519 private key `.raw` is seed (32 bytes) followed by the public key. */
export function signerFromIdentity(identity: Identity): Signer {
  return signerFromSeed(identity.privateKey.raw.subarray(0, 32))
}

const keyCache = new Map<string, KeyObject>()

export function verifySignature(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  const hex = Buffer.from(publicKey).toString('hex')
  let key = keyCache.get(hex)
  if (key === undefined) {
    try {
      key = createPublicKey({key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki'})
    } catch {
      return false
    }
    // Few distinct publishers in practice; the bound keeps a hostile flood of keys from growing it.
    if (keyCache.size > 4096) keyCache.clear()
    keyCache.set(hex, key)
  }
  try {
    return verify(null, data, key, signature)
  } catch {
    return false
  }
}
