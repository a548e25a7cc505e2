#!/usr/bin/env node
// The bare use-lite model in its own process, for bench/hash/run.mjs: embeds the "text" of every
// line of a JSONL file in calls of BATCH texts (default 32) and prints one line per text (the
// vector's first value), i.e. `qis hash` without scrubbing, hashing or fingerprints, from the same
// cold start.
//
//   node bench/hash/bare.mjs FILE [BATCH]
import {readFileSync} from 'node:fs'

import {loadBareModel} from './bare-model.mjs'

const texts = readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l).text)
const batch = Number(process.argv[3] ?? 32)
const model = await loadBareModel()
for (let i = 0; i < texts.length; i += batch) {
  const rows = await model.embed(texts.slice(i, i + batch), batch)
  process.stdout.write(rows.map((v) => `${v[0]}\n`).join(''))
}
