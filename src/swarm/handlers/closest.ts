import type {Connection, PeerId, Stream} from '@libp2p/interface'

import {keyKadId} from '../lookup.js'
import type {NodeLimits} from '../node.js'
import {PROTOCOL_LIMITS, decodeClosestRequest, encodeClosestResponse} from '../protocol.js'
import type {PacketStorage} from '../storage.js'
import {type Log, sendReply, serveRequest} from './common.js'

/**
 * Answers a batched FIND_NODE from the routing table: per key, the `count` closest storage peers
 * this node knows, with their addresses. Cheap (no I/O beyond a cached peer-store read per named peer).
 */
export async function handleClosest(
  stream: Stream,
  connection: Connection,
  storage: PacketStorage,
  limits: NodeLimits,
  log: Log,
  closest: (target: Uint8Array, count: number) => PeerId[],
  record: (id: PeerId) => Promise<{id: string; addrs: string[]}>,
): Promise<void> {
  await serveRequest(stream, connection, storage, limits, log, decodeClosestRequest, async (request, _from, signal) => {
    // Each peer is named once; the per-key lists index into that list.
    const index = new Map<string, number>()
    const ids: PeerId[] = []
    const lists = request.keys.map((key) => {
      const list: number[] = []
      for (const id of closest(keyKadId(key), request.count)) {
        const s = id.toString()
        let i = index.get(s)
        if (i === undefined) {
          if (ids.length >= PROTOCOL_LIMITS.maxClosestPeers) continue
          index.set(s, (i = ids.length))
          ids.push(id)
        }
        list.push(i)
      }
      return list
    })
    await sendReply(stream, signal, async () => encodeClosestResponse({peers: await Promise.all(ids.map(record)), closest: lists}))
  })
}
