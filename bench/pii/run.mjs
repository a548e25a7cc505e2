#!/usr/bin/env node
// PII benchmark: character-level precision, recall and F2 per entity type and overall, plus
// records/s, on presidio-format files (full_text + spans[entity_type,start_position,end_position]).
// Run after `npm run build`:  node bench/pii/run.mjs [FILE...] [--show-errors N]
// Default files: ../shared/data/pii/presidio_generated_{small,large}.json beside the repo.
import {readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {createScrubber} from '../../dist/privacy/index.js'
import {sharedData} from './data.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
let showErrors = 0
const files = []
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--show-errors') showErrors = Number(args[++i])
  else files.push(args[i])
}
if (files.length === 0) {
  const dir = sharedData('pii')
  files.push(path.join(dir, 'presidio_generated_small.json'), path.join(dir, 'presidio_generated_large.json'))
}

// Gold label -> the scrubber types that count as the same kind (for the "typed" recall column).
const GOLD = {
  PERSON: ['PERSON'], LOCATION: ['LOCATION', 'ADDRESS'], ADDRESS: ['ADDRESS', 'ZIP', 'LOCATION'],
  CREDIT_CARD: ['CREDIT_CARD'], PHONE_NUMBER: ['PHONE'], DATE_TIME: ['DATE', 'DATE_OF_BIRTH'],
  EMAIL_ADDRESS: ['EMAIL'], US_SSN: ['SSN'], IBAN_CODE: ['IBAN'], DOMAIN_NAME: ['URL', 'DOMAIN'],
  PREFIX: ['TITLE', 'PERSON'], US_DRIVER_LICENSE: ['DRIVER_LICENSE', 'ID_NUMBER'], IP_ADDRESS: ['IP_ADDRESS'],
  AGE: ['AGE'], ZIP_CODE: ['ZIP', 'ADDRESS'], MEDICAL_RECORD: ['MEDICAL_RECORD', 'ID_NUMBER'],
}
// Optional in this data: detecting them is not a false positive, missing them is not a miss.
const OPTIONAL = new Set(['ORGANIZATION', 'NRP', 'TITLE'])

const f2 = (p, r) => (p + r === 0 ? 0 : (5 * p * r) / (4 * p + r))
const pct = (x) => (Number.isFinite(x) ? (100 * x).toFixed(1).padStart(6) : '     -')
// Only letters and digits are counted: spaces and punctuation at span edges are not personal data.
const isSpace = (c) => !/[\p{L}\p{N}]/u.test(c)

const scrubber = createScrubber()

for (const file of files) {
  const records = JSON.parse(readFileSync(file, 'utf8'))
  // The first pass includes JIT warm-up; the second is the steady state a long `qis scrub` run sees.
  let t0 = process.hrtime.bigint()
  const results = records.map((r) => scrubber.scrub(r.full_text))
  const coldSeconds = Number(process.hrtime.bigint() - t0) / 1e9
  t0 = process.hrtime.bigint()
  const cpu0 = process.cpuUsage()
  for (const r of records) scrubber.scrub(r.full_text)
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const cpu = process.cpuUsage(cpu0)
  // CPU seconds, not wall time: on a shared machine the wall clock also counts other processes' turns.
  const cpuSeconds = (cpu.user + cpu.system) / 1e6

  const gold = {} // type -> {n, caught, typed}
  const pred = {} // type -> {n, tp}
  let predN = 0
  let predTp = 0
  let goldN = 0
  let caughtN = 0
  const misses = []
  const fps = []
  records.forEach((r, idx) => {
    const text = r.full_text
    const goldAt = new Array(text.length).fill(null)
    for (const s of r.spans) for (let i = s.start_position; i < s.end_position; i++) goldAt[i] = s.entity_type
    const predAt = new Array(text.length).fill(null)
    for (const s of results[idx].spans) for (let i = s.start; i < s.end; i++) predAt[i] = s.type
    for (let i = 0; i < text.length; i++) {
      if (isSpace(text[i])) continue
      const g = goldAt[i]
      const p = predAt[i]
      if (g && !OPTIONAL.has(g)) {
        const e = (gold[g] ??= {n: 0, caught: 0, typed: 0})
        e.n++
        goldN++
        if (p) {
          e.caught++
          caughtN++
          if ((GOLD[g] ?? [g]).includes(p)) e.typed++
        }
      }
      if (p && !(g && OPTIONAL.has(g))) {
        const e = (pred[p] ??= {n: 0, tp: 0})
        e.n++
        predN++
        if (g) {
          e.tp++
          predTp++
        }
      }
    }
    if (showErrors) {
      for (const s of r.spans) {
        if (OPTIONAL.has(s.entity_type)) continue
        const missed = [...Array(s.end_position - s.start_position).keys()].some((k) => !predAt[s.start_position + k] && !isSpace(text[s.start_position + k]))
        if (missed) misses.push(`${s.entity_type}: ${JSON.stringify(s.entity_value)}  in ${JSON.stringify(text.slice(0, 160))}`)
      }
      for (const s of results[idx].spans) {
        const bad = [...Array(s.end - s.start).keys()].some((k) => !goldAt[s.start + k] && !isSpace(text[s.start + k]))
        if (bad) fps.push(`${s.type}: ${JSON.stringify(text.slice(s.start, s.end))}  in ${JSON.stringify(text.slice(0, 160))}`)
      }
    }
  })

  const chars = records.reduce((a, r) => a + r.full_text.length, 0)
  console.log(
    `\n${path.basename(file)}: ${records.length} records (mean ${(chars / records.length).toFixed(0)} chars), ` +
      `${(records.length / cpuSeconds).toFixed(0)} records per CPU-second steady ` +
      `(wall: ${(records.length / seconds).toFixed(0)}/s steady, ${(records.length / coldSeconds).toFixed(0)}/s first pass incl. JIT warm-up; load ${os.loadavg()[0].toFixed(1)})`,
  )
  console.log('character level (letters and digits only); "caught" = covered by any placeholder, "typed" = by the matching type')
  console.log('gold type            chars  recall  typed-recall')
  for (const [t, e] of Object.entries(gold).sort((a, b) => b[1].n - a[1].n)) {
    console.log(`${t.padEnd(18)} ${String(e.n).padStart(7)} ${pct(e.caught / e.n)}  ${pct(e.typed / e.n)}`)
  }
  console.log('predicted type       chars  precision')
  for (const [t, e] of Object.entries(pred).sort((a, b) => b[1].n - a[1].n)) {
    console.log(`${t.padEnd(18)} ${String(e.n).padStart(7)} ${pct(e.tp / e.n)}`)
  }
  const P = predTp / predN
  const R = caughtN / goldN
  console.log(`OVERALL  precision ${pct(P)}  recall ${pct(R)}  F2 ${pct(f2(P, R))}`)
  if (showErrors) {
    console.log(`\n-- missed (${misses.length}) --`)
    for (const m of misses.slice(0, showErrors)) console.log(m)
    console.log(`\n-- false positives (${fps.length}) --`)
    for (const m of fps.slice(0, showErrors)) console.log(m)
  }
}
