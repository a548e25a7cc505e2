/** A sentence embedder: texts in, one L2-normalised vector per text out, in order. */
export interface Embedder {
  /** Backend and model, e.g. 'use-lite' or 'transformers:all-minilm-l6-v2@1a2b3c4d'. Part of every scheme id. */
  readonly id: string
  readonly dimension: number
  /** Texts per embed() call this backend runs fastest with, where it knows; HashPipeline's default. */
  readonly preferredBatchSize?: number
  embed(texts: string[]): Promise<Float32Array[]>
  /**
   * True when the model reads no further than this model input: any text that starts with it and
   * then a space embeds the same (use-lite reads only its first 128 tokens). Lets a long prompt's
   * model input be built from its head only. Absent: every text is read whole.
   */
  readsNoFurtherThan?(input: string): boolean
  close(): Promise<void>
}

export type EmbedderBackend = 'use-lite' | 'transformers'

export interface EmbedderConfig {
  backend: EmbedderBackend
  /** transformers backend: a local model folder (config.json, tokenizer.json, onnx/model*.onnx). Default: $QIS_MODEL_DIR. */
  modelDir?: string
  /** transformers backend: fetch missing model files from the Hugging Face hub (modelDir is then a hub model name). */
  allowDownload?: boolean
  /**
   * A routing codebook file to hash with instead of the shipped one (a group's own candidate:
   * scripts/fit-codebook.mjs). Its scheme id names the file by digest, so its keys never mix with
   * the shipped scheme's; every node of the group must use the same file.
   */
  codebook?: string
}

export const EMBEDDER_BACKENDS: readonly EmbedderBackend[] = ['use-lite', 'transformers']
