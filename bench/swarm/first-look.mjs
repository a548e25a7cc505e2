// bench/swarm/first-look.mjs: a replica lost before any holder has looked at its key. Does
// re-replication put it back? (The weakness of recording a node's first look as "already held".)
//
//   npm run build && node bench/swarm/first-look.mjs [--nodes 6] [--interval 20] [--wait 60] [--trials 3]
//
// Per trial: N real `qis node` processes on 127.0.0.1 with `--replicate-interval <interval>s`; a
// client publishes 12 packets under one key (3 replicas); at once (before the holders' first round
// after storing it, up to `interval` seconds later) one holder is killed with SIGKILL. Then the
// holders among the live nodes are counted from their storage files every 2 s for `wait` seconds.
import {generateKeyPair} from '@libp2p/crypto/keys'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'

import {packetId} from '../../dist/packet/index.js'
import {readStoreFile} from '../../dist/packet/store.js'
import {openSwarmClient, publishPackets} from '../../dist/swarm/client.js'
import {STORAGE_FILE} from '../../dist/swarm/storage.js'
import {makeBenchPackets} from './packets.mjs'
import {startQisNode} from './node-process.mjs'

const {values} = parseArgs({options: {nodes: {type: 'string', default: '6'}, interval: {type: 'string', default: '20'}, wait: {type: 'string', default: '60'}, trials: {type: 'string', default: '3'}}})
const N = Number(values.nodes)
const intervalS = Number(values.interval)
const waitS = Number(values.wait)

const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)))

function startNode(home, bootstrap) {
  return startQisNode({home, bootstrap, args: ['--replicate-interval', `${intervalS}s`]})
}

async function holders(nodes, items) {
  const count = new Map()
  for (const n of nodes) {
    try {
      for await (const e of readStoreFile(path.join(n.home, 'node', STORAGE_FILE))) if (e.kind === 'packet') count.set(packetId(e.bytes), (count.get(packetId(e.bytes)) ?? 0) + 1)
    } catch (err) {
      if (err.code !== 'ENOENT') throw err
    }
  }
  return items.map((i) => count.get(i.id) ?? 0)
}

console.log(`bench/swarm/first-look: ${N} qis node processes, --replicate-interval ${intervalS}s; 12 packets under one key, a holder killed right after the publish; ${os.cpus().length} cores, load average ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`)
for (let trial = 1; trial <= Number(values.trials); trial++) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'qis-bench-firstlook-'))
  const nodes = []
  try {
    nodes.push(await startNode(path.join(root, 'n0'), []))
    nodes.push(...(await Promise.all(Array.from({length: N - 1}, (_, i) => startNode(path.join(root, `n${i + 1}`), [nodes[0].multiaddr])))))
    for (let t = 0; t < 60 && nodes.some((n) => !n.joined); t++) await sleep(250)
    const items = makeBenchPackets({seed: `first-look-${trial}-${Date.now()}`, count: 12, keys: 1, queryPrefix: 'fl'})
    const client = await openSwarmClient({privateKey: await generateKeyPair('Ed25519'), bootstrap: [nodes[0].multiaddr], joinTimeoutMs: 30_000})
    const pub = await publishPackets(client, items, {})
    const publishedAt = Date.now()
    await client.close()
    const before = await holders(nodes, items)
    let victim
    for (const n of nodes) if (!victim && (await holders([n], items))[0] > 0) victim = n
    const killedAt = Date.now()
    victim.child.kill('SIGKILL')
    const live = nodes.filter((n) => n !== victim)
    // A holder looks at a key first in its first round after storing it; with rounds `interval` s
    // apart and the kill this soon after the publish, the first look almost always comes after it.
    const gap = killedAt - publishedAt
    let after = await holders(live, items)
    const t0 = Date.now()
    let restoredAt
    while (Date.now() - t0 < waitS * 1000) {
      await sleep(2000)
      after = await holders(live, items)
      if (restoredAt === undefined && after.every((c) => c >= 3)) restoredAt = (Date.now() - t0) / 1000
    }
    console.log(
      `trial ${trial}: published ${pub.acked}/${items.length}; copies before the kill ${Math.min(...before)}-${Math.max(...before)}; holder killed ${gap} ms after the publish was acknowledged; ` +
        `copies on live nodes ${waitS} s later ${Math.min(...after)}-${Math.max(...after)}` + (restoredAt === undefined ? ', never back on 3' : `, back on 3 after ${restoredAt.toFixed(0)} s`),
    )
  } finally {
    for (const n of nodes) n.child.kill('SIGKILL')
    await sleep(300)
    rmSync(root, {recursive: true, force: true})
  }
}
