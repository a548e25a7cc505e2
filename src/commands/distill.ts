import {Flags} from '@oclif/core'
import path from 'node:path'

import {BaseCommand} from '../cli/command.js'
import {durationFlag, embedderFlags, embedderFromFlags, labelFlag, numberFlag, quietFlag, renamed} from '../cli/flags.js'
import {interruptSignal} from '../cli/interrupt.js'
import {type Progress, startProgress} from '../cli/progress.js'
import {keyValue, lines, plural, section} from '../cli/render.js'
import {loadConfig} from '../config/config.js'
import type {DistillSummary} from '../distill/types.js'
import {INPUT_FORMATS, type InputFormat} from '../ingest/types.js'
import {removeOwnTempStoresSync} from '../packet/store.js'
import {DEFAULT_TTL_HOURS} from '../packet/types.js'
import {QisError} from '../util/errors.js'
import {formatBytes, formatDuration} from '../util/format.js'

export default class Distill extends BaseCommand<typeof Distill> {
  static summary = 'Turn inference logs into signed outcome packets (no raw text, no personal data).'
  static description = `Reads JSONL, JSON, CSV or Parquet logs (flat records, OpenAI chat "messages", or exports of OpenTelemetry GenAI, Langfuse, LangSmith, OpenAI Batch and Helicone, detected from the first record; .gz works; - is stdin), joins correction logs, scores and batch outputs by id, scrubs personal data from each query, embeds it locally, and writes one signed outcome packet per record (or per group with --aggregate) to a new packet store. Nothing raw is written anywhere: packets hold a semantic hash, routing keys, labels and numbers.

Records that cannot be read are rejected (listed by file, line and reason in the rejects file); records without an outcome signal or confidence are skipped, and so are records whose packet would be byte-identical to one already written (--aggregate counts such repeats instead). The summary accounts for every record: read = emitted + rejected + skipped. Input that yields no packet at all (empty, not a log, every record rejected or skipped) writes no store and exits 3.

Privacy knobs (see docs/distill.md): --time-resolution coarsens timestamps, --min-count suppresses aggregates of fewer records, --epsilon adds local differential-privacy noise to outcomes (randomised response).`

  static examples = [
    '<%= config.bin %> distill fixtures/logs/inference.jsonl fixtures/logs/chat.jsonl fixtures/logs/support.csv --corrections fixtures/logs/corrections.jsonl',
    '<%= config.bin %> distill logs/*.jsonl.gz --aggregate --min-count 5 --time-resolution 1d',
    '<%= config.bin %> distill export.csv --map query=user_question --map outcome=score --domain legal.contracts',
    '<%= config.bin %> distill requests.jsonl --epsilon 2 --aggregate --json',
  ]

  static strict = false
  static args = {}
  static usage = 'distill FILE... [flags]'

  static flags = {
    corrections: Flags.string({char: 'c', description: 'Correction log joined to records by id (repeatable).', multiple: true, multipleNonGreedy: true}),
    domain: labelFlag('domain_tag', {description: 'Domain for records that carry none (default: the profile\'s, then the config\'s defaultDomain, "general").'})(),
    out: Flags.string({char: 'o', description: 'Packet store to write. Default: a new <home>/packets/<time>-<id>.qisp, where publish finds it.'}),
    rejects: Flags.string({description: 'Rejects file (JSONL: file, line, reason, field). Default: beside the store, written only when something was rejected.'}),
    'input-format': renamed(
      Flags.string({
        description: 'Input format: a container (jsonl, json, csv, parquet; the log schema is then detected), a log schema (otel, langfuse, langsmith, openai-batch, helicone; container by extension), or generic (no detection). Default: container by extension, schema detected from the first record.',
        options: [...INPUT_FORMATS],
      }),
      'format',
    ),
    'corrections-format': Flags.string({description: 'Format of the correction logs (as --input-format).', options: [...INPUT_FORMATS]}),
    'corrections-map': Flags.string({description: 'Field of the correction logs, canonical=source (repeatable), e.g. id=trace_id.', multiple: true, multipleNonGreedy: true}),
    profile: Flags.string({description: 'A named way to read these logs from config "profiles" (format, maps, scores, domain); flags given here win.'}),
    delimiter: Flags.string({description: 'CSV delimiter (default: detected).'}),
    map: Flags.string({description: 'Column for a field, canonical=source (repeatable), e.g. query=user_question.', multiple: true, multipleNonGreedy: true}),
    'model-alias': Flags.string({description: "A model name as logged = the public name packets carry (repeatable), e.g. my-gpt4-deployment=gpt-4o. Over config's modelAlias.", multiple: true, multipleNonGreedy: true}),
    aggregate: Flags.boolean({description: 'One packet per (domain, hash, model, correction, time bucket) carrying mean outcome and confidence and the record count.', default: false}),
    'time-resolution': durationFlag({description: 'Floor timestamps to this resolution so packets cannot be matched to single requests.', allowZero: true})({default: 3600, defaultHelp: async () => '1h'}),
    'domain-summary': Flags.boolean({description: 'After the records, write one summary packet per (domain, model): its record count, mean outcome and mean confidence, under a shared domain key, so peers learn how this deployment does in each domain (docs/privacy.md). --no-domain-summary writes none.', default: true, allowNo: true}),
    'min-count': Flags.integer({description: 'With --aggregate: emit a group only when at least this many records support it (k-anonymity).', default: 1, min: 1}),
    epsilon: numberFlag({description: 'Local differential privacy on the outcome signal: randomised response with this epsilon per record (smaller = noisier). Default: off.'})(),
    'default-confidence': numberFlag({description: 'Confidence (0..1) for records that carry none; without it they are skipped.'})(),
    ttl: durationFlag({description: 'How long peers keep the packets, from now, in whole hours.'})({default: DEFAULT_TTL_HOURS * 3600, defaultHelp: async () => '1w'}),
    // Not an alias of --ttl: its unit differs. Kept, hidden, for scripts written before --ttl.
    'ttl-hours': Flags.integer({description: 'How long peers keep the packets, in hours (use --ttl).', min: 1, hidden: true, deprecated: {to: '--ttl'}}),
    'max-groups': Flags.integer({description: 'With --aggregate: groups held in memory before the oldest time buckets are closed early.', min: 1}),
    strict: Flags.boolean({description: 'Stop at the first rejected record (exit 2, nothing written).', default: false}),
    quiet: quietFlag,
    ...embedderFlags,
  }

  async run(): Promise<DistillSummary> {
    const {flags} = this
    const files = this.positionals
    if (files.length === 0) throw new QisError('no log files given: qis distill FILE... (use - for stdin)', {code: 'MISSING_ARGUMENT', hint: 'See qis distill --help.'})
    if (flags.ttl % 3600 !== 0) throw new QisError(`--ttl must be whole hours, got ${formatDuration(flags.ttl)}`, {code: 'BAD_FLAG', hint: 'Give whole hours, e.g. --ttl 12h or --ttl 7d.'})
    const [{distill}, {parseModelAliasFlags}] = await Promise.all([import('../distill/pipeline.js'), import('../distill/model-name.js')])
    const modelAlias = flags['model-alias'] ? parseModelAliasFlags(flags['model-alias']) : undefined
    const home = await this.readHome()
    const {config} = await loadConfig(home)
    const embedder = embedderFromFlags(flags, config.embedder)

    // The first Ctrl-C/SIGTERM stops the run at the next slice of work (within about a second) and
    // removes its temp files; a second one exits at once.
    const interrupt = interruptSignal('interrupted; no packet store was written', process, () => {
      for (const file of [flags.out ?? path.join(home.packetsDir, 'x'), ...(flags.rejects ? [flags.rejects] : [])]) removeOwnTempStoresSync(path.dirname(path.resolve(file)))
      this.io.stderr.write('interrupted twice; stopped at once, no packet store was written\n')
      process.exit(130)
    })
    const progress = await startProgress(this.io.stderr, {enabled: !this.jsonEnabled() && !flags.quiet, waiting: 'Loading the embedding model', title: 'Distilling'})
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
        modelAlias,
        aggregate: flags.aggregate,
        timeResolutionSeconds: flags['time-resolution'],
        minCount: flags['min-count'],
        epsilon: flags.epsilon,
        domainSummary: flags['domain-summary'],
        defaultConfidence: flags['default-confidence'],
        ttlHours: flags['ttl-hours'] ?? flags.ttl / 3600,
        maxGroups: flags['max-groups'],
        strict: flags.strict,
        embedder,
        home,
        onProgress: (p) => progress.update({done: p.bytesDone, total: p.bytesTotal, text: `${plural(p.read, 'record')}, ${Math.round(p.seconds > 0 ? p.read / p.seconds : 0).toLocaleString('en')}/s`}),
        signal: interrupt.signal,
      })
      finish(progress, summary)
      if (!flags.quiet) this.log(renderSummary(summary))
      if (summary.packets === 0) this.failAfterOutput(nothingProduced(summary))
      return summary
    } catch (err) {
      progress.fail()
      throw err
    } finally {
      interrupt.dispose()
    }
  }
}

function finish(progress: Progress, s: DistillSummary): void {
  progress.stop(`${plural(s.counts.read, 'record')} in ${formatDuration(s.seconds)}`)
}

/** Exit 3: the input was read, and no record of it yields a packet. The message says where they went. */
function nothingProduced(s: DistillSummary): QisError {
  const c = s.counts
  if (c.read === 0) return new QisError('no records in the input: nothing to distill, so no packet store was written', {code: 'NOTHING_PRODUCED', hint: 'Check the file is a log (JSONL, JSON, CSV or Parquet) and not empty.'})
  const top = (by: Record<string, number>) => Object.entries(by).sort((a, b) => b[1] - a[1])[0]?.[0]
  const parts = [c.rejected > 0 && `${c.rejected} rejected (mostly: ${top(s.rejectedByReason)})`, c.skipped > 0 && `${c.skipped} skipped (mostly: ${top(s.skippedByReason)})`].filter(Boolean)
  return new QisError(`none of the ${plural(c.read, 'record')} yielded a packet: ${parts.join(', ')}; no packet store was written`, {
    code: 'NOTHING_PRODUCED',
    hint: s.hints[0] ?? (c.rejected > 0 ? 'Pass --rejects FILE to list every rejected line with its reason.' : undefined),
  })
}

const byCount = (obj: Record<string, number>) =>
  Object.entries(obj)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]): [string, string] => [k, v.toLocaleString('en')])

export function renderSummary(s: DistillSummary): string {
  const c = s.counts
  const rows: [string, string][] = [
    ['read', String(c.read)],
    ['emitted', `${c.emitted}  -> ${plural(s.packets, 'packet')}, ${formatBytes(s.bytes)}`],
    ['rejected', String(c.rejected)],
    ['skipped', String(c.skipped)],
    ['corrections', `${c.correctionsMatched} matched, ${c.correctionsUnmatched} unmatched${c.correctionsSkipped ? `, ${c.correctionsSkipped} without a usable signal` : ''}`],
  ]
  if (s.duplicatePackets > 0) rows.push(['duplicates', `${plural(s.duplicatePackets, 'packet')} byte-identical to one already written, not stored twice (counted under skipped; --aggregate counts repeats instead)`])
  if (s.aggregate) {
    rows.push(['aggregate', `${plural(s.aggregate.packets, 'packet')} from ${plural(c.emitted, 'record')}: ${s.aggregate.compressionRatio.toFixed(2)}x; ${plural(s.aggregate.suppressedGroups, 'group')} below min-count`])
    if (s.aggregate.earlyCloses > 0) rows.push(['', `${plural(s.aggregate.earlyCloses, 'group')} closed early (more than ${s.aggregate.maxGroups} open at once)`])
  }
  if (s.summaries) rows.push(['summaries', `${plural(s.summaries.written, 'domain summary packet')} (one per domain and model, not counted above)`])
  const p = s.privacy
  rows.push(['privacy', `time resolution ${p.timeResolution}, min-count ${p.minCount}, epsilon ${p.epsilon === null ? 'off' : `${p.epsilon} (${p.mechanism})`}`])
  rows.push(['scheme', s.scheme ?? 'none (no record reached the model)'])
  const domains = byCount(s.domains)
  const shownDomains = domains.length > 12 ? [...domains.slice(0, 10), [`(${domains.length - 10} more domains)`, String(Object.values(s.domains).sort((a, b) => b - a).slice(10).reduce((n, v) => n + v, 0))] as [string, string]] : domains
  return lines(
    `Distilled ${plural(c.read, 'record')} in ${formatDuration(s.seconds)} (${Math.round(s.recordsPerSecond)} records/s)`,
    keyValue(rows),
    c.rejected > 0 && section('Rejected by reason:', byCount(s.rejectedByReason)),
    c.skipped > 0 && section('Skipped by reason:', byCount(s.skippedByReason)),
    section('Emitted records by domain:', shownDomains),
    s.tempFilesRemoved > 0 && `Removed ${plural(s.tempFilesRemoved, 'temp file')} left by killed runs.`,
    ...s.hints.map((h) => `Hint: ${h}`),
    s.out ? `Packet store: ${s.out}` : 'Packet store: none written (no packets)',
    s.rejects ? `Rejects:      ${s.rejects}` : undefined,
    s.out ? `Look inside:  qis inspect packet ${s.out}` : undefined,
  )
}
