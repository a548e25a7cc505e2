import '../../util/polyfill.js'

import type {PrivateKey} from '@libp2p/interface'

import {QisError, errorMessage} from '../../util/errors.js'
import {type NodeLimits, type SwarmEvent, type SwarmNode, createSwarmNode} from '../node.js'
import {anySignal, sleep} from './common.js'

/** A short-lived swarm member that publishes and fetches but stores nothing (a DHT client). */
export interface SwarmClient {
  peerId: string
  /** The underlying node (counters, routing table); for diagnostics and benchmarks. */
  node: SwarmNode
  close(): Promise<void>
}

export interface OpenClientOptions {
  privateKey: PrivateKey
  bootstrap: string[]
  signal?: AbortSignal
  /** How long to wait for the routing table to fill. Default 20 s. */
  joinTimeoutMs?: number
  limits?: Partial<NodeLimits>
  logger?: (event: SwarmEvent) => void
  /** A private swarm's key (src/swarm/pnet.ts). */
  swarmKey?: Uint8Array
}

/** Joins the swarm through the bootstrap peers and waits until the routing table has peers. */
export async function openSwarmClient(opts: OpenClientOptions): Promise<SwarmClient> {
  if (opts.bootstrap.length === 0) {
    throw new QisError('no bootstrap peers: pass --bootstrap MULTIADDR, set QIS_BOOTSTRAP, or add "bootstrap" to the config', {code: 'NO_BOOTSTRAP'})
  }
  const node = await createSwarmNode({privateKey: opts.privateKey, listen: [], bootstrap: opts.bootstrap, limits: opts.limits, logger: opts.logger, swarmKey: opts.swarmKey})
  const timeoutMs = opts.joinTimeoutMs ?? 20_000
  const deadline = Date.now() + timeoutMs
  try {
    let answered = 0
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      opts.signal?.throwIfAborted()
      if (answered === 0) {
        const left = Math.max(1, deadline - Date.now())
        answered = await node.dialBootstrap(anySignal(opts.signal, AbortSignal.timeout(Math.min(left, 5000))))
        // Nothing listens at any of them: waiting will not change that.
        if (answered === 0 && node.bootstrapRefused.length === opts.bootstrap.length) {
          throw new QisError(`every bootstrap peer refused the connection (${opts.bootstrap.join(', ')}): no qis node listens there`, {
            code: 'SWARM_UNREACHABLE',
            hint: 'Check the address and port, and that the node is running (`qis node` prints its addresses).',
          })
        }
      }
      if (node.routingTableSize() > 0) break
      await sleep(Math.min(100 * 2 ** attempt, 1000), opts.signal)
    }
    if (node.routingTableSize() === 0) {
      throw new QisError(
        answered === 0
          ? `could not reach any bootstrap peer (${opts.bootstrap.join(', ')}) within ${timeoutMs / 1000} s`
          : `bootstrap peers answered but none is a qis storage node (no /qis/kad/1.0.0 peers) after ${timeoutMs / 1000} s`,
        {code: 'SWARM_UNREACHABLE'},
      )
    }
    // Kademlia's join: look up our own id, so the routing table holds more than the bootstrap peers
    // before the first key lookup (a lookup can only start from peers we know).
    try {
      for await (const _ of node.libp2p.services.dht.getClosestPeers(node.libp2p.peerId.toMultihash().bytes, {signal: anySignal(opts.signal, AbortSignal.timeout(5000))})) {
        // drain
      }
    } catch {
      opts.signal?.throwIfAborted()
    }
  } catch (err) {
    await node.stop().catch(() => {})
    if (err instanceof QisError) throw err
    throw new QisError(`could not join the swarm: ${errorMessage(err)}`, {code: 'SWARM_UNREACHABLE', cause: err})
  }
  return {peerId: node.peerId, node, close: () => node.stop()}
}
