// bench/swarm: publish P packets over K keys into an N-node loopback swarm, then pull the K keys
// from another client, and print wall time, messages and bytes per packet, lookups per key.
//
//   npm run build && node bench/swarm/run.mjs [--nodes 5,10,20,40] [--packets 10000] [--keys 500] [--cpu-prof DIR]
//
// Storage nodes are separate processes (bench/swarm/node-worker.mjs: the createSwarmNode +
// PacketStorage that `qis node` runs, without oclif). The publisher and the puller are clients in
// this process, so "bytes on the wire" is what they send and receive over TCP (payload bytes,
// noise + yamux framing included; node-to-node DHT upkeep excluded).
import {generateKeyPair} from '@libp2p/crypto/keys'
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {packetId} from '../../dist/packet/index.js'
import {makeBenchPackets} from './packets.mjs'
import {fetchPackets, openSwarmClient, publishPackets} from '../../dist/swarm/client.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : fallback
}
const sizes = arg('nodes', '5,10,20,40').split(',').map(Number)
const packetCount = Number(arg('packets', '10000'))
const keyCount = Number(arg('keys', '500'))
const concurrency = Number(arg('concurrency', '16'))
// --cpu-prof DIR: profile the node processes too (run this script with node --cpu-prof for its own side).
const profileDir = arg('cpu-prof', undefined)

// Every TCP socket this process opens, so bytes can be summed per phase (sockets keep their counters after close).
const sockets = new Set()
const connect = net.Socket.prototype.connect
net.Socket.prototype.connect = function (...args) {
  sockets.add(this)
  return connect.apply(this, args)
}
const wireBytes = () => {
  let sent = 0
  let received = 0
  for (const s of sockets) {
    sent += s.bytesWritten ?? 0
    received += s.bytesRead ?? 0
  }
  return {sent, received}
}

// CPU seconds are the load-independent cost: this machine is shared, so wall time depends on what
// else runs. Linux /proc/<pid>/stat: utime and stime (fields 14, 15) in clock ticks of 1/100 s.
function childCpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return 0
  }
}
const cpuSeconds = (workers) => {
  const own = process.cpuUsage()
  return (own.user + own.system) / 1e6 + workers.reduce((a, w) => a + childCpuSeconds(w.child.pid), 0)
}


// However this process ends (a crash included), no node process may outlive it.
const children = new Set()
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130))

function startWorker(dir, bootstrap) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), path.join(here, 'node-worker.mjs'), dir, ...bootstrap], {stdio: ['ignore', 'pipe', 'inherit']})
    children.add(child)
    child.once('exit', () => children.delete(child))
    let out = ''
    const onData = (d) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl < 0) return
      child.stdout.off('data', onData)
      resolve({child, multiaddr: JSON.parse(out.slice(0, nl)).multiaddr, dir})
    }
    child.stdout.on('data', onData)
    child.on('error', reject)
    child.on('exit', (code) => reject(new Error(`node worker exited with ${code} before listening`)))
  })
}

/** Stops a node; resolves with how many packets it held (from its `stopped` line), or NaN. */
async function stopWorker(w) {
  let out = ''
  w.child.stdout.on('data', (d) => (out += d))
  const exited = new Promise((resolve) => w.child.once('exit', resolve))
  w.child.kill('SIGTERM')
  const timer = setTimeout(() => w.child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
  const line = out.split('\n').find((l) => l.includes('"stopped"'))
  return line ? JSON.parse(line).packets : Number.NaN
}

async function startSwarm(n) {
  const root = mkdtempSync(path.join(os.tmpdir(), `qis-bench-swarm-${n}-`))
  const workers = [await startWorker(path.join(root, 'n0'), [])]
  // Start in waves; each node bootstraps from the first and from one random earlier node.
  for (let i = 1; i < n; i += 4) {
    const wave = []
    for (let j = i; j < Math.min(n, i + 4); j++) {
      const other = workers[Math.floor(Math.random() * workers.length)].multiaddr
      wave.push(startWorker(path.join(root, `n${j}`), [...new Set([workers[0].multiaddr, other])]))
    }
    workers.push(...(await Promise.all(wave)))
  }
  return {root, workers}
}

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : String(x))

async function runSize(n, items) {
  const t0 = Date.now()
  const {root, workers} = await startSwarm(n)
  const startSeconds = (Date.now() - t0) / 1000
  // Let routing tables fill (kad-dht pings and self-queries after connect).
  await new Promise((r) => setTimeout(r, 3000))
  // What the idle swarm itself burns (kad-dht upkeep of N processes on this machine), so publish
  // and pull CPU can be read net of it.
  const ci0 = cpuSeconds(workers)
  const ti0 = Date.now()
  await new Promise((r) => setTimeout(r, 3000))
  const idleCpuRate = (cpuSeconds(workers) - ci0) / ((Date.now() - ti0) / 1000)
  try {
    const publisher = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [workers[0].multiaddr]})
    const w0 = wireBytes()
    const c0 = cpuSeconds(workers)
    const tp = Date.now()
    const pub = await publishPackets(publisher, items, {concurrency, batchSize: 128})
    const publishSeconds = (Date.now() - tp) / 1000
    const w1 = wireBytes()
    const c1 = cpuSeconds(workers)
    const pc = {...publisher.node.counters}
    await publisher.close()

    const puller = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [workers[workers.length - 1].multiaddr]})
    const keys = [...new Set(items.map((i) => i.key))]
    const w2 = wireBytes()
    const c2 = cpuSeconds(workers)
    const tf = Date.now()
    const got = await fetchPackets(puller, keys, {concurrency})
    const pullSeconds = (Date.now() - tf) / 1000
    const w3 = wireBytes()
    const c3 = cpuSeconds(workers)
    const fc = {...puller.node.counters}
    await puller.close()
    const retrieved = new Set(got.packets.map((p) => packetId(p.bytes)))
    const missing = items.filter((i) => !retrieved.has(i.id)).length
    const held = await Promise.all(workers.map(stopWorker))
    workers.length = 0

    return {
      n,
      startSeconds,
      publishSeconds,
      publishCpu: c1 - c0,
      idleCpuRate,
      acked: pub.acked,
      failed: pub.failed,
      failures: pub.failures,
      lookupsPerKey: pc.batchLookupKeys / keys.length,
      // Logical Kademlia cost: (key, peer) queries per key; the batched lookup carries many keys
      // per request, so requests (messages) are far fewer.
      lookupMsgsPerKey: pc.closestQueries / keys.length,
      lookupRequests: pc.closestRequests,
      // Messages: closest-peers requests + store requests
      // (each request and its reply counted once).
      msgsPerPacket: (pc.closestRequests + pc.storeRequests) / items.length,
      storeReqs: pc.storeRequests,
      storeStreams: pc.storeStreams,
      pubBytesPerPacket: (w1.sent - w0.sent + w1.received - w0.received) / items.length,
      pullSeconds,
      pullCpu: c3 - c2,
      pullLookupMsgsPerKey: fc.closestQueries / keys.length,
      pullLookupRequests: fc.closestRequests,
      fetchReqs: fc.fetchRequests,
      pullBytesPerPacket: (w3.sent - w2.sent + w3.received - w2.received) / items.length,
      retrieved: retrieved.size,
      copies: held.reduce((a, b) => a + b, 0),
      missing,
      pullFailures: got.failures,
    }
  } finally {
    await Promise.all(workers.map(stopWorker))
    rmSync(root, {recursive: true, force: true})
  }
}

const items = makeBenchPackets({seed: 'bench-swarm-publisher', count: packetCount, keys: keyCount})
console.log(`bench/swarm: ${packetCount} packets over ${keyCount} keys (1 routing key each), replicas 3, batch 128, concurrency ${concurrency}`)
console.log(`storage nodes: separate processes; publisher and puller: clients in this process. ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`)
const rows = []
for (const n of sizes) {
  const r = await runSize(n, items)
  rows.push(r)
  console.log(
    `N=${String(n).padStart(2)}  start ${fmt(r.startSeconds)} s, idle swarm ${fmt(r.idleCpuRate, 2)} CPU s/s | publish ${fmt(r.publishSeconds)} s wall, ${fmt(r.publishCpu)} s CPU (${r.acked} acked, ${r.failed} failed${r.failed ? ' ' + JSON.stringify(r.failures) : ''}), ` +
      `lookups/key ${fmt(r.lookupsPerKey, 2)}, queries/lookup ${fmt(r.lookupMsgsPerKey, 2)} in ${r.lookupRequests} requests, msgs/packet ${fmt(r.msgsPerPacket, 3)}, store reqs ${r.storeReqs} on ${r.storeStreams} streams, wire ${fmt(r.pubBytesPerPacket, 0)} B/packet | ` +
      `pull ${fmt(r.pullSeconds)} s wall, ${fmt(r.pullCpu)} s CPU, queries/lookup ${fmt(r.pullLookupMsgsPerKey, 2)} in ${r.pullLookupRequests} requests, fetch reqs ${r.fetchReqs}, wire ${fmt(r.pullBytesPerPacket, 0)} B/packet, retrieved ${r.retrieved}/${items.length}; copies on nodes ${r.copies}` +
      (Object.keys(r.pullFailures).length ? ` failures ${JSON.stringify(r.pullFailures)}` : ''),
  )
}
if (rows.length > 1) {
  const a = rows[0]
  const b = rows[rows.length - 1]
  console.log(
    `growth N=${a.n} -> N=${b.n} (x${fmt(b.n / a.n, 1)} nodes, log2 ratio ${fmt(Math.log2(b.n) / Math.log2(a.n), 2)}): ` +
      `queries/lookup x${fmt(b.lookupMsgsPerKey / a.lookupMsgsPerKey, 2)}, msgs/packet x${fmt(b.msgsPerPacket / a.msgsPerPacket, 2)}, publish bytes/packet x${fmt(b.pubBytesPerPacket / a.pubBytesPerPacket, 2)}`,
  )
}
