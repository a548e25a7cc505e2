import {MemoryDatastore} from 'datastore-core/memory'
import type {Key} from 'interface-datastore'

/** kad-dht messages whose only effect would be a write qis refuses. */
export type RefusedDhtMessage = 'ADD_PROVIDER' | 'PUT_VALUE'

/**
 * libp2p's datastore for a qis node: kad-dht keeps ADD_PROVIDER and PUT_VALUE records (the `pk`
 * and `qis` namespaces) in it with no quota or counter, so 150,000 ADD_PROVIDER messages grew a
 * node by 300 MB and valid packets bypassed `--max-packets` as DHT records (issue 21 item 6).
 * qis routes with FIND_NODE only and carries packets on its own protocols, so both writes are
 * refused (the handler throws, kad-dht resets the stream) and counted; everything else (the peer
 * store) is kept in memory as before.
 */
export class GuardedDatastore extends MemoryDatastore {
  readonly refused: Record<RefusedDhtMessage, number> = {ADD_PROVIDER: 0, PUT_VALUE: 0}

  constructor(private readonly dhtPrefix = '/dht') {
    super()
  }

  override put(key: Key, val: Uint8Array, options?: Parameters<MemoryDatastore['put']>[2]): Key | Promise<Key> {
    const k = key.toString()
    if (k.startsWith(`${this.dhtPrefix}/provider/`)) return this.refuse('ADD_PROVIDER')
    if (k.startsWith(`${this.dhtPrefix}/record/`)) return this.refuse('PUT_VALUE')
    return super.put(key, val, options)
  }

  private refuse(what: RefusedDhtMessage): never {
    this.refused[what]++
    throw new Error(`qis nodes store no DHT ${what === 'ADD_PROVIDER' ? 'provider records' : 'records'}`)
  }
}
