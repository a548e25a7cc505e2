#!/usr/bin/env node
// Does a scheme on the int8 graph's vectors meet as well as v6 on the float32 graph's? (issue 20:
// "define a new scheme id, refit the codebook as the documented fit script does, and show its
// meet-rates are at least v6's"). Both schemes in one run, on the same pairs. After `npm run build`:
//
//   node bench/hash/int8-scheme.mjs [--codebook FILE] [--pairs N]
//
// --codebook: the int8 scheme's codebook (default: assets/codebook/use-lite-int8.mmlu-anchors.qcb, not shipped), fitted
// by `node scripts/fit-codebook.mjs --precision int8` on MMLU questions only.
// Meet-rate = the two texts share a routing key. MSR paraphrase train+val (research licence,
// evaluation only, never fitted on) scrubbed as `qis hash` embeds them (the figure that counts) and
// raw, the same 20,000 random cross-pair couples as bench/hash/run.mjs; the 80 hand-written query
// pairs of bench/hash/queries.mjs (scrubbed). Also the fine hash's Hamming distances.
import {existsSync, readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {fileURLToPath} from 'node:url'
import {meetPairs, msrPairs} from './texts.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const {values: opt} = parseArgs({
  options: {codebook: {type: 'string'}, pairs: {type: 'string'}, 'random-pairs': {type: 'string', default: '20000'}, sweep: {type: 'string', default: '0.065,0.075,0.085,0.095,0.105'}},
})

const {createUseLiteEmbedder} = await import(path.join(root, 'dist/embed/use-lite.js'))
const {schemeFor, schemeFromCodebookFile, hammingDistance, embeddingText} = await import(path.join(root, 'dist/hash/index.js'))
const {SeededRandom} = await import(path.join(root, 'dist/hash/prng.js'))
const {CODEBOOK_DIR} = await import(path.join(root, 'dist/hash/index.js'))
const {loadCodebook, nearest, reduce, selectKeys} = await import(path.join(root, 'dist/hash/codebook.js'))
const {createScrubber} = await import(path.join(root, 'dist/privacy/index.js'))

const pairs = msrPairs()
const used = opt.pairs ? pairs.slice(0, Number(opt.pairs)) : pairs
// The same random couples as bench/hash/run.mjs.
const {para, non, random: randomPairs} = meetPairs(used, Number(opt['random-pairs']), SeededRandom)
const sentences = [...new Set(used.flatMap((p) => [p.a, p.b]))]

const rows = readFileSync(path.join(root, 'bench/hash/data/query-paraphrases.tsv'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() && !l.startsWith('#'))
  .map((l, i) => {
    const [domain, overlap, a, b] = l.split('\t')
    return {domain, overlap, a, b, topic: Math.floor(i / 2)}
  })
const queries = [...new Set(rows.flatMap((r) => [r.a, r.b]))]
const topicOf = new Map()
const domainOf = new Map()
for (const r of rows) for (const q of [r.a, r.b]) topicOf.set(q, r.topic), domainOf.set(q, r.domain)
const unrelated = {same: [], other: []}
for (let i = 0; i < queries.length; i++) {
  for (let j = i + 1; j < queries.length; j++) {
    if (topicOf.get(queries[i]) === topicOf.get(queries[j])) continue
    unrelated[domainOf.get(queries[i]) === domainOf.get(queries[j]) ? 'same' : 'other'].push([queries[i], queries[j]])
  }
}

const fp32 = await createUseLiteEmbedder({runtime: 'onnx'})
const int8 = await createUseLiteEmbedder({precision: 'int8'})
const int8File = opt.codebook ?? path.join(CODEBOOK_DIR, 'use-lite-int8.mmlu-anchors.qcb')
if (!existsSync(int8File)) throw new Error(`${int8File} does not exist: fit one with scripts/fit-codebook.mjs --precision int8 and pass it as --codebook`)
const variants = [
  {embedder: fp32, scheme: schemeFor(fp32), file: path.join(CODEBOOK_DIR, 'use-lite.mmlu-anchors.qcb')},
  {embedder: int8, scheme: opt.codebook ? schemeFromCodebookFile(int8, opt.codebook) : schemeFor(int8), file: int8File},
]
console.log(`# bench/hash/int8-scheme ${new Date().toISOString()} node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`)
console.log(`MSR train+val: ${used.length} pairs (${para.length} paraphrase, ${non.length} not), ${randomPairs.length} random, ${sentences.length} sentences; ${rows.length} hand-written query pairs`)

const scrubber = createScrubber()
const fmt = (x, d = 3) => x.toFixed(d)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
async function codesOf(variant, inputs, keep) {
  const out = []
  for (let i = 0; i < inputs.length; i += 256) {
    const part = inputs.slice(i, i + 256)
    const vecs = await variant.embedder.embed(part)
    if (keep) (variant.vecs ??= []).push(...vecs)
    out.push(...(await variant.scheme.codes(vecs, part)))
  }
  return out
}
const shipped = {}
const table = []
for (const [label, texts, sets] of [
  ['MSR scrubbed', sentences, {paraphrase: para, 'non-paraphrase': non, random: randomPairs}],
  ['MSR raw', sentences, {paraphrase: para, 'non-paraphrase': non, random: randomPairs}],
  ['queries scrubbed', queries, {paraphrase: rows.map((r) => [r.a, r.b]), 'reworded': rows.filter((r) => r.overlap === 'low').map((r) => [r.a, r.b]), 'unrelated same domain': unrelated.same, 'unrelated other domain': unrelated.other}],
]) {
  const inputs = texts.map((t) => embeddingText(label.endsWith('raw') ? t : scrubber.scrub(t).text))
  for (const variant of variants) {
    const {scheme} = variant
    const codes = new Map((await codesOf(variant, inputs, label === 'MSR scrubbed')).map((c, i) => [texts[i], c]))
    if (label === 'MSR scrubbed') shipped[scheme.id] = new Set(para.filter(([x, y]) => codes.get(x).keys.some((k) => codes.get(y).keys.includes(k))).map(([x, y]) => `${x}\t${y}`))
    const meets = ([x, y]) => codes.get(x).keys.some((k) => codes.get(y).keys.includes(k))
    const rate = (list) => list.filter(meets).length / list.length
    const keys = [...codes.values()].map((c) => c.keys.length)
    const cells = Object.entries(sets).map(([name, list]) => `${name} ${fmt(rate(list), name.startsWith('random') || name.startsWith('unrelated') ? 4 : 3)}`)
    const ham = Object.entries(sets).map(([name, list]) => `${name} ${median(list.map(([x, y]) => hammingDistance(codes.get(x).hash, codes.get(y).hash)))}`)
    table.push(`| ${label} | ${scheme.id} | ${cells.join(', ')} | ${fmt(keys.reduce((a, b) => a + b, 0) / keys.length, 2)} | ${ham.join(', ')} |`)
  }
}
console.log('\n| set | scheme | meet-rate | keys/query | median Hamming of the fine hash |')
console.log('|---|---|---|---|---|')
for (const row of table) console.log(row)

// Paired: which paraphrase pairs meet under one scheme and not the other (McNemar's test).
{
  const [a, b] = variants.map((v) => shipped[v.scheme.id])
  const onlyA = [...a].filter((x) => !b.has(x)).length
  const onlyB = [...b].filter((x) => !a.has(x)).length
  const chi = onlyA + onlyB ? (Math.abs(onlyA - onlyB) - 1) ** 2 / (onlyA + onlyB) : 0
  console.log(`\nMSR scrubbed paraphrase pairs meeting under ${variants[0].scheme.id} only: ${onlyA}; under ${variants[1].scheme.id} only: ${onlyB} (McNemar chi2 ${fmt(chi, 2)}, 1 d.f.; 3.84 is p = 0.05)`)
}

// The trade-off curve: the same candidates, other boundary distances (MSR scrubbed), so the two
// schemes are compared at equal random meet-rates, not only at the boundary tuned for v6.
console.log('\n| boundary | ' + variants.map((v) => `${v.scheme.id}: paraphrase / non-paraphrase / random / keys`).join(' | ') + ' |')
console.log('|---|' + variants.map(() => '---|').join(''))
const near = variants.map((v) => {
  const cb = loadCodebook(v.file)
  return {cb, near: v.vecs.map((vec) => cb.books.map((book) => nearest(cb, book, reduce(cb, vec), 16)))}
})
const index = new Map(sentences.map((s, i) => [s, i]))
for (const boundary of opt.sweep.split(',').map(Number)) {
  const cells = near.map(({cb, near}) => {
    const at = {...cb, header: {...cb.header, selection: {...cb.header.selection, boundary}}}
    const keys = near.map((n) => selectKeys(at, n).slice(0, 8))
    const meets = ([x, y]) => keys[index.get(x)].some((k) => keys[index.get(y)].includes(k))
    const rate = (list) => list.filter(meets).length / list.length
    return `${fmt(rate(para))} / ${fmt(rate(non))} / ${fmt(rate(randomPairs), 4)} / ${fmt(keys.reduce((s, k) => s + k.length, 0) / keys.length, 2)}`
  })
  console.log(`| ${boundary} | ${cells.join(' | ')} |`)
}
await Promise.all([fp32.close(), int8.close()])
