#!/usr/bin/env node
// `npm run demo`: distil the bundled example logs (fixtures/logs) into a packet store in a
// throwaway home, offline with the default embedder, then show the first packets.
// Needs a build (dist/); `npm run demo` builds first.
import {spawnSync} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const home = mkdtempSync(path.join(os.tmpdir(), 'qis-demo-'))
const logs = path.join(root, 'fixtures', 'logs')
const store = path.join(home, 'packets', 'demo.qisp')
const qis = (args) => {
  console.log(`\n$ qis ${args.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}`)
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'run.js'), ...args], {stdio: 'inherit'})
  if (r.status !== 0) process.exit(r.status ?? 1)
}

const rel = (f) => path.relative(process.cwd(), path.join(logs, f))
qis(['distill', rel('inference.jsonl'), rel('chat.jsonl'), rel('support.csv'), '--corrections', rel('corrections.jsonl'), '--home', home, '--out', store])
qis(['inspect', 'packet', store, '--limit', '2'])
console.log(`\nThe demo home is ${home} (a throwaway: delete it when done).`)
console.log('Try next: the same with --aggregate --min-count 2, or --epsilon 1 (see docs/distill.md).')
