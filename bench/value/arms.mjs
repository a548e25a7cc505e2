// Evidence for the arms that do not go through the swarm, synthesised by the library from the
// homes' own packet stores: local (own packets), central (everyone's, pooled), domain (peers' by
// domain tag alone), same-question (peers' on exactly this question).
import {readdirSync} from 'node:fs'
import path from 'node:path'

const dist = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../dist')
const [{decodePacket, keyFingerprint, readStoreFile}, weightsLib] = await Promise.all([import(`${dist}/packet/index.js`), import(`${dist}/weights/index.js`)])
const {collectLocalKeys, synthesizeWeights, emaStep, observationValue, WEIGHTS_FILE_VERSION, writeWeightsFile} = weightsLib

/** Matches no real key: lets synthesis accept a home's own packets (the local and central arms). */
const NOBODY = '00'.repeat(32)

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
  await writeWeightsFile(file, weightsFile(scheme, [...result.weights], hammingThreshold))
  return result
}

/**
 * One weight from a set of packets, folded as synthesis folds a key's packets (per publisher in time
 * order, then across publishers by their latest time), for evidence grouped by something other than
 * a routing key: a domain tag, or one exact question.
 */
export function foldEntry(packets, domain, routingKey) {
  const byPublisher = new Map()
  for (const p of packets) {
    let list = byPublisher.get(p.packet.public_key)
    if (!list) byPublisher.set(p.packet.public_key, (list = []))
    list.push(p)
  }
  const per = []
  let records = 0
  let lastTimestamp = 0
  for (const [publicKey, list] of byPublisher) {
    list.sort((a, b) => a.packet.timestamp - b.packet.timestamp || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    let w
    for (const {packet} of list) {
      w = emaStep(w, observationValue(packet), packet.count)
      records += packet.count
    }
    const last = list[list.length - 1].packet.timestamp
    lastTimestamp = Math.max(lastTimestamp, last)
    per.push({publicKey, value: w, last})
  }
  per.sort((a, b) => a.last - b.last || (a.publicKey < b.publicKey ? -1 : 1))
  let weight
  for (const p of per) weight = emaStep(weight, p.value, 1)
  return {
    weight,
    packets: packets.length,
    publishers: per.length,
    publisherIds: per.map((p) => p.publicKey.slice(0, 16)).sort(),
    records,
    lastTimestamp,
    domain,
    routingKey,
  }
}

/** Weights keyed by a made-up fingerprint per group: `group(packet)` names the group or returns undefined. */
export function groupedWeights(scheme, packets, group, hammingThreshold) {
  const groups = new Map()
  for (const p of packets) {
    const g = group(p.packet)
    if (g === undefined) continue
    let list = groups.get(g.fingerprint)
    if (!list) groups.set(g.fingerprint, (list = {g, packets: []}))
    list.packets.push(p)
  }
  return weightsFile(scheme, [...groups].map(([fp, {g, packets: ps}]) => [fp, foldEntry(ps, g.domain, g.routingKey)]), hammingThreshold)
}

export const domainFingerprint = (scheme, domain) => keyFingerprint(scheme, domain, 'domain-only')
export const questionFingerprint = (scheme, domain, hash) => keyFingerprint(scheme, domain, `question-${hash}`)
