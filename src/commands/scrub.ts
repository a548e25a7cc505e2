import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/command.js'
import {textInputFlags} from '../cli/flags.js'
import {checkInputs} from '../cli/inputs.js'
import {plural} from '../cli/render.js'
import type {ScrubRow} from '../privacy/stream.js'
import {QisError} from '../util/errors.js'

export interface ScrubSummary {
  lines: number
  /** Lines that could not be read (each has an {"line", "error"} entry in its place). */
  errors: number
  /** With --json: one entry per input line, in order. */
  results?: ScrubRow[]
}

export default class Scrub extends BaseCommand<typeof Scrub> {
  static summary = 'Replace personal data in text with typed placeholders (<PERSON>, <EMAIL>, ...).'
  static description = `Reads JSONL (the text in --field) or plain text lines, from files or standard input, and writes one JSON line per input line, in order:
  {"text": "<scrubbed>", "spans": [{"start": 10, "end": 22, "type": "PERSON"}]}
Span offsets index the original string (JavaScript string indexes). A line that cannot be read yields {"line": N, "error": "..."} in its place (plus "file" when several files are given), a message on standard error, and exit code 2 at the end; exit 3 when no line could be read (or the input is empty). With --json the lines are gathered into one document instead ({"lines", "errors", "results"}), so it holds the whole output in memory: stream large inputs without it. Detection is local and rule-based (see docs/pii.md): nothing leaves the machine. Secrets (API keys, tokens, passwords) become <SECRET>; the recognisers, deny-lists and allow-lists under "privacy" in the home's config.json apply too.`
  static examples = [
    '<%= config.bin %> scrub queries.jsonl > scrubbed.jsonl',
    '<%= config.bin %> scrub --field prompt logs.jsonl.gz',
    '<%= config.bin %> scrub --input queries.jsonl --input more.jsonl',
    "echo 'Call Anna Smith on +1 415 555 0100' | <%= config.bin %> scrub --input-format text",
  ]
  static strict = false

  // FILE... is read from argv rather than declared: oclif fills a declared, missing argument from a
  // piped standard input, which here is the data to scrub.
  static usage = 'scrub [FILE...] [--input FILE...] [--field NAME] [--input-format jsonl|text]'

  static flags = {
    // As qis hash reads its files: --input, beside the FILE arguments.
    input: textInputFlags.input,
    field: textInputFlags.field,
    'input-format': textInputFlags['input-format'],
    'max-line-bytes': Flags.integer({description: 'Longest accepted input line in bytes; longer lines are reported as errors', default: 1024 * 1024, min: 1}),
  }

  async run(): Promise<ScrubSummary> {
    const {flags} = this
    const files = [...this.positionals, ...(flags.input ?? [])].filter((a) => a !== '')
    await checkInputs(files, 'input file')
    const [{scrubStream}, {customProblems}, {loadConfig}] = await Promise.all([import('../privacy/stream.js'), import('../privacy/scrubber.js'), import('../config/config.js')])
    // The deployment's own recognisers, deny- and allow-lists apply here as in distill. Read only:
    // scrubbing text must not create a home.
    const {config, file} = await loadConfig(await this.readHome())
    const problems = customProblems(config.privacy)
    if (problems.length) throw new QisError(`privacy in ${file}: ${problems.join('; ')}`, {code: 'BAD_CONFIG'})
    const json = this.jsonEnabled()
    const results: ScrubRow[] = []
    const summary = await scrubStream({
      sources: files.length ? files : ['-'],
      field: flags.field,
      inputFormat: flags['input-format'] as 'jsonl' | 'text',
      maxLineBytes: flags['max-line-bytes'],
      custom: config.privacy,
      ...(json ? {collect: results} : {out: this.io.stdout}),
      stdin: this.io.stdin,
      onError: (msg) => this.logToStderr(`qis scrub: ${msg}`),
    })
    if (summary.lines === 0) this.failAfterOutput(new QisError('no input: nothing to scrub', {code: 'NOTHING_PRODUCED', hint: 'Give FILE arguments, or lines on stdin.'}))
    else if (summary.errors === summary.lines) this.failAfterOutput(new QisError(`none of the ${plural(summary.lines, 'line')} could be read`, {code: 'NOTHING_PRODUCED', hint: inputHint(flags['input-format'], flags.field)}))
    else if (summary.errors > 0) this.failAfterOutput(new QisError(`${summary.errors} of ${plural(summary.lines, 'line')} could not be read`, {code: 'BAD_INPUT', hint: 'Their {"line", "error"} entries say why.'}))
    return json ? {...summary, results} : summary
  }
}

function inputHint(format: string, field: string): string {
  return format === 'jsonl' ? `Each line must be a JSON object with a "${field}" string (--field names another; --input-format text reads plain lines).` : 'Each line must hold some text.'
}
