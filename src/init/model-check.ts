import type {QisConfig} from '../config/config.js'
import type {Embedder} from '../embed/types.js'
import {QisError, errorMessage} from '../util/errors.js'

export interface ModelCheck {
  /** The embedder's id as packets' scheme ids will name it. */
  embedder: string
  dimension: number
  /** Wall seconds to load the model and embed one sentence. */
  seconds: number
}

const PROBE = 'Which dose adjustment applies when kidney function is reduced?'

/**
 * Loads the configured embedder, embeds one sentence (and hashes it with the configured codebook,
 * if any) and closes it, so a wrong model folder or codebook is found at `qis init` rather than an
 * hour into `qis distill`. Never downloads: init must work offline.
 * The embedding module is imported here, lazily, so init without the check stays light.
 */
export async function checkModel(embedder: QisConfig['embedder']): Promise<ModelCheck> {
  const started = performance.now()
  const where = embedder.backend === 'transformers' ? ` from ${embedder.modelDir ?? '(no model folder)'}` : ''
  let instance: Embedder | undefined
  try {
    let vector: Float32Array | undefined
    try {
      const {createEmbedder} = await import('../embed/index.js')
      instance = await createEmbedder({backend: embedder.backend, modelDir: embedder.modelDir, allowDownload: false})
      ;[vector] = await instance.embed([PROBE])
      if (!vector || vector.length !== instance.dimension) {
        throw new Error(`it returned ${vector ? vector.length : 0} numbers for a ${instance.dimension}-dimensional model`)
      }
      let norm = 0
      for (const x of vector) norm += x * x
      if (!Number.isFinite(norm) || norm === 0) throw new Error('it returned an empty or non-finite embedding')
    } catch (err) {
      throw new QisError(`the ${embedder.backend} embedder did not load${where}: ${errorMessage(err)}`, {code: 'MODEL_CHECK_FAILED', cause: err})
    }
    if (embedder.codebook) {
      // A group's codebook must fit this model: keys for the probe, or the reason there are none.
      try {
        const {embeddingText, schemeForConfig} = await import('../hash/index.js')
        schemeForConfig(instance, embedder).routingKeys(vector, embeddingText(PROBE))
      } catch (err) {
        throw new QisError(`the codebook does not fit the ${instance.id} embedder: ${errorMessage(err)}`, {code: 'MODEL_CHECK_FAILED', cause: err})
      }
    }
    return {embedder: instance.id, dimension: instance.dimension, seconds: (performance.now() - started) / 1000}
  } finally {
    await instance?.close().catch(() => {})
  }
}
