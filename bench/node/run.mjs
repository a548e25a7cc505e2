// What a `qis node` costs to run: resident memory and CPU of real `qis node` processes (bin/run.js,
// as an operator runs them) on 127.0.0.1, first idle, then while a client publishes packets to them.
//
//   npm run build && node bench/node/run.mjs [--nodes 3] [--idle 30] [--packets 10000] [--metrics]
//
// CPU is read from /proc/<pid>/stat (user + system), memory is VmRSS from /proc/<pid>/status,
// sampled every second. On a shared machine CPU seconds are the load-independent figure.
import {generateKeyPair} from '@libp2p/crypto/keys'
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {makeBenchPackets} from '../swarm/packets.mjs'
import {openSwarmClient, publishPackets} from '../../dist/swarm/client.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const runJs = path.join(here, '../../bin/run.js')
const {values} = parseArgs({options: {nodes: {type: 'string', default: '3'}, idle: {type: 'string', default: '30'}, packets: {type: 'string', default: '10000'}, keys: {type: 'string', default: '500'}, metrics: {type: 'boolean', default: false}}})
const nodeCount = Number(values.nodes)
const idleSeconds = Number(values.idle)
const packetCount = Number(values.packets)
const keyCount = Number(values.keys)

const children = new Set()
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130))

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  // utime + stime, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100
}
const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024

function startNode(home, bootstrap, port) {
  const args = [runJs, 'node', '--json', '--home', home, '--listen', '/ip4/127.0.0.1/tcp/0', ...bootstrap.flatMap((b) => ['--bootstrap', b])]
  if (values.metrics) args.push('--metrics', `127.0.0.1:${port}`)
  const child = spawn(process.execPath, args, {stdio: ['ignore', 'pipe', 'inherit'], env: {...process.env, QIS_BOOTSTRAP: '', QIS_LISTEN: ''}})
  children.add(child)
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const line = out.split('\n').find((l) => l.includes('"started"'))
      if (line) resolve({child, multiaddr: JSON.parse(line).multiaddrs[0]})
    })
    child.on('exit', (code) => reject(new Error(`qis node exited with ${code}`)))
  })
}

function sampler(nodes) {
  const samples = nodes.map(() => [])
  const take = () => nodes.forEach((n, i) => samples[i].push({t: Date.now(), cpu: cpuSeconds(n.child.pid), rss: rssMiB(n.child.pid)}))
  take()
  const timer = setInterval(take, 1000)
  return {
    stop() {
      clearInterval(timer)
      take()
      return samples.map((s) => {
        const seconds = (s.at(-1).t - s[0].t) / 1000
        const cpu = s.at(-1).cpu - s[0].cpu
        return {seconds, cpu, cpuPercent: (100 * cpu) / seconds, rssMean: s.reduce((a, x) => a + x.rss, 0) / s.length, rssMax: Math.max(...s.map((x) => x.rss))}
      })
    },
  }
}


const root = mkdtempSync(path.join(os.tmpdir(), 'qis-bench-node-'))
try {
  const first = await startNode(path.join(root, 'n0'), [], 9464)
  const nodes = [first, ...(await Promise.all(Array.from({length: nodeCount - 1}, (_, i) => startNode(path.join(root, `n${i + 1}`), [first.multiaddr], 9465 + i))))]
  // Let start-up work (DHT joins, identify) settle before calling anything idle.
  await new Promise((r) => setTimeout(r, 10_000))
  const idle = sampler(nodes)
  await new Promise((r) => setTimeout(r, idleSeconds * 1000))
  const idleStats = idle.stop()

  const items = makeBenchPackets({seed: 'bench-node-publisher', count: packetCount, keys: keyCount})
  const client = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [first.multiaddr]})
  const busy = sampler(nodes)
  const started = Date.now()
  const result = await publishPackets(client, items, {replicas: Math.min(3, nodeCount), concurrency: 16})
  const wall = (Date.now() - started) / 1000
  const busyStats = busy.stop()
  await client.close()

  const f = (x, d = 1) => x.toFixed(d)
  console.log(`qis node cost: ${nodeCount} node processes on 127.0.0.1${values.metrics ? ' with --metrics' : ''}, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)} at the end`)
  console.log(`\n| node | idle RSS MiB (mean) | idle CPU % (${idleSeconds} s) | publish RSS MiB (max) | publish CPU s (${f(wall)} s wall) |`)
  console.log('| ---: | ---: | ---: | ---: | ---: |')
  nodes.forEach((_, i) => console.log(`| ${i} | ${f(idleStats[i].rssMean)} | ${f(idleStats[i].cpuPercent, 2)} | ${f(busyStats[i].rssMax)} | ${f(busyStats[i].cpu)} |`))
  console.log(`\npublish: ${packetCount} packets under ${keyCount} keys, replicas ${Math.min(3, nodeCount)}: acked ${result.acked}, failed ${result.failed}`)
} finally {
  for (const c of children) c.kill('SIGTERM')
  await new Promise((r) => setTimeout(r, 2000))
  rmSync(root, {recursive: true, force: true})
}
