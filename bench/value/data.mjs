// Reads outcome data of the shape in ../shared/data/outcomes: a questions JSONL and a question x model
// CSV of 1/0/blank. Any data of this shape works; bad rows fail with file, line and field named.
import {readFileSync} from 'node:fs'

class DataError extends Error {}

const fail = (file, line, field, message) => {
  throw new DataError(`${file}:${line}: field "${field}": ${message}`)
}

/** A multiple-choice prompt as a model is asked it: the question, then its options lettered (A), (B), ... */
function withOptions(text, options) {
  return `${text}\nOptions: ${options.map((o, i) => `(${String.fromCharCode(65 + i)}) ${o}`).join(' ')}`
}

/**
 * Question records: `question_id`, `category` (the domain), `question` (the text). `subject`/`text`
 * are accepted too. With `options` true the query is the question followed by its `options` (an
 * array of strings, required then), i.e. the prompt a deployment would log, not the stem alone.
 */
export function readQuestions(file, {options = false} = {}) {
  const questions = new Map()
  const lines = readFileSync(file, 'utf8').split('\n')
  lines.forEach((raw, i) => {
    const line = i + 1
    if (raw.trim() === '') return
    let r
    try {
      r = JSON.parse(raw)
    } catch (err) {
      fail(file, line, '(json)', `not JSON: ${err.message}`)
    }
    if (typeof r !== 'object' || r === null || Array.isArray(r)) fail(file, line, '(record)', 'must be a JSON object')
    const id = r.question_id ?? r.id
    if (typeof id !== 'number' && typeof id !== 'string') fail(file, line, 'question_id', 'missing (a number or string)')
    const domain = r.category ?? r.subject ?? r.domain
    if (typeof domain !== 'string' || domain.trim() === '') fail(file, line, 'category', 'missing or empty')
    const text = r.question ?? r.text ?? r.query
    if (typeof text !== 'string' || text.trim() === '') fail(file, line, 'question', 'missing or empty')
    if (options && (!Array.isArray(r.options) || r.options.length === 0 || !r.options.every((o) => typeof o === 'string'))) fail(file, line, 'options', 'missing or not an array of strings (needed for --with-options)')
    const key = String(id)
    if (questions.has(key)) fail(file, line, 'question_id', `${key} appears twice`)
    questions.set(key, {id: key, domain, text: options ? withOptions(text, r.options) : text, source: typeof r.src === 'string' ? r.src : undefined})
  })
  if (questions.size === 0) throw new DataError(`${file}: no questions`)
  return questions
}

/** The outcome table: header `question_id,<model>,...`; cells 1, 0 or blank (not asked). */
export function readOutcomes(file) {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/)
  const header = lines[0].split(',').map((s) => s.trim())
  if (header[0] !== 'question_id') fail(file, 1, 'question_id', `the first column must be question_id (found "${header[0]}")`)
  const models = header.slice(1)
  if (models.length < 2) fail(file, 1, '(header)', 'needs at least two model columns')
  const seen = new Set()
  models.forEach((m) => {
    if (m === '' || seen.has(m)) fail(file, 1, '(header)', `model column "${m}" is empty or repeated`)
    seen.add(m)
  })
  const correct = new Map()
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue
    const cells = lines[i].split(',')
    if (cells.length !== header.length) fail(file, i + 1, '(row)', `has ${cells.length} cells, the header ${header.length}`)
    const id = cells[0].trim()
    if (correct.has(id)) fail(file, i + 1, 'question_id', `${id} appears twice`)
    correct.set(
      id,
      cells.slice(1).map((c, j) => {
        const v = c.trim()
        if (v === '') return null
        if (v !== '0' && v !== '1') fail(file, i + 1, models[j], `must be 1, 0 or blank (found "${v}")`)
        return Number(v)
      }),
    )
  }
  return {models, correct}
}

/** Questions with an outcome row, in a stable order; ids only in one file are counted, not silently used. */
export function loadData(questionsFile, outcomesFile, {options = false} = {}) {
  const questions = readQuestions(questionsFile, {options})
  const {models, correct} = readOutcomes(outcomesFile)
  const rows = []
  let withoutOutcomes = 0
  for (const q of questions.values()) {
    const c = correct.get(q.id)
    if (!c) {
      withoutOutcomes++
      continue
    }
    rows.push({...q, correct: c})
  }
  const withoutQuestion = [...correct.keys()].filter((id) => !questions.has(id)).length
  return {models, rows, withoutOutcomes, withoutQuestion}
}

export {DataError}
