import {errorMessage} from '../../util/errors.js'
import {ProtocolError} from '../protocol.js'

// What publish and fetch share: combined deadlines, backoff pauses, bounded concurrency, and one
// way of naming why a request to a peer failed.

export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined))
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}

/** Runs `worker` over `items` with at most `concurrency` at a time. */
export async function pool<T>(items: T[], concurrency: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const run = async () => {
    while (next < items.length) await worker(items[next++])
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(concurrency, items.length))}, run))
}

/** The reason a request to a peer failed, as counted in `failures`. */
export function failureReason(err: unknown, signal?: AbortSignal): string {
  if (signal?.aborted) return 'ABORTED'
  if (err instanceof ProtocolError) return 'BAD_RESPONSE'
  const name = (err as Error)?.name ?? ''
  if (name === 'TimeoutError' || name === 'AbortError' || /timed? ?out/i.test(errorMessage(err))) return 'TIMEOUT'
  if (/protocol/i.test(name) || /protocol selection failed|UnsupportedProtocol/i.test(errorMessage(err))) return 'NOT_A_STORAGE_PEER'
  return 'UNREACHABLE'
}

export const count = (m: Record<string, number>, k: string, n = 1) => {
  m[k] = (m[k] ?? 0) + n
}
