import {generateKeyPair} from '@libp2p/crypto/keys'
import {RecordType, dns} from '@multiformats/dns'
import net from 'node:net'
import {afterAll, describe, expect, it} from 'vitest'

import {openHome} from '../../src/config/home.js'
import {loadOrCreateIdentity} from '../../src/identity/identity.js'
import {type SwarmEvent, type SwarmNode, createSwarmNode} from '../../src/swarm/node.js'
import {PacketStorage} from '../../src/swarm/storage.js'
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
    const first = await startNode({home: firstHome, port})
    nodes.unshift(first)
    expect(first.peerId).toBe(peerId)
    await waitForFullRouting(nodes, 90_000)
    // A node says it joined on its next bootstrap check, which can come after its routing table
    // filled (seen at load): wait for the line rather than expect it already printed.
    await Promise.all(early.map((n) => n.waitForEvent((e) => e.event === 'bootstrap:joined', 60_000)))

    // Take every peer of early[0] away, then bring its bootstrap peer back on the same address.
    const lonely = early[0]
    const joinedBefore = lonely.events.filter((e) => e.event === 'bootstrap:joined').length
    await Promise.all([first.stop(), early[1].stop()])
    // Alone now: it has seen both go and is trying its bootstrap peer again, which refuses.
    for (const gone of [first.peerId, early[1].peerId]) await lonely.waitForEvent((e) => e.event === 'peer:disconnect' && e.peer === gone, 30_000)
    const refusedBefore = lonely.events.filter((e) => e.event === 'bootstrap:failed').length
    await lonely.waitForEvent(() => lonely.events.filter((e) => e.event === 'bootstrap:failed').length > refusedBefore, 60_000)
    const back = await startNode({home: firstHome, port})
    nodes = [back, lonely]
    await lonely.waitForEvent(() => lonely.events.filter((x) => x.event === 'bootstrap:joined').length > joinedBefore, 90_000)
    await back.waitForEvent((e) => e.event === 'peer:connect' && e.peer === lonely.peerId, 30_000)
  }, 300_000)
})

// Bootstrap through /dnsaddr/ with a DNS resolver injected that answers locally (no network): the
// TXT records of _dnsaddr.<host> name the real addresses, as a consortium's DNS zone would.
describe('bootstrap through /dnsaddr/ and @libp2p/bootstrap', () => {
  const live: SwarmNode[] = []
  afterAll(async () => {
    await Promise.all(live.map((n) => n.stop().catch(() => {})))
  })

  const localDns = (zone: Record<string, string[]>, asked: string[]) =>
    dns({
      resolvers: {
        '.': async (domain) => {
          asked.push(domain)
          const records = zone[domain] ?? []
          return {
            Status: records.length > 0 ? 0 : 3,
            TC: false,
            RD: true,
            RA: true,
            AD: false,
            CD: false,
            Question: [{name: domain, type: RecordType.TXT}],
            Answer: records.map((data) => ({name: domain, type: RecordType.TXT, TTL: 60, data})),
          }
        },
      },
    })

  const storageNode = async (bootstrap: string[], extra: Partial<Parameters<typeof createSwarmNode>[0]> = {}) => {
    const events: SwarmEvent[] = []
    const node = await createSwarmNode({
      privateKey: await generateKeyPair('Ed25519'),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap,
      storage: await PacketStorage.open(tempDir('qis-dnsaddr-')),
      replication: false,
      logger: (e) => events.push(e),
      ...extra,
    })
    live.push(node)
    return {node, events}
  }
  const until = async (what: () => boolean, ms: number) => {
    for (const end = Date.now() + ms; !what() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 100))
    return what()
  }

  it('a storage node joins through a /dnsaddr/ bootstrap address its resolver expands', async () => {
    const {node: first} = await storageNode([])
    const asked: string[] = []
    const zone = {'_dnsaddr.bootstrap.qis.test': [`dnsaddr=${first.multiaddrs()[0]}`]}
    const {node: second, events} = await storageNode([`/dnsaddr/bootstrap.qis.test/p2p/${first.peerId}`], {dns: localDns(zone, asked)})
    expect(await until(() => events.some((e) => e.event === 'bootstrap:joined'), 45_000)).toBe(true)
    expect(asked).toContain('_dnsaddr.bootstrap.qis.test')
    expect(second.libp2p.getConnections().some((c) => c.remotePeer.toString() === first.peerId)).toBe(true)
    // @libp2p/bootstrap tagged the peer, so the connection manager prunes it last.
    expect([...(await second.libp2p.peerStore.get(first.libp2p.peerId)).tags.keys()]).toContain('bootstrap')
  }, 90_000)

  it('a /dnsaddr/ name whose records point at a closed port fails as refused, and one with no records says so', async () => {
    const port = await freePort()
    const {node: first} = await storageNode([])
    const zone = {'_dnsaddr.closed.qis.test': [`dnsaddr=/ip4/127.0.0.1/tcp/${port}/p2p/${first.peerId}`]}
    const asked: string[] = []
    const {node, events} = await storageNode([`/dnsaddr/closed.qis.test/p2p/${first.peerId}`, '/dnsaddr/nothing.qis.test'], {dns: localDns(zone, asked)})
    expect(await until(() => events.filter((e) => e.event === 'bootstrap:failed').length >= 2, 45_000)).toBe(true)
    const failed = events.filter((e): e is Extract<SwarmEvent, {event: 'bootstrap:failed'}> => e.event === 'bootstrap:failed')
    expect(failed.find((e) => e.multiaddr.includes('closed'))!.message).toMatch(/ECONNREFUSED/)
    expect(node.bootstrapRefused.some((a) => a.includes('closed'))).toBe(true)
    expect(failed.find((e) => e.multiaddr.includes('nothing'))!.message.length).toBeGreaterThan(0)
    expect(asked).toEqual(expect.arrayContaining(['_dnsaddr.closed.qis.test', '_dnsaddr.nothing.qis.test']))
  }, 90_000)

  // Why keepJoined stays (docs/swarm.md, "Bootstrap"): @libp2p/bootstrap on its own dials its list
  // once; a peer that starts listening a moment later is never joined.
  it('@libp2p/bootstrap alone does not join a bootstrap peer that listens late; keepJoined does', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    const port = await freePort()
    const {peerIdFromPrivateKey} = await import('@libp2p/peer-id')
    const addr = `/ip4/127.0.0.1/tcp/${port}/p2p/${peerIdFromPrivateKey(privateKey)}`
    const alone = await storageNode([addr], {keepJoined: false})
    const kept = await storageNode([addr])
    await new Promise((r) => setTimeout(r, 1500))
    await storageNode([], {privateKey, listen: [`/ip4/127.0.0.1/tcp/${port}`]})
    expect(await until(() => kept.events.some((e) => e.event === 'bootstrap:joined'), 45_000)).toBe(true)
    await new Promise((r) => setTimeout(r, 3000))
    expect(alone.node.libp2p.getConnections().some((c) => c.remoteAddr.toString().includes(`/tcp/${port}`))).toBe(false)
    expect(alone.node.routingTableSize()).toBe(0)
  }, 90_000)
})
