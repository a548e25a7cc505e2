#!/usr/bin/env node
// Regenerates fixtures/logs/: the bundled example that `npm run demo` distils.
// Deterministic (seeded), so re-running gives byte-identical files. All text is written here
// (no shared data); names, emails, phones and MRNs are invented.
//
//   node scripts/make-fixture-logs.mjs [outDir]
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {rng} from '../bench/fuzz/mutate.mjs'

const outDir = process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'logs')

// The fuzz bench's seeded mulberry32: one definition for every generator.
const {next: rand, pick} = rng(0x5eed1e55)
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d

const PEOPLE = ['Maria Gonzalez', 'James Whitfield', 'Aisha Karimi', 'Tomasz Nowak', 'Emily Chen', 'Robert Okafor', 'Sarah Lindqvist', 'David Moreau']
const EMAILS = ['m.gonzalez@example.org', 'jwhitfield@mail.example.com', 'aisha.k@clinic.example.net', 'tnowak@example.com']
const PHONES = ['+1 415 555 0134', '(212) 555-0187', '+44 20 7946 0321', '+49 30 901820']
const MRNS = ['MRN 00482913', 'MRN: 7731-0042', 'medical record number 55190387']

// Query templates per domain. {P} person, {E} email, {T} phone, {M} MRN. Several templates in a
// domain are paraphrases of one another, so hashing makes them meet and --aggregate compresses them.
const DOMAINS = {
  'clinical.oncology': [
    'What is the first-line treatment for stage III non-small cell lung cancer in a patient like {P}?',
    'First-line therapy for stage 3 NSCLC, patient {P}, {M}?',
    'Which tumour marker is most useful for monitoring ovarian cancer recurrence?',
    'Patient {P} ({M}) has a BRCA1 mutation: what screening schedule do guidelines recommend?',
    'What are the common adverse effects of cisplatin chemotherapy?',
  ],
  'clinical.cardiology': [
    'A 67-year-old with atrial fibrillation and CHA2DS2-VASc of 4: is anticoagulation indicated?',
    'Should {P} with atrial fibrillation and a CHA2DS2-VASc score of 4 be anticoagulated?',
    'What ECG finding is characteristic of hyperkalaemia?',
    'Which drug class is first line for heart failure with reduced ejection fraction?',
  ],
  'Clinical Pharmacology': [
    'What is the mechanism of action of warfarin?',
    'How does warfarin work? Asking for my patient {P}.',
    'Which enzyme metabolises most statins, and which drugs inhibit it?',
    'Call {P} at {T} about the interaction between clarithromycin and simvastatin.',
  ],
  'legal.contract_review': [
    'Is a non-compete clause of 24 months enforceable in California?',
    'Can an employer in California enforce a two-year non-compete agreement?',
    'Review the indemnification clause in the supplier agreement sent by {E}.',
    'What is the difference between a warranty and a condition in contract law?',
  ],
  'legal.employment': [
    'Under the FLSA, when must overtime be paid to a non-exempt employee?',
    'Employee {P} was dismissed after reporting safety issues: is this retaliation?',
    'What notice period does the WARN Act require for a mass layoff?',
  ],
  'code.python': [
    'How do I read a large CSV file in chunks with pandas?',
    'Reading a huge CSV in pandas without running out of memory: use chunksize?',
    'Why does my asyncio coroutine never run when I call it without await?',
    'Write a Python function that removes duplicates from a list while keeping order.',
  ],
  'code.sql': [
    'How do I find duplicate rows in a PostgreSQL table?',
    'PostgreSQL query to list rows that appear more than once',
    'What is the difference between INNER JOIN and LEFT JOIN?',
  ],
  'finance.tax': [
    'Can I deduct home office expenses as a W-2 employee in 2025?',
    'Email {E} the summary of capital gains tax on crypto sold after 14 months.',
    'What is the annual gift tax exclusion for 2025?',
  ],
}
const MODELS = ['llama3-70b-instruct', 'llama3-8b-instruct', 'mistral-7b-v0.3', 'Meta-Llama/Llama-3.1-8B-Instruct']
// Most traffic goes to one model, as in a real deployment, so groups of repeated queries form.
const model = () => (rand() < 0.7 ? MODELS[0] : pick(MODELS))
const CORRECTION_TYPES = ['factual', 'reasoning', 'format', 'outdated guideline']

function fill(template) {
  return template
    .replaceAll('{P}', pick(PEOPLE))
    .replaceAll('{E}', pick(EMAILS))
    .replaceAll('{T}', pick(PHONES))
    .replaceAll('{M}', pick(MRNS))
}
const domainNames = Object.keys(DOMAINS)
const start = Date.UTC(2026, 10, 20, 8, 0, 0) // 2026-11-20 08:00Z; a busy day's logs
const at = (i) => start + i * 4 * 60 * 1000 + Math.floor(rand() * 180_000)
const answer = () => pick(['Based on current guidelines, ', 'The usual approach is ', 'In short: ']) + 'a response the model gave (never read by qis).'

mkdirSync(outDir, {recursive: true})

// 1. Flat JSONL (vLLM/FastAPI-style request log).
const flat = []
const withoutOutcome = [] // ids that only a correction gives an outcome to
for (let i = 0; i < 160; i++) {
  const domain = pick(domainNames)
  const rec = {
    request_id: `req-${String(i).padStart(4, '0')}`,
    timestamp: new Date(at(i)).toISOString(),
    domain,
    model: model(),
    prompt: fill(pick(DOMAINS[domain])),
    response: answer(),
    confidence: round(0.55 + rand() * 0.4),
  }
  const r = rand()
  if (r < 0.45) rec.outcome = round(0.3 + rand() * 0.7)
  else if (r < 0.75) rec.rating = 1 + Math.floor(rand() * 5)
  else if (r < 0.85) rec.thumbs = rand() < 0.7 ? 'up' : 'down'
  else withoutOutcome.push(rec.request_id)
  if (i % 23 === 5) delete rec.confidence // skipped unless --default-confidence
  flat.push(JSON.stringify(rec))
}
// Malformed and invalid lines, as real logs have.
flat.splice(40, 0, '{"request_id": "req-bad1", "prompt": "truncated line from a crashed writer')
flat.splice(90, 0, JSON.stringify({request_id: 'req-bad2', domain: 'code.python', prompt: 'How do I sort a dict by value?', outcome: 1.7, confidence: 0.8}))
flat.splice(120, 0, JSON.stringify({request_id: 'req-bad3', domain: '臨床', prompt: 'What is the normal range for serum sodium?', outcome: 0.9, confidence: 0.9}))
flat.splice(130, 0, '')
writeFileSync(path.join(outDir, 'inference.jsonl'), flat.join('\n') + '\n')

// 2. OpenAI chat-completions shape (messages array; the last user turn is the query).
const chat = []
for (let i = 0; i < 90; i++) {
  const domain = pick(domainNames.filter((d) => !d.startsWith('legal')))
  const q = fill(pick(DOMAINS[domain]))
  const userContent = i % 4 === 0 ? [{type: 'text', text: q}] : q
  const rec = {
    id: `chatcmpl-${(1000 + i).toString(36)}`,
    created_at: Math.floor(at(i + 40) / 1000),
    model: model(),
    category: domain,
    messages: [
      {role: 'system', content: 'You are a careful assistant for professionals.'},
      ...(i % 3 === 0 ? [{role: 'user', content: 'Hi, I have a question.'}, {role: 'assistant', content: 'Of course, go ahead.'}] : []),
      {role: 'user', content: userContent},
    ],
    choices: [{message: {role: 'assistant', content: answer()}}],
    confidence_at_inference: round(0.5 + rand() * 0.45),
    feedback: rand() < 0.75 ? 'up' : 'down',
  }
  chat.push(JSON.stringify(rec))
}
chat.splice(33, 0, '{"id": "chatcmpl-broken", "messages": [{"role": "user", "content": "unterminated')
writeFileSync(path.join(outDir, 'chat.jsonl'), chat.join('\n') + '\n')

// 3. CSV export from a support tool: epoch-second timestamps, 1-5 ratings, one multi-line quoted question.
const csvCell = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v))
const csv = ['request_id,ts,category,model_variant,question,rating,confidence']
for (let i = 0; i < 60; i++) {
  const domain = pick(['legal.contract_review', 'legal.employment', 'finance.tax', 'code.sql'])
  let q = fill(pick(DOMAINS[domain]))
  if (i === 7) q = `${q}\nContext: the client, ${pick(PEOPLE)}, signed on "day one" of employment.\nPlease cite the statute.`
  csv.push([`sup-${i}`, Math.floor(at(i + 100) / 1000), domain, model(), q, 1 + Math.floor(rand() * 5), round(0.5 + rand() * 0.45)].map(csvCell).join(','))
}
csv.splice(25, 0, 'sup-bad,not-a-time,legal.employment,mistral-7b-v0.3,"When is notice required?",9,0.7')
writeFileSync(path.join(outDir, 'support.csv'), csv.join('\n') + '\n')

// 4. Corrections log: clinicians/lawyers fixing answers, joined to inferences by id. Some ids match
// nothing (the inference was logged elsewhere) and are reported as unmatched.
const corrections = []
// Two of every three outcome-less records get a correction (and with it an outcome); the rest are
// skipped as `no outcome signal`.
const corrected = [...withoutOutcome.filter((_, i) => i % 3 !== 2), ...flat.filter((_, i) => i % 11 === 3).map((l) => { try { return JSON.parse(l).request_id } catch { return undefined } }).filter(Boolean)]
for (const id of corrected) {
  corrections.push(JSON.stringify({
    request_id: id,
    correction_type: pick(CORRECTION_TYPES),
    corrected_text: `Corrected answer written by ${pick(PEOPLE)}; the model missed a guideline change.`,
    outcome: round(rand() * 0.4),
    corrected_at: new Date(start + 5 * 86_400_000).toISOString(),
  }))
}
for (let i = 0; i < 4; i++) {
  corrections.push(JSON.stringify({request_id: `req-elsewhere-${i}`, correction_type: 'factual', corrected_text: 'Fixed in another system.', outcome: 0.1}))
}
writeFileSync(path.join(outDir, 'corrections.jsonl'), corrections.join('\n') + '\n')

console.log(`wrote ${flat.length} + ${chat.length} + ${csv.length - 1} log lines and ${corrections.length} corrections to ${outDir}`)
