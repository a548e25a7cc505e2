import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base.js'
import {EMBEDDER_BACKENDS, type EmbedderBackend} from '../embed/types.js'
import {checkLabel} from '../packet/text.js'
import {type HashInput, type HashOutput, type InputFormat, hashStream, isLineError, readInputs} from '../hash/stream.js'
import {QisError} from '../util/errors.js'

export interface HashResult {
  scheme: string
  domain: string
  results: HashOutput[]
}

export default class Hash extends BaseCommand<typeof Hash> {
  static summary = 'Print the semantic hash and routing-key fingerprints of texts, one JSON line each.'
  static description = `Texts come from TEXT arguments, --input files, or stdin: JSONL records (text in --field) or plain lines (--input-format text). Each text is scrubbed of personal data first, exactly as distill does, then embedded locally and hashed. Output, in input order: {"hash": 64-bit SimHash as 16 hex chars, "keys": DHT fingerprints of the routing keys for --domain, "scheme": hashing scheme id}. A bad line prints {"line": N, "error": "..."} in its place and the command exits 2 at the end.`

  static examples = [
    '<%= config.bin %> hash "How do I reset my password?"',
    'cat queries.jsonl | <%= config.bin %> hash --domain support',
    '<%= config.bin %> hash --input questions.txt --input-format text',
    '<%= config.bin %> hash --backend transformers --model-dir ~/models/Xenova/all-MiniLM-L6-v2 "hello"',
  ]

  static args = {
    text: Args.string({
      description: 'Texts to hash (each argument is one text). Without any, reads --input or stdin.',
      // oclif would otherwise slurp piped stdin into this argument as one text; stdin is read line by line.
      ignoreStdin: true,
    }),
  }

  static strict = false

  static flags = {
    input: Flags.string({char: 'i', description: 'Input file, repeatable; "-" is stdin.', multiple: true}),
    'input-format': Flags.string({description: 'How input lines are read.', options: ['jsonl', 'text'], default: 'jsonl'}),
    field: Flags.string({description: 'JSONL field holding the text.', default: 'text'}),
    domain: Flags.string({description: 'Domain the key fingerprints are computed for.', default: 'general'}),
    scrub: Flags.boolean({description: 'Scrub personal data before hashing, as distill does (--no-scrub to hash raw text).', default: true, allowNo: true}),
    backend: Flags.string({description: 'Embedding backend.', options: [...EMBEDDER_BACKENDS], default: 'use-lite'}),
    'model-dir': Flags.directory({description: 'Local model folder for the transformers backend. Default: $QIS_MODEL_DIR.'}),
    'allow-download': Flags.boolean({description: 'transformers backend: fetch missing model files from the hub into --model-dir.', default: false}),
    codebook: Flags.file({description: "A group's own routing codebook instead of the shipped one (scripts/fit-codebook.mjs)."}),
    'batch-size': Flags.integer({description: "Texts per embedding call. Default: the backend's own (256 for both).", min: 1, max: 1024}),
    workers: Flags.string({description: 'Extra embedding worker threads: a number, or "auto" (only with 4+ cores, large inputs and the use-lite backend).', default: 'auto'}),
  }

  async run(): Promise<HashResult> {
    const {flags} = this
    // Parsed again for argv: with strict off, oclif collects every TEXT there, and only there.
    const texts = (await this.parse(Hash)).argv as string[]
    const domainProblem = checkLabel('domain_tag', flags.domain)
    if (domainProblem) throw new QisError(`--domain: ${domainProblem}`, {code: 'BAD_FLAG', exitCode: 2})
    const workers = flags.workers === 'auto' ? 'auto' : Number(flags.workers)
    if (workers !== 'auto' && (!Number.isInteger(workers) || workers < 0)) {
      throw new QisError(`--workers must be a whole number >= 0 or "auto", got "${flags.workers}"`, {code: 'BAD_FLAG', exitCode: 2})
    }
    if (texts.length > 0 && flags.input) throw new QisError('Give TEXT arguments or --input, not both.', {code: 'BAD_FLAG', exitCode: 2})

    const {createHashPipeline} = await import('../embed/pipeline.js')
    const {pipeline, scheme} = await createHashPipeline({
      backend: flags.backend as EmbedderBackend,
      modelDir: flags['model-dir'],
      allowDownload: flags['allow-download'],
      codebook: flags.codebook,
      workers,
      batchSize: flags['batch-size'],
    })
    let scrub: ((text: string) => string) | undefined
    if (flags.scrub) {
      const {createScrubber} = await import('../privacy/index.js')
      const scrubber = createScrubber()
      scrub = (text) => scrubber.scrub(text).text
    }

    const format = flags['input-format'] as InputFormat
    const inputs = async function* (): AsyncGenerator<HashInput> {
      if (texts.length > 0) {
        for (let i = 0; i < texts.length; i++) yield {line: i + 1, text: texts[i]}
        return
      }
      for (const file of flags.input ?? ['-']) {
        yield* file === '-' ? readInputs({stream: process.stdin}, format, flags.field) : readInputs({file}, format, flags.field)
      }
    }

    const results: HashOutput[] = []
    let bad = 0
    try {
      for await (const out of hashStream(inputs(), {pipeline, scheme, domain: flags.domain, scrub, chunkSize: pipeline.batchSize * 2 * (1 + pipeline.plannedWorkers)})) {
        if (isLineError(out)) bad++
        if (this.jsonEnabled()) results.push(out)
        else await writeLine(JSON.stringify(out))
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new QisError(`Cannot read input file: ${(err as Error).message}`, {code: 'INPUT_NOT_FOUND', exitCode: 2})
      }
      throw err
    } finally {
      await pipeline.close()
    }
    const result: HashResult = {scheme: scheme.id, domain: flags.domain, results}
    if (bad > 0) {
      if (this.jsonEnabled()) this.logJson(result)
      else process.stderr.write(`${bad} input line(s) could not be hashed\n`)
      this.exit(2)
    }
    return result
  }
}

/** Write one line to stdout, waiting when the pipe is full so output never piles up in memory. */
function writeLine(line: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(line + '\n')) resolve()
    else process.stdout.once('drain', () => resolve())
  })
}
