import type {EmbedderConfig} from '../embed/types.js'
import type {TextHasher} from '../hash/pipeline.js'
import type {CorrectionIndex} from '../ingest/corrections.js'
import type {IngestEvent, ReadOptions} from '../ingest/types.js'
import type {Scrubber, ScrubberOptions} from '../privacy/types.js'

export type {TextHasher} from '../hash/pipeline.js'

/**
 * The modules distill stands on, passed in so a test can swap the embedder for a cheap stand-in
 * while the readers, join and scrubber stay real. Types are the modules' own.
 */
export interface DistillDeps {
  readRecords(file: string, options: ReadOptions): AsyncIterable<IngestEvent>
  /** `--map canonical=source` pairs to a map; throws QisError on bad syntax, before any work. */
  parseMapFlags(pairs: string[]): Record<string, string>
  loadCorrections(files: string[], options: ReadOptions): Promise<CorrectionIndex>
  /** True when a file's records only add to others (scores, feedback, batch outputs); undefined when unknown (stdin). */
  isJoinSource(file: string, options: ReadOptions): Promise<boolean | undefined>
  createScrubber(options: ScrubberOptions): Scrubber
  createHashPipeline(config: EmbedderConfig): Promise<{pipeline: TextHasher; scheme: string}>
}

/** The real modules, imported on first use (the embedder pulls in TF.js, which `qis --help` must not pay for). */
export async function loadDistillDeps(): Promise<DistillDeps> {
  const [ingest, {createHashPipeline}, {createScrubber}] = await Promise.all([import('../ingest/index.js'), import('../hash/pipeline.js'), import('../privacy/index.js')])
  return {
    readRecords: ingest.readRecords,
    parseMapFlags: ingest.parseMapFlags,
    loadCorrections: (files, options) => ingest.CorrectionIndex.load(files, options),
    isJoinSource: ingest.isJoinSource,
    createScrubber,
    async createHashPipeline(config) {
      const {pipeline, scheme} = await createHashPipeline(config)
      return {pipeline, scheme: scheme.id}
    },
  }
}
