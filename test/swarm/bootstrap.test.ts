import net from 'node:net'
import {afterAll, describe, expect, it} from 'vitest'

import {openHome} from '../../src/config/home.js'
import {loadOrCreateIdentity} from '../../src/identity/identity.js'
import {tempDir} from '../helpers/cli.js'
import {type NodeProcess, startNode, stopAll, waitForFullRouting} from '../helpers/swarm.js'

// Issue 21 item 8: `qis node`s started before their bootstrap peer listens must keep trying with
// back-off until they join, and join again after losing every peer. Real node processes on
// 127.0.0.1. Run `npm run build` first.

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}

let nodes: NodeProcess[] = []
afterAll(async () => {
  await stopAll(nodes)
})

describe('bootstrap in the wrong order', () => {
  it('two nodes started before their bootstrap peer listens join it once it does, and rejoin after losing every peer', async () => {
    // The bootstrap node's identity and port are fixed before it runs, so the others can name it.
    const firstHome = tempDir('qis-node-first-')
    const {peerId} = await loadOrCreateIdentity(await openHome(firstHome))
    const port = await freePort()
    const bootstrap = `/ip4/127.0.0.1/tcp/${port}/p2p/${peerId}`

    const early = await Promise.all([startNode({bootstrap: [bootstrap]}), startNode({bootstrap: [bootstrap]})])
    nodes.push(...early)
    // Both find nobody there, and say when they will try again.
    for (const n of early) {
      const failed = await n.waitForEvent((e) => e.event === 'bootstrap:failed')
      expect(failed.retryInMs).toBeGreaterThan(0)
    }
    await new Promise((r) => setTimeout(r, 1500))
    const first = await startNode({home: firstHome, port})
    nodes.unshift(first)
    expect(first.peerId).toBe(peerId)
    await waitForFullRouting(nodes, 45_000)
    for (const n of early) expect(n.events.some((e) => e.event === 'bootstrap:joined')).toBe(true)

    // Take every peer of early[0] away, then bring its bootstrap peer back on the same address.
    const lonely = early[0]
    const joinedBefore = lonely.events.filter((e) => e.event === 'bootstrap:joined').length
    await Promise.all([first.stop(), early[1].stop()])
    await new Promise((r) => setTimeout(r, 1000))
    const back = await startNode({home: firstHome, port})
    nodes = [back, lonely]
    await lonely.waitForEvent((e) => e.event === 'bootstrap:joined' && lonely.events.filter((x) => x.event === 'bootstrap:joined').length > joinedBefore, 45_000)
    expect(back.events.some((e) => e.event === 'peer:connect' && e.peer === lonely.peerId) || (await back.waitForEvent((e) => e.event === 'peer:connect' && e.peer === lonely.peerId, 10_000))).toBeTruthy()
  }, 150_000)
})
