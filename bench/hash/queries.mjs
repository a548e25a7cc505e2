#!/usr/bin/env node
// Meet-rates on hand-written paraphrases of LLM-style queries (bench/hash/data/query-paraphrases.tsv):
// a second look beside the MSR news pairs, on the kind of text qis is for, with pairs whose
// wording is either mostly kept ("high") or rewritten ("low" overlap).
//
//   npm run build && node bench/hash/queries.mjs [--codebook FILE ...] [--no-scrub] [--casual]
//
// Each --codebook adds a candidate to compare with the shipped scheme. --casual types the second
// query of every pair the way people often do: lower case, without ? ! . , ; : " ( ). Queries are scrubbed and
// embedded as `qis hash` does. "Unrelated" pairs are every two queries of different topics (a
// topic is the two consecutive lines that paraphrase one question), split into same domain and
// other domain. 80 pairs written by the developers: indicative; never used to fit anything, only to
// check choices made on MSR.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const {values: opt} = parseArgs({
  options: {codebook: {type: 'string', multiple: true, default: []}, 'no-scrub': {type: 'boolean', default: false}, casual: {type: 'boolean', default: false}},
})
const casual = (q) => q.toLowerCase().replace(/[?!.,;:"()]/g, '')

const {createEmbedder} = await import(path.join(root, 'dist/embed/index.js'))
const {schemeFor, schemeFromCodebookFile, embeddingText} = await import(path.join(root, 'dist/hash/index.js'))
const {createScrubber} = await import(path.join(root, 'dist/privacy/index.js'))

const rows = readFileSync(path.join(root, 'bench/hash/data/query-paraphrases.tsv'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() && !l.startsWith('#'))
  .map((l, i) => {
    const [domain, overlap, a, b] = l.split('\t')
    return {domain, overlap, a, b: opt.casual ? casual(b) : b, topic: Math.floor(i / 2)}
  })
const queries = [...new Set(rows.flatMap((r) => [r.a, r.b]))]
const topicOf = new Map()
const domainOf = new Map()
for (const r of rows) for (const q of [r.a, r.b]) topicOf.set(q, r.topic), domainOf.set(q, r.domain)

const scrubber = opt['no-scrub'] ? undefined : createScrubber()
const embedded = queries.map((q) => embeddingText(scrubber ? scrubber.scrub(q).text : q))
const embedder = await createEmbedder({backend: 'use-lite'})
const vecs = await embedder.embed(embedded)
await embedder.close()

const schemes = [schemeFor(embedder), ...opt.codebook.map((f) => schemeFromCodebookFile(embedder, f))]
console.log(`# ${rows.length} paraphrase pairs (${rows.filter((r) => r.overlap === 'low').length} reworded), ${queries.length} queries, ${opt['no-scrub'] ? 'raw' : 'scrubbed'}${opt.casual ? ', second of each pair typed casually' : ''}`)
for (const scheme of schemes) {
  const keys = new Map(queries.map((q, i) => [q, scheme.routingKeys(vecs[i], embedded[i])]))
  const meets = (x, y) => keys.get(x).some((k) => keys.get(y).includes(k))
  const rate = (pairs) => (pairs.length ? (pairs.filter(([x, y]) => meets(x, y)).length / pairs.length).toFixed(3) : '-')
  const para = (overlap) => rows.filter((r) => !overlap || r.overlap === overlap).map((r) => [r.a, r.b])
  const unrelated = {same: [], other: []}
  for (let i = 0; i < queries.length; i++) {
    for (let j = i + 1; j < queries.length; j++) {
      if (topicOf.get(queries[i]) === topicOf.get(queries[j])) continue
      unrelated[domainOf.get(queries[i]) === domainOf.get(queries[j]) ? 'same' : 'other'].push([queries[i], queries[j]])
    }
  }
  const mean = [...keys.values()].reduce((s, k) => s + k.length, 0) / keys.size
  console.log(
    `${scheme.id.padEnd(36)} paraphrase ${rate(para())} (kept wording ${rate(para('high'))}, reworded ${rate(para('low'))})  ` +
      `unrelated: same domain ${rate(unrelated.same)} (${unrelated.same.length}), other domain ${rate(unrelated.other)} (${unrelated.other.length})  keys ${mean.toFixed(2)}`,
  )
}
