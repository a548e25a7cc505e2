import {Flags} from '@oclif/core'
import path from 'node:path'

import {BaseCommand} from '../base.js'
import {EMBEDDER_BACKENDS, type EmbedderBackend} from '../embed/types.js'
import type {DistillProgress, DistillSummary} from '../distill/types.js'
import {removeOwnTempStoresSync} from '../packet/store.js'
import {INPUT_FORMATS, type InputFormat} from '../ingest/types.js'
import {QisError} from '../util/errors.js'
import {formatBytes, formatDuration, keyValueTable} from '../util/format.js'

export default class Distill extends BaseCommand<typeof Distill> {
  static summary = 'Turn inference logs into signed outcome packets (no raw text, no personal data).'
  static description = `Reads JSONL, JSON, CSV or Parquet logs (flat records, OpenAI chat "messages", or exports of OpenTelemetry GenAI, Langfuse, LangSmith, OpenAI Batch and Helicone, detected from the first record; .gz works; - is stdin), joins correction logs, scores and batch outputs by id, scrubs personal data from each query, embeds it locally, and writes one signed outcome packet per record (or per group with --aggregate) to a new packet store. Nothing raw is written anywhere: packets hold a semantic hash, routing keys, labels and numbers.

Records that cannot be read are rejected (listed by file, line and reason in the rejects file); records without an outcome signal or confidence are skipped. The summary accounts for every record: read = emitted + rejected + skipped.

Privacy knobs (see docs/distill.md): --time-resolution coarsens timestamps, --min-count suppresses aggregates of fewer records, --epsilon adds local differential-privacy noise to outcomes (randomised response).`

  static examples = [
    '<%= config.bin %> distill fixtures/logs/inference.jsonl fixtures/logs/chat.jsonl fixtures/logs/support.csv --corrections fixtures/logs/corrections.jsonl',
    '<%= config.bin %> distill logs/*.jsonl.gz --aggregate --min-count 5 --time-resolution 1d',
    '<%= config.bin %> distill export.csv --map query=user_question --map outcome=score --domain legal.contracts',
    '<%= config.bin %> distill requests.jsonl --epsilon 2 --aggregate --json',
  ]

  static strict = false
  static args = {}

  static flags = {
    corrections: Flags.string({char: 'c', description: 'Correction log joined to records by id (repeatable).', multiple: true, multipleNonGreedy: true}),
    domain: Flags.string({description: 'Domain for records that carry none (default: the config\'s defaultDomain, "general").'}),
    out: Flags.string({char: 'o', description: 'Packet store to write. Default: a new <home>/packets/<time>-<id>.qisp, where publish finds it.'}),
    rejects: Flags.string({description: 'Rejects file (JSONL: file, line, reason, field). Default: beside the store, written only when something was rejected.'}),
    'input-format': Flags.string({
      description: 'Input format: a container (jsonl, json, csv, parquet; the log schema is then detected), a log schema (otel, langfuse, langsmith, openai-batch, helicone; container by extension), or generic (no detection). Default: container by extension, schema detected from the first record.',
      options: [...INPUT_FORMATS],
      aliases: ['format'],
    }),
    'corrections-format': Flags.string({description: 'Format of the correction logs (as --input-format).', options: [...INPUT_FORMATS]}),
    'corrections-map': Flags.string({description: 'Field of the correction logs, canonical=source (repeatable), e.g. id=trace_id.', multiple: true, multipleNonGreedy: true}),
    profile: Flags.string({description: 'A named way to read these logs from config "profiles" (format, maps, scores, domain); flags given here win.'}),
    delimiter: Flags.string({description: 'CSV delimiter (default: detected).'}),
    map: Flags.string({description: 'Column for a field, canonical=source (repeatable), e.g. query=user_question.', multiple: true, multipleNonGreedy: true}),
    'model-alias': Flags.string({description: "A model name as logged = the public name packets carry (repeatable), e.g. my-gpt4-deployment=gpt-4o. Over config's modelAlias.", multiple: true, multipleNonGreedy: true}),
    aggregate: Flags.boolean({description: 'One packet per (domain, hash, model, correction, time bucket) carrying mean outcome and confidence and the record count.', default: false}),
    'time-resolution': Flags.string({description: 'Floor timestamps to this resolution so packets cannot be matched to single requests (e.g. 15m, 1h, 1d; 0 for none).', default: '1h'}),
    'min-count': Flags.integer({description: 'With --aggregate: emit a group only when at least this many records support it (k-anonymity).', default: 1, min: 1}),
    epsilon: Flags.string({description: 'Local differential privacy on the outcome signal: randomised response with this epsilon per record (smaller = noisier). Default: off.'}),
    'default-confidence': Flags.string({description: 'Confidence (0..1) for records that carry none; without it they are skipped.'}),
    'ttl-hours': Flags.integer({description: 'How long peers keep the packets, in hours from now.', default: 168, min: 1}),
    'max-groups': Flags.integer({description: 'With --aggregate: groups held in memory before the oldest time buckets are closed early.', min: 1}),
    strict: Flags.boolean({description: 'Stop at the first rejected record (exit 1, nothing written).', default: false}),
    backend: Flags.string({description: 'Embedding backend (default: from config, use-lite).', options: [...EMBEDDER_BACKENDS]}),
    'model-dir': Flags.directory({description: 'Local model folder for the transformers backend. Default: $QIS_MODEL_DIR.'}),
    'allow-download': Flags.boolean({description: 'transformers backend: fetch missing model files from the hub into --model-dir.', default: false}),
    codebook: Flags.file({description: "A group's own routing codebook instead of the shipped one (default: from config). Every node of the group must use the same file."}),
  }

  async run(): Promise<DistillSummary> {
    const {flags} = this
    // BaseCommand keeps only declared args; with strict off, the parser's argv holds the FILE arguments.
    const {argv} = await this.parse(Distill)
    const files = argv.map(String)
    if (files.length === 0) throw new QisError('no log files given: qis distill FILE... (use - for stdin; see qis distill --help)', {code: 'BAD_FLAG', exitCode: 2})
    const [{distill}, {parseDuration}, {parseModelAliasFlags}] = await Promise.all([import('../distill/pipeline.js'), import('../distill/time.js'), import('../distill/model-name.js')])

    const home = await this.home()
    // The first SIGINT/SIGTERM stops the run at the next slice of work (within about a second) and
    // removes its temp files; a second one exits at once.
    const controller = new AbortController()
    const onSignal = () => {
      if (!controller.signal.aborted) return controller.abort()
      const dirs = new Set([path.dirname(path.resolve(flags.out ?? path.join(home.packetsDir, 'x'))), ...(flags.rejects ? [path.dirname(path.resolve(flags.rejects))] : [])])
      for (const dir of dirs) removeOwnTempStoresSync(dir)
      process.stderr.write('interrupted twice; stopped at once, no packet store was written\n')
      process.exit(130)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    const progress = this.interactive ? await startProgress() : undefined
    try {
      const summary = await distill({
        files,
        corrections: flags.corrections,
        domain: flags.domain,
        out: flags.out,
        rejects: flags.rejects,
        format: flags['input-format'] as InputFormat | undefined,
        correctionsFormat: flags['corrections-format'] as InputFormat | undefined,
        correctionsMap: flags['corrections-map'],
        profile: flags.profile,
        delimiter: flags.delimiter,
        map: flags.map,
        modelAlias: flags['model-alias'] ? parseModelAliasFlags(flags['model-alias']) : undefined,
        aggregate: flags.aggregate,
        timeResolutionSeconds: parseDuration(flags['time-resolution']),
        minCount: flags['min-count'],
        epsilon: numberFlag('--epsilon', flags.epsilon),
        defaultConfidence: numberFlag('--default-confidence', flags['default-confidence']),
        ttlHours: flags['ttl-hours'],
        maxGroups: flags['max-groups'],
        strict: flags.strict,
        embedder: {backend: flags.backend as EmbedderBackend | undefined, modelDir: flags['model-dir'], allowDownload: flags['allow-download'], codebook: flags.codebook},
        home,
        onProgress: progress?.update,
        signal: controller.signal,
      })
      progress?.stop(`${summary.counts.read} records in ${formatDuration(summary.seconds)}`)
      if (!this.jsonEnabled()) this.log(renderSummary(summary))
      return summary
    } catch (err) {
      progress?.fail()
      throw err
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}

function numberFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new QisError(`${flag} must be a number, got "${value}"`, {code: 'BAD_FLAG', exitCode: 2})
  return n
}

interface ProgressView {
  update(p: DistillProgress): void
  stop(message: string): void
  fail(): void
}

/** A bar with records/s and ETA when the input size is known, else a spinner with records/s. Terminal only. */
async function startProgress(): Promise<ProgressView> {
  const clack = await import('@clack/prompts')
  let bar: ReturnType<typeof clack.progress> | undefined
  let spin: ReturnType<typeof clack.spinner> | undefined
  let shown = 0
  const max = 1000
  // Until the first records arrive (model load can take seconds), say what is happening.
  spin = clack.spinner()
  spin.start('Loading the embedding model')
  return {
    update(p) {
      const rate = p.seconds > 0 ? p.read / p.seconds : 0
      const rateText = `${p.read.toLocaleString('en')} records, ${Math.round(rate).toLocaleString('en')}/s`
      if (p.bytesTotal && p.bytesRead !== undefined) {
        if (!bar) {
          spin?.clear()
          spin = undefined
          bar = clack.progress({max, style: 'heavy'})
          bar.start('Distilling')
        }
        const done = Math.min(max, Math.round((p.bytesRead / p.bytesTotal) * max))
        const eta = done > 0 ? (p.seconds * (max - done)) / done : undefined
        bar.advance(done - shown, `${rateText}${eta !== undefined ? `, ETA ${formatDuration(eta)}` : ''}`)
        shown = done
      } else {
        if (!spin) {
          spin = clack.spinner()
          spin.start('Distilling')
        }
        spin.message(`Distilling: ${rateText}`)
      }
    },
    stop(message) {
      bar?.stop(message)
      spin?.stop(message)
    },
    fail() {
      bar?.error('Stopped')
      spin?.error('Stopped')
    },
  }
}

const table = (obj: Record<string, number>) =>
  Object.entries(obj)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]): [string, string] => [k, String(v)])

export function renderSummary(s: DistillSummary): string {
  const c = s.counts
  const lines: string[] = []
  lines.push(`Distilled ${c.read} record(s) in ${formatDuration(s.seconds)} (${Math.round(s.recordsPerSecond)} records/s)`)
  const rows: [string, string][] = [
    ['read', String(c.read)],
    ['emitted', `${c.emitted}  -> ${s.packets} packet(s), ${formatBytes(s.bytes)}`],
    ['rejected', String(c.rejected)],
    ['skipped', String(c.skipped)],
    ['corrections', `${c.correctionsMatched} matched, ${c.correctionsUnmatched} unmatched${c.correctionsSkipped ? `, ${c.correctionsSkipped} without a usable signal` : ''}`],
  ]
  if (s.aggregate) {
    rows.push(['aggregate', `${s.aggregate.packets} packet(s) from ${c.emitted} record(s): ${s.aggregate.compressionRatio.toFixed(2)}x; ${s.aggregate.suppressedGroups} group(s) below min-count`])
    if (s.aggregate.earlyCloses > 0) rows.push(['', `${s.aggregate.earlyCloses} group(s) closed early (more than ${s.aggregate.maxGroups} open at once)`])
  }
  const p = s.privacy
  rows.push(['privacy', `time resolution ${p.timeResolution}, min-count ${p.minCount}, epsilon ${p.epsilon === null ? 'off' : `${p.epsilon} (${p.mechanism})`}`])
  rows.push(['scheme', s.scheme])
  lines.push(keyValueTable(rows))
  if (c.rejected > 0) lines.push('Rejected by reason:', keyValueTable(table(s.rejectedByReason), '    '))
  if (c.skipped > 0) lines.push('Skipped by reason:', keyValueTable(table(s.skippedByReason), '    '))
  const domains = table(s.domains)
  if (domains.length > 0) {
    const shown = domains.length > 12 ? [...domains.slice(0, 10), [`(${domains.length - 10} more domains)`, String(domains.slice(10).reduce((n, [, v]) => n + Number(v), 0))] as [string, string]] : domains
    lines.push('Emitted records by domain:', keyValueTable(shown, '    '))
  }
  if (s.tempFilesRemoved > 0) lines.push(`Removed ${s.tempFilesRemoved} temp file(s) left by killed runs.`)
  for (const h of s.hints) lines.push(`Hint: ${h}`)
  lines.push(`Packet store: ${s.out}`)
  if (s.rejects) lines.push(`Rejects:      ${s.rejects}`)
  lines.push(`Look inside:  qis inspect packet ${s.out}`)
  return lines.join('\n')
}
