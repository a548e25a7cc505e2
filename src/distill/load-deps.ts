import type {DistillDeps, HashPipeline} from './deps.js'

/** The real ingestion, scrubbing and hashing modules, imported on first use (the embedder pulls in TF.js). */
export async function loadDistillDeps(): Promise<DistillDeps> {
  const [ingest, {createHashPipeline}, {createScrubber}] = await Promise.all([
    import('../ingest/index.js'),
    import('../embed/pipeline.js'),
    import('../privacy/index.js'),
  ])
  return {
    readRecords: (file, options) => ingest.readRecords(file, options),
    parseMap: (pairs) => ingest.parseMapFlags(pairs),
    loadCorrections: (files, options) => ingest.CorrectionIndex.load(files, options),
    isJoinSource: (file, options) => ingest.isJoinSource(file, options),
    createScrubber,
    async createHashPipeline(options) {
      const {pipeline, scheme} = await createHashPipeline({
        backend: (options.backend ?? 'use-lite') as 'use-lite' | 'transformers',
        modelDir: options.modelDir,
        allowDownload: options.allowDownload,
        codebook: options.codebook,
      })
      return {pipeline: pipeline as HashPipeline, scheme: scheme.id}
    },
  }
}
