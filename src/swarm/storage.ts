import {promises as fs} from 'node:fs'
import path from 'node:path'

import {decodePacket} from '../packet/codec.js'
import {keyFingerprint} from '../packet/fingerprint.js'
import {PacketStoreWriter, appendToStore, readStoreFile, repairStoreTail} from '../packet/store.js'
import {QisError, errorMessage} from '../util/errors.js'
import type {RefusalReason, StoreStatus} from './protocol.js'

/**
 * Bounds on what a storage node keeps. Per publisher (the packet's signing key) so one deployment
 * cannot fill a node; node-wide so many fresh keys (a Sybil publisher) cannot either.
 */
export interface StorageLimits {
  maxPacketsPerPublisher: number
  maxBytesPerPublisher: number
  maxPackets: number
  maxBytes: number
  /**
   * Share of a full node (of maxPackets and of maxBytes) that publishers who arrived last divide
   * equally among themselves; the earliest arrivals keep the rest. See `victimFor`.
   */
  newcomerShare: number
  /** Clock skew tolerated on packet timestamps. */
  maxFutureSeconds: number
}

export const DEFAULT_STORAGE_LIMITS: StorageLimits = {
  maxPacketsPerPublisher: 50_000,
  maxBytesPerPublisher: 16 * 1024 * 1024,
  maxPackets: 1_000_000,
  maxBytes: 512 * 1024 * 1024,
  newcomerShare: 0.1,
  maxFutureSeconds: 3600,
}

/** What one publisher holds here. `ids` iterate oldest first; `order` is its slot in the tenure list. */
interface Publisher {
  packets: number
  bytes: number
  ids: Set<string>
  order: number
}

interface Entry {
  bytes: Uint8Array
  publisher: string
  expiresAt: number
  keys: string[]
  /** Order of indexing in this process (1, 2, ...): the fetch cursor. A key's set of ids iterates in this order. */
  seq?: number
}

/**
 * What a batch (or one replayed record at load) would change before it is on disk: packets accepted
 * and packets chosen for eviction, per publisher, so eviction choices see the counts as they will be.
 */
interface Plan {
  added: Map<string, {packets: number; bytes: number}>
  removed: Map<string, {packets: number; bytes: number}>
  /** Packets chosen for eviction, and their bytes. */
  ids: Set<string>
  bytes: number
  /** Packets accepted, and their bytes. */
  packets: number
  addedBytes: number
  /** Publishers new to the node in this batch, in the order of their first accepted packet (their tenure). */
  arrivals: string[]
  /**
   * Packets accepted earlier in this batch, per publisher in order. One may still give way to a
   * later packet of the batch (nothing is acknowledged before the whole batch is on disk): it is
   * then `dropped` and answered NODE_FULL, as if it had come last.
   */
  pending: Map<string, string[]>
  pendingById: Map<string, {publisher: string; bytes: number}>
  dropped: Set<string>
  /** Bumped by every change above; `tiers` is valid for one version. */
  version: number
  tiers?: Tiers
}

/** Arrival order, where the senior tier ends, and the most packets a junior holds (see `victimFor`). */
interface Tiers {
  version: number
  order: string[]
  at: Map<string, number>
  split: number
  mostJunior: number
}

const emptyPlan = (): Plan => ({
  added: new Map(),
  removed: new Map(),
  ids: new Set(),
  bytes: 0,
  packets: 0,
  addedBytes: 0,
  arrivals: [],
  pending: new Map(),
  pendingById: new Map(),
  dropped: new Set(),
  version: 0,
})

/** One page of a key's packets (see `page`). */
export interface KeyPage {
  packets: Uint8Array[]
  /** Cursor after the last packet returned: pass it as `after` for the next page. */
  cursor: number
  /** More live packets follow the cursor. */
  more: boolean
}

export interface StorageStats {
  packets: number
  bytes: number
  keys: number
  publishers: number
  /** Packets accepted since start (not counting duplicates). */
  stored: number
  /** Packets offered again that were already held. */
  duplicates: number
  /** Refusals by reason since start. */
  refused: Partial<Record<RefusalReason, number>>
  /** Packets dropped because their TTL ran out (at load or by a sweep). */
  expired: number
  /** Packets evicted to make room on a full node (by the rule of `victimFor`: never of the senior tier for a junior). */
  evicted: number
  /** Records in the log that are no longer live (expired or superseded); compaction removes them. */
  deadRecords: number
}

export const STORAGE_FILE = 'packets.qisp'

/**
 * A node's packets: an append-only .qisp log in its node dir plus an in-memory index by packet id,
 * key fingerprint and publisher. A batch is acknowledged only after it is fsynced, so a packet a
 * publisher saw acknowledged survives kill -9. Every packet is indexed under the fingerprints of
 * all its routing keys, and stored once however many keys it arrives under.
 */
export class PacketStorage {
  private readonly byId = new Map<string, Entry>()
  private readonly byKey = new Map<string, Set<string>>()
  private readonly byPublisher = new Map<string, Publisher>()
  /** Publisher keys in order of arrival on this node (tenure), oldest first; stale slots are skipped. */
  private readonly tenure: string[] = []
  private totalBytes = 0
  private seq = 0
  private readonly counters = {stored: 0, duplicates: 0, expired: 0, evicted: 0}
  private readonly refused: Partial<Record<RefusalReason, number>> = {}
  private deadRecords = 0
  // Every mutation of the log runs in this chain, so appends, sweeps and compaction never interleave.
  private chain: Promise<unknown> = Promise.resolve()
  private closed = false

  private constructor(
    readonly file: string,
    readonly limits: StorageLimits,
    private readonly now: () => number,
  ) {}

  /** Opens (creating if needed) the storage in `dir`: cuts a torn tail left by a crash, then loads live packets. */
  static async open(dir: string, options: {limits?: Partial<StorageLimits>; now?: () => number} = {}): Promise<PacketStorage> {
    // A limit given as undefined (a flag not set) keeps its default: spread as is, it would replace
    // the default with undefined, and every `n > undefined` comparison is false, so no cap at all.
    const given = Object.fromEntries(Object.entries(options.limits ?? {}).filter(([, v]) => v !== undefined))
    const storage = new PacketStorage(
      path.join(dir, STORAGE_FILE),
      {...DEFAULT_STORAGE_LIMITS, ...given},
      options.now ?? (() => Math.floor(Date.now() / 1000)),
    )
    try {
      await fs.mkdir(dir, {recursive: true, mode: 0o700})
      await storage.load()
    } catch (err) {
      if (err instanceof QisError) throw err
      throw new QisError(`cannot open node storage ${storage.file}: ${errorMessage(err)}`, {code: 'STORAGE_UNUSABLE', cause: err})
    }
    return storage
  }

  private async load(): Promise<void> {
    try {
      await fs.access(this.file)
    } catch {
      return
    }
    await repairStoreTail(this.file)
    const now = this.now()
    for await (const entry of readStoreFile(this.file)) {
      if (entry.kind === 'corrupt') {
        if (entry.fatal && entry.index === 0 && entry.offset === 0) {
          throw new QisError(`node storage ${this.file} is not a packet store: ${entry.reason}`, {code: 'STORAGE_CORRUPT'})
        }
        this.deadRecords++
        continue
      }
      // The log only ever holds packets that passed every check; re-decoding guards against a
      // damaged disk and tells expired ones apart.
      const decoded = decodePacket(entry.bytes, {now, allowExpired: true, maxFutureSeconds: Number.MAX_SAFE_INTEGER})
      if (!decoded.ok || this.byId.has(decoded.info.id)) {
        this.deadRecords++
        continue
      }
      if (decoded.info.expired) {
        this.counters.expired++
        this.deadRecords++
        continue
      }
      const p = decoded.packet
      // The log replays arrivals in order and the same rule chooses the evictions again (an evicted
      // packet stays in the log until compaction); a lowered cap sheds by the same rule, and a
      // packet that finds no room under it is shed itself.
      const plan = emptyPlan()
      let fits = true
      while (this.over(plan, 1, entry.bytes.length)) {
        const victim = this.victimFor(p.public_key, plan)
        if (victim === undefined) {
          fits = false
          break
        }
        this.take(victim, plan)
      }
      if (!fits) {
        this.counters.evicted++
        this.deadRecords++
        continue
      }
      for (const victim of plan.ids) this.unindex(victim)
      this.counters.evicted += plan.ids.size
      this.index(decoded.info.id, {
        bytes: entry.bytes,
        publisher: p.public_key,
        expiresAt: decoded.info.expiresAt,
        keys: p.routing_keys.map((k) => keyFingerprint(p.scheme, p.domain_tag, k)),
      })
    }
    if (this.shouldCompact()) await this.compactNow()
  }

  private index(id: string, e: Entry): void {
    e.seq = ++this.seq
    this.byId.set(id, e)
    for (const k of e.keys) {
      let ids = this.byKey.get(k)
      if (!ids) this.byKey.set(k, (ids = new Set()))
      ids.add(id)
    }
    let q = this.byPublisher.get(e.publisher)
    if (!q) {
      if (this.tenure.length > 2 * this.byPublisher.size + 1024) this.compactTenure()
      q = {packets: 0, bytes: 0, ids: new Set(), order: this.tenure.length}
      this.tenure.push(e.publisher)
      this.byPublisher.set(e.publisher, q)
    }
    q.packets++
    q.bytes += e.bytes.length
    q.ids.add(id)
    this.totalBytes += e.bytes.length
  }

  /** Drops stale slots from the tenure list, keeping the order of the live ones. */
  private compactTenure(): void {
    const live = this.tenure.filter((k, i) => this.byPublisher.get(k)?.order === i)
    this.tenure.length = 0
    for (const k of live) {
      this.byPublisher.get(k)!.order = this.tenure.length
      this.tenure.push(k)
    }
  }

  private unindex(id: string): void {
    const e = this.byId.get(id)
    if (!e) return
    this.byId.delete(id)
    for (const k of e.keys) {
      const ids = this.byKey.get(k)
      ids?.delete(id)
      if (ids?.size === 0) this.byKey.delete(k)
    }
    const q = this.byPublisher.get(e.publisher)
    if (q) {
      q.packets--
      q.bytes -= e.bytes.length
      q.ids.delete(id)
      if (q.packets <= 0) this.byPublisher.delete(e.publisher)
    }
    // Drop stale slots at the end of the tenure list, so it does not grow with churned publishers.
    while (this.tenure.length > 0 && this.byPublisher.get(this.tenure.at(-1)!)?.order !== this.tenure.length - 1) this.tenure.pop()
    this.totalBytes -= e.bytes.length
    this.deadRecords++
  }

  private refuse(reason: RefusalReason, n = 1): RefusalReason {
    this.refused[reason] = (this.refused[reason] ?? 0) + n
    return reason
  }

  /** Counts a refusal decided outside storage (e.g. an unreadable request), so every refusal shows in stats. */
  countRefusal(reason: RefusalReason, n = 1): void {
    this.refuse(reason, n)
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task, task)
    this.chain = run.catch(() => {})
    return run
  }

  /**
   * Checks and stores a batch pushed under key fingerprint `key`. Returns one status per packet, in
   * order. Resolves only after accepted packets are on disk (fsync).
   */
  storeBatch(key: string, packets: Uint8Array[]): Promise<StoreStatus[]> {
    return this.serial(async () => {
      if (this.closed) throw new QisError('node storage is closed', {code: 'STORAGE_UNUSABLE'})
      const now = this.now()
      const results: StoreStatus[] = []
      let accepted: {id: string; entry: Entry}[] = []
      const resultAt = new Map<string, number>()
      const batchIds = new Set<string>()
      // Quota and room are charged as the batch is checked, so a batch cannot overrun them by
      // counting against stale totals; evictions are applied once the batch is on disk.
      const plan = emptyPlan()
      for (const bytes of packets) {
        const decoded = decodePacket(bytes, {now, maxFutureSeconds: this.limits.maxFutureSeconds})
        if (!decoded.ok) {
          results.push(this.refuse(decoded.error.code))
          continue
        }
        const {packet: p, info} = decoded
        const keys = p.routing_keys.map((k) => keyFingerprint(p.scheme, p.domain_tag, k))
        if (!keys.includes(key)) {
          results.push(this.refuse('KEY_MISMATCH'))
          continue
        }
        if (this.byId.has(info.id) || batchIds.has(info.id)) {
          this.counters.duplicates++
          results.push('duplicate')
          continue
        }
        const used = this.holding(p.public_key, plan)
        if (used.packets + 1 > this.limits.maxPacketsPerPublisher || used.bytes + bytes.length > this.limits.maxBytesPerPublisher) {
          results.push(this.refuse('PUBLISHER_QUOTA'))
          continue
        }
        if (this.over(plan, 1, bytes.length)) {
          const chosen: string[] = []
          while (this.over(plan, 1, bytes.length)) {
            const victim = this.victimFor(p.public_key, plan)
            if (victim === undefined) break
            this.take(victim, plan)
            chosen.push(victim)
          }
          if (this.over(plan, 1, bytes.length)) {
            for (const v of chosen) this.untake(v, plan)
            results.push(this.refuse('NODE_FULL'))
            continue
          }
        }
        if (!plan.pending.has(p.public_key) && !this.byPublisher.has(p.public_key)) plan.arrivals.push(p.public_key)
        const added = plan.added.get(p.public_key) ?? {packets: 0, bytes: 0}
        added.packets++
        added.bytes += bytes.length
        plan.added.set(p.public_key, added)
        plan.packets++
        plan.addedBytes += bytes.length
        plan.version++
        let mine = plan.pending.get(p.public_key)
        if (!mine) plan.pending.set(p.public_key, (mine = []))
        mine.push(info.id)
        plan.pendingById.set(info.id, {publisher: p.public_key, bytes: bytes.length})
        batchIds.add(info.id)
        resultAt.set(info.id, results.length)
        accepted.push({id: info.id, entry: {bytes: new Uint8Array(bytes), publisher: p.public_key, expiresAt: info.expiresAt, keys}})
        results.push('stored')
      }
      // Packets of this batch that gave way to later ones of it were never stored: refused, not evicted.
      for (const id of plan.dropped) results[resultAt.get(id)!] = this.refuse('NODE_FULL')
      accepted = accepted.filter((a) => !plan.dropped.has(a.id))
      if (accepted.length > 0) {
        try {
          await appendToStore(this.file, accepted.map((a) => a.entry.bytes))
        } catch {
          // Nothing was acknowledged, so nothing is lost: the publisher retries. A partial append is cut at next open.
          return results.map((r) => (r === 'stored' ? this.refuse('STORAGE_ERROR') : r))
        }
        for (const v of plan.ids) this.unindex(v)
        this.counters.evicted += plan.ids.size
        for (const a of accepted) this.index(a.id, a.entry)
        this.counters.stored += accepted.length
      }
      return results
    })
  }

  /** What `publisher` holds once `plan` is applied. */
  private holding(publisher: string, plan: Plan): {packets: number; bytes: number} {
    const q = this.byPublisher.get(publisher)
    const a = plan.added.get(publisher)
    const r = plan.removed.get(publisher)
    return {packets: (q?.packets ?? 0) + (a?.packets ?? 0) - (r?.packets ?? 0), bytes: (q?.bytes ?? 0) + (a?.bytes ?? 0) - (r?.bytes ?? 0)}
  }

  /** Whether the node would be over its caps with `plan` applied and `packets`/`bytes` more. */
  private over(plan: Plan, packets: number, bytes: number): boolean {
    return (
      this.byId.size - plan.ids.size + plan.packets + packets > this.limits.maxPackets ||
      this.totalBytes - plan.bytes + plan.addedBytes + bytes > this.limits.maxBytes
    )
  }

  /** Chooses `id` to give way under `plan` (an evicted packet, or a packet of this batch dropped). */
  private take(id: string, plan: Plan): void {
    this.mark(id, plan, 1)
  }

  /** Takes back a `take`. */
  private untake(id: string, plan: Plan): void {
    this.mark(id, plan, -1)
  }

  private mark(id: string, plan: Plan, sign: 1 | -1): void {
    plan.version++
    const pending = plan.pendingById.get(id)
    if (pending) {
      if (sign > 0) plan.dropped.add(id)
      else plan.dropped.delete(id)
      const a = plan.added.get(pending.publisher)!
      a.packets -= sign
      a.bytes -= sign * pending.bytes
      plan.packets -= sign
      plan.addedBytes -= sign * pending.bytes
      return
    }
    const e = this.byId.get(id)!
    if (sign > 0) plan.ids.add(id)
    else plan.ids.delete(id)
    plan.bytes += sign * e.bytes.length
    const r = plan.removed.get(e.publisher) ?? {packets: 0, bytes: 0}
    r.packets += sign
    r.bytes += sign * e.bytes.length
    plan.removed.set(e.publisher, r)
  }

  /** The oldest packet of `publisher` not already chosen to give way: stored ones first, then this batch's. */
  private oldestUntaken(publisher: string, plan: Plan): string | undefined {
    const q = this.byPublisher.get(publisher)
    if (q) for (const id of q.ids) if (!plan.ids.has(id)) return id
    for (const id of plan.pending.get(publisher) ?? []) if (!plan.dropped.has(id)) return id
    return undefined
  }

  /**
   * The packet to evict so `publisher` can store one more on a full node, or undefined (NODE_FULL).
   *
   * Publishers are ranked by arrival on this node (tenure: the order of their first packet). The
   * **senior tier** is the longest run of earliest arrivals that together hold at most
   * 1 - newcomerShare of the node (of its packets and of its bytes); everyone after them, and any
   * publisher new to the node, is **junior**.
   *
   * - A senior makes room from the newest arrivals after it, oldest packet first: a flood can never
   *   push out a publisher that was here before it, and an established publisher reclaims room from
   *   the newest arrivals first.
   * - A junior (or a newcomer) takes from the junior holding the most packets, as long as that one
   *   holds at least two more than it: juniors converge on equal shares of the junior tier (max-min
   *   fairness). A brand-new honest publisher therefore always gets as many packets as the largest
   *   junior holds (a flood's identity included), however many identities the flood used; and no
   *   junior, however many identities it has, ever evicts a senior's packet.
   *
   * What a flood can displace of the data that was here before it is the junior tier's share
   * (newcomerShare of the node) and no more. Tenure is the one thing a flood cannot buy back, so it
   * decides who is protected; identities are cheap, so among the unprotected each gets the same.
   */
  private victimFor(publisher: string, plan: Plan): string | undefined {
    const {order, at: position, split, mostJunior} = this.tiers(plan)
    const at = position.get(publisher) ?? -1
    if (at >= 0 && at < split) {
      for (let i = order.length - 1; i > at; i--) {
        const id = this.oldestUntaken(order[i], plan)
        if (id !== undefined) return id
      }
      return undefined
    }
    const mine = at >= 0 ? this.holding(publisher, plan).packets : 0
    // The common case in a flood: no junior holds two more than the sender. Known without a scan.
    if (mostJunior <= mine + 1) return undefined
    let best: string | undefined
    let most = mine + 1
    // Newest first, and only a strictly larger count replaces: among equals the newest arrival gives way.
    for (let i = order.length - 1; i >= split; i--) {
      if (order[i] === publisher) continue
      const n = this.holding(order[i], plan).packets
      if (n > most && this.oldestUntaken(order[i], plan) !== undefined) {
        best = order[i]
        most = n
      }
    }
    return best === undefined ? undefined : this.oldestUntaken(best, plan)
  }

  /**
   * The tiers as `plan` leaves them: computed once per change of the plan, not per packet, so a
   * flood's refused packets cost the node no walk of every publisher each.
   */
  private tiers(plan: Plan): Tiers {
    if (plan.tiers?.version === plan.version) return plan.tiers
    const order: string[] = []
    for (let i = 0; i < this.tenure.length; i++) if (this.byPublisher.get(this.tenure[i])?.order === i) order.push(this.tenure[i])
    order.push(...plan.arrivals)
    const seniorPackets = (1 - this.limits.newcomerShare) * this.limits.maxPackets
    const seniorBytes = (1 - this.limits.newcomerShare) * this.limits.maxBytes
    let split = order.length
    let packets = 0
    let bytes = 0
    let mostJunior = 0
    const at = new Map<string, number>()
    for (let i = 0; i < order.length; i++) {
      at.set(order[i], i)
      const h = this.holding(order[i], plan)
      if (split === order.length && (packets + h.packets > seniorPackets || bytes + h.bytes > seniorBytes)) split = i
      if (split === order.length) {
        packets += h.packets
        bytes += h.bytes
      } else mostJunior = Math.max(mostJunior, h.packets)
    }
    plan.tiers = {version: plan.version, order, at, split, mostJunior}
    return plan.tiers
  }

  /** Live packets under a key fingerprint, oldest first, at most `limit`. */
  get(key: string, limit = Number.POSITIVE_INFINITY): Uint8Array[] {
    const ids = this.byKey.get(key)
    if (!ids) return []
    const now = this.now()
    const out: Uint8Array[] = []
    for (const id of ids) {
      const e = this.byId.get(id)
      if (e && e.expiresAt > now) {
        out.push(e.bytes)
        if (out.length >= limit) break
      }
    }
    return out
  }

  /**
   * Live packets under a key indexed after cursor `after` (0: from the start), at most `limit`.
   * A cursor is an indexing order, not a position, so packets expiring between pages shift nothing.
   */
  page(key: string, after: number, limit: number): KeyPage {
    const ids = this.byKey.get(key)
    const packets: Uint8Array[] = []
    let cursor = after
    if (!ids || limit <= 0) return {packets, cursor, more: limit <= 0 && (ids?.size ?? 0) > 0}
    const now = this.now()
    for (const id of ids) {
      const e = this.byId.get(id)
      if (!e || e.seq! <= after || e.expiresAt <= now) continue
      if (packets.length >= limit) return {packets, cursor, more: true}
      packets.push(e.bytes)
      cursor = e.seq!
    }
    return {packets, cursor, more: false}
  }

  /** Key fingerprints with packets held (some may have just expired; `get` filters them). */
  keys(): string[] {
    return [...this.byKey.keys()]
  }

  has(id: string): boolean {
    return this.byId.has(id)
  }

  /** Live packets under a key with their ids (hex), oldest first: re-replication compares ids before it sends bytes. */
  held(key: string): {id: string; bytes: Uint8Array}[] {
    const ids = this.byKey.get(key)
    if (!ids) return []
    const now = this.now()
    const out: {id: string; bytes: Uint8Array}[] = []
    for (const id of ids) {
      const e = this.byId.get(id)
      if (e && e.expiresAt > now) out.push({id, bytes: e.bytes})
    }
    return out
  }

  /** Drops expired packets from the index (and compacts the log when it is mostly dead). Returns how many were dropped. */
  sweep(): Promise<number> {
    return this.serial(async () => {
      const now = this.now()
      let dropped = 0
      for (const [id, e] of this.byId) {
        if (e.expiresAt <= now) {
          this.unindex(id)
          dropped++
        }
      }
      this.counters.expired += dropped
      if (this.shouldCompact()) await this.compactNow()
      return dropped
    })
  }

  private shouldCompact(): boolean {
    return this.deadRecords >= 1000 && this.deadRecords > this.byId.size
  }

  /** Rewrites the log with only live packets (temp file + fsync + rename: a crash keeps the old log). */
  compact(): Promise<void> {
    return this.serial(() => this.compactNow())
  }

  private async compactNow(): Promise<void> {
    const writer = await PacketStoreWriter.create(this.file)
    try {
      for (const e of this.byId.values()) await writer.append(e.bytes)
      await writer.commit()
    } catch (err) {
      await writer.abort()
      throw err
    }
    this.deadRecords = 0
  }

  stats(): StorageStats {
    return {
      packets: this.byId.size,
      bytes: this.totalBytes,
      keys: this.byKey.size,
      publishers: this.byPublisher.size,
      stored: this.counters.stored,
      duplicates: this.counters.duplicates,
      refused: {...this.refused},
      expired: this.counters.expired,
      evicted: this.counters.evicted,
      deadRecords: this.deadRecords,
    }
  }

  /** Waits for in-flight writes; later writes are refused. Everything acknowledged is already on disk. */
  async close(): Promise<void> {
    await this.serial(async () => {
      this.closed = true
    })
  }
}
