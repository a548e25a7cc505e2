import type {Connection, Stream} from '@libp2p/interface'

import {errorMessage} from '../../util/errors.js'
import type {NodeLimits, SwarmEvent} from '../node.js'
import {ProtocolError, type RefusalReason, readOneFrame, writeFrame} from '../protocol.js'
import type {PacketStorage} from '../storage.js'

export type Log = (e: SwarmEvent) => void

/** Runs a request handler under a deadline: past it the stream is reset, so a slow or silent peer cannot hold a slot. */
export async function withDeadline(stream: Stream, ms: number, task: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const controller = new AbortController()
  const timer = setTimeout(() => {
    controller.abort()
    stream.abort(new Error(`request took longer than ${ms} ms`))
  }, ms)
  try {
    await task(controller.signal)
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The one reply of a one-request protocol (closest, have): built, written and the stream closed;
 * anything failing on the way (the reply's own lookups included) resets the stream instead.
 */
export async function sendReply(stream: Stream, signal: AbortSignal, build: () => Uint8Array | Promise<Uint8Array>): Promise<void> {
  try {
    await writeFrame(stream, await build(), signal)
    await stream.close({signal})
  } catch (err) {
    stream.abort(err as Error)
  }
}

export async function refuseRequest(stream: Stream, from: string, err: unknown, storage: PacketStorage, log: Log, reply: Uint8Array | undefined, signal: AbortSignal) {
  const reason: RefusalReason = err instanceof ProtocolError ? err.reason : 'BAD_REQUEST'
  storage.countRefusal(reason)
  log({event: 'refused', from, reason, message: errorMessage(err)})
  try {
    if (reply && stream.writeStatus === 'writable') {
      await writeFrame(stream, reply, signal)
      await stream.close({signal})
    } else stream.abort(new Error(reason))
  } catch {
    stream.abort(new Error(reason))
  }
}

/**
 * The frame of a one-request protocol (fetch, closest): read and decode the request under the
 * node's deadline; a request that does not decode is refused and counted, the rest is `serve`'s.
 */
export async function serveRequest<R>(
  stream: Stream,
  connection: Connection,
  storage: PacketStorage,
  limits: NodeLimits,
  log: Log,
  decode: (bytes: Uint8Array) => R,
  serve: (request: R, from: string, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const from = connection.remotePeer.toString()
  await withDeadline(stream, limits.requestTimeoutMs, async (signal) => {
    let request: R
    try {
      request = decode(await readOneFrame(stream))
    } catch (err) {
      await refuseRequest(stream, from, err, storage, log, undefined, signal)
      return
    }
    await serve(request, from, signal)
  })
}
