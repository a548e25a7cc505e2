#!/usr/bin/env node
// Over-scrubbing check: how much of ordinary, PII-free text the scrubber replaces, and with what.
// Run after `npm run build`:  node bench/pii/queries.mjs [JSONL with a "text" field] [--show TYPE [N]]
// --show prints N (default 40) of that type's spans in their context, and the subjects (a "subject"
// field) where the type replaces the most: what to read before writing a rule.
// Default: ../shared/data/queries/mmlu-questions.jsonl (exam questions: no private data, but
// historical names, places, dates and ages, which rules cannot tell from private ones).
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {createScrubber} from '../../dist/privacy/index.js'
import {sharedData} from './data.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const showAt = args.indexOf('--show')
const show = showAt >= 0 ? args[showAt + 1] : undefined
const showN = showAt >= 0 && /^\d+$/.test(args[showAt + 2] ?? '') ? Number(args[showAt + 2]) : 40
const file = args.find((a, i) => !a.startsWith('--') && (showAt < 0 || i < showAt || i > showAt + 2)) ?? sharedData('queries', 'mmlu-questions.jsonl')
const records = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
const texts = records.map((r) => r.text)
const shown = []
const bySubject = {}
const scrubber = createScrubber()
const byType = {}
const charsByType = {}
const examples = {}
let withAny = 0
let chars = 0
let scrubbed = 0
for (const [i, t] of texts.entries()) {
  const r = scrubber.scrub(t)
  chars += t.length
  if (r.spans.length) withAny++
  for (const s of r.spans) {
    scrubbed += s.end - s.start
    byType[s.type] = (byType[s.type] ?? 0) + 1
    charsByType[s.type] = (charsByType[s.type] ?? 0) + s.end - s.start
    const m = (examples[s.type] ??= new Map())
    const v = t.slice(s.start, s.end).replace(/\n/g, '\\n')
    m.set(v, (m.get(v) ?? 0) + 1)
    if (s.type === show) {
      const subject = records[i].subject ?? '-'
      bySubject[subject] = (bySubject[subject] ?? 0) + s.end - s.start
      const flat = (x) => x.replace(/\n/g, '\\n')
      shown.push(`${subject}: ...${flat(t.slice(Math.max(0, s.start - 60), s.start))}[[${v}]]${flat(t.slice(s.end, s.end + 40))}`)
    }
  }
}
console.log(`${path.basename(file)}: ${texts.length} texts; ${withAny} (${((100 * withAny) / texts.length).toFixed(1)}%) have a span; ${((100 * scrubbed) / chars).toFixed(2)}% of characters replaced`)
// By the characters each type replaces (what the goal counts), with the spans that replace the most.
console.log('type            spans  % of chars  top spans by characters replaced')
for (const [type, n] of Object.entries(byType).sort((a, b) => charsByType[b[0]] - charsByType[a[0]])) {
  const top = [...examples[type].entries()].sort((a, b) => b[1] * b[0].length - a[1] * a[0].length).slice(0, 12).map(([v, c]) => `${v} x${c}`)
  console.log(`${type.padEnd(15)} ${String(n).padStart(6)}  ${((100 * charsByType[type]) / chars).toFixed(3).padStart(9)}  ${top.join(', ')}`)
}
if (show) {
  console.log(`\n${show}: ${shown.length} spans; by subject (% of all characters):`)
  for (const [subject, n] of Object.entries(bySubject).sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${subject.padEnd(36)} ${((100 * n) / chars).toFixed(3)}`)
  // An even spread over the file, so one long passage does not fill the sample.
  const step = Math.max(1, shown.length / showN)
  for (let k = 0; k < Math.min(showN, shown.length); k++) console.log('  ' + shown[Math.floor(k * step)])
}
