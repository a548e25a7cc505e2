import {createHash} from 'node:crypto'

import type {SwarmEvent, SwarmNode} from './node.js'

// A storage node's bootstrap keeper (issue 21 item 8); createSwarmNode starts it.

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest()

/** Back-off between bootstrap attempts while not joined: doubling from the first to the last. */
export const BOOTSTRAP_BACKOFF_MS = {first: 500, max: 10_000}
/** How often a joined node checks that it still is (a disconnect also triggers the check at once). */
const JOINED_CHECK_MS = 10_000
/** A routing table smaller than this (kBucketSize) is refreshed by a self-lookup on every check. */
const SMALL_TABLE = 8

/**
 * Joined: connected to at least one peer of the routing table (a storage peer). Kademlia's table
 * keeps a peer after its connection drops, so its size alone does not say we can still reach anyone.
 */
function isJoined(node: SwarmNode): boolean {
  const size = node.routingTableSize()
  if (size === 0) return false
  const known = new Set(node.routingTable.closestPeers(sha256(node.libp2p.peerId.toMultihash().bytes), {count: size}).map(String))
  return node.libp2p.getConnections().some((c) => known.has(c.remotePeer.toString()))
}

/**
 * Dials the bootstrap peers until joined, with doubling back-off; once joined, checks every
 * JOINED_CHECK_MS and on every disconnect, and starts again from the shortest back-off when every
 * storage peer is gone (issue 21 item 8: a node started before its bootstrap peer listened stayed alone).
 */
export function keepJoined(node: SwarmNode, log: (e: SwarmEvent) => void): {stop(): void} {
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let running = false
  let delay = BOOTSTRAP_BACKOFF_MS.first
  let joined = false
  let attempts = 0
  let checks = 0
  const controller = new AbortController()
  const schedule = (ms: number) => {
    clearTimeout(timer)
    if (!stopped) timer = setTimeout(() => void tick(), ms)
  }
  // Kademlia's join and refresh: looking up our own id fills the table beyond the bootstrap peers.
  const selfLookup = async () => {
    try {
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(5000)])
      for await (const _ of node.libp2p.services.dht.getClosestPeers(node.libp2p.peerId.toMultihash().bytes, {signal})) {
        // drain
      }
    } catch {
      // A lookup that fails still leaves the peers we are connected to in the table.
    }
  }
  const tick = async () => {
    if (stopped || running) return
    running = true
    try {
      if (!isJoined(node)) {
        joined = false
        attempts++
        const answered = await node.dialBootstrap(AbortSignal.any([controller.signal, AbortSignal.timeout(5000)]), delay)
        // The routing table learns a dialled peer once identify has run on the connection.
        for (let i = 0; answered > 0 && i < 20 && !isJoined(node) && !stopped; i++) await new Promise((r) => setTimeout(r, 100))
      }
      if (stopped) return
      if (isJoined(node)) {
        if (!joined) {
          log({event: 'bootstrap:joined', peers: node.routingTableSize(), attempts})
          checks = 0
        }
        joined = true
        attempts = 0
        delay = BOOTSTRAP_BACKOFF_MS.first
        // A small table is refreshed on every check, so peers that joined after us are learnt;
        // the first check comes soon after joining, when the others are still arriving.
        if (node.routingTableSize() < SMALL_TABLE) await selfLookup()
        schedule(checks++ === 0 ? 2000 : JOINED_CHECK_MS)
      } else {
        schedule(delay)
        delay = Math.min(delay * 2, BOOTSTRAP_BACKOFF_MS.max)
      }
    } catch {
      schedule(delay)
    } finally {
      running = false
    }
  }
  const onDisconnect = () => {
    if (joined && !stopped && !isJoined(node)) {
      joined = false
      delay = BOOTSTRAP_BACKOFF_MS.first
      schedule(0)
    }
  }
  // A dialled peer enters the table once identify has run, which on a loaded machine can take longer
  // than the wait after a dial: check again as soon as it does, not a back-off later.
  const onRoutingAdd = () => {
    if (!joined && !stopped) schedule(0)
  }
  node.libp2p.addEventListener('peer:disconnect', onDisconnect)
  node.routingTable.addEventListener('peer:add', onRoutingAdd)
  schedule(0)
  return {
    stop() {
      stopped = true
      clearTimeout(timer)
      controller.abort()
      node.libp2p.removeEventListener('peer:disconnect', onDisconnect)
      node.routingTable.removeEventListener('peer:add', onRoutingAdd)
    },
  }
}
