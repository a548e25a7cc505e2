import type {Connection, Stream} from '@libp2p/interface'

import type {NodeLimits} from '../node.js'
import {type FetchMore, PROTOCOL_LIMITS, decodeFetchRequest, encodeFetchFrame, writeFrame} from '../protocol.js'
import type {PacketStorage} from '../storage.js'
import {type Log, serveRequest} from './common.js'

export async function handleFetch(stream: Stream, connection: Connection, storage: PacketStorage, limits: NodeLimits, log: Log): Promise<void> {
  await serveRequest(stream, connection, storage, limits, log, decodeFetchRequest, async (request, from, signal) => {
    // First cursor wins for a key named twice.
    const cursors = new Map<string, number>()
    request.keys.forEach((k, i) => cursors.has(k) || cursors.set(k, request.after?.[i] ?? 0))
    // The reply's budget is shared out per key, so one key holding many packets cannot crowd the
    // others out of the reply; what does not fit is named in `more` and fetched by a further request.
    const share = Math.max(1, Math.floor(limits.maxFetchPackets / cursors.size))
    let budget = limits.maxFetchPackets
    let sent = 0
    const more: FetchMore[] = []
    try {
      for (const [key, after] of cursors) {
        const page = storage.page(key, after, Math.min(share, budget))
        for (let i = 0; i < page.packets.length; i += PROTOCOL_LIMITS.maxPacketsPerFrame) {
          await writeFrame(stream, encodeFetchFrame({key, packets: page.packets.slice(i, i + PROTOCOL_LIMITS.maxPacketsPerFrame)}), signal)
        }
        budget -= page.packets.length
        sent += page.packets.length
        if (page.more) more.push([key, page.cursor])
      }
      await writeFrame(stream, encodeFetchFrame({done: true, truncated: more.length > 0, more}), signal)
      await stream.close({signal})
    } catch (err) {
      stream.abort(err as Error)
      return
    }
    log({event: 'served', from, keys: cursors.size, packets: sent, truncated: more.length > 0})
  })
}
