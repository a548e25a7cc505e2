import {randomBytes} from 'node:crypto'
import path from 'node:path'

import {formatDuration} from '../cli/duration.js'
import {checkInputs} from '../cli/inputs.js'
import {labelProblem} from '../cli/label.js'
import {type QisConfig, loadConfig} from '../config/config.js'
import type {CorrectionIndex} from '../ingest/corrections.js'
import type {IngestEvent, ReadOptions, RecordLocation} from '../ingest/types.js'
import {SCRUB_HEAD_CHARS} from '../hash/pipeline.js'
import type {Scrubber} from '../privacy/types.js'
import {loadOrCreateIdentity} from '../identity/identity.js'
import {type Signer, signerFromIdentity} from '../packet/signer.js'
import type {PacketStoreWriter} from '../packet/store.js'
import {toLabel} from '../packet/text.js'
import {QisError} from '../util/errors.js'
import {Accounting} from './accounting.js'
import {GroupTable} from './aggregate.js'
import {type Checked, checkOptions} from './checks.js'
import {FileTally, type InputSettings, inputSettings} from './inputs.js'
import {RandomisedResponse} from './ldp.js'
import {type DistillDeps, type TextHasher, loadDistillDeps} from './load-deps.js'
import {normaliseAliases} from './model-name.js'
import {Outputs} from './outputs.js'
import {raceAbort} from '../util/abort.js'
import {SlicedHasher} from './slices.js'
import {type Drop, Emitter, LabelStage, type Scrubbed, ScrubStage, hashBatch, isDrop, join} from './stages.js'
import type {DistillOptions, DistillSummary, StageTimes} from './types.js'

export {SKIP} from './accounting.js'
export {DEFAULT_BATCH_SIZE, DEFAULT_TIME_RESOLUTION_SECONDS} from './checks.js'

/** A run id for default store names: the UTC time to the second plus random hex, sortable and collision-free. */
export function defaultStoreName(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  return `${stamp}-${randomBytes(3).toString('hex')}.qisp`
}

/** The rejects file beside a store: `x.qisp` -> `x.rejects.jsonl`. */
export function rejectsPathFor(store: string): string {
  return store.replace(/\.qisp$/i, '') + '.rejects.jsonl'
}

/**
 * Logs in, signed outcome packets out, through the stages of stages.ts: read (+ correction join)
 * -> label -> scrub -> hash (batched) -> emit. Every record read ends emitted, rejected or skipped,
 * in one Accounting. Memory is bounded by the batch, the aggregate table (--max-groups), the
 * correction index and the packet ids written. Raw text lives only in the batch being embedded.
 * A run that yields no packet writes no store (summary.out is null).
 */
export async function distill(options: DistillOptions, deps?: DistillDeps): Promise<DistillSummary> {
  const started = performance.now()
  const checked = checkOptions(options)
  const sizes = await checkInputs(options.files, 'log file')
  await checkInputs(options.corrections ?? [], 'corrections file')
  const d = deps ?? (await loadDistillDeps())
  const {config} = await loadConfig(options.home)
  const input = inputSettings(options, config, options.home.configFile)
  const fallbackDomain = domainFor(checked, input, options, config)
  const out = path.resolve(options.out ?? path.join(options.home.packetsDir, defaultStoreName(new Date(options.now ?? Date.now()))))
  const outputs = await Outputs.prepare(out, options.rejects, rejectsPathFor)
  const run = new Run(options, checked, outputs, started, options.files.includes('-') ? undefined : options.files.reduce((n, f) => n + (sizes.get(f) ?? 0), 0))
  try {
    await run.open(d, config, input, fallbackDomain)
    // Join sources (scores, feedback, batch outputs among the inputs) were read whole by open().
    for (const file of options.files) if (!run.inferenceFiles.includes(file)) run.bytes.fileDone(sizes.get(file) ?? 0)
    for (const file of run.inferenceFiles) {
      run.bytes.begin(sizes.get(file) ?? 0)
      await run.readFile(d.readRecords(file, run.readOptions))
      run.bytes.fileDone(sizes.get(file) ?? 0)
    }
    await run.finish()
    const written = await outputs.commit(run.acc.packets)
    return run.summary(written, written.out === null ? 0 : (await outputs.store()).bytes)
  } catch (err) {
    await outputs.abort()
    throw err
  } finally {
    await run.close()
  }
}

/** One run's stages and state, in the order distill() drives them. */
class Run {
  readonly acc = new Accounting()
  readonly stages: StageTimes = {setup: 0, parse: 0, scrub: 0, embed: 0, signWrite: 0}
  readonly tally = new FileTally()
  readonly bytes: InputBytes
  readOptions: ReadOptions = {}
  inferenceFiles: string[] = []
  private corrections: CorrectionIndex | undefined
  private hasher: TextHasher | undefined
  private scheme: string | null = null
  /** Loads the model: set by open(), called by the first batch to hash. */
  private loadModel!: () => Promise<void>
  private modelLoading: Promise<void> | undefined
  private rr: RandomisedResponse | undefined
  private table: GroupTable | undefined
  private label!: LabelStage
  private scrub!: ScrubStage
  private sliced: SlicedHasher | undefined
  private emitter: Emitter | undefined
  private opened: Promise<{store: PacketStoreWriter; signer: Signer}> | undefined
  private batch: Scrubbed[] = []
  private lastProgress = 0
  private readonly interrupted = () => new QisError('interrupted; no packet store was written', {code: 'INTERRUPTED'})

  constructor(
    private readonly options: DistillOptions,
    private readonly checked: Checked,
    private readonly outputs: Outputs,
    private readonly started: number,
    /** The inputs' total size; undefined when stdin is among them. */
    bytesTotal: number | undefined,
  ) {
    this.bytes = new InputBytes(bytesTotal)
  }

  /**
   * Everything before the first record: the correction index, the scrubber, the stages. Not the
   * model: it takes seconds to load, so it loads when the first batch reaches the hash stage, and a
   * run whose records are all rejected (a binary file, the wrong format) ends without it.
   */
  async open(d: DistillDeps, config: QisConfig, input: InputSettings, fallbackDomain: string): Promise<void> {
    const {options, checked} = this
    this.readOptions = {format: input.format, delimiter: options.delimiter, scores: input.scores, onSchema: this.tally.seen, onOpen: this.bytes.opened}
    if (input.map?.length) this.readOptions.map = d.parseMapFlags(input.map)
    const correctionOptions: ReadOptions = {format: input.correctionsFormat, scores: input.scores}
    if (input.correctionsMap?.length) correctionOptions.map = d.parseMapFlags(input.correctionsMap)
    const joined = await joinSources(options, d, this.readOptions, correctionOptions)
    this.corrections = joined.corrections
    this.inferenceFiles = joined.inferenceFiles
    for (const r of this.corrections?.rejects ?? []) {
      if (r.kind !== 'reject') continue
      if (options.strict) await this.drop(r.at, {drop: 'reject', reason: r.reason, field: r.field})
      this.acc.correctionsRejected++
      await this.outputs.rejects.add({file: r.at.file, line: r.at.line, reason: r.reason, field: r.field})
    }
    let scrubber: Scrubber
    try {
      scrubber = d.createScrubber({custom: config.privacy})
    } catch (err) {
      throw new QisError(`privacy in ${options.home.configFile}: ${(err as Error).message}`, {code: 'BAD_CONFIG'})
    }
    const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000)
    this.rr = options.epsilon === undefined ? undefined : new RandomisedResponse(options.epsilon, options.uniform)
    this.table = options.aggregate ? new GroupTable({maxGroups: checked.maxGroups}) : undefined
    const {timeResolutionSeconds, ttlHours, minCount} = checked
    const modelAliases = normaliseAliases({...config.modelAlias, ...options.modelAlias})
    this.label = new LabelStage({fallbackDomain, defaultConfidence: input.defaultConfidence, modelAliases, timeResolutionSeconds, ttlHours, nowSeconds, rr: this.rr, scrubber, tally: this.tally})
    this.scrub = new ScrubStage(scrubber)
    this.loadModel = async () => {
      const t0 = performance.now()
      // Loading a model takes seconds; an interrupt meanwhile abandons it.
      const hp = await raceAbort(d.createHashPipeline(options.embedder ?? config.embedder), options.signal, this.interrupted)
      this.hasher = hp.pipeline
      this.scheme = hp.scheme
      this.sliced = new SlicedHasher(hp.pipeline, {signal: options.signal, onAbort: this.interrupted})
      this.emitter = new Emitter({scheme: hp.scheme, ttlHours, nowSeconds, rr: this.rr, table: this.table, minCount, domainSummary: this.options.domainSummary !== false, open: this.openStore, accounting: this.acc})
      this.stages.setup += (performance.now() - t0) / 1000
    }
    this.stages.setup = (performance.now() - this.started) / 1000
    if (options.signal?.aborted) throw this.interrupted()
  }

  // The identity is read (or made) only when a packet is about to be signed: a run that yields none creates nothing in the home.
  private readonly openStore = () =>
    (this.opened ??= (async () => {
      const signer = this.options.signer ?? signerFromIdentity(await loadOrCreateIdentity(this.options.home))
      return {signer, store: await this.outputs.store()}
    })())

  /** Every record of one inference log through the stages (hashing once a batch is full). */
  async readFile(records: AsyncIterable<IngestEvent>): Promise<void> {
    const {options, acc} = this
    const iterator = records[Symbol.asyncIterator]()
    for (;;) {
      const tp = performance.now()
      // Raced, so a reader working through one huge record still stops at once.
      const next: IteratorResult<IngestEvent> = await raceAbort(iterator.next(), options.signal, this.interrupted)
      this.stages.parse += (performance.now() - tp) / 1000
      if (next.done) return
      if (options.signal?.aborted) throw this.interrupted()
      acc.read++
      this.bytes.record(next.value.at)
      await this.record(next.value)
      // After the record is dropped or batched, so the figure never counts one still in the works.
      if ((acc.read & 255) === 0) this.progress()
    }
  }

  /** One record through join, label and scrub: dropped, or into the batch (hashed once the batch is full). */
  private async record(event: IngestEvent): Promise<void> {
    const joined = join(event, this.corrections)
    if (isDrop(joined)) return this.drop(event.at, joined)
    if (joined.correction) this.acc.correctionsMatched++
    const labelled = this.label.run(joined)
    if (isDrop(labelled)) return this.drop(joined.at, labelled)
    // The store is opened before the first embedding, so a folder that cannot take it fails before the model works.
    if (!this.opened) await this.openStore()
    // A long query is scrubbed only as far as the model reads, which the model says: load it first.
    if (labelled.query.length > SCRUB_HEAD_CHARS) await (this.modelLoading ??= this.loadModel())
    const ts = performance.now()
    this.batch.push(this.scrub.run(labelled, this.hasher))
    this.stages.scrub += (performance.now() - ts) / 1000
    if (this.batch.length >= this.checked.batchSize) await this.flush()
  }

  /** The last batch, the groups still open, the join's leftovers; then the books must balance. */
  async finish(): Promise<void> {
    if (this.batch.length > 0) await this.flush()
    await this.emitter?.finish()
    const {acc} = this
    acc.correctionsUnmatched = this.corrections?.unmatched() ?? 0
    acc.correctionsSkippedFrom(this.corrections?.skipped ?? {})
    if (!acc.balanced()) throw new QisError(`records do not add up: read ${acc.read}, emitted ${acc.emitted} + rejected ${acc.rejected} + skipped ${acc.skipped}`, {code: 'INTERNAL'})
    // The last figure is the whole input, however the last report fell.
    this.progress(true)
  }

  async close(): Promise<void> {
    await this.hasher?.close().catch(() => {})
  }

  /** A dropped record: counted, and a reject listed (or fatal under --strict). */
  private async drop(at: RecordLocation, x: Drop): Promise<void> {
    if (x.drop === 'skip') return this.acc.skip(x.reason)
    if (this.options.strict) {
      throw new QisError(`${at.file}:${at.line}: ${x.reason}${x.field ? ` (field ${x.field})` : ''}; stopping because of --strict, nothing was written`, {code: 'REJECTED'})
    }
    this.acc.reject(x.reason)
    await this.outputs.rejects.add({file: at.file, line: at.line, reason: x.reason, field: x.field})
  }

  /** Hash the batch, then emit each record of it. */
  private async flush(): Promise<void> {
    const mark = this.bytes.read()
    await (this.modelLoading ??= this.loadModel())
    const t0 = performance.now()
    const hashed = await hashBatch(this.sliced!, this.batch)
    const t1 = performance.now()
    for (const h of hashed) {
      const dropped = await this.emitter!.add(h)
      if (dropped) await this.drop(h.at, dropped)
    }
    this.stages.embed += (t1 - t0) / 1000
    this.stages.signWrite += (performance.now() - t1) / 1000
    this.batch = []
    this.bytes.settle(mark)
    this.progress(true)
  }

  private progress(force = false): void {
    const {onProgress} = this.options
    if (!onProgress) return
    const t = performance.now()
    if (!force && t - this.lastProgress < 250) return
    this.lastProgress = t
    const done = this.batch.length === 0 ? this.bytes.read() : this.bytes.settled
    onProgress({read: this.acc.read, emitted: this.acc.emitted, bytesDone: this.bytes.total === undefined ? undefined : done, bytesTotal: this.bytes.total, seconds: (t - this.started) / 1000})
  }

  summary(written: {out: string | null; rejects: string | null}, bytes: number): DistillSummary {
    const {acc, checked, table, rr} = this
    const seconds = (performance.now() - this.started) / 1000
    return {
      counts: acc.counts(),
      out: written.out,
      rejects: written.rejects,
      packets: acc.packets,
      duplicatePackets: acc.duplicatePackets,
      bytes,
      rejectedByReason: acc.rejectedByReason,
      skippedByReason: acc.skippedByReason,
      domains: acc.domains,
      seconds,
      recordsPerSecond: seconds > 0 ? acc.read / seconds : 0,
      scheme: this.scheme,
      aggregate: table
        ? {groups: acc.packets + acc.suppressedGroups, packets: acc.packets, suppressedGroups: acc.suppressedGroups, compressionRatio: acc.packets > 0 ? acc.emitted / acc.packets : 0, earlyCloses: table.earlyCloses, maxGroups: table.maxGroups}
        : null,
      summaries: this.options.domainSummary === false ? null : {written: acc.summaries},
      privacy: {
        timeResolution: formatDuration(checked.timeResolutionSeconds),
        timeResolutionSeconds: checked.timeResolutionSeconds,
        minCount: checked.minCount,
        epsilon: this.options.epsilon ?? null,
        mechanism: rr ? 'randomised-response' : null,
      },
      stages: this.stages,
      cache: this.hasher?.stats() ?? {},
      tempFilesRemoved: this.outputs.tempFilesRemoved,
      correctionsSkippedByReason: acc.correctionsSkippedByReason,
      hints: this.tally.hints(),
    }
  }
}

/** The domain for records that carry none: --domain, else the profile's, else the config's defaultDomain. */
function domainFor(checked: Checked, input: InputSettings, options: DistillOptions, config: QisConfig): string {
  if (checked.domain !== undefined) return checked.domain
  const [value, where] = input.domain === undefined ? [config.defaultDomain, 'defaultDomain'] : [input.domain, `profile ${options.profile}: domain`]
  const problem = labelProblem('domain_tag', value)
  if (problem === undefined) return value
  const normalised = toLabel('domain_tag', value)
  throw new QisError(`${where} in ${options.home.configFile}: ${problem.message}`, {code: 'BAD_CONFIG', hint: normalised ? `Write it as "${normalised}".` : undefined})
}

/**
 * Files among the inputs whose records only add to others (scores, feedback, OpenAI Batch output)
 * are joined like corrections, read with the inputs' format and map; the rest are inference logs.
 * Correction logs are their own logs: --corrections-map/--corrections-format describe them.
 */
async function joinSources(options: DistillOptions, d: DistillDeps, readOptions: ReadOptions, correctionOptions: ReadOptions): Promise<{corrections?: CorrectionIndex; inferenceFiles: string[]}> {
  const joinFiles: string[] = []
  const inferenceFiles: string[] = []
  for (const file of options.files) ((await d.isJoinSource(file, readOptions)) ? joinFiles : inferenceFiles).push(file)
  if (!options.corrections?.length && !joinFiles.length) return {inferenceFiles}
  const corrections = await d.loadCorrections(options.corrections ?? [], correctionOptions)
  if (joinFiles.length) await corrections.add(joinFiles, readOptions)
  return {corrections, inferenceFiles}
}

/**
 * How much of the input files the run is through, in the files' own bytes (not the process's, which
 * include the model): the sizes of the files finished, plus, in the current file, the end offset
 * of the last record finished (emitted, rejected or skipped). Where a reader cannot give a record's
 * end it falls back to how far the stream is into the file: for .gz, the compressed bytes the
 * decompressor consumed (within one output chunk of the records); for a JSON array, the bytes read,
 * which run ahead by the read-ahead.
 */
class InputBytes {
  private finished = 0
  private size = 0
  private bytesRead: (() => number) | undefined
  /** End of the last record read in the current file. */
  private last = 0
  /** Through where the run was when the last batch was written: the records hashed and emitted, not just read. */
  settled = 0

  constructor(readonly total: number | undefined) {}

  /** A file is about to be read; `size` is 0 for stdin. */
  begin(size: number): void {
    this.size = size
    this.last = 0
    this.bytesRead = undefined
  }

  opened = (bytesRead: () => number): void => {
    this.bytesRead = bytesRead
  }

  /** A record was read from the current file. */
  record(at: RecordLocation): void {
    const end = at.end ?? this.bytesRead?.() ?? this.last
    // Clamped: a file with invalid UTF-8 re-encodes a little longer than it is.
    this.last = Math.max(this.last, this.size > 0 ? Math.min(this.size, end) : end)
  }

  /** The whole of a file: read to its end, or read before the first record (a join source). */
  fileDone(size: number): void {
    this.finished += size
    this.begin(0)
  }

  /** Through the last record read. */
  read(): number {
    const n = this.finished + this.last
    return this.total === undefined ? n : Math.min(this.total, n)
  }

  settle(mark: number): void {
    this.settled = mark
  }
}
