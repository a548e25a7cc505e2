// Evidence for the arms that do not go through the swarm, synthesised by the library from the
// homes' own packet stores: local (own packets), central (everyone's, pooled), domain (peers' by
// domain tag alone), same-question (peers' on exactly this question).
import {createHash} from 'node:crypto'
import {readdirSync} from 'node:fs'
import path from 'node:path'

const dist = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../dist')
const [{decodePacket, encodePacket, isDomainSummary, keyFingerprint, readStoreFile, signerFromSeed}, weightsLib] = await Promise.all([import(`${dist}/packet/index.js`), import(`${dist}/weights/index.js`)])
const {collectLocalKeys, synthesizeWeights, WEIGHTS_FILE_VERSION, writeWeightsFile, LiveLookup} = weightsLib

/** A domain summary packet (docs/protocol.md): the same records again, which the domain and same-question arms leave out. */
export {isDomainSummary}

/** Matches no real key: lets synthesis accept a home's own packets (the local and central arms). */
export const NOBODY = '00'.repeat(32)

/**
 * The library's live lookup over packets held here instead of the swarm (the local and central
 * arms): the same per-query synthesis the qis arm gets from the swarm, over another set of packets.
 */
export function memoryLookup(packets, now, ownPublicKey = NOBODY) {
  const byKey = new Map()
  for (const {bytes, packet} of packets) {
    for (const rk of packet.routing_keys) {
      const key = keyFingerprint(packet.scheme, packet.domain_tag, rk)
      let list = byKey.get(key)
      if (!list) byKey.set(key, (list = []))
      list.push({key, bytes})
    }
  }
  const fetch = async (keys) => ({packets: keys.flatMap((k) => byKey.get(k) ?? []), peers: 1, failures: {}, unanswered: keys.filter((k) => !byKey.has(k))})
  return new LiveLookup({fetch, ownPublicKey, now: () => now})
}

/** Every valid packet in a home's stores, decoded once. */
export async function readHomePackets(homeDir, now) {
  const dir = path.join(homeDir, 'packets')
  const out = []
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.qisp')).sort()) {
    for await (const entry of readStoreFile(path.join(dir, name))) {
      if (entry.kind === 'corrupt') continue
      const d = decodePacket(entry.bytes, {now})
      if (d.ok) out.push({bytes: entry.bytes, packet: d.packet, id: d.info.id})
    }
  }
  return out
}

/** What this home asks the swarm about (the keys pull-weights asks, with its own query hashes). */
export async function askedKeys(homeDir, now) {
  return collectLocalKeys({packetsDir: path.join(homeDir, 'packets'), now})
}

/** Packets as the swarm would serve them: once per routing key, only under keys in `keys`. */
function served(packets, keys) {
  const out = []
  for (const {bytes, packet} of packets) {
    for (const rk of packet.routing_keys) {
      const key = keyFingerprint(packet.scheme, packet.domain_tag, rk)
      if (keys.has(key)) out.push({key, bytes})
    }
  }
  return out
}

export function weightsFile(scheme, entries, hammingThreshold) {
  return {version: WEIGHTS_FILE_VERSION, scheme, generatedAt: new Date().toISOString(), hammingThreshold, weights: Object.fromEntries(entries)}
}

/** The library's synthesis over `packets` for `asked` keys; own packets count unless `ownPublicKey` is given. */
export async function synthesizeTo(file, {packets, asked, scheme, hammingThreshold, now, ownPublicKey = NOBODY}) {
  const keys = new Set(asked.map((k) => k.fingerprint))
  const result = synthesizeWeights(served(packets, keys), {scheme, ownPublicKey, keys: asked, hammingThreshold, now})
  const w = weightsFile(scheme, [...result.weights], hammingThreshold)
  await writeWeightsFile(file, w)
  return {...result, file: w}
}

/**
 * Evidence grouped by something other than a routing key (a domain tag, one exact question), put
 * through the library's own synthesis: each packet is re-signed with that group as its only routing
 * key, by a key derived from its publisher's (so one publisher stays one publisher), and synthesis
 * runs as for any key, closeness filter off. Whatever the weights rule and file format, these arms
 * follow them.
 */
const signers = new Map()
function signerFor(publicKey) {
  let s = signers.get(publicKey)
  if (!s) signers.set(publicKey, (s = signerFromSeed(createHash('sha256').update(`qis-bench-rekey:${publicKey}`).digest())))
  return s
}

export function rekey(packets, keyOf) {
  return packets.map(({packet}) => {
    const {version, public_key, signature, routing_keys, ...body} = packet
    const bytes = encodePacket({...body, routing_keys: [keyOf(packet)]}, signerFor(public_key))
    return {bytes, publisher: public_key, packet: {...packet, routing_keys: [keyOf(packet)]}}
  })
}

/** Synthesis over re-keyed packets for the groups in `wanted` ({domain, routingKey}); returns the weights. */
export async function groupedWeights(file, {packets, wanted, scheme, hammingThreshold, now}) {
  const asked = new Map()
  for (const w of wanted) {
    const fingerprint = keyFingerprint(scheme, w.domain, w.routingKey)
    if (!asked.has(fingerprint)) asked.set(fingerprint, {fingerprint, domain: w.domain, routingKey: w.routingKey})
  }
  return (await synthesizeTo(file, {packets, asked: [...asked.values()], scheme, hammingThreshold, now})).file
}

export const DOMAIN_KEY = 'domain'
