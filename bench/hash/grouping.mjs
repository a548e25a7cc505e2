#!/usr/bin/env node
// Why the use-lite embedder groups texts by token count (docs/hashing.md, "Determinism"):
//
//   npm run build && node bench/hash/grouping.mjs [--texts N] [--rounds R]
//
// 1. Bit-identity: each text's vector in a mixed batch of 32, and in a group of texts of its own
//    token count, against the same text embedded alone.
// 2. Speed of the bare model (straight from @energetic-ai, as bench/hash/bare-model.mjs) on N MSR
//    sentences and N MMLU questions, each given the model input qis gives it (embeddingText):
//    plain batches of 32, one text a call, and grouped by token count within calls of 32 and 256
//    texts. Rounds alternate the variants; the ratio to plain batches of 32 is taken per round.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {fileURLToPath} from 'node:url'

import {loadBareModel} from './bare-model.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const {values: opt} = parseArgs({
  options: {
    data: {type: 'string', default: path.resolve(root, '../shared/data')},
    texts: {type: 'string', default: '600'},
    rounds: {type: 'string', default: '3'},
  },
})
const {embeddingText} = await import(path.join(root, 'dist/hash/input.js'))
const N = Number(opt.texts)
const msr = [...new Set(readFileSync(path.join(opt.data, 'paraphrase/msr-para-train.tsv'), 'utf8').split('\n').slice(1).filter(Boolean).flatMap((l) => l.split('\t').slice(3, 5)))]
const mmlu = readFileSync(path.join(opt.data, 'queries/mmlu-questions.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).text)
// Every k-th question, so all 57 subjects (the file is sorted by subject) are in the sample.
const corpora = {msr: msr.slice(0, N).map(embeddingText), mmlu: mmlu.filter((_, i) => i % Math.floor(mmlu.length / N) === 0).slice(0, N).map(embeddingText)}

const bare = await loadBareModel()
const {tokenizer} = bare.model
await bare.embed(corpora.msr.slice(0, 8), 8)
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i])
const byTokens = (texts) => {
  const groups = new Map()
  for (const t of texts) {
    const n = tokenizer.encode(t).length
    if (!groups.has(n)) groups.set(n, [])
    groups.get(n).push(t)
  }
  return [...groups.values()]
}

console.log('## bit-identity against the text embedded alone')
for (const [name, texts] of Object.entries(corpora)) {
  const sample = texts.slice(0, 256)
  const alone = new Map()
  for (const t of sample) alone.set(t, (await bare.embed([t], 1))[0])
  let mixedDiffer = 0
  for (let i = 0; i < sample.length; i += 32) {
    const chunk = sample.slice(i, i + 32)
    const rows = await bare.embed(chunk, 32)
    chunk.forEach((t, j) => (mixedDiffer += same(rows[j], alone.get(t)) ? 0 : 1))
  }
  let grouped = 0
  let groupedDiffer = 0
  for (const group of byTokens(sample)) {
    if (group.length < 2) continue
    const rows = await bare.embed(group, group.length)
    group.forEach((t, j) => {
      grouped++
      groupedDiffer += same(rows[j], alone.get(t)) ? 0 : 1
    })
  }
  console.log(`${name}: mixed batches of 32: ${mixedDiffer} of ${sample.length} differ; groups of equal token count (2+ texts): ${groupedDiffer} of ${grouped} differ`)
}

console.log(`\n## speed, sentences/s (${N} texts each, ${opt.rounds} rounds)`)
const grouped = async (texts, call) => {
  for (let i = 0; i < texts.length; i += call) for (const g of byTokens(texts.slice(i, i + call))) await bare.embed(g, g.length)
}
const variants = {
  'plain, 32 a call': (t) => bare.embed(t, 32),
  'plain, 1 a call': (t) => bare.embed(t, 1),
  'grouped within 32': (t) => grouped(t, 32),
  'grouped within 256': (t) => grouped(t, 256),
}
for (const [name, texts] of Object.entries(corpora)) {
  const rates = Object.fromEntries(Object.keys(variants).map((k) => [k, []]))
  for (let r = 0; r < Number(opt.rounds); r++) {
    for (const [k, f] of Object.entries(variants)) {
      const t0 = performance.now()
      await f(texts)
      rates[k].push(texts.length / ((performance.now() - t0) / 1000))
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]
  for (const [k, v] of Object.entries(rates)) {
    const ratios = v.map((x, i) => x / rates['plain, 32 a call'][i])
    console.log(`${name}  ${k.padEnd(20)} ${v.map((x) => x.toFixed(1)).join(' ')}  median ${median(ratios).toFixed(2)}x plain 32`)
  }
}
