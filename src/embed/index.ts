import {QisError} from '../util/errors.js'
import type {Embedder, EmbedderConfig} from './types.js'

export type {Embedder, EmbedderBackend, EmbedderConfig} from './types.js'
export {EMBEDDER_BACKENDS} from './types.js'

/**
 * Build an embedder. The model module is imported only here, on first use, so commands that
 * never embed stay fast to start.
 */
export async function createEmbedder(config: EmbedderConfig): Promise<Embedder> {
  switch (config.backend) {
    case 'use-lite': {
      const {createUseLiteEmbedder} = await import('./use-lite.js')
      return createUseLiteEmbedder()
    }
    case 'transformers': {
      const modelDir = config.modelDir ?? process.env.QIS_MODEL_DIR
      if (!modelDir) {
        throw new QisError('The transformers backend needs a model folder: pass --model-dir or set QIS_MODEL_DIR.', {
          code: 'MODEL_NOT_FOUND',
        })
      }
      const {createTransformersEmbedder} = await import('./transformers.js')
      return createTransformersEmbedder({modelDir, allowDownload: config.allowDownload})
    }
    default:
      throw new QisError(`Unknown embedding backend "${String((config as {backend: unknown}).backend)}" (use-lite or transformers).`, {code: 'BAD_CONFIG'})
  }
}
