import type {PeerId, Stream} from '@libp2p/interface'

import {raceAbort} from '../../util/abort.js'
import {ProtocolError, STORE_PROTOCOL, type StoreStatus, decodeStoreResponse, encodeStoreRequest, readFrames, writeFrame} from '../protocol.js'
import {anySignal, failureReason} from './common.js'
import type {SwarmClient} from './open.js'
import type {PublishItem} from './publish.js'

/** One store request's worth of items for one key, and what the peers said about each item. */
export interface Batch {
  key: string
  items: PublishItem[]
  candidates: PeerId[]
  /** Distinct peers that acknowledged each item. */
  ackedBy: Set<string>[]
  permanent: Map<number, string>
  /** Attempts per peer id (a peer that failed may be tried again, up to `retries`). */
  attempts: Map<string, number>
  /** Peers that answered this batch (acknowledged or refused), never asked again. */
  answered: Set<string>
  lastError: string
  reported: Set<number>
}

/**
 * Sends several batches to one peer on one stream, one request and one response at a time. On a
 * transport failure the batches not yet answered are reported through `onError`.
 */
export async function storeOnPeer(
  client: SwarmClient,
  peer: PeerId,
  work: Batch[],
  onResponse: (b: Batch, sent: number[], response: {results: StoreStatus[]; error?: string}) => Promise<void>,
  onError: (b: Batch, reason: string) => void,
  o: {signal?: AbortSignal; timeoutMs: number; pendingIdx: (b: Batch) => number[]},
): Promise<void> {
  let next = 0
  let stream: Stream | undefined
  try {
    client.node.counters.storeStreams++
    stream = await client.node.libp2p.dialProtocol(peer, STORE_PROTOCOL, {signal: anySignal(o.signal, AbortSignal.timeout(o.timeoutMs)), runOnLimitedConnection: true})
    const replies = readFrames(stream, work.length)[Symbol.asyncIterator]()
    for (; next < work.length; next++) {
      const b = work[next]
      const id = peer.toString()
      const sent = o.pendingIdx(b).filter((i) => !b.ackedBy[i].has(id))
      if (sent.length === 0) continue
      const signal = anySignal(o.signal, AbortSignal.timeout(o.timeoutMs))
      client.node.counters.storeRequests++
      await writeFrame(stream, encodeStoreRequest({key: b.key, packets: sent.map((i) => b.items[i].bytes)}), signal)
      const reply = await raceAbort(replies.next(), signal)
      if (reply.done) throw new ProtocolError('BAD_REQUEST', 'store stream ended before its reply')
      await onResponse(b, sent, decodeStoreResponse(reply.value, sent.length))
    }
    await stream.close({signal: anySignal(o.signal, AbortSignal.timeout(o.timeoutMs))})
  } catch (err) {
    stream?.abort(err as Error)
    o.signal?.throwIfAborted()
    const reason = failureReason(err, o.signal)
    for (; next < work.length; next++) onError(work[next], reason)
  }
}
