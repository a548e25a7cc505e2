#!/usr/bin/env node
// Generates a large, realistic inference log for bench/distill: flat JSONL with a share of OpenAI
// chat-shaped records, PII in about a third of the queries, ratings/scores/thumbs, a few malformed
// lines. Query text is drawn at run time from ../shared/data/queries/mmlu-questions.jsonl (MIT;
// never committed).
//
//   node bench/distill/generate.mjs --records 100000 --repeat-share 0.98 --out bench/out/100k.jsonl
//
// --repeat-share R: that share of records ask a query from a hot pool of --pool distinct questions
// (differing only in the patient/client named in them, so they meet after scrubbing); the rest ask a
// question no other record asks.
import {createWriteStream, mkdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {rng} from '../fuzz/mutate.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const MMLU = path.join(process.env.QIS_SHARED ?? path.resolve(root, '../shared'), 'data/queries/mmlu-questions.jsonl')

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : process.argv[i + 1]
}

// The fuzz bench's seeded mulberry32: one definition for every generator.
const {next: rand, pick} = rng(0x0b5e55ed)

function domainFor(subject) {
  if (/medic|clinical|anatomy|genetics|nutrition|virology|aging/.test(subject)) return `clinical.${subject}`
  if (/law|jurisprudence/.test(subject)) return `legal.${subject}`
  if (/computer|machine_learning|security/.test(subject)) return `code.${subject}`
  if (/account|econom|business|marketing/.test(subject)) return `finance.${subject}`
  return `general.${subject}`
}

const FIRST = ['Maria', 'James', 'Aisha', 'Tomasz', 'Emily', 'Robert', 'Sarah', 'David', 'Wei', 'Fatima', 'Lukas', 'Priya', 'Kofi', 'Elena', 'Hiroshi', 'Chloe']
const LAST = ['Gonzalez', 'Whitfield', 'Karimi', 'Nowak', 'Chen', 'Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Haddad', 'Schmidt', 'Patel', 'Mensah', 'Rossi', 'Kim', 'Dubois']
const MODELS = ['llama3-70b-instruct', 'llama3-8b-instruct', 'mistral-7b-v0.3']
const person = () => `${pick(FIRST)} ${pick(LAST)}`
const withPii = (q) => {
  const r = rand()
  if (r < 0.15) return `Patient ${person()} asks: ${q}`
  if (r < 0.25) return `${q} Reply to ${pick(FIRST).toLowerCase()}.${pick(LAST).toLowerCase()}@example.com`
  if (r < 0.32) return `Client ${person()} (MRN ${1_000_000 + Math.floor(rand() * 8_999_999)}) wants to know: ${q}`
  return q
}

export function loadQuestions(file = MMLU) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    // Keep the log realistic: a chat query, not an essay.
    .filter((q) => q.text.length >= 20 && q.text.length <= 400)
}

/** Writes the log; resolves with facts about it. */
export async function generate({records, repeatShare, pool = 500, out, malformedEvery = 5000, startMs = Date.UTC(2026, 10, 20)}) {
  const questions = loadQuestions()
  // Shuffle deterministically; the first `pool` questions are the hot ones.
  for (let i = questions.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[questions[i], questions[j]] = [questions[j], questions[i]]
  }
  const hot = questions.slice(0, pool)
  const cold = questions.slice(pool)
  mkdirSync(path.dirname(out), {recursive: true})
  const stream = createWriteStream(out)
  let uniqueIssued = 0
  let buf = ''
  const flush = () =>
    new Promise((resolve) => {
      if (stream.write(buf)) resolve()
      else stream.once('drain', resolve)
      buf = ''
    })
  for (let i = 0; i < records; i++) {
    if (malformedEvery > 0 && i % malformedEvery === malformedEvery - 1) {
      buf += '{"id": "torn", "query": "a line cut short by a crash\n'
      continue
    }
    let q
    if (rand() < repeatShare) q = pick(hot)
    else {
      // Past the corpus size, a distinct numbered prefix keeps every cold query unique.
      const base = cold[uniqueIssued % cold.length]
      const round = Math.floor(uniqueIssued / cold.length)
      q = round === 0 ? base : {...base, text: `Variant ${round} of ${base.subject.replaceAll('_', ' ')}: ${base.text}`}
      uniqueIssued++
    }
    const text = withPii(q.text)
    const ts = new Date(startMs + i * 250).toISOString()
    const r = rand()
    const feedback = r < 0.5 ? {outcome: Math.round(rand() * 1000) / 1000} : r < 0.8 ? {rating: 1 + Math.floor(rand() * 5)} : {thumbs: rand() < 0.7 ? 'up' : 'down'}
    const rec =
      i % 10 === 0
        ? {id: `chatcmpl-${i}`, created_at: ts, model: pick(MODELS), category: domainFor(q.subject), messages: [{role: 'system', content: 'Answer carefully.'}, {role: 'user', content: text}], confidence_at_inference: Math.round((0.4 + rand() * 0.6) * 100) / 100, ...feedback}
        : {request_id: `req-${i}`, timestamp: ts, domain: domainFor(q.subject), model: pick(MODELS), prompt: text, response: 'The model answer, which qis never reads.', confidence: Math.round((0.4 + rand() * 0.6) * 100) / 100, ...feedback}
    buf += JSON.stringify(rec) + '\n'
    if (buf.length > 1 << 20) await flush()
  }
  await flush()
  await new Promise((resolve, reject) => stream.end((err) => (err ? reject(err) : resolve())))
  return {out, records, repeatShare, pool, uniqueQueries: uniqueIssued}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = arg('out', path.join(root, 'bench/out/distill.jsonl'))
  const facts = await generate({records: Number(arg('records', 100_000)), repeatShare: Number(arg('repeat-share', 0.98)), pool: Number(arg('pool', 500)), out})
  console.log(JSON.stringify(facts))
}
