import {BaseDatastore} from 'datastore-core'
import {MemoryDatastore} from 'datastore-core/memory'
import type {Datastore, Key, KeyQuery, Pair, Query} from 'interface-datastore'

/** kad-dht messages whose only effect would be a write qis refuses. */
export type RefusedDhtMessage = 'ADD_PROVIDER' | 'PUT_VALUE'

type AbortOptions = {signal?: AbortSignal}

/**
 * libp2p's datastore for a qis node: kad-dht keeps ADD_PROVIDER and PUT_VALUE records (the `pk`
 * and `qis` namespaces) in it with no quota or counter, so 150,000 ADD_PROVIDER messages grew a
 * node by 300 MB and valid packets bypassed `--max-packets` as DHT records (issue 21 item 6).
 * qis routes with FIND_NODE only and carries packets on its own protocols, so both writes are
 * refused (the handler throws, kad-dht resets the stream) and counted; everything else (the peer
 * store) goes to the inner datastore: memory for a client, a folder under <home>/node for a
 * storage node, so a restart remembers its peers (issue 17, "Peer store").
 */
export class GuardedDatastore extends BaseDatastore {
  readonly refused: Record<RefusedDhtMessage, number> = {ADD_PROVIDER: 0, PUT_VALUE: 0}

  constructor(
    private readonly inner: Datastore = new MemoryDatastore(),
    private readonly dhtPrefix = '/dht',
  ) {
    super()
  }

  override put(key: Key, val: Uint8Array, options?: AbortOptions): Key | Promise<Key> {
    const k = key.toString()
    if (k.startsWith(`${this.dhtPrefix}/provider/`)) return this.refuse('ADD_PROVIDER')
    if (k.startsWith(`${this.dhtPrefix}/record/`)) return this.refuse('PUT_VALUE')
    return this.inner.put(key, val, options)
  }

  override get(key: Key, options?: AbortOptions): Uint8Array | Promise<Uint8Array> {
    return this.inner.get(key, options)
  }

  override has(key: Key, options?: AbortOptions): boolean | Promise<boolean> {
    return this.inner.has(key, options)
  }

  override delete(key: Key, options?: AbortOptions): void | Promise<void> {
    return this.inner.delete(key, options)
  }

  override _all(q: Query, options?: AbortOptions): AsyncGenerator<Pair> | Generator<Pair> {
    // The inner store applies prefix, filters, orders, offset and limit itself.
    return this.inner.query(q, options) as AsyncGenerator<Pair>
  }

  override _allKeys(q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> | Generator<Key> {
    return this.inner.queryKeys(q, options) as AsyncGenerator<Key>
  }

  override query(q: Query, options?: AbortOptions): AsyncGenerator<Pair> | Generator<Pair> {
    return this._all(q, options)
  }

  override queryKeys(q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> | Generator<Key> {
    return this._allKeys(q, options)
  }

  private refuse(what: RefusedDhtMessage): never {
    this.refused[what]++
    throw new Error(`qis nodes store no DHT ${what === 'ADD_PROVIDER' ? 'provider records' : 'records'}`)
  }
}

/**
 * A storage node's peer store: held in memory, copied to disk best-effort. A failed disk write (a
 * full disk) must not fail the peer store update that caused it: libp2p would drop the connection
 * being identified, and a node on a full disk would stop serving what it already holds. The peer
 * store is small (one record per peer), so it is read whole at start and served from memory.
 */
export class PersistedMemoryDatastore extends BaseDatastore {
  /** Disk writes or deletes that failed (the in-memory copy stayed right). */
  persistFailures = 0
  private readonly memory = new MemoryDatastore()

  constructor(private readonly disk: Datastore) {
    super()
  }

  async load(): Promise<void> {
    for await (const {key, value} of this.disk.query({})) await this.memory.put(key, value)
  }

  override async put(key: Key, val: Uint8Array, options?: AbortOptions): Promise<Key> {
    await this.memory.put(key, val, options)
    try {
      await this.disk.put(key, val, options)
    } catch {
      this.persistFailures++
    }
    return key
  }

  override get(key: Key, options?: AbortOptions): Uint8Array | Promise<Uint8Array> {
    return this.memory.get(key, options)
  }

  override has(key: Key, options?: AbortOptions): boolean | Promise<boolean> {
    return this.memory.has(key, options)
  }

  override async delete(key: Key, options?: AbortOptions): Promise<void> {
    await this.memory.delete(key, options)
    try {
      await this.disk.delete(key, options)
    } catch {
      this.persistFailures++
    }
  }

  override _all(q: Query, options?: AbortOptions): AsyncGenerator<Pair> | Generator<Pair> {
    return this.memory.query(q, options) as AsyncGenerator<Pair>
  }

  override _allKeys(q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> | Generator<Key> {
    return this.memory.queryKeys(q, options) as AsyncGenerator<Key>
  }

  override query(q: Query, options?: AbortOptions): AsyncGenerator<Pair> | Generator<Pair> {
    return this._all(q, options)
  }

  override queryKeys(q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> | Generator<Key> {
    return this._allKeys(q, options)
  }
}

/**
 * A storage node's peer store on disk: one file per peer (datastore-fs writes each to a temp file
 * and renames it, so a crash leaves the old record or the new one, never half of one).
 */
export async function openPeerStoreDatastore(dir: string): Promise<{datastore: GuardedDatastore; close(): Promise<void>}> {
  const {FsDatastore} = await import('datastore-fs')
  const disk = new FsDatastore(dir, {createIfMissing: true})
  await disk.open()
  const inner = new PersistedMemoryDatastore(disk)
  await inner.load()
  return {datastore: new GuardedDatastore(inner), close: () => disk.close()}
}
