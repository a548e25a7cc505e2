import type {Connection, Stream} from '@libp2p/interface'

import type {NodeLimits} from '../node.js'
import {HAVE_ID_BYTES, decodeHaveRequest, encodeHaveResponse} from '../protocol.js'
import type {PacketStorage} from '../storage.js'
import {type Log, sendReply, serveRequest} from './common.js'

/**
 * Answers re-replication's check (/qis/have): per key, which of the named packets (by id prefix)
 * this node does not hold. Reads the index only; a holder then sends exactly those packets, where it
 * used to send a few packets of every key as a probe (docs/swarm.md, "Re-replication").
 */
export async function handleHave(stream: Stream, connection: Connection, storage: PacketStorage, limits: NodeLimits, log: Log): Promise<void> {
  await serveRequest(stream, connection, storage, limits, log, decodeHaveRequest, async (request, _from, signal) => {
    const missing = request.keys.map((key, k) => {
      const held = new Set(storage.held(key).map(({id}) => id.slice(0, HAVE_ID_BYTES * 2)))
      const ids = request.ids[k]
      const out: number[] = []
      for (let i = 0; i * HAVE_ID_BYTES < ids.length; i++) {
        if (!held.has(Buffer.from(ids.subarray(i * HAVE_ID_BYTES, (i + 1) * HAVE_ID_BYTES)).toString('hex'))) out.push(i)
      }
      return out
    })
    await sendReply(stream, signal, () => encodeHaveResponse({missing}))
  })
}
