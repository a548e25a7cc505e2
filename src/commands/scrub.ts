import {Flags} from '@oclif/core'

import {BaseCommand} from '../base.js'
import {QisError} from '../util/errors.js'

export interface ScrubSummary {
  lines: number
  errors: number
}

export default class Scrub extends BaseCommand<typeof Scrub> {
  static summary = 'Replace personal data in text with typed placeholders (<PERSON>, <EMAIL>, ...).'
  static description = `Reads JSONL (the text in --field) or plain text lines, from files or standard input, and writes one JSON line per input line, in order:
  {"text": "<scrubbed>", "spans": [{"start": 10, "end": 22, "type": "PERSON"}]}
Span offsets index the original string (JavaScript string indexes). A line that cannot be read yields {"line": N, "error": "..."} in its place (plus "file" when several files are given), a message on standard error, and exit code 2 at the end. Detection is local and rule-based (see docs/pii.md): nothing leaves the machine. Secrets (API keys, tokens, passwords) become <SECRET>; the recognisers, deny-lists and allow-lists under \"privacy\" in the home's config.json apply too.`
  static examples = [
    '<%= config.bin %> scrub queries.jsonl > scrubbed.jsonl',
    '<%= config.bin %> scrub --field prompt logs.jsonl.gz',
    "echo 'Call Anna Smith on +1 415 555 0100' | <%= config.bin %> scrub --input-format text",
  ]
  static strict = false
  // The output is already JSON lines; a --json summary would break the one-line-per-input contract.
  static enableJsonFlag = false

  // FILE... is read from argv rather than declared: oclif fills a declared, missing argument from a
  // piped standard input, which here is the data to scrub.
  static usage = 'scrub [FILE...] [--field NAME] [--input-format jsonl|text]'

  static flags = {
    field: Flags.string({description: 'JSONL field holding the text', default: 'text'}),
    'input-format': Flags.string({description: 'jsonl: one JSON object per line; text: each line is the text', options: ['jsonl', 'text'], default: 'jsonl'}),
    'max-line-bytes': Flags.integer({description: 'Longest accepted input line in bytes; longer lines are reported as errors', default: 1024 * 1024, min: 1}),
  }

  async run(): Promise<ScrubSummary> {
    const [{scrubStream}, {customProblems}, {loadConfig}, {homeLayout, resolveHomeDir}] = await Promise.all([
      import('../privacy/stream.js'),
      import('../privacy/scrubber.js'),
      import('../config/config.js'),
      import('../config/home.js'),
    ])
    // The deployment's own recognisers, deny- and allow-lists apply here as in distill.
    // Read only: scrubbing text must not create a home.
    const {config, file} = await loadConfig(homeLayout(resolveHomeDir(this.flags.home)))
    const problems = customProblems(config.privacy)
    if (problems.length) throw new QisError(`privacy in ${file}: ${problems.join('; ')}`, {code: 'BAD_CONFIG', exitCode: 2})
    const {argv} = await this.parse({flags: {...Scrub.baseFlags, ...Scrub.flags}, strict: false})
    const files = (argv as string[]).filter((a) => a !== '')
    const summary = await scrubStream({
      sources: files.length ? files : ['-'],
      field: this.flags.field,
      inputFormat: this.flags['input-format'] as 'jsonl' | 'text',
      maxLineBytes: this.flags['max-line-bytes'],
      custom: config.privacy,
      out: process.stdout,
      onError: (msg) => process.stderr.write(`qis scrub: ${msg}\n`),
    })
    if (summary.errors > 0) {
      process.stderr.write(`qis scrub: ${summary.errors} of ${summary.lines} lines could not be read\n`)
      this.exit(2)
    }
    return summary
  }
}
