import type {Connection, Stream} from '@libp2p/interface'

import type {NodeLimits} from '../node.js'
import {PROTOCOL_LIMITS, type RefusalReason, decodeStoreRequest, encodeStoreResponse, readFrames, writeFrame} from '../protocol.js'
import type {PacketStorage} from '../storage.js'
import {type Log, refuseRequest} from './common.js'

/**
 * A store stream carries one or more requests, each answered before the next is read (a publisher
 * sends all its batches for one peer on one stream, saving a protocol negotiation per batch). The
 * deadline applies per request; the number of requests per stream is capped.
 */
export async function handleStore(stream: Stream, connection: Connection, storage: PacketStorage, limits: NodeLimits, log: Log): Promise<void> {
  const from = connection.remotePeer.toString()
  const controller = new AbortController()
  const signal = controller.signal
  let timer: NodeJS.Timeout | undefined
  const arm = () => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      controller.abort()
      stream.abort(new Error(`request took longer than ${limits.requestTimeoutMs} ms`))
    }, limits.requestTimeoutMs)
  }
  arm()
  try {
    try {
      for await (const frame of readFrames(stream, PROTOCOL_LIMITS.maxStoreRequestsPerStream)) {
        const request = decodeStoreRequest(frame)
        const evictedBefore = storage.stats().evicted
        const results = await storage.storeBatch(request.key, request.packets)
        const evicted = storage.stats().evicted - evictedBefore
        const refused: Partial<Record<RefusalReason, number>> = {}
        let stored = 0
        let duplicates = 0
        for (const r of results) {
          if (r === 'stored') stored++
          else if (r === 'duplicate') duplicates++
          else refused[r] = (refused[r] ?? 0) + 1
        }
        log({event: 'stored', key: request.key, from, stored, duplicates, refused, ...(evicted > 0 ? {evicted} : {})})
        // If this write fails the packets are still on disk; the publisher retries and gets 'duplicate'.
        await writeFrame(stream, encodeStoreResponse({results}), signal)
        arm()
      }
    } catch (err) {
      if (signal.aborted) throw err
      await refuseRequest(stream, from, err, storage, log, encodeStoreResponse({results: [], error: 'BAD_REQUEST'}), signal)
      return
    }
    await stream.close({signal})
  } catch (err) {
    stream.abort(err as Error)
  } finally {
    clearTimeout(timer)
  }
}
