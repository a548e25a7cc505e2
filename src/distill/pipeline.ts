import {randomBytes} from 'node:crypto'
import {promises as fs} from 'node:fs'
import path from 'node:path'

import {loadConfig} from '../config/config.js'
import {ensureDir} from '../config/home.js'
import {loadOrCreateIdentity} from '../identity/identity.js'
import {PacketEncodeError, encodePacket} from '../packet/codec.js'
import {type Signer, signerFromIdentity} from '../packet/signer.js'
import {PacketStoreWriter, removeOrphanedTempStores} from '../packet/store.js'
import {toLabel} from '../packet/text.js'
import {DEFAULT_TTL_HOURS, MAX_TTL_HOURS, type PacketBody} from '../packet/types.js'
import {QisError, errorMessage} from '../util/errors.js'
import {type Group, type GroupKey, GroupTable, DEFAULT_MAX_GROUPS} from './aggregate.js'
import type {Corrections, DistillDeps, HashPipeline, HashResult, ReadItem, ReadOptions, SourcePosition} from './deps.js'
import {FileTally, inputSettings} from './inputs.js'
import {RandomisedResponse} from './ldp.js'
import {type ModelNameResult, normaliseAliases, publicModelName} from './model-name.js'
import {RejectsWriter} from './rejects.js'
import {SlicedHasher, raceAbort} from './slices.js'
import {coarsen, formatDuration} from './time.js'
import type {DistillOptions, DistillSummary, StageTimes} from './types.js'

export const DEFAULT_TIME_RESOLUTION_SECONDS = 3600
/** Records per embedding call: use-lite embeds a call's texts in groups of equal token count, and larger calls make larger groups. */
export const DEFAULT_BATCH_SIZE = 256
/** A record may be at most this far ahead of the clock (the packet decoder allows an hour of skew). */
const MAX_FUTURE_SECONDS = 3600

const PERSONAL = Symbol('personal data')
const SCRUB_CACHE_ENTRIES = 20_000
const MAX_CACHED_QUERY_CHARS = 2_000

/** Reasons a record is skipped (valid, but no packet can or should carry it). One spelling each. */
export const SKIP = {
  noOutcome: 'no outcome signal',
  noConfidence: 'no confidence (pass --default-confidence to use a fixed one)',
  noQuery: 'no query text',
  future: 'timestamp in the future',
  tooOld: `older than the longest packet lifetime (${MAX_TTL_HOURS} hours)`,
  belowMinCount: 'below min-count',
} as const

interface Prepared {
  at: SourcePosition
  text: string
  key: GroupKey
  /** The outcome as it enters aggregation: the raw value, or the randomised-response bit. */
  outcome: number
  confidence: number
}

/** A run id for default store names: the UTC time to the second plus random hex, sortable and collision-free. */
export function defaultStoreName(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  return `${stamp}-${randomBytes(3).toString('hex')}.qisp`
}

/** The rejects file beside a store: `x.qisp` -> `x.rejects.jsonl`. */
export function rejectsPathFor(store: string): string {
  return store.replace(/\.qisp$/i, '') + '.rejects.jsonl'
}

function badFlag(message: string): QisError {
  return new QisError(message, {code: 'BAD_FLAG', exitCode: 2})
}

interface Checked {
  timeResolutionSeconds: number
  minCount: number
  ttlHours: number
  batchSize: number
  maxGroups: number
  domain: string | undefined
}

function checkOptions(o: DistillOptions): Checked {
  if (o.files.length === 0) throw badFlag('no log files given: qis distill FILE... (use - for stdin)')
  if (o.files.filter((f) => f === '-').length > 1) throw badFlag('stdin (-) can be read only once')
  const timeResolutionSeconds = o.timeResolutionSeconds ?? DEFAULT_TIME_RESOLUTION_SECONDS
  if (!Number.isInteger(timeResolutionSeconds) || timeResolutionSeconds < 0) throw badFlag('--time-resolution must be a whole number of seconds, 0 or more')
  const minCount = o.minCount ?? 1
  if (!Number.isInteger(minCount) || minCount < 1) throw badFlag(`--min-count must be a whole number of at least 1, got ${minCount}`)
  if (minCount > 1 && !o.aggregate) throw badFlag('--min-count only applies to aggregates: add --aggregate')
  if (o.epsilon !== undefined && !(Number.isFinite(o.epsilon) && o.epsilon > 0)) throw badFlag(`--epsilon must be a positive number, got ${o.epsilon}`)
  const ttlHours = o.ttlHours ?? DEFAULT_TTL_HOURS
  if (!Number.isInteger(ttlHours) || ttlHours < 1 || ttlHours > MAX_TTL_HOURS) throw badFlag(`--ttl-hours must be a whole number from 1 to ${MAX_TTL_HOURS}, got ${ttlHours}`)
  const batchSize = o.batchSize ?? DEFAULT_BATCH_SIZE
  if (!Number.isInteger(batchSize) || batchSize < 1) throw badFlag(`batch size must be a positive whole number, got ${batchSize}`)
  const maxGroups = o.maxGroups ?? DEFAULT_MAX_GROUPS
  if (!Number.isInteger(maxGroups) || maxGroups < 1) throw badFlag(`--max-groups must be a positive whole number, got ${maxGroups}`)
  let domain: string | undefined
  if (o.domain !== undefined) {
    domain = toLabel('domain_tag', o.domain)
    if (domain === undefined) throw badFlag(`--domain "${o.domain}" cannot be made a domain label (lowercase a-z, 0-9, . _ - :, at most 64 characters)`)
  }
  return {timeResolutionSeconds, minCount, ttlHours, batchSize, maxGroups, domain}
}

async function checkInputs(files: string[], what: string): Promise<number | undefined> {
  let total: number | undefined = 0
  for (const file of files) {
    if (file === '-') {
      total = undefined
      continue
    }
    let st
    try {
      st = await fs.stat(file)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new QisError(code === 'ENOENT' ? `${what} ${file} does not exist` : `cannot read ${what} ${file}: ${errorMessage(err)}`, {
        code: 'INPUT_MISSING',
        exitCode: 2,
      })
    }
    if (!st.isFile()) throw new QisError(`${what} ${file} is not a file`, {code: 'INPUT_MISSING', exitCode: 2})
    try {
      await fs.access(file, fs.constants.R_OK)
    } catch (err) {
      throw new QisError(`cannot read ${what} ${file}: ${errorMessage(err)}`, {code: 'INPUT_MISSING', exitCode: 2})
    }
    if (total !== undefined) total += st.size
  }
  return total
}

/**
 * Logs in, signed outcome packets out: read -> normalise -> join corrections -> scrub PII -> embed
 * (batched, cached) -> fine hash + routing keys -> packet -> sign -> store. Memory is bounded by the
 * batch size, plus the aggregate table with --aggregate (bounded by maxGroups), plus what the
 * correction index holds. Raw text lives only in the batch being embedded and is never written.
 */
export async function distill(options: DistillOptions, deps?: DistillDeps): Promise<DistillSummary> {
  const started = performance.now()
  const checked = checkOptions(options)
  const bytesTotal = await checkInputs(options.files, 'log file')
  await checkInputs(options.corrections ?? [], 'corrections file')
  const d = deps ?? (await (await import('./load-deps.js')).loadDistillDeps())

  const {config} = await loadConfig(options.home)
  const input = inputSettings(options, config, options.home.configFile)
  const tally = new FileTally()
  const readOptions: ReadOptions = {format: input.format, delimiter: options.delimiter, scores: input.scores, onSchema: tally.seen}
  if (input.map?.length) readOptions.map = d.parseMap(input.map)
  const correctionOptions: ReadOptions = {format: input.correctionsFormat, scores: input.scores}
  if (input.correctionsMap?.length) correctionOptions.map = d.parseMap(input.correctionsMap)
  const defaultConfidence = input.defaultConfidence
  if (defaultConfidence !== undefined && !(defaultConfidence >= 0 && defaultConfidence <= 1)) throw badFlag(`--default-confidence must be from 0 to 1, got ${defaultConfidence}`)
  let profileDomain: string | undefined
  if (checked.domain === undefined && input.domain !== undefined) {
    profileDomain = toLabel('domain_tag', input.domain)
    if (profileDomain === undefined) throw badFlag(`profile ${options.profile}: domain "${input.domain}" cannot be made a domain label`)
  }
  const fallbackDomain = checked.domain ?? profileDomain ?? toLabel('domain_tag', config.defaultDomain)
  if (fallbackDomain === undefined) throw new QisError(`defaultDomain "${config.defaultDomain}" in ${options.home.configFile} is not a valid domain label`, {code: 'BAD_CONFIG'})
  const signer: Signer = options.signer ?? signerFromIdentity(await loadOrCreateIdentity(options.home))

  const out = path.resolve(options.out ?? path.join(options.home.packetsDir, defaultStoreName(new Date(options.now ?? Date.now()))))
  const rejectsPath = path.resolve(options.rejects ?? rejectsPathFor(out))
  if (rejectsPath === out) throw badFlag('--rejects and --out name the same file')
  const outStat = await fs.stat(out).catch(() => undefined)
  if (outStat?.isDirectory()) throw badFlag(`--out ${out} is a directory; name the store file to write (e.g. ${path.join(out, 'run.qisp')})`)
  await outputDir(path.dirname(out), 'packet store', out)
  if (options.rejects !== undefined) await outputDir(path.dirname(rejectsPath), 'rejects file', rejectsPath)

  const nowMs = options.now ?? Date.now()
  const nowSeconds = Math.floor(nowMs / 1000)
  const rr = options.epsilon === undefined ? undefined : new RandomisedResponse(options.epsilon, options.uniform)
  const table = options.aggregate ? new GroupTable({maxGroups: checked.maxGroups}) : undefined

  const counts = {read: 0, emitted: 0, rejected: 0, skipped: 0, correctionsMatched: 0, correctionsUnmatched: 0, correctionsRejected: 0, correctionsSkipped: 0}
  const correctionsSkippedByReason: Record<string, number> = {}
  const rejectedByReason: Record<string, number> = {}
  const skippedByReason: Record<string, number> = {}
  const domains: Record<string, number> = {}
  const stages: StageTimes = {setup: 0, parse: 0, scrub: 0, embed: 0, signWrite: 0}
  let packets = 0
  let suppressedGroups = 0

  // A killed run (kill -9, OOM) leaves its temp store behind; the next run in the folder removes it.
  const tempFilesRemoved = (await removeOrphanedTempStores(path.dirname(out))).length +
    (path.dirname(rejectsPath) === path.dirname(out) ? 0 : (await removeOrphanedTempStores(path.dirname(rejectsPath))).length)
  const store = await PacketStoreWriter.create(out)
  const rejects = new RejectsWriter(rejectsPath, options.rejects !== undefined)
  let pipeline: HashPipeline | undefined
  try {
    await rejects.open()
    const skip = (reason: string, n = 1) => {
      counts.skipped += n
      skippedByReason[reason] = (skippedByReason[reason] ?? 0) + n
    }
    const reject = async (at: SourcePosition, reason: string, field?: string, correctionRow = false) => {
      if (options.strict) {
        throw new QisError(`${at.file}:${at.line}: ${reason}${field ? ` (field ${field})` : ''}; stopping because of --strict, nothing was written`, {
          code: 'REJECTED',
          exitCode: 1,
        })
      }
      if (correctionRow) counts.correctionsRejected++
      else {
        counts.rejected++
        rejectedByReason[reason] = (rejectedByReason[reason] ?? 0) + 1
      }
      await rejects.add({file: at.file, line: at.line, reason, field})
    }
    // Files among the inputs whose records only add to others (scores, feedback, OpenAI Batch
    // output) are joined like corrections, read with the inputs' format and map.
    const joinFiles: string[] = []
    const inferenceFiles: string[] = []
    for (const file of options.files) ((await d.isJoinSource?.(file, readOptions)) ? joinFiles : inferenceFiles).push(file)
    let corrections: Corrections | undefined
    if (options.corrections?.length || joinFiles.length) {
      // Corrections are their own logs: --map/--input-format describe the inference logs, --corrections-map/--corrections-format them.
      corrections = await d.loadCorrections(options.corrections ?? [], correctionOptions)
      if (joinFiles.length) await corrections.add?.(joinFiles, readOptions)
      for (const r of corrections.rejects) if (r.kind === 'reject') await reject(r.at, r.reason, r.field, true)
    }
    let scrubber: ReturnType<DistillDeps['createScrubber']>
    try {
      scrubber = d.createScrubber({custom: config.privacy})
    } catch (err) {
      throw new QisError(`privacy in ${options.home.configFile}: ${errorMessage(err)}`, {code: 'BAD_CONFIG', exitCode: 2})
    }
    // Logs repeat queries verbatim (FAQ-like traffic); scrubbing costs more than parsing, so exact
    // repeats reuse the scrubbed text. Bounded by entries and text length; in memory only.
    const scrubCache = new Map<string, string>()
    const scrubOnce = (raw: string): string => {
      const hit = scrubCache.get(raw)
      if (hit !== undefined) return hit
      const text = scrubber.scrub(raw).text
      if (raw.length <= MAX_CACHED_QUERY_CHARS) {
        if (scrubCache.size >= SCRUB_CACHE_ENTRIES) scrubCache.delete(scrubCache.keys().next().value as string)
        scrubCache.set(raw, text)
      }
      return text
    }
    // Domains and correction types are categories, but a log may put free text there ("Dr Smith's
    // ward"); toLabel would happily turn that into a valid label. So they pass the scrubber too and
    // are rejected when it finds anything. Model names are not scrubbed: names like "Meta-Llama" or
    // "claude-3" trip the person-name detector, and they are chosen by the operator, not the user.
    // Distinct values are few, so results are cached (bounded).
    const labelCache = new Map<string, string | typeof PERSONAL | undefined>()
    const categoryLabel = (field: 'domain_tag' | 'correction_type', raw: string) => {
      const cacheKey = `${field}\u0000${raw}`
      if (labelCache.has(cacheKey)) return labelCache.get(cacheKey)
      const label = scrubber.scrub(raw).text !== raw ? PERSONAL : toLabel(field, raw)
      if (labelCache.size >= 10_000) labelCache.clear()
      labelCache.set(cacheKey, label)
      return label
    }
    const interrupted = () => new QisError('interrupted; no packet store was written', {code: 'INTERRUPTED', exitCode: 130})
    // Loading a model takes seconds; an interrupt meanwhile abandons it.
    const hp = await raceAbort(d.createHashPipeline({
      backend: options.embedder?.backend ?? config.embedder.backend,
      modelDir: options.embedder?.modelDir ?? config.embedder.modelDir,
      allowDownload: options.embedder?.allowDownload,
      codebook: options.embedder?.codebook ?? config.embedder.codebook,
    }), options.signal, interrupted)
    pipeline = hp.pipeline
    const scheme = hp.scheme

    // Model names are not scrubbed (names such as "Meta-Llama" trip the person detector); they are
    // cut down to a public name instead, so an organisation in a fine-tune id never leaves.
    const aliases = normaliseAliases({...config.modelAlias, ...options.modelAlias})
    const modelCache = new Map<string, ModelNameResult>()
    const modelLabel = (raw: string | undefined): ModelNameResult => {
      if (raw === undefined || raw === '') return {ok: true, name: 'unknown'}
      let hit = modelCache.get(raw)
      if (hit) return hit
      const pub = publicModelName(raw, aliases)
      const label = pub.ok ? toLabel('model_variant', pub.name) : undefined
      hit = !pub.ok ? pub : label === undefined ? {ok: false, reason: 'model variant cannot be made a valid label (lowercase a-z, 0-9, . _ - :, at most 48 characters)'} : {ok: true, name: label}
      if (modelCache.size >= 10_000) modelCache.clear()
      modelCache.set(raw, hit)
      return hit
    }

    const ttlFor = (bucket: number) => checked.ttlHours + Math.max(0, Math.ceil((nowSeconds - bucket) / 3600))

    const body = (key: GroupKey, routingKeys: string[], outcome: number, confidence: number, count: number): PacketBody => ({
      scheme,
      domain_tag: key.domain,
      query_semantic_hash: key.hash,
      routing_keys: routingKeys,
      outcome_signal: outcome,
      confidence_at_inference: confidence,
      model_variant: key.modelVariant,
      correction_applied: key.correctionApplied,
      correction_type: key.correctionType,
      timestamp: key.bucket,
      ttl_hours: ttlFor(key.bucket),
      count,
    })

    const emitGroup = async (g: Group) => {
      if (g.count < checked.minCount) {
        suppressedGroups++
        skip(SKIP.belowMinCount, g.count)
        return
      }
      const outcome = rr ? rr.packetOutcome(g.outcomeSum, g.count) : g.outcomeSum / g.count
      // Group fields were validated per record; a failure here is a bug, not bad input, so it throws.
      await store.append(encodePacket(body(g, g.routingKeys, outcome, g.confidenceSum / g.count, g.count), signer))
      packets++
      counts.emitted += g.count
      domains[g.domain] = (domains[g.domain] ?? 0) + g.count
    }

    /** Signs and stores a batch whose hashes are known. */
    const finishBatch = async (batch: Prepared[], hashes: HashResult[]) => {
      const t1 = performance.now()
      for (let i = 0; i < batch.length; i++) {
        const p = batch[i]
        p.key.hash = hashes[i].hash
        if (table) {
          for (const g of table.add(p.key, hashes[i].keys, p.outcome, p.confidence)) await emitGroup(g)
          continue
        }
        let bytes: Uint8Array
        try {
          bytes = encodePacket(body(p.key, hashes[i].keys, p.outcome, p.confidence, 1), signer)
        } catch (err) {
          if (err instanceof PacketEncodeError) {
            await reject(p.at, err.message, err.error.field)
            continue
          }
          throw err
        }
        await store.append(bytes)
        packets++
        counts.emitted++
        domains[p.key.domain] = (domains[p.key.domain] ?? 0) + 1
      }
      stages.signWrite += (performance.now() - t1) / 1000
    }

    // Batches run one after another. Overlapping the next batch's reading with this batch's
    // embedding was measured to gain nothing here: the default embedder computes on the main thread
    // (TF.js WASM), and on two cores a worker's gain is ~15%. Sequential batches also keep each
    // stage's time its own, which the benchmark reports.
    const sliced = new SlicedHasher(pipeline, {signal: options.signal, onAbort: interrupted})
    const launch = async (next: Prepared[]) => {
      const t0 = performance.now()
      const hashes = await sliced.hash(next.map((p) => p.text))
      stages.embed += (performance.now() - t0) / 1000
      await finishBatch(next, hashes)
    }

    let batch: Prepared[] = []
    let lastProgress = 0
    const bytesBase = bytesTotal === undefined ? undefined : await processBytesRead()
    const progress = async () => {
      if (!options.onProgress) return
      const t = performance.now()
      if (t - lastProgress < 250) return
      lastProgress = t
      const now = bytesBase === undefined ? undefined : await processBytesRead()
      const bytesRead = now === undefined || bytesBase === undefined ? undefined : Math.min(bytesTotal!, now - bytesBase)
      options.onProgress({read: counts.read, emitted: counts.emitted, bytesRead, bytesTotal: bytesRead === undefined ? undefined : bytesTotal, seconds: (t - started) / 1000})
    }

    stages.setup = (performance.now() - started) / 1000
    if (options.signal?.aborted) throw interrupted()
    for (const file of inferenceFiles) {
      const iterator = d.readRecords(file, readOptions)[Symbol.asyncIterator]()
      for (;;) {
        const tp = performance.now()
        // Raced, so a reader working through one huge record still stops at once.
        const next: IteratorResult<ReadItem> = await raceAbort(iterator.next(), options.signal, interrupted)
        stages.parse += (performance.now() - tp) / 1000
        if (next.done) break
        if (options.signal?.aborted) throw interrupted()
        const item = next.value
        counts.read++
        if ((counts.read & 255) === 0) await progress()
        if (item.kind === 'reject') {
          await reject(item.at, item.reason, item.field)
          continue
        }
        const r = item.record
        if (r.skip !== undefined || r.join) {
          skip(r.skip ?? 'a score, feedback or batch output row among inference records')
          continue
        }
        const correction = findJoin(corrections, r)
        if (correction) {
          counts.correctionsMatched++
          r.modelVariant ??= correction.modelVariant
          r.timestamp ??= correction.timestamp
          r.confidence ??= correction.confidence
        }

        // Invalid values are rejects; valid records without a usable signal are skips.
        const domain = r.domain === undefined || r.domain === '' ? fallbackDomain : categoryLabel('domain_tag', r.domain)
        if (domain === undefined || domain === PERSONAL) {
          await reject(item.at, domain === PERSONAL ? 'domain looks like it contains personal data' : 'domain cannot be made a valid label (lowercase a-z, 0-9, . _ - :, at most 64 characters)', 'domain')
          continue
        }
        const model = modelLabel(r.modelVariant)
        if (!model.ok) {
          await reject(item.at, model.reason, 'model')
          continue
        }
        const modelVariant = model.name
        const correctionApplied = Boolean(r.correctionApplied) || Boolean(correction?.correctionApplied) || (r.correctionType !== undefined && r.correctionType !== '')
        const rawType = correction?.correctionType ?? r.correctionType
        let correctionType: string | null = null
        if (correctionApplied && rawType !== undefined && rawType !== '') {
          const label = categoryLabel('correction_type', rawType)
          if (label === undefined || label === PERSONAL) {
            await reject(item.at, label === PERSONAL ? 'correction type looks like it contains personal data' : 'correction type cannot be made a valid label (lowercase a-z, 0-9, . _ - :, at most 24 characters)', 'correction_type')
            continue
          }
          correctionType = label
        }
        const outcome = r.outcome ?? correction?.outcome
        if (outcome === undefined) {
          skip(SKIP.noOutcome)
          tally.lacked(item.at.file, 'outcome')
          continue
        }
        const confidence = r.confidence ?? defaultConfidence
        if (confidence === undefined) {
          skip(SKIP.noConfidence)
          tally.lacked(item.at.file, 'confidence')
          continue
        }
        if (r.query === undefined || r.query.trim() === '') {
          skip(SKIP.noQuery)
          tally.lacked(item.at.file, 'query')
          continue
        }
        tally.emit(item.at.file)
        const seconds = r.timestamp === undefined ? nowSeconds : Math.floor(r.timestamp / 1000)
        if (seconds > nowSeconds + MAX_FUTURE_SECONDS) {
          skip(SKIP.future)
          continue
        }
        const bucket = coarsen(Math.max(0, seconds), checked.timeResolutionSeconds)
        if (ttlFor(bucket) > MAX_TTL_HOURS) {
          skip(SKIP.tooOld)
          continue
        }

        const ts = performance.now()
        const text = scrubOnce(r.query)
        stages.scrub += (performance.now() - ts) / 1000
        batch.push({
          at: item.at,
          text,
          key: {domain, hash: '', modelVariant, correctionApplied, correctionType, bucket},
          outcome: rr ? rr.respond(outcome) : outcome,
          confidence,
        })
        if (batch.length >= checked.batchSize) {
          await launch(batch)
          batch = []
        }
      }
    }
    if (batch.length > 0) await launch(batch)
    if (table) for (const g of table.drain()) await emitGroup(g)
    counts.correctionsUnmatched = corrections?.unmatched() ?? 0
    for (const [reason, n] of Object.entries(corrections?.skipped ?? {})) {
      counts.correctionsSkipped += n
      correctionsSkippedByReason[reason] = n
    }

    await store.commit()
    const rejectsOut = await rejects.commit()
    const seconds = (performance.now() - started) / 1000
    return {
      counts,
      out,
      rejects: rejectsOut,
      packets,
      bytes: store.bytes,
      rejectedByReason,
      skippedByReason,
      domains,
      seconds,
      recordsPerSecond: seconds > 0 ? counts.read / seconds : 0,
      scheme,
      aggregate: table
        ? {groups: packets + suppressedGroups, packets, suppressedGroups, compressionRatio: packets > 0 ? counts.emitted / packets : 0, earlyCloses: table.earlyCloses, maxGroups: table.maxGroups}
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
      tempFilesRemoved,
      correctionsSkippedByReason,
      hints: tally.hints(),
    }
  } catch (err) {
    await store.abort()
    await rejects.abort()
    throw err
  } finally {
    await pipeline?.close().catch(() => {})
  }
}

/**
 * Bytes this process has read from files so far (Linux /proc/self/io `rchar`), for a progress bar
 * with an ETA without reaching into the readers. Undefined where /proc is not available.
 */
async function processBytesRead(): Promise<number | undefined> {
  try {
    const text = await fs.readFile('/proc/self/io', 'utf8')
    const m = /^rchar:\s*(\d+)/m.exec(text)
    return m ? Number(m[1]) : undefined
  } catch {
    return undefined
  }
}

/** Creates the folder an output goes in, or says plainly why it cannot (e.g. a file is in the way). */
async function outputDir(dir: string, what: string, target: string): Promise<void> {
  try {
    await ensureDir(dir)
  } catch (err) {
    throw new QisError(`cannot write ${what} ${target}: ${errorMessage(err)}`, {code: 'WRITE_FAILED', exitCode: 1, cause: err})
  }
}

/** The join entry for a record: by its id, else by its trace (a Langfuse observation's score may sit on the trace). */
function findJoin(corrections: Corrections | undefined, r: {id?: string; joinIds?: string[]}) {
  if (!corrections) return undefined
  if (r.id !== undefined) {
    const hit = corrections.take(r.id)
    if (hit) return hit
  }
  for (const id of r.joinIds ?? []) {
    const hit = corrections.take(id)
    if (hit) return hit
  }
  return undefined
}
