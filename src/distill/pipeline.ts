import {randomBytes} from 'node:crypto'
import path from 'node:path'

import {formatDuration} from '../cli/duration.js'
import {checkInputs} from '../cli/inputs.js'
import {labelProblem} from '../cli/label.js'
import {type QisConfig, loadConfig} from '../config/config.js'
import type {CorrectionIndex} from '../ingest/corrections.js'
import type {IngestEvent, ReadOptions, RecordLocation} from '../ingest/types.js'
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
import {SlicedHasher, raceAbort} from './slices.js'
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

  const acc = new Accounting()
  const stages: StageTimes = {setup: 0, parse: 0, scrub: 0, embed: 0, signWrite: 0}
  const interrupted = () => new QisError('interrupted; no packet store was written', {code: 'INTERRUPTED'})
  const tally = new FileTally()
  const readOptions: ReadOptions = {format: input.format, delimiter: options.delimiter, scores: input.scores, onSchema: tally.seen}
  if (input.map?.length) readOptions.map = d.parseMapFlags(input.map)
  const correctionOptions: ReadOptions = {format: input.correctionsFormat, scores: input.scores}
  if (input.correctionsMap?.length) correctionOptions.map = d.parseMapFlags(input.correctionsMap)
  let hasher: TextHasher | undefined
  try {
    /** A dropped record: counted, and a reject listed (or fatal under --strict). */
    const drop = async (at: RecordLocation, x: Drop, records = 1) => {
      if (x.drop === 'skip') return acc.skip(x.reason, records)
      if (options.strict) {
        throw new QisError(`${at.file}:${at.line}: ${x.reason}${x.field ? ` (field ${x.field})` : ''}; stopping because of --strict, nothing was written`, {code: 'REJECTED'})
      }
      acc.reject(x.reason)
      await outputs.rejects.add({file: at.file, line: at.line, reason: x.reason, field: x.field})
    }
    const {corrections, inferenceFiles} = await joinSources(options, d, readOptions, correctionOptions)
    for (const r of corrections?.rejects ?? []) {
      if (r.kind !== 'reject') continue
      if (options.strict) await drop(r.at, {drop: 'reject', reason: r.reason, field: r.field})
      acc.correctionsRejected++
      await outputs.rejects.add({file: r.at.file, line: r.at.line, reason: r.reason, field: r.field})
    }
    let scrubber: ReturnType<DistillDeps['createScrubber']>
    try {
      scrubber = d.createScrubber({custom: config.privacy})
    } catch (err) {
      throw new QisError(`privacy in ${options.home.configFile}: ${(err as Error).message}`, {code: 'BAD_CONFIG'})
    }
    // Loading a model takes seconds; an interrupt meanwhile abandons it.
    const hp = await raceAbort(d.createHashPipeline(options.embedder ?? config.embedder), options.signal, interrupted)
    hasher = hp.pipeline
    const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000)
    const rr = options.epsilon === undefined ? undefined : new RandomisedResponse(options.epsilon, options.uniform)
    const table = options.aggregate ? new GroupTable({maxGroups: checked.maxGroups}) : undefined
    const label = new LabelStage({
      fallbackDomain,
      defaultConfidence: input.defaultConfidence,
      modelAliases: normaliseAliases({...config.modelAlias, ...options.modelAlias}),
      timeResolutionSeconds: checked.timeResolutionSeconds,
      ttlHours: checked.ttlHours,
      nowSeconds,
      rr,
      scrubber,
      tally,
    })
    const scrub = new ScrubStage(scrubber)
    const sliced = new SlicedHasher(hp.pipeline, {signal: options.signal, onAbort: interrupted})
    // The identity is read (or made) only when a packet is about to be signed: a run that yields none creates nothing in the home.
    let opened: Promise<{store: PacketStoreWriter; signer: Signer}> | undefined
    const open = () =>
      (opened ??= (async () => {
        const signer = options.signer ?? signerFromIdentity(await loadOrCreateIdentity(options.home))
        return {signer, store: await outputs.store()}
      })())
    const emitter = new Emitter({scheme: hp.scheme, ttlHours: checked.ttlHours, nowSeconds, rr, table, minCount: checked.minCount, open, accounting: acc})

    const bytes = new InputBytes(options.files.includes('-') ? undefined : [...sizes.values()].reduce((a, b) => a + b, 0))
    readOptions.onOpen = bytes.opened
    let batch: Scrubbed[] = []
    const flush = async () => {
      const mark = bytes.read()
      const t0 = performance.now()
      const hashed = await hashBatch(sliced, batch)
      const t1 = performance.now()
      for (const h of hashed) {
        const dropped = await emitter.add(h)
        if (dropped) await drop(h.at, dropped)
      }
      stages.embed += (t1 - t0) / 1000
      stages.signWrite += (performance.now() - t1) / 1000
      batch = []
      bytes.settle(mark)
      progress(true)
    }
    let lastProgress = 0
    const progress = (force = false) => {
      if (!options.onProgress) return
      const t = performance.now()
      if (!force && t - lastProgress < 250) return
      lastProgress = t
      const done = batch.length === 0 ? bytes.read() : bytes.settled
      options.onProgress({read: acc.read, emitted: acc.emitted, bytesRead: bytes.total === undefined ? undefined : done, bytesTotal: bytes.total, seconds: (t - started) / 1000})
    }

    stages.setup = (performance.now() - started) / 1000
    if (options.signal?.aborted) throw interrupted()
    for (const file of inferenceFiles) {
      const iterator = d.readRecords(file, readOptions)[Symbol.asyncIterator]()
      for (;;) {
        const tp = performance.now()
        // Raced, so a reader working through one huge record still stops at once.
        const next: IteratorResult<IngestEvent> = await raceAbort(iterator.next(), options.signal, interrupted)
        stages.parse += (performance.now() - tp) / 1000
        if (next.done) break
        if (options.signal?.aborted) throw interrupted()
        acc.read++
        if ((acc.read & 255) === 0) progress()
        const joined = join(next.value, corrections)
        if (isDrop(joined)) {
          await drop(next.value.at, joined)
          continue
        }
        if (joined.correction) acc.correctionsMatched++
        const labelled = label.run(joined)
        if (isDrop(labelled)) {
          await drop(joined.at, labelled)
          continue
        }
        // The store is opened before the first embedding, so a folder that cannot take it fails before the model works.
        if (!opened) await open()
        const ts = performance.now()
        batch.push(scrub.run(labelled))
        stages.scrub += (performance.now() - ts) / 1000
        if (batch.length >= checked.batchSize) await flush()
      }
      bytes.fileDone(sizes.get(file) ?? 0)
    }
    if (batch.length > 0) await flush()
    await emitter.finish()
    acc.correctionsUnmatched = corrections?.unmatched() ?? 0
    acc.correctionsSkippedFrom(corrections?.skipped ?? {})
    if (!acc.balanced()) throw new QisError(`records do not add up: read ${acc.read}, emitted ${acc.emitted} + rejected ${acc.rejected} + skipped ${acc.skipped}`, {code: 'INTERNAL'})

    const written = await outputs.commit(acc.packets)
    const seconds = (performance.now() - started) / 1000
    const store = written.out === null ? undefined : await outputs.store()
    return {
      counts: acc.counts(),
      out: written.out,
      rejects: written.rejects,
      packets: acc.packets,
      duplicatePackets: acc.duplicatePackets,
      bytes: store?.bytes ?? 0,
      rejectedByReason: acc.rejectedByReason,
      skippedByReason: acc.skippedByReason,
      domains: acc.domains,
      seconds,
      recordsPerSecond: seconds > 0 ? acc.read / seconds : 0,
      scheme: hp.scheme,
      aggregate: table
        ? {groups: acc.packets + acc.suppressedGroups, packets: acc.packets, suppressedGroups: acc.suppressedGroups, compressionRatio: acc.packets > 0 ? acc.emitted / acc.packets : 0, earlyCloses: table.earlyCloses, maxGroups: table.maxGroups}
        : null,
      privacy: {
        timeResolution: formatDuration(checked.timeResolutionSeconds),
        timeResolutionSeconds: checked.timeResolutionSeconds,
        minCount: checked.minCount,
        epsilon: options.epsilon ?? null,
        mechanism: rr ? 'randomised-response' : null,
      },
      stages,
      cache: hp.pipeline.stats(),
      tempFilesRemoved: outputs.tempFilesRemoved,
      correctionsSkippedByReason: acc.correctionsSkippedByReason,
      hints: tally.hints(),
    }
  } catch (err) {
    await outputs.abort()
    throw err
  } finally {
    await hasher?.close().catch(() => {})
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

/** How much of the input files has been read, from the files' own byte counts (not the process's, which include the model). */
class InputBytes {
  private finished = 0
  private current: (() => number) | undefined
  /** Bytes read when the last batch was written: the work done, not just read ahead. */
  settled = 0

  constructor(readonly total: number | undefined) {}

  opened = (bytesRead: () => number): void => {
    this.current = bytesRead
  }

  fileDone(size: number): void {
    this.finished += size
    this.current = undefined
  }

  read(): number {
    const n = this.finished + (this.current?.() ?? 0)
    return this.total === undefined ? n : Math.min(this.total, n)
  }

  settle(mark: number): void {
    this.settled = mark
  }
}
