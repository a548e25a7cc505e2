import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ensureDir, openHome} from '../../src/config/home.js'
import {createHashPipeline} from '../../src/hash/pipeline.js'
import {loadOrCreateIdentity} from '../../src/identity/identity.js'
import {encodePacket} from '../../src/packet/codec.js'
import {keyFingerprint} from '../../src/packet/fingerprint.js'
import {type Signer, signerFromIdentity} from '../../src/packet/signer.js'
import {PacketStoreWriter} from '../../src/packet/store.js'
import {createScrubber} from '../../src/privacy/index.js'
import {repoRoot, runCli, tempDir} from '../helpers/cli.js'
import {runCommand} from '../helpers/command.js'
import {type NodeProcess, startSwarm, stopAll} from '../helpers/swarm.js'

// Three real `qis node` processes on loopback; two publishers and the pulling node publish through
// `qis publish`; `qis pull-weights` and `qis adjust` run as a user would. Queries are hashed with the
// tiny fixture model (offline, fast); the weights are checked against a hand computation.
const modelDir = path.join(repoRoot, 'fixtures/models/qis-tiny-bert')
const env = {QIS_MODEL_DIR: modelDir}
const DOMAIN = 'clinical.pediatrics'
const QUERY = 'What ibuprofen dose is safe for a feverish four-year-old?'

interface Spec {
  outcome: number
  confidence: number
  corrected?: boolean
  age: number
  hash?: string
}

describe('qis pull-weights across a 3-node swarm', () => {
  let nodes: NodeProcess[] = []
  let bootstrap: string
  let scheme: string
  let keys: string[]
  let hash: string
  const now = Math.floor(Date.now() / 1000)

  async function homeWith(specs: Spec[]): Promise<{root: string; signer: Signer}> {
    const root = tempDir()
    const home = await openHome(root)
    const signer = signerFromIdentity(await loadOrCreateIdentity(home))
    await ensureDir(home.packetsDir)
    const w = await PacketStoreWriter.create(path.join(home.packetsDir, 'log.qisp'))
    for (const s of specs) {
      await w.append(
        encodePacket(
          {
            scheme,
            domain_tag: DOMAIN,
            query_semantic_hash: s.hash ?? hash,
            routing_keys: keys,
            outcome_signal: s.outcome,
            confidence_at_inference: s.confidence,
            model_variant: 'llama3-8b-instruct',
            correction_applied: s.corrected ?? false,
            correction_type: s.corrected ? 'factual' : null,
            timestamp: now - s.age,
          },
          signer,
        ),
      )
    }
    await w.commit()
    return {root, signer}
  }

  /**
   * `qis publish` until everything is acknowledged: on a loaded machine a fresh client can see too
   * few peers and report UNDER_REPLICATED; the journal makes a re-run send only what is left, which is
   * what a user does. (The swarm's own tests cover publishing; here it only has to get done.)
   */
  async function publish(home: string): Promise<void> {
    let last = ''
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await runCli(['publish', '--home', home, '--bootstrap', bootstrap, '--yes', '--json'], {env})
      last = `exit ${r.code}: ${r.stdout}\n${r.stderr}`
      if (r.code === 0 && JSON.parse(r.stdout).failed === 0) return
    }
    throw new Error(`qis publish did not complete in 3 runs; last: ${last}`)
  }

  beforeAll(async () => {
    const {pipeline, scheme: s} = await createHashPipeline({backend: 'transformers', modelDir, workers: 0})
    const [codes] = await pipeline.hashMany([createScrubber().scrub(QUERY).text])
    await pipeline.close()
    scheme = s.id
    keys = codes.keys
    hash = codes.hash
    nodes = await startSwarm(3)
    bootstrap = nodes[0].multiaddrs[0]
  }, 120_000)

  afterAll(async () => {
    await stopAll(nodes)
  })

  it('synthesises peers\' packets into the hand-computed weights, and adjust reads them', async () => {
    // Same query hash flipped in 32 of 64 bits: shares the keys, far from our query.
    const far = (BigInt(`0x${hash}`) ^ 0xffffffffn).toString(16).padStart(16, '0')
    const p1 = await homeWith([
      {outcome: 0.9, confidence: 0.8, age: 600},
      {outcome: 0.5, confidence: 1, corrected: true, age: 300},
      {outcome: 0, confidence: 1, age: 200, hash: far},
    ])
    const p2 = await homeWith([{outcome: 0.2, confidence: 0.5, age: 100}])
    const me = await homeWith([{outcome: 0, confidence: 1, age: 50}])
    await Promise.all([p1.root, p2.root, me.root].map(publish))

    // Peers' evidence alone (own evidence is the next test's).
    const r = await runCli(['pull-weights', '--home', me.root, '--bootstrap', bootstrap, '--no-own-evidence', '--json'], {env})
    expect(r.code, r.stderr).toBe(0)
    const summary = JSON.parse(r.stdout)
    const n = keys.length
    expect(summary).toMatchObject({
      scheme,
      // The query keys, and the domain's 8 summary keys (no summaries were published here: nothing under them).
      keysAsked: n + 8,
      summaryKeys: 8,
      received: 5 * n,
      accepted: 3 * n,
      refused: {OWN_PACKET: n, NOT_NEAR: n},
      weightsWritten: n,
      keysUnanswered: 0,
      out: path.join(me.root, 'weights.json'),
    })
    expect(summary.peers).toBeGreaterThanOrEqual(1)

    // p1 alone: 0.9 x 0.8 = 0.72, then (0.5 - 0.15) x 1 = 0.35: 0.7 x 0.72 + 0.3 x 0.35 = 0.609, 2 records.
    // p2: 0.2 x 0.5 = 0.1, 1 record. Across publishers by records: (2 x 0.609 + 0.1) / 3 = 0.43933.
    // Success: p1 (0.9 + 0.35) / 2 = 0.625, p2 0.2: 1.45 / 3; their confidence (0.8 + 1 + 0.5) / 3.
    const file = JSON.parse(readFileSync(path.join(me.root, 'weights.json'), 'utf8'))
    expect(file.scheme).toBe(scheme)
    expect(Object.keys(file.weights).sort()).toEqual(keys.map((k) => keyFingerprint(scheme, DOMAIN, k)).sort())
    for (const k of keys) {
      expect(file.weights[keyFingerprint(scheme, DOMAIN, k)]).toEqual({
        weight: expect.closeTo(1.318 / 3, 9),
        packets: 3,
        publishers: 2,
        publisherIds: [p1, p2].map((p) => Buffer.from(p.signer.publicKey).toString('hex').slice(0, 16)).sort(),
        records: 3,
        lastTimestamp: now - 100,
        domain: DOMAIN,
        routingKey: k,
        evidence: {mass: 3, success: expect.closeTo(1.45 / 3, 9), confidence: expect.closeTo(2.3 / 3, 9), publishers: 2},
        variants: {'llama3-8b-instruct': {mass: 3, success: expect.closeTo(1.45 / 3, 9), confidence: expect.closeTo(2.3 / 3, 9), publishers: 2}},
        queries: [{hash, model: 'llama3-8b-instruct', mass: 3, success: expect.closeTo(1.45 / 3, 9), confidence: expect.closeTo(2.3 / 3, 9), publishers: 2}],
        newShare: 1,
      })
    }

    // A second pull, for a person: same weights, the previous file merged rather than lost.
    const again = await runCli(['pull-weights', '--home', me.root, '--bootstrap', bootstrap, '--no-own-evidence'], {env})
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain(`Asked ${n + 8} keys (8 of them domain summary keys; from 1 own packet in 1 packet store, scheme ${scheme})`)
    expect(again.stdout).toContain(`Received 5 packets from peers, 3 of them used (as ${5 * n} packet-key deliveries: ${3 * n} accepted, ${2 * n} refused (`)
    expect(again.stdout).toMatch(new RegExp(`Wrote ${n} weights to .*weights\\.json\\.`))
    expect(JSON.parse(readFileSync(path.join(me.root, 'weights.json'), 'utf8')).weights).toEqual(file.weights)

    // --out, pull-weights' old name for the weights file, still works (in-process: no build needed for it).
    const alt = path.join(tempDir(), 'elsewhere', 'weights.json')
    const viaOut = await runCommand(['pull-weights', '--home', me.root, '--bootstrap', bootstrap, '--out', alt, '--no-own-evidence', '--json'], {env})
    expect(viaOut.code, viaOut.stderr).toBe(0)
    expect(viaOut.stderr).toBe('Warning: --out is deprecated; use --weights\n')
    expect(JSON.parse(viaOut.stdout).out).toBe(alt)
    expect(JSON.parse(readFileSync(alt, 'utf8')).weights).toEqual(file.weights)

    const adj = await runCli(['adjust', QUERY, '--domain', DOMAIN, '--home', me.root, '--rule', 'reference', '--json'], {env})
    expect(adj.code, adj.stderr).toBe(0)
    const a = JSON.parse(adj.stdout)
    expect(a.weight).toBeCloseTo(1.318 / 3, 9)
    expect(a.adjustment).toBeCloseTo(1.318 / 3 - 0.5, 9)
    expect(a).toMatchObject({keysMatched: n, publishers: 2, packets: 3 * n})
    // Calibrated: peers were right 48% where they expected 77%, on this very question (same fine
    // hash, so all 3 records count fully) against a prior of PRIOR_STRENGTH (4) centred on their
    // confidence moved by the domain layer (the 3 records, once each though filed under n keys,
    // against DOMAIN_PRIOR_STRENGTH, 32 records):
    // posterior (1.45 + 4 x prior) / 7, whose log-odds shift moves 0.5 down.
    const cal = JSON.parse((await runCli(['adjust', QUERY, '--domain', DOMAIN, '--home', me.root, '--json'], {env})).stdout)
    const logit = (p: number) => Math.log(p / (1 - p))
    const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))
    const domainShift = logit((1.45 + (32 * 2.3) / 3) / (3 + 32)) - logit(2.3 / 3)
    const expected = sigmoid(logit((1.45 + 4 * sigmoid(logit(2.3 / 3) + domainShift)) / 7) - logit(2.3 / 3))
    expect(cal.domainEvidence).toMatchObject({mass: 3, success: expect.closeTo(1.45 / 3, 9)})
    expect(cal).toMatchObject({rule: 'calibrated', confidence: 0.5, probability: expect.closeTo(expected, 9), adjustment: expect.closeTo(expected - 0.5, 9)})
  }, 180_000)

  it('counts the home\'s own packets beside the peers\' by default', async () => {
    // Runs after the test above: `me` there is a fresh home here with one own packet and the same peers.
    const mine = await homeWith([{outcome: 1, confidence: 0.6, age: 30}])
    const r = await runCli(['pull-weights', '--home', mine.root, '--bootstrap', bootstrap], {env})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain("Used 1 own packet as evidence beside the peers'")
    const file = JSON.parse(readFileSync(path.join(mine.root, 'weights.json'), 'utf8'))
    const own = Buffer.from(mine.signer.publicKey).toString('hex').slice(0, 16)
    for (const k of keys) expect(file.weights[keyFingerprint(scheme, DOMAIN, k)].publisherIds).toContain(own)
  }, 180_000)

  it('--queries asks about queries being answered now, and adjust --live fetches what the file lacks', async () => {
    // Runs after the test above published three homes' packets under the query's keys.
    const n = keys.length
    const fresh = tempDir()
    const queries = path.join(tempDir(), 'queue.jsonl')
    writeFileSync(queries, `${JSON.stringify({query: QUERY, domain: DOMAIN})}\n`)
    const r = await runCli(['pull-weights', '--home', fresh, '--bootstrap', bootstrap, '--queries', queries, '--json'], {env})
    expect(r.code, r.stderr).toBe(0)
    const summary = JSON.parse(r.stdout)
    expect(summary).toMatchObject({scheme, keysAsked: n + 8, summaryKeys: 8, queries: {read: 1, keys: n}, weightsWritten: n, local: {packetsUsed: 0}})
    // No own packets here, so every home's packets are peers' (the far one is refused as NOT_NEAR).
    expect(summary.packets.accepted).toBeGreaterThanOrEqual(4)
    expect(readFileSync(path.join(fresh, 'weights.json'), 'utf8')).not.toContain('ibuprofen')

    const bad = await runCli(['pull-weights', '--home', fresh, '--bootstrap', bootstrap, '--queries', path.join(fresh, 'none.jsonl'), '--json'], {env})
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.stdout).error).toMatchObject({code: 'INPUT_NOT_FOUND'})

    const other = tempDir()
    const live = await runCli(['adjust', QUERY, '--domain', DOMAIN, '--home', other, '--live', '--bootstrap', bootstrap, '--json'], {env})
    expect(live.code, live.stderr).toBe(0)
    const a = JSON.parse(live.stdout)
    expect(a.live).toMatchObject({keysFetched: n, keysLive: n})
    expect(a.keysMatched).toBe(n)
    expect(a.evidence.mass).toBeGreaterThanOrEqual(4)
    // Learnt once, written back: a plain adjust now finds the same evidence without the swarm.
    const plain = JSON.parse((await runCli(['adjust', QUERY, '--domain', DOMAIN, '--home', other, '--json'], {env})).stdout)
    expect(plain.probability).toBeCloseTo(a.probability, 9)

    const noSwarm = await runCli(['adjust', QUERY, '--domain', DOMAIN, '--home', tempDir(), '--live', '--json'], {env: {...env, QIS_BOOTSTRAP: ''}})
    expect(noSwarm.code).toBe(2)
    expect(JSON.parse(noSwarm.stdout).error).toMatchObject({code: 'NO_BOOTSTRAP'})
    const needsLive = await runCli(['adjust', QUERY, '--domain', DOMAIN, '--home', other, '--bootstrap', bootstrap, '--json'], {env})
    expect(needsLive.code).toBe(2)
    expect(JSON.parse(needsLive.stdout).error.message).toContain('--bootstrap needs --live')
  }, 180_000)

  it('with no own packets, says there is nothing to ask', async () => {
    const r = await runCli(['pull-weights', '--home', tempDir(), '--bootstrap', bootstrap, '--json'], {env})
    expect(r.code).toBe(3) // NOTHING_TO_ASK: nothing produced (src/cli/codes.ts)
    expect(JSON.parse(r.stdout).error).toMatchObject({code: 'NOTHING_TO_ASK'})
  })
})
