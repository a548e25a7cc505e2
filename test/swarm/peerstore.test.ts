import {promises as fs} from 'node:fs'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {type NodeProcess, startNode, startSwarm, stopAll} from '../helpers/swarm.js'

// Real `qis node` processes on 127.0.0.1 (run `npm run build` first).
describe('peer store on disk', () => {
  const nodes: NodeProcess[] = []
  afterAll(async () => {
    await stopAll(nodes)
  })

  it('a node restarted without --bootstrap rejoins through the peers it knew', async () => {
    nodes.push(...(await startSwarm(2)))
    const [a, b] = nodes
    expect(await b.stop()).toBe(0)
    // One file per peer under <home>/node/peers, written while it ran.
    const files = await fs.readdir(path.join(b.home, 'node', 'peers'), {recursive: true})
    expect(files.some((f) => f.endsWith('.data'))).toBe(true)

    const again = await startNode({home: b.home, timeoutMs: 90_000})
    nodes.push(again)
    expect(again.peerId).toBe(b.peerId)
    await again.waitForEvent((e) => e.event === 'bootstrap:joined', 60_000)
    await again.waitForEvent((e) => e.event === 'peer:connect' && e.peer === a.peerId, 30_000)
  }, 300_000)

  it('without a peer store there is nobody to rejoin through: a fresh home with no bootstrap stays alone', async () => {
    const alone = await startNode({timeoutMs: 90_000})
    nodes.push(alone)
    await new Promise((r) => setTimeout(r, 3000))
    expect(alone.events.some((e) => e.event === 'bootstrap:joined')).toBe(false)
  }, 120_000)
})
