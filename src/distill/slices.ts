import type {SemanticCodes} from '../hash/index.js'
import type {TextHasher} from '../hash/pipeline.js'
import {raceAbort} from '../util/abort.js'

/**
 * Embeds a batch in slices of about `targetSeconds` (default 1 s, from the time per text so far),
 * with a turn of the event loop between slices, so an interrupt is seen within about a second
 * though the default embedder computes on the main thread (docs/distill.md, "Interrupts"). An
 * embedder that computes off the main thread is raced against the abort instead. Slices are cut
 * from the batch ordered by text length, so they cost no speed; results come back in batch order.
 */
export class SlicedHasher {
  /** Seconds per text, smoothed over the calls so far; undefined until the first call. */
  private perText: number | undefined

  constructor(
    private readonly pipeline: TextHasher,
    private readonly options: {targetSeconds?: number; maxSlice?: number; signal?: AbortSignal; onAbort: () => Error},
  ) {}

  async hash(texts: string[]): Promise<SemanticCodes[]> {
    const target = this.options.targetSeconds ?? 1
    const maxSlice = this.options.maxSlice ?? 256
    const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length || a - b)
    const out = new Array<SemanticCodes>(texts.length)
    let at = 0
    while (at < order.length) {
      await this.checkpoint()
      const size = this.perText === undefined ? 2 : Math.max(1, Math.min(maxSlice, Math.floor(target / this.perText)))
      const idx = order.slice(at, at + size)
      const t0 = performance.now()
      const codes = await this.raced(this.pipeline.hashMany(idx.map((i) => texts[i]!)))
      const each = (performance.now() - t0) / 1000 / idx.length
      // Cache hits make some calls nearly free; smoothing keeps one of them from blowing up the next slice.
      this.perText = this.perText === undefined ? each : 0.7 * this.perText + 0.3 * each
      idx.forEach((i, k) => (out[i] = codes[k]!))
      at += idx.length
    }
    return out
  }

  /** Lets a pending signal handler run, then stops if the run was aborted. */
  private async checkpoint(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve))
    if (this.options.signal?.aborted) throw this.options.onAbort()
  }

  private raced<T>(work: Promise<T>): Promise<T> {
    return raceAbort(work, this.options.signal, this.options.onAbort)
  }
}

