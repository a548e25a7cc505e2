import {spawn} from 'node:child_process'
import {existsSync, readdirSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {EXIT} from '../../src/cli/codes.js'
import {ensureDir, homeLayout} from '../../src/config/home.js'
import {runJs, tempDir} from '../helpers/cli.js'
import {runCommand} from '../helpers/command.js'
import {makePacket, signerFor, writeStore} from '../swarm/fixtures.js'

// pull-weights' flags on the kit, where no swarm is needed: in-process (runCommand), except the
// Ctrl-C test, which is about a process and its signals (runCli; run `npm run build` first).
const env = {QIS_BOOTSTRAP: undefined, QIS_SWARM_KEY: undefined, QIS_DOMAIN_FOCUS: undefined, QIS_CONTENT_TYPE: undefined}
const DAY = 86_400
const cleanEnv = {QIS_BOOTSTRAP: '', QIS_SWARM_KEY: '', QIS_DOMAIN_FOCUS: '', QIS_CONTENT_TYPE: '', NO_COLOR: '1'}

async function waitFor(done: () => boolean, timeoutMs: number): Promise<void> {
  for (const until = Date.now() + timeoutMs; !done(); await new Promise((resolve) => setTimeout(resolve, 50))) {
    if (Date.now() > until) throw new Error(`not done within ${timeoutMs} ms`)
  }
}

/** A home whose one own packet is `ageDays` old (kept 30 days). */
async function homeWithPacket(ageDays: number): Promise<string> {
  const root = tempDir()
  const home = homeLayout(root)
  await ensureDir(home.packetsDir)
  await writeStore(path.join(home.packetsDir, 'own.qisp'), [makePacket(signerFor('me'), 0, {timestamp: Math.floor(Date.now() / 1000) - ageDays * DAY, ttlHours: 30 * 24})])
  return root
}

const json = (stdout: string) => JSON.parse(stdout) as {error: {code: string; message: string; hint?: string}}

describe('qis pull-weights flags', () => {
  it('--out still names the weights file, with a warning to use --weights', async () => {
    const home = tempDir()
    const r = await runCommand(['pull-weights', '--home', home, '--bootstrap', '/ip4/127.0.0.1/tcp/9', '--out', path.join(home, 'w.json'), '--json'], {env})
    expect(r.stderr).toBe('Warning: --out is deprecated; use --weights\n')
    expect(json(r.stdout).error.code).toBe('NOTHING_TO_ASK')
    const plain = await runCommand(['pull-weights', '--home', home, '--bootstrap', '/ip4/127.0.0.1/tcp/9', '--weights', path.join(home, 'w.json'), '--json'], {env})
    expect(plain.stderr).toBe('')
    expect(plain.code).toBe(EXIT.nothing)
  })

  it('no bootstrap peer is a usage error before anything is read', async () => {
    const r = await runCommand(['pull-weights', '--home', await homeWithPacket(0), '--json'], {env})
    expect(r.code).toBe(EXIT.usage)
    expect(json(r.stdout).error.code).toBe('NO_BOOTSTRAP')
  })

  it('--domain is a label typed by a person: refused with the normalised form, not silently normalised', async () => {
    const r = await runCommand(['pull-weights', '--bootstrap', '/ip4/127.0.0.1/tcp/9', '--domain', 'Clinical Oncology', '--json'], {env})
    expect(r.code).toBe(EXIT.usage)
    expect(json(r.stdout).error).toMatchObject({code: 'BAD_LABEL', hint: expect.stringContaining('Use --domain clinical_oncology.')})
  })

  it('a domain focus from the environment follows the same label rule and code (no retired BAD_DOMAIN)', async () => {
    const r = await runCommand(['pull-weights', '--home', await homeWithPacket(0), '--bootstrap', '/ip4/127.0.0.1/tcp/9', '--json'], {env: {...env, QIS_DOMAIN_FOCUS: 'legal,Clinical Oncology'}})
    expect(r.code).toBe(EXIT.usage)
    expect(json(r.stdout).error).toEqual({
      code: 'BAD_LABEL',
      message: 'domain focus (config domainFocus, $QIS_DOMAIN_FOCUS): domain "Clinical Oncology" may contain only lowercase a-z, 0-9 and . _ - : (found "C")',
      hint: 'Use clinical_oncology. Labels are lowercase a-z, 0-9 and . _ - : (at most 64 characters).',
    })
  })

  it('--queries takes the embedder flags adjust takes, and they need --queries', async () => {
    const home = await homeWithPacket(0)
    const queries = path.join(tempDir(), 'queries.txt')
    writeFileSync(queries, 'What is the first-line treatment for stage II colon cancer?\n')
    const noModel = path.join(tempDir(), 'no-model')
    const base = ['pull-weights', '--home', home, '--bootstrap', '/ip4/127.0.0.1/tcp/9', '--json']
    // The queries are hashed with the embedder the flags name: here a model folder that does not exist, refused before the swarm is asked.
    const r = await runCommand([...base, '--queries', queries, '--domain', 'clinical.oncology', '--embedder', 'transformers', '--model-dir', noModel], {env})
    expect(r.code, r.stdout).toBe(EXIT.usage)
    expect(json(r.stdout).error.code).toBe('MODEL_NOT_FOUND')
    const contradict = await runCommand([...base, '--queries', queries, '--domain', 'clinical.oncology', '--embedder', 'use-lite', '--model-dir', noModel], {env})
    expect(json(contradict.stdout).error).toMatchObject({code: 'BAD_FLAG', message: '--model-dir applies only to --embedder transformers'})
    const alone = await runCommand([...base, '--model-dir', noModel], {env})
    expect(alone.code).toBe(EXIT.usage)
    expect(json(alone.stdout).error).toMatchObject({code: 'BAD_FLAG', message: '--model-dir needs --queries'})
  }, 60_000)

  it('--since takes the one duration grammar (7d, 1w 2d) or an ISO date', async () => {
    const home = await homeWithPacket(10)
    const ask = (since: string) => runCommand(['pull-weights', '--home', home, '--bootstrap', '/ip4/127.0.0.1/tcp/9', '--since', since, '--json'], {env})
    // The own packet is 10 days old: a week back leaves nothing to ask...
    for (const since of ['7d', '1w 2d', new Date(Date.now() - 9 * DAY * 1000).toISOString().slice(0, 10)]) {
      const r = await ask(since)
      expect(json(r.stdout).error, since).toMatchObject({code: 'NOTHING_TO_ASK', message: expect.stringContaining('none of the 1 packets')})
    }
    // ...two weeks back keeps it, so pull-weights goes on to the swarm (nobody listens on port 9).
    const r = await ask('2w')
    expect(json(r.stdout).error.code).toBe('SWARM_UNREACHABLE')
    expect(r.code).toBe(EXIT.failure)
    // The old parser's grammar refused what every other duration flag accepts; this one names the flag.
    const bad = await ask('yesterday')
    expect(bad.code).toBe(EXIT.usage)
    expect(json(bad.stdout).error).toMatchObject({code: 'BAD_FLAG', message: '--since "yesterday" is neither a duration nor a date'})
  }, 60_000)

  describe('Ctrl-C (a real process)', () => {
    // A bootstrap "peer" that accepts TCP connections and never says a word: the join hangs until interrupted.
    let silent: net.Server
    let port: number
    const sockets: net.Socket[] = []
    beforeAll(async () => {
      silent = net.createServer((s) => sockets.push(s))
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
      port = (silent.address() as net.AddressInfo).port
    })
    afterAll(async () => {
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => silent.close(resolve))
    })

    it('SIGINT during the swarm join: exit 130, INTERRUPTED, no weights file', async () => {
      const home = await homeWithPacket(0)
      const bootstrap = `/ip4/127.0.0.1/tcp/${port}/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN`
      const started = Date.now()
      const child = spawn(process.execPath, [runJs, 'pull-weights', '--home', home, '--bootstrap', bootstrap, '--json'], {env: {...process.env, ...cleanEnv}, stdio: ['ignore', 'pipe', 'pipe']})
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      // Once the node is dialling (identity made, keys read), not while the CLI is still loading.
      await waitFor(() => existsSync(path.join(home, 'identity.key')), 15_000)
      await new Promise((resolve) => setTimeout(resolve, 500))
      child.kill('SIGINT')
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
      const r = {code, stdout, stderr}
      expect(r.code, r.stderr).toBe(EXIT.interrupted)
      expect(json(r.stdout).error).toMatchObject({code: 'INTERRUPTED', message: expect.stringMatching(/^interrupted; .*weights\.json was not changed$/)})
      // Well before the 20 s join timeout.
      expect(Date.now() - started).toBeLessThan(15_000)
      expect(existsSync(path.join(home, 'weights.json'))).toBe(false)
      expect(readdirSync(home).filter((f) => f.includes('weights'))).toEqual([])
    }, 30_000)
  })
})
