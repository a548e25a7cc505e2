#!/usr/bin/env node
// The bare use-lite model in its own process, for bench/hash/run.mjs: embeds the "text" of every
// line of a JSONL file in batches of 32 and prints one line per text (the vector's first value),
// i.e. `qis hash` without scrubbing, hashing or fingerprints, from the same cold start.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const {createEmbedder} = await import(path.join(root, 'dist/embed/index.js'))
const texts = readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l).text)
const embedder = await createEmbedder({backend: 'use-lite'})
for (let i = 0; i < texts.length; i += 32) {
  const vecs = await embedder.embed(texts.slice(i, i + 32))
  process.stdout.write(vecs.map((v) => `${v[0]}\n`).join(''))
}
await embedder.close()
