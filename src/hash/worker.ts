// A worker thread of the hash pipeline: its own model instance, the same deterministic scheme.
import {parentPort, workerData} from 'node:worker_threads'

import {createEmbedder} from '../embed/index.js'
import type {EmbedderConfig} from '../embed/types.js'
import {schemeForConfig} from './index.js'

const port = parentPort!
try {
  const {config} = workerData as {config: EmbedderConfig}
  const embedder = await createEmbedder(config)
  const scheme = schemeForConfig(embedder, config)
  port.on('message', async (msg: {id: number; texts: string[]}) => {
    try {
      port.postMessage({id: msg.id, codes: await scheme.codes(await embedder.embed(msg.texts), msg.texts)})
    } catch (err) {
      port.postMessage({id: msg.id, error: err instanceof Error ? err.message : String(err)})
    }
  })
  port.postMessage({ready: true, scheme: scheme.id})
} catch (err) {
  port.postMessage({ready: false, error: err instanceof Error ? err.message : String(err)})
}
