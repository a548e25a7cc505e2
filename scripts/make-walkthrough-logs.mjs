// Writes fixtures/walkthrough/: the logs of two deployments that get the same clinical questions,
// for the README walk-through (deterministic; every question, name and outcome is invented).
//   node scripts/make-walkthrough-logs.mjs
//
// Clinic A routes between two models, llama3-70b-instruct and qwen2-7b-instruct. On the dosing and
// resistance questions qwen2-7b was nearly always wrong (and corrected) although it said it was
// ~80% sure; llama3-70b did well. On the routine questions both did about as well as they
// expected. Clinic B runs qwen2-7b-instruct and is asked many of the same questions, so after
// pulling A's packets, `qis adjust --model qwen2-7b-instruct` on a dosing question should say:
// "peers with this model were mostly wrong here; lower your confidence", and name llama3-70b as
// the variant peers did best with.
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const out = path.join(root, 'fixtures/walkthrough')

// A small seeded generator (mulberry32), so the files are the same on every run.
let seed = 20261203
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const HARD = [
  'How should carboplatin be dosed using the Calvert formula?',
  'What is the maximum cumulative lifetime dose of doxorubicin?',
  'Which EGFR mutation causes resistance to first-generation tyrosine kinase inhibitors?',
  'How should methotrexate be dosed for a patient with reduced creatinine clearance?',
]
const ROUTINE = [
  'What is the first-line treatment for stage II colon cancer?',
  'What are the common side effects of tamoxifen?',
  'When is adjuvant radiotherapy recommended after breast-conserving surgery?',
  'What screening is recommended for a patient with a BRCA1 mutation?',
  'How is febrile neutropenia managed in a patient on chemotherapy?',
  'What does a rising PSA after prostatectomy indicate?',
]
// Probability that each model answered right, by kind of question, and the confidence it logged.
const SKILL = {
  'llama3-70b-instruct': {hard: 0.85, routine: 0.85, confidence: 0.8},
  'qwen2-7b-instruct': {hard: 0.08, routine: 0.75, confidence: 0.8},
}

const start = Date.parse('2026-11-28T08:00:00Z')
let clock = start
let id = 0
function record(prefix, model, prompt, kind) {
  clock += Math.floor(60_000 + random() * 600_000)
  const right = random() < SKILL[model][kind]
  const confidence = Math.round((SKILL[model].confidence + (random() - 0.5) * 0.1) * 100) / 100
  return {
    record: {
      request_id: `${prefix}-${String(id++).padStart(4, '0')}`,
      timestamp: new Date(clock).toISOString(),
      domain: 'clinical.oncology',
      model,
      prompt,
      response: 'An answer the model gave (never read by qis).',
      confidence,
      outcome: right ? 1 : 0,
    },
    right,
  }
}

function write(name, lines) {
  writeFileSync(path.join(out, name), lines.map((l) => JSON.stringify(l)).join('\n') + '\n')
}

mkdirSync(out, {recursive: true})
// Clinic A: every question 4 times per model; a reviewer corrected most wrong answers.
const a = []
const aCorrections = []
for (let round = 0; round < 4; round++) {
  for (const [kind, list] of [['hard', HARD], ['routine', ROUTINE]]) {
    for (const prompt of list) {
      for (const model of Object.keys(SKILL)) {
        const {record: r, right} = record('a', model, prompt, kind)
        a.push(r)
        if (!right && random() < 0.8) aCorrections.push({request_id: r.request_id, correction_type: 'factual', corrected_text: 'The reviewer\'s corrected answer (never read by qis).'})
      }
    }
  }
}
write('clinic-a.jsonl', a)
write('clinic-a-corrections.jsonl', aCorrections)

// Clinic B: qwen2-7b only, the same questions once or twice each.
clock = start + 3 * 3600_000
id = 0
const b = []
for (const [kind, list] of [['hard', HARD], ['routine', ROUTINE]]) {
  for (const prompt of list) {
    const times = 1 + Math.floor(random() * 2)
    for (let i = 0; i < times; i++) b.push(record('b', 'qwen2-7b-instruct', prompt, kind).record)
  }
}
write('clinic-b.jsonl', b)
console.log(`wrote ${a.length} records (+${aCorrections.length} corrections) for clinic A and ${b.length} for clinic B to ${path.relative(root, out)}/`)
