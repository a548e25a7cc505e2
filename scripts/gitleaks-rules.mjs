#!/usr/bin/env node
// Converts gitleaks' default rule list (config/gitleaks.toml, MIT, https://github.com/gitleaks/gitleaks)
// into the JSON data qis's secret detector loads (assets/secrets/gitleaks-rules.json).
//   node scripts/gitleaks-rules.mjs PATH/TO/gitleaks.toml COMMIT
// Go RE2 syntax is rewritten to JavaScript: inline (?i) and (?i:...) become the `i` flag for the
// whole rule, (?-i:...) and (?s:...) become plain groups (with the `s` flag), [[:alnum:]] a class,
// \z end of input, (?P<name> a named group. Where that loosens a rule (case-insensitive throughout),
// it can only match more, never less. Rules that need a file path (they describe files, not text) and
// rules whose regex still does not compile are left out and listed.
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {parse} from 'smol-toml'

const [file, commit] = process.argv.slice(2)
if (!file || !commit) {
  console.error('usage: node scripts/gitleaks-rules.mjs gitleaks.toml COMMIT')
  process.exit(2)
}
const here = path.dirname(fileURLToPath(import.meta.url))
const toml = parse(readFileSync(file, 'utf8'))

function convert(re) {
  let flags = ''
  let src = re
  if (/\(\?i\)|\(\?i:/.test(src)) flags += 'i'
  if (/\(\?s:|\(\?s\)/.test(src)) flags += 's'
  src = src
    .replace(/\(\?i\)/g, '')
    .replace(/\(\?s\)/g, '')
    .replace(/\(\?i:/g, '(?:')
    .replace(/\(\?-i:/g, '(?:')
    .replace(/\(\?s:/g, '(?:')
    .replace(/\[\[:alnum:\]\]/g, '[A-Za-z0-9]')
    .replace(/\\z/g, '$')
    .replace(/\(\?P</g, '(?<')
  new RegExp(src, flags) // throws if JavaScript cannot compile it
  return {source: src, flags}
}

const rules = []
const dropped = []
for (const r of toml.rules) {
  if (r.path && !r.regex) {
    dropped.push(`${r.id} (path only)`)
    continue
  }
  if (r.path) {
    dropped.push(`${r.id} (needs a file path)`)
    continue
  }
  let re
  try {
    re = convert(r.regex)
  } catch (err) {
    dropped.push(`${r.id} (${err.message})`)
    continue
  }
  const allow = []
  for (const a of r.allowlists ?? []) {
    if (a.paths && !a.regexes && !a.stopwords) continue
    const entry = {target: a.regexTarget ?? 'secret'}
    if (a.regexes) entry.regexes = a.regexes.map(convert)
    if (a.stopwords) entry.stopwords = a.stopwords.map((s) => s.toLowerCase())
    allow.push(entry)
  }
  rules.push({
    id: r.id,
    ...re,
    ...(r.secretGroup ? {secretGroup: r.secretGroup} : {}),
    ...(r.entropy ? {entropy: r.entropy} : {}),
    keywords: (r.keywords ?? []).map((k) => k.toLowerCase()),
    ...(allow.length ? {allow} : {}),
  })
}
const globalAllow = {regexes: (toml.allowlist?.regexes ?? []).map(convert), stopwords: (toml.allowlist?.stopwords ?? []).map((s) => s.toLowerCase())}
const out = {
  source: 'gitleaks config/gitleaks.toml (https://github.com/gitleaks/gitleaks), MIT licence, see LICENSE.gitleaks',
  commit,
  converted: 'scripts/gitleaks-rules.mjs',
  rules,
  allow: globalAllow,
}
writeFileSync(path.join(here, '../assets/secrets/gitleaks-rules.json'), JSON.stringify(out) + '\n')
console.log(`${rules.length} rules written; ${dropped.length} left out:\n  ${dropped.join('\n  ')}`)
