import {Args, Flags} from '@oclif/core'
import {promises as fs} from 'node:fs'

import {BaseCommand} from '../cli/command.js'
import {embedderFlags, embedderFromFlags, labelFlag, renamed, textInputFlags} from '../cli/flags.js'
import {writeWithBackpressure} from '../cli/io.js'
import {loadConfig} from '../config/config.js'
import {type HashInput, type HashOutput, type InputFormat, hashStream, isLineError, readInputs} from '../hash/stream.js'
import {QisError} from '../util/errors.js'

/** What `qis hash` returns (--json prints it): the lines' codes as key fingerprints. Not the codes themselves: those are SemanticCodes. */
export interface HashCommandResult {
  scheme: string
  domain: string
  results: HashOutput[]
}

export default class Hash extends BaseCommand<typeof Hash> {
  static summary = 'Print the semantic hash and routing-key fingerprints of texts, one JSON line each.'
  static description = `Texts come from TEXT arguments, --input files, or stdin: JSONL records (text in --field) or plain lines (--input-format text). Each text is scrubbed of personal data first, exactly as distill does, then embedded locally with this node's embedder (see qis config) and hashed. Output, in input order: {"hash": 64-bit SimHash as 16 hex chars, "keys": key fingerprints (the DHT keys of the routing keys) for --domain, "scheme": hashing scheme id}.
A bad line prints {"line": N, "error": "..."} in its place and the command exits 2 at the end; exit 3 when no line could be hashed (or the input is empty).`

  static examples = [
    '<%= config.bin %> hash "How do I reset my password?"',
    'cat queries.jsonl | <%= config.bin %> hash --domain support',
    '<%= config.bin %> hash --input questions.txt --input-format text',
    '<%= config.bin %> hash --embedder transformers --model-dir ~/models/Xenova/all-MiniLM-L6-v2 "hello"',
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
    ...textInputFlags,
    domain: labelFlag('domain_tag', {description: 'Domain the key fingerprints are computed for.'})({default: 'general'}),
    scrub: Flags.boolean({description: 'Scrub personal data before hashing, as distill does (--no-scrub to hash raw text).', default: true, allowNo: true}),
    ...embedderFlags,
    'embed-batch-size': renamed(Flags.integer({description: "Texts per embedding call. Default: the embedder's own (256 for both).", min: 1, max: 1024, helpGroup: 'EMBEDDER'}), 'batch-size'),
    workers: Flags.custom<number | 'auto'>({
      description: 'Extra embedding worker threads: a number, or "auto" (only with 4+ cores, large inputs and the use-lite embedder).',
      default: 'auto',
      helpGroup: 'EMBEDDER',
      parse: async (input) => {
        const n = Number(input)
        if (input === 'auto') return 'auto'
        if (input.trim() === '' || !Number.isInteger(n) || n < 0) throw new QisError(`--workers must be a whole number >= 0 or "auto", got "${input}"`, {code: 'BAD_FLAG'})
        return n
      },
    })(),
  }

  async run(): Promise<HashCommandResult> {
    const {flags} = this
    const texts = this.positionals
    if (texts.length > 0 && flags.input) throw new QisError('give TEXT arguments or --input, not both', {code: 'BAD_FLAG', hint: 'See qis hash --help.'})
    const files = texts.length > 0 ? [] : (flags.input ?? ['-'])
    for (const file of files) if (file !== '-') await checkInputFile(file)

    // The node's embedder, so these keys are the ones its packets carry; nothing is created in the home.
    const {config} = await loadConfig(await this.readHome())
    const embedder = embedderFromFlags(flags, config.embedder)
    const {createHashPipeline} = await import('../hash/pipeline.js')
    const {pipeline, scheme} = await createHashPipeline({...embedder, workers: flags.workers, batchSize: flags['embed-batch-size']})
    let scrub: ((text: string) => string) | undefined
    if (flags.scrub) {
      const [{createScrubber}, {scrubbedForHash}] = await Promise.all([import('../privacy/index.js'), import('../hash/pipeline.js')])
      const scrubber = createScrubber()
      // As distill: a long text's head only, as far as the model reads (the same codes, for less scrubbing).
      scrub = (text) => scrubbedForHash(scrubber, text, pipeline)
    }

    const format = flags['input-format'] as InputFormat
    const {stdin, stdout} = this.io
    const inputs = async function* (): AsyncGenerator<HashInput> {
      for (let i = 0; i < texts.length; i++) yield {line: i + 1, text: texts[i]}
      for (const file of files) yield* file === '-' ? readInputs({stream: stdin}, format, flags.field) : readInputs({file}, format, flags.field)
    }

    const json = this.jsonEnabled()
    const results: HashOutput[] = []
    let lines = 0
    let bad = 0
    try {
      const chunkSize = pipeline.batchSize * 2 * (1 + pipeline.plannedWorkers)
      for await (const out of hashStream(inputs(), {pipeline, scheme, domain: flags.domain, scrub, chunkSize})) {
        lines++
        if (isLineError(out)) bad++
        if (json) results.push(out)
        else await writeWithBackpressure(stdout, JSON.stringify(out) + '\n')
      }
    } finally {
      await pipeline.close()
    }
    if (lines === 0) throw new QisError('no input: nothing to hash', {code: 'NOTHING_PRODUCED', hint: 'Give TEXT arguments, --input FILE, or lines on stdin.'})
    if (bad === lines) this.failAfterOutput(new QisError(`none of the ${lines} input line(s) could be hashed`, {code: 'NOTHING_PRODUCED', hint: inputHint(format, flags.field)}))
    else if (bad > 0) this.failAfterOutput(new QisError(`${bad} of ${lines} input line(s) could not be hashed`, {code: 'BAD_INPUT', hint: 'Their {"line", "error"} entries say why.'}))
    return {scheme: scheme.id, domain: flags.domain, results}
  }
}

function inputHint(format: InputFormat, field: string): string {
  return format === 'jsonl' ? `Each line must be a JSON object with a "${field}" string (--field names another; --input-format text reads plain lines).` : 'Each line must hold some text.'
}

/** A missing or unreadable --input is a usage error named by its flag, before any model loads. */
async function checkInputFile(file: string): Promise<void> {
  const st = await fs.stat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new QisError(`--input ${file} does not exist`, {code: 'INPUT_NOT_FOUND'})
    throw new QisError(`--input ${file} cannot be read`, {code: 'BAD_INPUT', cause: err})
  })
  if (st.isDirectory()) throw new QisError(`--input ${file} is a folder; give a file (or - for stdin)`, {code: 'BAD_INPUT'})
  await fs.access(file, fs.constants.R_OK).catch((err: unknown) => {
    throw new QisError(`--input ${file} cannot be read: permission denied`, {code: 'PERMISSION_DENIED', cause: err})
  })
}
