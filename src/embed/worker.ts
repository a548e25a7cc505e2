// A worker thread of the hash pipeline: its own model instance, the same deterministic scheme.
import {parentPort, workerData} from 'node:worker_threads'

import {schemeFor} from '../hash/index.js'
import {createEmbedder} from './index.js'
import type {EmbedderConfig} from './types.js'

const port = parentPort!
try {
  const embedder = await createEmbedder((workerData as {config: EmbedderConfig}).config)
  const scheme = schemeFor(embedder)
  port.on('message', async (msg: {id: number; texts: string[]}) => {
    try {
      const vecs = await embedder.embed(msg.texts)
      port.postMessage({id: msg.id, codes: vecs.map((v, j) => ({hash: scheme.fineHash(v), keys: scheme.routingKeys(v, msg.texts[j])}))})
    } catch (err) {
      port.postMessage({id: msg.id, error: err instanceof Error ? err.message : String(err)})
    }
  })
  port.postMessage({ready: true, scheme: scheme.id})
} catch (err) {
  port.postMessage({ready: false, error: err instanceof Error ? err.message : String(err)})
}
