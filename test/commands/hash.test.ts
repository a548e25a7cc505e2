import {spawn} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {repoRoot, runCli, runJs, tempDir} from '../helpers/cli.js'
import {writeGroupCodebook} from '../helpers/codebook.js'
import {runCommand} from '../helpers/command.js'

const tiny = ['--embedder', 'transformers', '--model-dir', path.join(repoRoot, 'fixtures/models/qis-tiny-bert')]

const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)

// An empty home, so a config in ~/.qis cannot choose the embedder.
const hash = (args: string[], options: {stdin?: string} = {}) => runCommand(['hash', ...args], {...options, env: {QIS_HOME: path.join(tempDir(), 'home'), QIS_MODEL_DIR: undefined}})

describe('qis hash (in-process)', () => {
  it('hashes TEXT arguments with the default use-lite scheme: hash, 1..8 key fingerprints, scheme', async () => {
    const r = await hash(['How do I reset my password?', 'What is the capital of France?'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const out = lines(r.stdout)
    expect(out).toHaveLength(2)
    for (const o of out) {
      expect(Object.keys(o).sort()).toEqual(['hash', 'keys', 'scheme'])
      expect(o.hash).toMatch(/^[0-9a-f]{16}$/)
      expect(o.scheme).toMatch(/^use-lite\.[a-z0-9-]+\.v[0-9]+$/)
      const keys = o.keys as string[]
      expect(keys.length).toBeGreaterThanOrEqual(1)
      expect(keys.length).toBeLessThanOrEqual(8)
      for (const k of keys) expect(k).toMatch(/^[0-9a-f]{32}$/)
    }
    expect(out[0].hash).not.toBe(out[1].hash)
  })

  it('reports bad JSONL lines in place, keeps going, and exits 2', async () => {
    const stdin = ['{"text": "hello there"}', 'not json', '{"txt": "wrong field"}', '{"text": 42}', '', '{"text": "the cat"}'].join('\n')
    const r = await hash(tiny, {stdin})
    expect(r.code).toBe(2)
    const out = lines(r.stdout)
    expect(out).toHaveLength(6)
    expect(out[0]).toHaveProperty('hash')
    expect(out[1]).toEqual({line: 2, error: expect.stringMatching(/^stdin:2: not valid JSON/)})
    expect(out[2]).toEqual({line: 3, error: 'stdin:3: field "text" is missing'})
    expect(out[3]).toEqual({line: 4, error: 'stdin:4: field "text" must be a string, got number'})
    expect(out[4]).toEqual({line: 5, error: 'stdin:5: empty line'})
    expect(out[5]).toHaveProperty('hash')
    expect(r.stderr).toBe('Error: 4 of 6 input line(s) could not be hashed\nHint: Their {"line", "error"} entries say why.\n')
  })

  it('--json with bad lines prints one document, results and error together, and exits 2', async () => {
    const r = await hash([...tiny, '--json'], {stdin: '{"text": "hello"}\nnoquery\n'})
    expect(r.code).toBe(2)
    const doc = JSON.parse(r.stdout) as {results: Record<string, unknown>[]; error: {code: string; message: string}}
    expect(doc.results).toHaveLength(2)
    expect(doc.results[1]).toMatchObject({line: 2, error: expect.stringMatching(/not valid JSON/)})
    expect(doc.error).toMatchObject({code: 'BAD_INPUT', message: '1 of 2 input line(s) could not be hashed'})
    expect(r.stderr).toBe('')
  })

  it('exits 3 when no line can be hashed, or there is no input at all', async () => {
    const none = await hash([...tiny, '--json'], {stdin: 'noquery\n{"x": 1}\n'})
    expect(none.code).toBe(3)
    expect(JSON.parse(none.stdout).error.code).toBe('NOTHING_PRODUCED')
    const empty = await hash(tiny, {stdin: ''})
    expect(empty.code).toBe(3)
    expect(empty.stdout).toBe('')
    expect(empty.stderr).toMatch(/^Error: no input: nothing to hash\n/)
  })

  it('reads plain-text files with --input-format text and a custom --field for JSONL; names a bad --input', async () => {
    const dir = tempDir()
    const txt = path.join(dir, 'q.txt')
    const jsonl = path.join(dir, 'q.jsonl')
    writeFileSync(txt, 'reset my password\nrefund my order\n')
    writeFileSync(jsonl, '{"prompt": "reset my password"}\n{"prompt": "refund my order"}\n')
    const a = await hash([...tiny, '--input', txt, '--input-format', 'text'])
    const b = await hash([...tiny, '--input', jsonl, '--field', 'prompt'])
    expect(a.code).toBe(0)
    expect(lines(a.stdout)).toHaveLength(2)
    expect(b.stdout).toBe(a.stdout)
    const missing = await hash([...tiny, '--input', path.join(dir, 'nope.jsonl')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toBe(`Error: --input ${path.join(dir, 'nope.jsonl')} does not exist\n`)
    const folder = await hash([...tiny, '--input', dir, '--json'])
    expect(folder.code).toBe(2)
    expect(JSON.parse(folder.stdout)).toEqual({error: {code: 'BAD_INPUT', message: `--input ${dir} is a folder; give a file (or - for stdin)`}})
  })

  it('scrubs personal data before hashing unless --no-scrub', async () => {
    const texts = ['Please call John Smith at 555-123-4567 about my refund', 'Please call Mary Jones at 555-987-6543 about my refund']
    const scrubbed = lines((await hash([...tiny, ...texts])).stdout)
    const raw = lines((await hash([...tiny, '--no-scrub', ...texts])).stdout)
    expect(scrubbed[0]).toEqual(scrubbed[1])
    expect(raw[0].hash).not.toBe(raw[1].hash)
  })

  it('--domain changes the key fingerprints but not the hash; a bad domain is refused with the normalised form', async () => {
    const a = lines((await hash([...tiny, 'refund my order'])).stdout)[0]
    const b = lines((await hash([...tiny, '--domain', 'support', 'refund my order'])).stdout)[0]
    expect(b.hash).toBe(a.hash)
    expect(b.keys).not.toEqual(a.keys)
    const bad = await hash([...tiny, '--domain', 'Bad Domain', 'x', '--json'])
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.stdout).error).toEqual({
      code: 'BAD_LABEL',
      message: '--domain: domain "Bad Domain" may contain only lowercase a-z, 0-9 and . _ - : (found "B")',
      hint: 'Use --domain bad_domain. Labels are lowercase a-z, 0-9 and . _ - : (at most 64 characters).',
    })
  })

  it('--backend and --batch-size still work, with a warning naming their new names', async () => {
    const r = await hash(['--backend=transformers', '--model-dir', tiny[3], '--batch-size', '4', 'refund my order'])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('Warning: --backend is deprecated; use --embedder\nWarning: --batch-size is deprecated; use --embed-batch-size\n')
    expect(lines(r.stdout)[0].scheme).toMatch(/^tx:qis-tiny-bert/)
  })

  it('--json prints one document with every result', async () => {
    const r = await hash([...tiny, '--json', 'refund my order', 'the cat'])
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout) as {scheme: string; domain: string; results: unknown[]}
    expect(doc.scheme).toMatch(/^tx:qis-tiny-bert\.[0-9a-f]{8}\.cp2x4\.v3$/)
    expect(doc.domain).toBe('general')
    expect(doc.results).toHaveLength(2)
  })

  it("uses the home's configured embedder and codebook, and --codebook a group's own (words included)", async () => {
    // A candidate for the 16-d fixture model: 64 random anchors, each with a few words.
    const home = tempDir()
    const file = path.join(home, 'group.qcb')
    writeGroupCodebook(file, {dimension: 16, anchors: 64, seed: 41, words: ['refund', 'order', 'lease', 'tenant', 'password', 'reset', 'dose', 'child']})
    const queries = ['refund my order', 'reset my password', 'the tenant broke the lease']
    const plain = await hash([...tiny, ...queries])
    const own = await hash([...tiny, '--codebook', file, '--workers', '0', ...queries])
    expect(own.stderr).toBe('')
    const out = lines(own.stdout)
    expect(out[0].scheme).toMatch(/\.group-[0-9a-f]{8}\.v3$/)
    expect(out[0].scheme).not.toBe(lines(plain.stdout)[0].scheme)
    expect(out.map((o) => o.hash)).toEqual(lines(plain.stdout).map((o) => o.hash))
    expect(out.map((o) => o.keys)).not.toEqual(lines(plain.stdout).map((o) => o.keys))
    // The same embedder and codebook named in config.json, and no flag: the same output.
    writeFileSync(path.join(home, 'config.json'), JSON.stringify({embedder: {backend: 'transformers', modelDir: tiny[3], codebook: 'group.qcb'}}))
    const configured = await runCommand(['hash', '--workers', '0', ...queries], {env: {QIS_HOME: home, QIS_MODEL_DIR: undefined}})
    expect(configured.stdout).toBe(own.stdout)
    // Worker threads load the same file: test/hash/pipeline.test.ts.
  })

  it('--codebook refuses a file that is not a codebook, or one for another model, naming the file', async () => {
    const junk = path.join(tempDir(), 'junk.qcb')
    writeFileSync(junk, 'not a codebook')
    const bad = await hash([...tiny, '--codebook', junk, 'x'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain(`${junk} is not a qis codebook`)
    const shipped = path.join(repoRoot, 'assets/codebook/use-lite.mmlu-anchors.qcb')
    const other = await hash([...tiny, '--codebook', shipped, 'x'])
    expect(other.code).toBe(2)
    expect(other.stderr).toMatch(/use-lite\.mmlu-anchors\.qcb is 512-d but transformers:qis-tiny-bert\S* embeds 16-d/)
  })
})

describe('qis hash (separate processes)', () => {
  it('gives identical output for identical input in two separate processes', async () => {
    const input = ['Can I take ibuprofen with a cold?', 'How do I cancel my subscription?', 'Explain the French revolution.']
      .map((text) => JSON.stringify({text}))
      .join('\n')
    const env = {QIS_HOME: path.join(tempDir(), 'home')}
    const [a, b] = await Promise.all([runCli(['hash'], {input, env}), runCli(['hash'], {input, env})])
    expect(a.code).toBe(0)
    expect(lines(a.stdout)).toHaveLength(3)
    expect(b.stdout).toBe(a.stdout)
  })

  it('prints the hashes of lines piped in slowly without waiting for more input (a live log)', async () => {
    const child = spawn(process.execPath, [runJs, 'hash', ...tiny, '--input-format', 'text'], {cwd: repoRoot, env: {...process.env, NO_COLOR: '1'}})
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
    try {
      child.stdin.write('the first line of a live log\nthe second line\n')
      // Stdin stays open: the two lines must come out on their own, not at end of input.
      const deadline = Date.now() + 60_000
      while (stdout.split('\n').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      expect(lines(stdout)).toHaveLength(2)
      child.stdin.end('a third line\n')
      expect(await closed).toBe(0)
      expect(lines(stdout)).toHaveLength(3)
    } finally {
      child.kill('SIGKILL')
    }
  }, 120_000)
})
