// The Sybil attack of issue 21 item 2, against the weight synthesis before and after the fix.
// Run after `npm run build`:
//   node bench/weights/sybil.mjs [--honest 3] [--json OUT]
//
// A victim node asks about one routing key; `--honest` established peers (first seen 30 days ago)
// published that their answers under it were right (outcome 1, confidence 0.8, 4 records each), so
// the reference adjustment is +0.3. The attacker makes k fresh identities, copies the victim's fine hash from its
// published packets (so the closeness filter passes), publishes inverted outcomes (0) with
// confidence 1 (the largest surprise), count 16 each, and dates every packet 58 minutes ahead (inside the allowed clock skew).
//
// before: the synthesis that folded per-publisher EMAs across publishers in order of their newest
//         timestamp (the reference EMA; timestampOrderedWeight) - dating last buys 1 - 0.7^k.
// after:  synthesizeWeights as shipped (publisher record cap, newcomer share bound), with the
//         victim's first-seen history; and "after, fresh home" with no history at all (every
//         publisher new), the case the newcomer bound cannot help.
// "fresh home + trust list": no history, but the honest peers are on the trust list (so never
// new); "--trusted-only": only trusted publishers are used.
// Reported: the attacker's share of the key's evidence, the weight, and the adjustment by the
// reference rule and by the calibrated rule (confidence 0.5). Real signed packets, real decode.
import {createHash} from 'node:crypto'
import {writeFileSync} from 'node:fs'

import {encodePacket} from '../../dist/packet/codec.js'
import {keyFingerprint} from '../../dist/packet/fingerprint.js'
import {signerFromSeed} from '../../dist/packet/signer.js'
import {NEW_PUBLISHER_SHARE, PUBLISHER_RECORD_CAP, adjustmentFor, emaStep, observationValue, synthesizeWeights, timestampOrderedWeight} from '../../dist/weights/index.js'

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : fallback
}
const HONEST = Number(arg('honest', 3))
const jsonOut = arg('json')
const KS = [1, 3, 10, 200]

const SCHEME = 'bench.sybil.v1'
const DOMAIN = 'clinical.oncology'
const KEY = 'a1b2c3'
const FP = keyFingerprint(SCHEME, DOMAIN, KEY)
const VICTIM_HASH = '0f1e2d3c4b5a6978'
const NOW = Math.floor(Date.now() / 1000)
const signer = (name) => {
  const s = signerFromSeed(createHash('sha256').update(name).digest())
  return Object.assign(s, {hex: Buffer.from(s.publicKey).toString('hex')})
}
const me = signer('victim')
const body = (outcome, confidence, timestamp, count) => ({
  scheme: SCHEME,
  domain_tag: DOMAIN,
  query_semantic_hash: VICTIM_HASH,
  routing_keys: [KEY],
  outcome_signal: outcome,
  confidence_at_inference: confidence,
  model_variant: 'llama-3-8b',
  correction_applied: false,
  correction_type: null,
  timestamp,
  ttl_hours: 168,
  count,
})

const honest = Array.from({length: HONEST}, (_, i) => signer(`honest-${i}`))
const honestPackets = honest.map((s, i) => ({key: FP, bytes: encodePacket(body(1, 0.8, NOW - 3600 * (i + 1), 4), s)}))
const established = new Map(honest.map((s) => [s.hex.slice(0, 16), NOW - 30 * 86400]))
const options = (firstSeen) => ({scheme: SCHEME, ownPublicKey: me.hex, keys: [{fingerprint: FP, domain: DOMAIN, routingKey: KEY, localHashes: [VICTIM_HASH]}], now: NOW, firstSeen})
const fileOf = (weights) => ({version: 2, scheme: SCHEME, generatedAt: new Date(NOW * 1000).toISOString(), hammingThreshold: 18, weights: Object.fromEntries(weights)})

const rows = []
for (const k of KS) {
  const attackers = Array.from({length: k}, (_, i) => signer(`sybil-${i}`))
  const attackPackets = attackers.map((s) => ({key: FP, bytes: encodePacket(body(0, 1, NOW + 58 * 60, 16), s)}))

  // before: per-publisher reference EMA, folded across publishers in newest-timestamp order.
  const perPublisher = [
    ...honest.map((s, i) => ({publicKey: s.hex, value: emaStep(undefined, observationValue({outcome_signal: 1, correction_applied: false, confidence_at_inference: 0.8}), 4), lastTimestamp: NOW - 3600 * (i + 1)})),
    ...attackers.map((s) => ({publicKey: s.hex, value: 0, lastTimestamp: NOW + 58 * 60})),
  ]
  const beforeWeight = timestampOrderedWeight(perPublisher)
  const beforeShare = 1 - beforeWeight / 0.8 // honest value 0.8, attacker 0: the attacker's share of the weight
  const beforeAdjust = Math.max(-0.3, Math.min(0.3, beforeWeight - 0.5))

  const row = {k, before: {attackerShare: beforeShare, weight: beforeWeight, adjustReference: beforeAdjust}}
  const trusted = new Set(honest.map((s) => s.hex.slice(0, 16)))
  for (const [name, extra] of [
    ['after', {firstSeen: established}],
    ['afterFreshHome', {firstSeen: new Map()}],
    ['freshHomeTrustList', {firstSeen: new Map(), trusted}],
    ['trustedOnly', {firstSeen: new Map(), trusted, trustedOnly: true}],
  ]) {
    const r = synthesizeWeights([...honestPackets, ...attackPackets], {...options(undefined), ...extra})
    const w = r.weights.get(FP)
    const file = fileOf(r.weights)
    // Honest evidence says success 1 and attackers 0, so the attacker's share of the evidence is 1 - success.
    row[name] = {
      attackerShare: 1 - w.evidence.success,
      newShare: w.newShare,
      weight: w.weight,
      adjustReference: adjustmentFor(file, [FP], {rule: 'reference'}).adjustment,
      adjustCalibrated: adjustmentFor(file, [FP], {rule: 'calibrated', confidence: 0.5, queryHash: VICTIM_HASH}).adjustment,
    }
  }
  rows.push(row)
}
const clean = synthesizeWeights(honestPackets, options(established))
const cleanFile = fileOf(clean.weights)
const baseline = {adjustReference: adjustmentFor(cleanFile, [FP], {rule: 'reference'}).adjustment, adjustCalibrated: adjustmentFor(cleanFile, [FP], {rule: 'calibrated', confidence: 0.5, queryHash: VICTIM_HASH}).adjustment}

const pct = (x) => `${(x * 100).toFixed(1)}%`.padStart(6)
const sgn = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`.padStart(6)
console.log(`${HONEST} established honest publishers (outcome 1, confidence 0.8, 4 records each); k fresh attacker identities (outcome 0, confidence 1, count 16, dated +58 min, victim's fine hash)`)
console.log(`no attack: adjust reference ${sgn(baseline.adjustReference)}, calibrated ${sgn(baseline.adjustCalibrated)} (confidence 0.5)`)
console.log(`bounds: PUBLISHER_RECORD_CAP ${PUBLISHER_RECORD_CAP} records, NEW_PUBLISHER_SHARE ${NEW_PUBLISHER_SHARE}`)
console.log('')
const cols = [['after', 'after (history)'], ['afterFreshHome', 'fresh home'], ['freshHomeTrustList', 'fresh home + trust list'], ['trustedOnly', '--trusted-only']]
console.log(['   k | before: share  adjust(ref)', ...cols.map(([, t]) => `${t}: share  adj(ref)  adj(cal)`)].join(' | '))
for (const r of rows) {
  console.log([`${String(r.k).padStart(4)} | ${' '.repeat(7)}${pct(r.before.attackerShare)}  ${sgn(r.before.adjustReference)}${' '.repeat(5)}`, ...cols.map(([c, t]) => `${' '.repeat(t.length - 1)}${pct(r[c].attackerShare)}  ${sgn(r[c].adjustReference)}  ${sgn(r[c].adjustCalibrated)}`)].join(' | '))
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({honest: HONEST, baseline, rows}, null, 2) + '\n')
