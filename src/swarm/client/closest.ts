import type {PeerId} from '@libp2p/interface'

import {count, failureReason, sleep} from './common.js'
import type {SwarmClient} from './open.js'

/**
 * Closest peers of each key by the node's batched lookup. Keys that come back with fewer than
 * `want` peers (a swarm still settling, or peers too slow to answer) are looked up again with
 * backoff, up to `retries` lookups in all; what failed is counted as LOOKUP_<reason> in `failures`.
 */
export async function lookupKeys(
  client: SwarmClient,
  keys: string[],
  o: {count: number; want: number; retries: number; concurrency: number; timeoutMs: number; signal?: AbortSignal; failures: Record<string, number>},
): Promise<Map<string, PeerId[]>> {
  const found = new Map<string, PeerId[]>(keys.map((k) => [k, []]))
  let todo = keys
  let lastErrors = new Map<string, unknown>()
  for (let attempt = 0; attempt < Math.max(1, o.retries) && todo.length > 0; attempt++) {
    if (attempt > 0) await sleep(200 * 2 ** (attempt - 1), o.signal)
    const result = await client.node.lookup(todo, {count: o.count, signal: o.signal, concurrency: o.concurrency, timeoutMs: o.timeoutMs})
    for (const [key, peers] of result.closest) if (peers.length > found.get(key)!.length) found.set(key, peers)
    lastErrors = result.failures
    todo = todo.filter((k) => found.get(k)!.length < o.want)
  }
  if (todo.some((k) => found.get(k)!.length === 0)) {
    for (const err of lastErrors.values()) count(o.failures, `LOOKUP_${failureReason(err, o.signal)}`)
  }
  return found
}
