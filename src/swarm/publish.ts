import type {PrivateKey} from '@libp2p/interface'
import {promises as fs} from 'node:fs'
import path from 'node:path'

import type {Home} from '../config/home.js'
import {acquireHomeLock} from '../config/lock.js'
import {loadSwarmKey} from './pnet.js'
import {decodePacket} from '../packet/codec.js'
import {keyFingerprint} from '../packet/fingerprint.js'
import {STORE_EXTENSION, readStoreFile} from '../packet/store.js'
import {QisError, errorMessage} from '../util/errors.js'
import type {PublishItem} from './client.js'
import {DEFAULT_REPLICAS} from './defaults.js'
import {PublishJournal} from './journal.js'

/** What `qis publish` will send: the (packet, key) pairs of the input stores not yet acknowledged. */
export interface PublishPlan {
  stores: string[]
  items: PublishItem[]
  /** Distinct packets with at least one pair to send. */
  pending: number
  /** Packets whose every key is already in the journal. */
  skipped: number
  /** Local packets past their TTL: nodes would refuse them, so they are not sent. */
  expired: number
  /** Unreadable or invalid records in the stores (see `problems`). */
  invalid: number
  /** One line per problem, naming the store and record. */
  problems: string[]
  /** Stores that could not be read past a point (no header, unknown version, impossible record length, torn tail), one line each. */
  unreadable: string[]
  /** Ids of the unexpired, valid packets read (sent or not): what the journal must remember. */
  live: Set<string>
}

export interface PublishSummary {
  /** Packets whose every routing key is acknowledged by the required replicas in this run. */
  published: number
  /** Key fingerprints sent to. */
  keys: number
  /** Distinct peers that acknowledged packets. */
  peers: number
  /** Packets with at least one key not delivered (left for a re-run). */
  failed: number
  /** Failed packets by reason. */
  failures: Record<string, number>
  skipped: number
  expired: number
  invalid: number
  /** (packet, key) pairs acknowledged in this run. */
  deliveries: number
  /** Packets that were to be sent (all of them in a dry run). */
  pending: number
  /** Journal lines dropped because their packets expired or left the home's stores. */
  journalPruned: number
  /** Stores (or their tails) that could not be read, one line each naming the store and why: publish exits non-zero. */
  unreadable: string[]
  stores: string[]
  dryRun: boolean
  /** Distinct peers each packet had to reach (--replicas). */
  replicas: number
  /** Set when packets failed UNDER_REPLICATED: the fewest storage peers the swarm had for their keys. */
  storagePeersFound?: number
  /** A republish (--republish): every still-valid packet was sent again, journaled or not. */
  republish: boolean
  /** Packets that some closest peer did not hold and stored now (on a republish: replicas restored). */
  restored: number
}

async function listStores(home: Home, inputs: string[]): Promise<string[]> {
  const out: string[] = []
  const fromDir = async (dir: string, required: boolean) => {
    let names: string[]
    try {
      names = await fs.readdir(dir)
    } catch (err) {
      if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw new QisError(`cannot read ${dir}: ${errorMessage(err)}`, {code: 'BAD_INPUT', cause: err})
    }
    // Dot-files are temp files of writers still at work (or killed); never publish them.
    for (const n of names.sort()) if (n.endsWith(STORE_EXTENSION) && !n.startsWith('.')) out.push(path.join(dir, n))
  }
  if (inputs.length === 0) {
    await fromDir(home.packetsDir, false)
    return out
  }
  for (const input of inputs) {
    const abs = path.resolve(input)
    let st
    try {
      st = await fs.stat(abs)
    } catch (err) {
      throw new QisError(`packet store ${input} cannot be read: ${errorMessage(err)}`, {code: 'BAD_INPUT', cause: err})
    }
    if (st.isDirectory()) await fromDir(abs, true)
    else out.push(abs)
  }
  return [...new Set(out)]
}

/** Reads the stores and subtracts what the journal says peers already acknowledged. */
/**
 * With `republish`, pairs already in the journal are sent again: replicas that still hold a packet
 * answer `duplicate`, and the closest peers that lost it (left the swarm, wiped) store it again.
 */
export async function planPublish(options: {home: Home; stores?: string[]; journal: PublishJournal; now?: number; republish?: boolean}): Promise<PublishPlan> {
  const stores = await listStores(options.home, options.stores ?? [])
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const items: PublishItem[] = []
  const queued = new Set<string>()
  const seenPackets = new Set<string>()
  const live = new Set<string>()
  const problems: string[] = []
  const unreadable: string[] = []
  let pending = 0
  let skipped = 0
  let expired = 0
  let invalid = 0
  for (const store of stores) {
    try {
      for await (const entry of readStoreFile(store)) {
        if (entry.kind === 'corrupt') {
          invalid++
          const line = `${store}: record ${entry.index + 1} (byte ${entry.offset}): ${entry.reason}`
          problems.push(line)
          if (entry.fatal) unreadable.push(line)
          continue
        }
        const decoded = decodePacket(entry.bytes, {now, allowExpired: true})
        if (!decoded.ok) {
          invalid++
          const field = decoded.error.field ? ` (field ${decoded.error.field})` : ''
          problems.push(`${store}: record ${entry.index + 1} (byte ${entry.offset}): ${decoded.error.message}${field}`)
          continue
        }
        const {packet: p, info} = decoded
        if (seenPackets.has(info.id)) continue
        seenPackets.add(info.id)
        if (info.expired) {
          expired++
          continue
        }
        live.add(info.id)
        let fresh = 0
        for (const rk of p.routing_keys) {
          const key = keyFingerprint(p.scheme, p.domain_tag, rk)
          if ((!options.republish && options.journal.has(info.id, key)) || queued.has(`${info.id} ${key}`)) continue
          queued.add(`${info.id} ${key}`)
          items.push({key, bytes: entry.bytes, id: info.id})
          fresh++
        }
        if (fresh > 0) pending++
        else skipped++
      }
    } catch (err) {
      throw new QisError(`cannot read packet store ${store}: ${errorMessage(err)}`, {code: 'BAD_INPUT', cause: err})
    }
  }
  return {stores, items, pending, skipped, expired, invalid, problems, unreadable, live}
}

export interface PublishStoresOptions {
  home: Home
  privateKey: PrivateKey
  stores?: string[]
  bootstrap: string[]
  batchSize?: number
  concurrency?: number
  replicas?: number
  retries?: number
  dryRun?: boolean
  /** Send every still-valid packet again, journaled or not, to restore replicas lost to churn. */
  republish?: boolean
  signal?: AbortSignal
  /** Asked after planning, before joining the swarm; false cancels (a QisError with code CANCELLED). */
  confirm?: (plan: PublishPlan) => Promise<boolean>
  /** Called once with the plan, then as (packet, key) pairs are settled. */
  onPlan?: (plan: PublishPlan) => void
  onProgress?: (settled: number, total: number) => void
}

/**
 * `qis publish` as a library call: plan from the stores and the journal, join the swarm, push
 * grouped by key, journal every acknowledged pair (fsynced) as it arrives. Safe to interrupt at
 * any point; a re-run sends only what is left.
 */
export async function publishStores(options: PublishStoresOptions): Promise<PublishSummary> {
  // Two publishes on one home would each send everything the journal does not yet hold.
  const lock = options.dryRun ? undefined : await acquireHomeLock(options.home, 'publish')
  let journal: PublishJournal
  try {
    journal = await PublishJournal.open(options.home.journalDir)
  } catch (err) {
    await lock?.release()
    throw err
  }
  try {
    const plan = await planPublish({home: options.home, stores: options.stores, journal, republish: options.republish})
    options.onPlan?.(plan)
    // Only when the plan read every store of the home: a packet missing from a subset named on the
    // command line may still be in another store. Expired packets are never sent again.
    const wholeHome = (options.stores ?? []).length === 0
    const journalPruned = wholeHome && !options.dryRun ? await journal.compact((id) => plan.live.has(id)) : 0
    const replicas = Math.max(1, options.replicas ?? DEFAULT_REPLICAS)
    const base = {
      journalPruned,
      skipped: plan.skipped,
      expired: plan.expired,
      invalid: plan.invalid,
      pending: plan.pending,
      stores: plan.stores,
      unreadable: plan.unreadable,
      republish: Boolean(options.republish),
    }
    if (options.dryRun || plan.items.length === 0) {
      const keys = new Set(plan.items.map((i) => i.key)).size
      return {published: 0, keys, peers: 0, failed: 0, failures: {}, deliveries: 0, restored: 0, dryRun: Boolean(options.dryRun), replicas, ...base}
    }
    if (options.confirm && !(await options.confirm(plan))) throw new QisError('publish cancelled; nothing was sent', {code: 'CANCELLED'})

    const {openSwarmClient, publishPackets} = await import('./client.js')
    const swarmKey = (await loadSwarmKey(options.home))?.bytes
    const client = await openSwarmClient({privateKey: options.privateKey, bootstrap: options.bootstrap, signal: options.signal, swarmKey})
    const failedPackets = new Map<string, Set<string>>()
    let settled = 0
    let deliveries = 0
    let result
    try {
      result = await publishPackets(client, plan.items, {
        batchSize: options.batchSize,
        concurrency: options.concurrency,
        replicas,
        retries: options.retries,
        signal: options.signal,
        onAck: async (items) => {
          await journal.record(items)
          deliveries += items.length
          settled += items.length
          options.onProgress?.(settled, plan.items.length)
        },
        onFail: (items, reason) => {
          for (const i of items) failedPackets.set(i.id, (failedPackets.get(i.id) ?? new Set()).add(reason))
          settled += items.length
          options.onProgress?.(settled, plan.items.length)
        },
      })
    } finally {
      await client.close().catch(() => {})
    }
    const failures: Record<string, number> = {}
    for (const reasons of failedPackets.values()) for (const r of reasons) failures[r] = (failures[r] ?? 0) + 1
    const all = new Set(plan.items.map((i) => i.id))
    return {
      published: all.size - failedPackets.size,
      keys: result.keys,
      peers: result.peers,
      failed: failedPackets.size,
      failures,
      deliveries,
      restored: result.newlyStored,
      dryRun: false,
      replicas,
      ...(result.storagePeersFound === undefined ? {} : {storagePeersFound: result.storagePeersFound}),
      ...base,
    }
  } finally {
    await journal.close()
    await lock?.release()
  }
}
