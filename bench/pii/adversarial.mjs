#!/usr/bin/env node
// Worst-case inputs: long runs that make naive regexes or overlap checks quadratic or exponential.
// Run after `npm run build`:  node bench/pii/adversarial.mjs   (each case ~100-200 KB; expect well under 1 s each)
import {createScrubber} from '../../dist/privacy/index.js'

const cases = {
  'digits': '1'.repeat(100000),
  'spaced digits': '12 '.repeat(30000),
  'dotted letters': 'a.'.repeat(50000),
  'one long word': 'x'.repeat(200000),
  'capitalised words': 'Abc '.repeat(40000),
  'phones': 'Call +1 (415) 555-0100 x12 '.repeat(5000),
  'IBAN-like groups': 'GB82 '.repeat(30000),
  'dashes': '1-'.repeat(50000),
  'at signs': 'a@'.repeat(50000),
  'addresses': '12 Main Street\n'.repeat(5000),
  'name particles': 'Anna van der '.repeat(10000),
  'URLs': 'http://a.b/'.repeat(20000),
  'colons (IPv6-like)': '1:'.repeat(50000),
  'date-like': '1/1/'.repeat(30000),
  'city list': 'Kiel, '.repeat(30000),
  // The historical register: a credit-like line per line (each tried as a source credit), and a
  // dated sentence per name (each name's sentence read for a date).
  'credit-like lines': 'Abc Def, Ghi Jkl, 2019\n'.repeat(8000),
  'dated sentences': 'In 1850, Wierzbicki met Kowalczyk. '.repeat(5000),
}
const scrubber = createScrubber()
for (const [name, text] of Object.entries(cases)) {
  const t0 = performance.now()
  const r = scrubber.scrub(text)
  console.log(`${name.padEnd(20)} ${String(text.length).padStart(7)} chars  ${(performance.now() - t0).toFixed(0).padStart(6)} ms  ${r.spans.length} spans`)
}
