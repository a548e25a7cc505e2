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
 * A storage node's peer store on disk: one file per peer (datastore-fs writes each to a temp file
 * and renames it, so a crash leaves the old record or the new one, never half of one).
 */
export async function openPeerStoreDatastore(dir: string): Promise<{datastore: GuardedDatastore; close(): Promise<void>}> {
  const {FsDatastore} = await import('datastore-fs')
  const inner = new FsDatastore(dir, {createIfMissing: true})
  await inner.open()
  return {datastore: new GuardedDatastore(inner), close: () => inner.close()}
}
