// A worker thread of the hash pipeline: its own model instance, the same deterministic scheme.
import {parentPort, workerData} from 'node:worker_threads'

import {schemeForConfig} from '../hash/index.js'
import {createEmbedder} from './index.js'
import type {EmbedderConfig} from './types.js'

const port = parentPort!
try {
  const {config} = workerData as {config: EmbedderConfig}
  const embedder = await createEmbedder(config)
  const scheme = schemeForConfig(embedder, config)
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
