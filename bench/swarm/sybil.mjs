// bench/swarm/sybil.mjs: the Sybil case of issue 17 with real processes. 200 fresh identities publish
// 50 inverted packets each under the victim's keys; what share of the victim's weight evidence is theirs?
//
//   npm run build && node bench/swarm/sybil.mjs [--nodes 5] [--identities 200] [--per-identity 50] \
//     [--keys 5] [--honest 3] [--json OUT]
//
// Everything is a real `qis` process on 127.0.0.1 (bin/run.js, as an operator runs it): `--nodes`
// storage nodes, the honest publishers' and the attacker's `qis publish` (each from its own home,
// the attacker's one store holding packets signed by all its identities), `qis trust add` and the
// victim's `qis pull-weights --json`, whose weights file is read back. Packets are real signed ones.
//
// The victim has own packets under `--keys` routing keys (never published, signed with its home's
// identity, so pull-weights counts them as own evidence) and a fresh home (no first-seen history). `--honest` publishers report outcome 1 at confidence 0.8 under each of those
// keys (4 packets each per key); each attacker identity copies the victim's fine hash (so the
// closeness filter passes) and reports outcome 0 at confidence 1, spread over the keys. Since honest
// evidence is 1 and the attacker's 0, the attacker's share of a key's evidence is 1 - success.
//
// Cases:
//   open swarm, no trust list       - the attacker publishes into the same swarm;
//   open swarm, trust list          - the honest publishers are on the victim's list (weighted, not only);
//   open swarm, --trusted-only      - the victim counts trusted publishers only;
//   private swarm                   - every node, honest publisher and the victim hold a swarm key
//                                     (QIS_SWARM_KEY); the attacker does not.
// At most nodes + 1 processes run at once; every one is killed on exit.
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'

import {openHome} from '../../dist/config/home.js'
import {loadOrCreateIdentity} from '../../dist/identity/identity.js'
import {encodePacket, keyFingerprint, signerFromSeed} from '../../dist/packet/index.js'
import {signerFromIdentity} from '../../dist/packet/signer.js'
import {frameRecord, storeHeader} from '../../dist/packet/store.js'
import {newSwarmKeyText} from '../../dist/swarm/pnet.js'
import {children, runJs, startQisNode} from './node-process.mjs'

const {values} = parseArgs({
  options: {
    nodes: {type: 'string', default: '5'},
    identities: {type: 'string', default: '200'},
    'per-identity': {type: 'string', default: '50'},
    keys: {type: 'string', default: '5'},
    honest: {type: 'string', default: '3'},
    json: {type: 'string', default: ''},
  },
})
const NODES = Number(values.nodes)
const IDENTITIES = Number(values.identities)
const PER_IDENTITY = Number(values['per-identity'])
const KEYS = Number(values.keys)
const HONEST = Number(values.honest)

const SCHEME = 'bench.sybil.v1'
const DOMAIN = 'clinical.oncology'
const VICTIM_HASH = '0f1e2d3c4b5a6978'
const NOW = Math.floor(Date.now() / 1000)
const routingKeys = Array.from({length: KEYS}, (_, i) => `rk${i}`)
const fingerprints = routingKeys.map((rk) => keyFingerprint(SCHEME, DOMAIN, rk))


const signer = (name) => {
  const s = signerFromSeed(createHash('sha256').update(`bench-swarm-sybil:${name}`).digest())
  return Object.assign(s, {hex: Buffer.from(s.publicKey).toString('hex')})
}
const packet = (s, rk, outcome, confidence, timestamp) =>
  encodePacket(
    {
      scheme: SCHEME,
      domain_tag: DOMAIN,
      query_semantic_hash: VICTIM_HASH,
      routing_keys: [rk],
      outcome_signal: outcome,
      confidence_at_inference: confidence,
      model_variant: 'llama-3-8b',
      correction_applied: false,
      correction_type: null,
      timestamp,
      ttl_hours: 168,
    },
    s,
  )

function writeStoreFile(home, name, packets) {
  mkdirSync(path.join(home, 'packets'), {recursive: true})
  const file = path.join(home, 'packets', `${name}.qisp`)
  writeFileSync(`${file}.tmp`, Buffer.concat([storeHeader(), ...packets.map((p) => frameRecord(p))]))
  renameSync(`${file}.tmp`, file)
}

/** Runs one `qis` command to completion; resolves with its exit code and output. */
function qis(args, env = {}, timeoutMs = 300_000) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [runJs, ...args], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, QIS_BOOTSTRAP: '', QIS_SWARM_KEY: '', ...env}})
    children.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      children.delete(child)
      resolve({code, stdout, stderr})
    })
  })
}

function startNode(home, bootstrap, env) {
  return startQisNode({
    home,
    bootstrap,
    env,
    args: ['--no-replicate'],
    fields: {refused: {}},
    onEvent: (e, node) => {
      if (e.event === 'stored') for (const [r, n] of Object.entries(e.refused)) node.refused[r] = (node.refused[r] ?? 0) + n
    },
  })
}

const honest = Array.from({length: HONEST}, (_, i) => signer(`honest-${i}`))
const attackers = Array.from({length: IDENTITIES}, (_, i) => signer(`sybil-${i}`))
// The victim's own packets are signed with its home's identity, as `qis distill` signs them:
// pull-weights counts them as own evidence beside its peers' only then.
const victimOwn = (identitySigner) => routingKeys.map((rk) => packet(identitySigner, rk, 1, 0.6, NOW - 7200))
const honestPackets = honest.map((s, h) => routingKeys.flatMap((rk, k) => Array.from({length: 4}, (_, j) => packet(s, rk, 1, 0.8, NOW - 3600 - 60 * (h * 100 + k * 10 + j)))))
// Distinct packets (timestamps differ), all under the victim's keys and fine hash.
const attackPackets = attackers.flatMap((s, a) => Array.from({length: PER_IDENTITY}, (_, j) => packet(s, routingKeys[j % KEYS], 0, 1, NOW - 600 - j - a * PER_IDENTITY)))

async function runCase(name, {trust, trustedOnly, privateSwarm}) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'qis-bench-sybil-'))
  const nodes = []
  const started = Date.now()
  try {
    let keyEnv = {}
    if (privateSwarm) {
      const keyFile = path.join(root, 'swarm.key')
      writeFileSync(keyFile, newSwarmKeyText(), {mode: 0o600})
      keyEnv = {QIS_SWARM_KEY: keyFile}
    }
    nodes.push(await startNode(path.join(root, 'n0'), [], keyEnv))
    nodes.push(...(await Promise.all(Array.from({length: NODES - 1}, (_, i) => startNode(path.join(root, `n${i + 1}`), [nodes[0].multiaddr], keyEnv)))))
    for (let t = 0; t < 120 && nodes.some((n) => !n.joined); t++) await new Promise((r) => setTimeout(r, 500))
    const bootstrap = nodes.slice(0, 2).flatMap((n) => ['--bootstrap', n.multiaddr])

    const published = {}
    for (const [who, packets, env] of [
      ['honest', honestPackets.flat(), keyEnv],
      // The attacker never has the swarm key.
      ['attacker', attackPackets, {}],
    ]) {
      const home = path.join(root, who)
      writeStoreFile(home, who, packets)
      const r = await qis(['publish', '--json', '--yes', '--home', home, ...bootstrap, '--replicas', String(Math.min(3, NODES))], env)
      let summary = {}
      try {
        summary = JSON.parse(r.stdout)
      } catch {
        // A publish that could not even join prints its envelope only.
      }
      published[who] = {code: r.code, published: summary.published ?? 0, failed: summary.failed ?? 0, error: summary.error?.code ?? (r.code === 0 ? undefined : r.stderr.trim().split('\n').at(-1))}
    }

    const victim = path.join(root, 'victim')
    writeStoreFile(victim, 'own', victimOwn(signerFromIdentity(await loadOrCreateIdentity(await openHome(victim)))))
    if (trust) for (const [i, s] of honest.entries()) {
      const r = await qis(['trust', 'add', s.hex, '--label', `honest-${i}`, '--home', victim])
      if (r.code !== 0) throw new Error(`qis trust add failed: ${r.stderr}`)
    }
    const pull = await qis(['pull-weights', '--json', '--home', victim, ...bootstrap, ...(trustedOnly ? ['--trusted-only'] : [])], keyEnv)
    let result = {}
    try {
      result = JSON.parse(pull.stdout)
    } catch {
      throw new Error(`pull-weights printed no JSON (exit ${pull.code}): ${pull.stderr.slice(-500)}`)
    }
    const file = JSON.parse(readFileSync(path.join(victim, 'weights.json'), 'utf8'))
    const perKey = fingerprints.map((fp) => file.weights[fp]).filter(Boolean)
    const shares = perKey.map((w) => 1 - w.evidence.success)
    const refused = nodes.reduce((acc, n) => {
      for (const [r, c] of Object.entries(n.refused)) acc[r] = (acc[r] ?? 0) + c
      return acc
    }, {})
    return {
      name,
      published,
      pullExit: pull.code,
      pullError: result.error?.code,
      // The victim's own packets counted beside its peers' (pull-weights' own evidence).
      own: result.own ?? null,
      publishersNew: result.publishersNew ?? null,
      keysWithWeight: perKey.length,
      attackerShare: shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : null,
      attackerShareMax: shares.length ? Math.max(...shares) : null,
      weight: perKey.length ? perKey.reduce((a, w) => a + w.weight, 0) / perKey.length : null,
      trustedShare: perKey.length && perKey[0].trustedShare !== undefined ? perKey.reduce((a, w) => a + w.trustedShare, 0) / perKey.length : null,
      refusedByNodes: refused,
      seconds: (Date.now() - started) / 1000,
    }
  } finally {
    for (const n of nodes) n.child.kill('SIGKILL')
    await new Promise((r) => setTimeout(r, 300))
    rmSync(root, {recursive: true, force: true})
  }
}

console.log(
  `bench/swarm/sybil: ${NODES} qis node processes on 127.0.0.1; victim: fresh home, own packets under ${KEYS} keys; ${HONEST} honest publishers x 4 packets per key (outcome 1, confidence 0.8); ` +
    `attacker: ${IDENTITIES} identities x ${PER_IDENTITY} packets (outcome 0, confidence 1, the victim's fine hash) = ${attackPackets.length} packets in one qis publish; ` +
    `${os.cpus().length} cores, load average ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`,
)
const rows = []
for (const [name, c] of [
  ['open swarm, no trust list', {}],
  ['open swarm, trust list', {trust: true}],
  ['open swarm, --trusted-only', {trust: true, trustedOnly: true}],
  ['private swarm (attacker lacks the key)', {privateSwarm: true}],
]) {
  const r = await runCase(name, c)
  rows.push(r)
  console.log(JSON.stringify(r))
}
const pct = (v) => (v === null ? '-' : `${(v * 100).toFixed(1)} %`)
console.log('\n| case | attacker packets accepted by the swarm | attacker share of the evidence (mean / worst key) | weight (mean) | pull-weights |')
console.log('| --- | ---: | ---: | ---: | --- |')
for (const r of rows) {
  const a = r.published.attacker
  console.log(
    `| ${r.name} | ${a.published} of ${attackPackets.length}${a.error ? ` (${a.error})` : ''} | ${pct(r.attackerShare)} / ${pct(r.attackerShareMax)} | ${r.weight === null ? '-' : r.weight.toFixed(3)} | exit ${r.pullExit}${r.pullError ? ` ${r.pullError}` : ''}, ${r.keysWithWeight} of ${KEYS} keys weighted |`,
  )
}
if (values.json) writeFileSync(values.json, JSON.stringify({nodes: NODES, identities: IDENTITIES, perIdentity: PER_IDENTITY, keys: KEYS, honest: HONEST, rows}, null, 2) + '\n')
