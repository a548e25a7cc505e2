// bench/swarm/churn.mjs: how many packets stay retrievable while storage nodes come and go, with
// and without re-replication (issue 17, "Packets outlive their first replicas").
//
//   npm run build && node bench/swarm/churn.mjs [--nodes 20] [--share 0.2] [--period 60] \
//     [--packets 600] [--keys 150] [--interval 10] [--settle <2 x interval>] [--arms with,without] [--seed 1] [--svg docs/img/churn.svg] \
//     [--before-root DIR --arms with,before,without]
//
// Per arm: N real `qis node` processes on 127.0.0.1 (bin/run.js, as an operator runs them; with
// `--replicate-interval <interval>s`, or `--no-replicate`; the `before` arm runs DIR/bin/run.js, a
// build of an earlier rule, with the same flags as `with`), a client publishes the packets with 3
// replicas, then churn starts: one node at a time is killed (SIGKILL, its storage gone with it) and
// replaced by a fresh node with a new identity and empty storage, so that `share` x N nodes are
// replaced per churn period, oldest first. At 1x, 2x and 4x the period a fresh client fetches every key from the
// swarm as it is then and counts the distinct packets it gets back. At 4x with share 0.2, 80 % of
// the nodes are new. At most N + 1 node processes run at once; every one is killed on exit.
import {generateKeyPair} from '@libp2p/crypto/keys'
import {mkdtempSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'

import {packetId} from '../../dist/packet/index.js'
import {readStoreFile} from '../../dist/packet/store.js'
import {STORAGE_FILE} from '../../dist/swarm/storage.js'
import {makeBenchPackets} from './packets.mjs'
import {fetchPackets, openSwarmClient, publishPackets} from '../../dist/swarm/client.js'
import {startQisNode} from './node-process.mjs'

const {values} = parseArgs({
  options: {
    nodes: {type: 'string', default: '20'},
    share: {type: 'string', default: '0.2'},
    period: {type: 'string', default: '60'},
    packets: {type: 'string', default: '600'},
    keys: {type: 'string', default: '150'},
    interval: {type: 'string', default: '10'},
    // Seconds between the publish and the first kill; default two rounds, so every holder has looked at its keys once.
    settle: {type: 'string'},
    arms: {type: 'string', default: 'with,without'},
    seed: {type: 'string', default: '1'},
    svg: {type: 'string', default: ''},
    'before-root': {type: 'string'},
  },
})
const N = Number(values.nodes)
const share = Number(values.share)
const periodS = Number(values.period)
const packetCount = Number(values.packets)
const keyCount = Number(values.keys)
const intervalS = Number(values.interval)
const settleS = values.settle === undefined ? 2 * intervalS : Number(values.settle)
const perPeriod = Math.max(1, Math.round(N * share))
const checkpoints = [1, 2, 4]
const replacements = perPeriod * checkpoints.at(-1)


// Seeded, so both arms kill the same sequence of node slots.
function rng(seed) {
  let s = seed >>> 0
  return () => ((s = (s * 1_664_525 + 1_013_904_223) >>> 0) / 2 ** 32)
}
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)))


const emptyTraffic = () => ({sent: 0, stored: 0, failed: 0, checks: 0, checkedIds: 0})

/** `total` adds up the re-replication of every node of the arm, also the ones killed since. */
function startNode(root, name, bootstrap, arm, total) {
  const run = arm === 'before' ? path.join(path.resolve(values['before-root']), 'bin', 'run.js') : undefined
  return startQisNode({
    home: path.join(root, name),
    name,
    bootstrap,
    ...(run ? {run} : {}),
    args: arm === 'without' ? ['--no-replicate'] : ['--replicate-interval', `${intervalS}s`],
    fields: {replicated: emptyTraffic()},
    onEvent: (e, node) => {
      if (e.event !== 'replicated') return
      for (const t of [node.replicated, total]) {
        t.sent += e.sent
        t.stored += e.stored
        t.failed += e.failed
        // An older build's events have no check counts.
        t.checks += e.checks ?? 0
        t.checkedIds += e.checkedIds ?? 0
      }
    },
  })
}

function kill(node) {
  const exited = new Promise((r) => node.child.once('exit', r))
  node.child.kill('SIGKILL')
  return exited
}

/** A client joined through a few live nodes; on a loaded machine a join can time out, so it is tried again. */
async function client(nodes) {
  for (let attempt = 1; ; attempt++) {
    const live = nodes.filter((n) => n.joined)
    const bootstrap = [...new Set([0, 1, 2].map(() => live[Math.floor(Math.random() * live.length)].multiaddr))]
    try {
      return await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap, joinTimeoutMs: 60_000})
    } catch (err) {
      if (attempt >= 3) throw err
      console.error(`client join failed (${err.message}); trying again`)
    }
  }
}

async function retrievable(nodes, items) {
  const client_ = await client(nodes)
  return retrievableWith(client_, items)
}

async function retrievableWith(client, items) {
  try {
    const got = await fetchPackets(client, [...new Set(items.map((i) => i.key))], {concurrency: 8, requestTimeoutMs: 10_000})
    const ids = new Set(got.packets.map((p) => packetId(p.bytes)))
    const share = items.filter((i) => ids.has(i.id)).length / items.length
    // Requests that failed (timeouts on a loaded machine) would count as loss: say how many there were.
    if (Object.keys(got.failures).length > 0) console.error(`  fetch at ${(share * 100).toFixed(1)} %: failures ${JSON.stringify(got.failures)}, ${got.unanswered.length} key(s) unanswered`)
    return share
  } finally {
    await client.close()
  }
}

/**
 * Where the packets physically are: each live node's storage file, read directly (the node appends
 * to it as it stores). Separates a packet that no live node holds (lost: re-replication came too
 * late or never) from one that is held but the swarm's fetch does not reach (a lookup problem).
 */
async function census(nodes, items) {
  const holders = new Map()
  for (const n of nodes) {
    try {
      for await (const e of readStoreFile(path.join(n.home, 'node', STORAGE_FILE))) if (e.kind === 'packet') holders.set(packetId(e.bytes), (holders.get(packetId(e.bytes)) ?? 0) + 1)
    } catch (err) {
      if (err.code !== 'ENOENT') throw err
    }
  }
  const counts = items.map((i) => holders.get(i.id) ?? 0)
  return {held: counts.filter((c) => c > 0).length / items.length, full: counts.filter((c) => c >= 3).length / items.length, mean: counts.reduce((a, b) => a + b, 0) / items.length}
}

async function checkpoint(nodes, items) {
  const where = await census(nodes, items)
  return {retrievable: await retrievable(nodes, items), ...where}
}

async function runArm(arm, items) {
  const replicate = arm !== 'without'
  const root = mkdtempSync(path.join(os.tmpdir(), 'qis-bench-churn-'))
  const random = rng(Number(values.seed))
  const nodes = []
  const total = emptyTraffic()
  let made = 0
  const fresh = (bootstrap) => startNode(root, `n${made++}`, bootstrap, arm, total)
  try {
    nodes.push(await fresh([]))
    for (let i = 1; i < N; i += 4) {
      const wave = Array.from({length: Math.min(4, N - i)}, () => fresh([nodes[0].multiaddr, nodes[Math.floor(random() * nodes.length)].multiaddr]))
      nodes.push(...(await Promise.all(wave)))
    }
    // Seeded shuffle of the first nodes' kill order, the same in both arms.
    for (let i = nodes.length - 1; i > 0; i--) {
      const k = Math.floor(random() * (i + 1))
      ;[nodes[i], nodes[k]] = [nodes[k], nodes[i]]
    }
    // Let routing tables fill (joins, self-lookups).
    for (let t = 0; t < 120 && nodes.some((n) => !n.joined); t++) await sleep(500)
    await sleep(5000)
    const publisher = await client(nodes)
    const pub = await publishPackets(publisher, items, {concurrency: 8})
    await publisher.close()
    console.error(`  ${arm}: published ${pub.acked}/${items.length}${pub.failed ? ` (failed ${JSON.stringify(pub.failures)})` : ''}`)
    await sleep(settleS * 1000)
    const rows = [{at: 0, seconds: 0, ...(await checkpoint(nodes, items)), replaced: 0}]
    const step = (periodS * 1000) / perPeriod
    const t0 = Date.now()
    for (let j = 1; j <= replacements; j++) {
      await sleep(t0 + j * step - Date.now())
      // The oldest node goes (every node lives the same N / perPeriod periods), so at 4x with share 0.2
      // 80 % of the first nodes are gone. A victim drawn at random from all nodes often hit a fresh,
      // empty one: with this seed, kills 5 to 8 of 10 nodes all did, and 4x measured the same swarm as 2x.
      const victim = nodes.shift()
      await kill(victim)
      rmSync(victim.home, {recursive: true, force: true})
      const bootstrap = [...new Set([0, 1, 2].map(() => nodes[Math.floor(random() * nodes.length)].multiaddr))]
      nodes.push(await fresh(bootstrap))
      const at = j / perPeriod
      if (checkpoints.includes(at)) console.error(`  ${at}x: ${j} replaced, t=${((Date.now() - t0) / 1000).toFixed(0)} s`)
      if (checkpoints.includes(at)) rows.push({at, seconds: (Date.now() - t0) / 1000, ...(await checkpoint(nodes, items)), replaced: j})
    }
    const traffic = nodes.reduce((a, n) => ({sent: a.sent + n.replicated.sent, stored: a.stored + n.replicated.stored}), {sent: 0, stored: 0})
    return {arm, replicate, acked: pub.acked, failed: pub.failed, rows, liveTraffic: traffic, total}
  } finally {
    await Promise.all(nodes.map(kill))
    rmSync(root, {recursive: true, force: true})
  }
}

function svg(results) {
  const W = 600
  const H = 340
  const m = {l: 60, r: 190, t: 30, b: 50}
  const x = (at) => m.l + (at / checkpoints.at(-1)) * (W - m.l - m.r)
  const y = (v) => m.t + (1 - v) * (H - m.t - m.b)
  const colours = {with: '#1f77b4', before: '#2ca02c', without: '#d62728'}
  let out = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">\n`
  out += `<text x="${m.l}" y="18" font-size="13">Packets retrievable under churn (${N} nodes, ${Math.round(share * 100)} % replaced per ${periodS} s period)</text>\n`
  for (const v of [0, 0.25, 0.5, 0.75, 1]) out += `<line x1="${m.l}" x2="${W - m.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${m.l - 8}" y="${y(v) + 4}" text-anchor="end">${v * 100} %</text>\n`
  for (const at of [0, ...checkpoints]) out += `<text x="${x(at)}" y="${H - m.b + 18}" text-anchor="middle">${at}x</text>\n`
  out += `<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">time since churn began, in churn periods (nodes replaced: ${perPeriod} per period)</text>\n`
  out += `<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/><line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>\n`
  results.forEach((r, i) => {
    const c = colours[r.arm]
    out += `<polyline fill="none" stroke="${c}" stroke-width="2" points="${r.rows.map((p) => `${x(p.at)},${y(p.retrievable)}`).join(' ')}"/>\n`
    for (const p of r.rows) out += `<circle cx="${x(p.at)}" cy="${y(p.retrievable)}" r="3" fill="${c}"/>\n`
    // Dashed: the share still on 3 or more live nodes (the census), where loss starts before it shows.
    out += `<polyline fill="none" stroke="${c}" stroke-width="1.5" stroke-dasharray="5,4" points="${r.rows.map((p) => `${x(p.at)},${y(p.full)}`).join(' ')}"/>\n`
    out += `<text x="${W - m.r + 10}" y="${m.t + 20 + i * 36}" fill="${c}">${armName(r)}</text>\n`
    out += `<text x="${W - m.r + 10}" y="${m.t + 36 + i * 36}" fill="${c}" font-size="10">solid: retrievable; dashed: on 3+</text>\n`
    // What the arm's re-replication cost, all nodes: the figure the have check is meant to cut.
    if (r.replicate) out += `<text x="${W - m.r + 10}" y="${H - m.b - 10 - (results.filter((q) => q.replicate).length - 1 - results.filter((q) => q.replicate).indexOf(r)) * 14}" fill="${c}" font-size="10">pushed ${r.total.sent} packets, ~${payloadKiB(r)} KiB</text>\n`
  })
  return out + '</svg>\n'
}

const armName = (r) => ({with: `re-replication (${intervalS} s rounds)`, before: `earlier rule (${intervalS} s rounds)`, without: 'no re-replication'})[r.arm]
const items = makeBenchPackets({seed: 'bench-churn-publisher', count: packetCount, keys: keyCount, queryPrefix: 'churn'})
console.log(
  `bench/swarm/churn: ${N} qis node processes, ${packetCount} packets under ${keyCount} keys, 3 replicas; churn: ${perPeriod} node(s) (${Math.round(share * 100)} %) replaced per ${periodS} s period, one at a time, oldest first (SIGKILL, fresh identity and storage), first kill ${settleS} s after the publish; ` +
    `${os.cpus().length} cores, load average ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`,
)
const pct = (v) => `${(v * 100).toFixed(1)} %`
const meanPacketBytes = items.reduce((s, i) => s + i.bytes.length, 0) / items.length
// Re-replication payload: packets pushed, plus 8 bytes per id named in have checks (keys and framing left out).
const payloadKiB = (r) => Math.round((r.total.sent * meanPacketBytes + r.total.checkedIds * 8) / 1024)
const arms = values.arms.split(',')
for (const arm of arms) {
  if (!['with', 'before', 'without'].includes(arm)) throw new Error(`--arms: "${arm}" is not one of with, before, without`)
  if (arm === 'before' && !values['before-root']) throw new Error('--arms before needs --before-root DIR (a checkout with an earlier build: DIR/bin/run.js)')
}
const results = []
for (const arm of arms) {
  const started = Date.now()
  const r = await runArm(arm, items)
  results.push(r)
  console.log(
    `${armName(r)}: published ${r.acked}/${packetCount} (${r.failed} failed); ` +
      r.rows.map((p) => `${p.at}x (${p.replaced} replaced, t=${p.seconds.toFixed(0)} s): ${pct(p.retrievable)} retrievable, ${pct(p.held)} on a live node, ${pct(p.full)} on 3+, ${p.mean.toFixed(2)} copies`).join(' | ') +
      (r.replicate
        ? ` | pushes by the nodes alive at the end: ${r.liveTraffic.sent} packets sent, ${r.liveTraffic.stored} new to the receiver` +
          ` | by every node of the arm: ${r.total.sent} packets sent, ${r.total.stored} new to the receiver, ${r.total.checks} have checks naming ${r.total.checkedIds} ids;` +
          ` payload ~${payloadKiB(r)} KiB (packets at ${meanPacketBytes.toFixed(0)} B, ids at 8 B)`
        : '') +
      ` (${((Date.now() - started) / 1000).toFixed(0)} s)`,
  )
}
// Per arm: retrievable through the swarm / held by at least one live node / held by 3 or more.
console.log('\n| churn periods | nodes replaced | ' + results.map((r) => `${armName(r)}: retrievable / on a live node / on 3+`).join(' | ') + ' |')
console.log('| ---: | ---: | ' + results.map(() => '---:').join(' | ') + ' |')
for (let i = 0; i < results[0].rows.length; i++) {
  const row = results[0].rows[i]
  console.log(`| ${row.at}x | ${row.replaced} of ${N} | ${results.map((r) => `${pct(r.rows[i].retrievable)} / ${pct(r.rows[i].held)} / ${pct(r.rows[i].full)}`).join(' | ')} |`)
}
if (values.svg) {
  const tmp = `${values.svg}.tmp-${process.pid}`
  writeFileSync(tmp, svg(results))
  renameSync(tmp, values.svg)
  console.log(`curve: ${values.svg}`)
}
