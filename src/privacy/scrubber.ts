import {AddressFinder} from './address.js'
import {loadLexicon} from './lexicon.js'
import {NameFinder} from './names.js'
import {findStructured} from './patterns.js'
import {tokenize} from './tokens.js'
import type {Candidate, PiiSpan, PiiType, ScrubResult, Scrubber, ScrubberOptions} from './types.js'

/**
 * Build a scrubber. Synchronous and reusable: the word lists load once per process (~0.5 s) and
 * each `scrub` call is pure computation (no I/O, no network), deterministic for a given input.
 */
export function createScrubber(options: ScrubberOptions = {}): Scrubber {
  const lex = loadLexicon()
  const names = new NameFinder(lex)
  const addresses = new AddressFinder(lex)
  const keep = new Set<PiiType>(options.keep ?? [])

  return {
    scrub(text: string): ScrubResult {
      const spans = detect(text, names, addresses).filter((s) => !keep.has(s.type))
      return {text: render(text, spans), spans}
    },
  }
}

function detect(text: string, names: NameFinder, addresses: AddressFinder): PiiSpan[] {
  const candidates: Candidate[] = []
  const push = (start: number, end: number, type: PiiType, priority: number) => {
    if (end > start) candidates.push({start, end, type, priority})
  }
  findStructured(text, push)
  const toks = tokenize(text)
  addresses.find(text, toks, push)
  names.find(text, toks, push)
  return resolve(candidates, text)
}

/** Word-level candidates (names, places, addresses) may be cut down to what a better span leaves free. */
const TRIMMABLE_BELOW = 61

/**
 * Keep the highest-priority, then longest, then earliest candidates. A structured candidate that
 * overlaps a kept span is dropped; a word-level one keeps the part outside it (a name run that ran
 * into an address keeps the name).
 */
export function resolve(candidates: Candidate[], text?: string): PiiSpan[] {
  const sorted = [...candidates].sort(
    (a, b) => b.priority - a.priority || b.end - b.start - (a.end - a.start) || a.start - b.start,
  )
  // Kept spans, sorted by start and disjoint, so overlap checks are a binary search (texts with
  // thousands of candidates stay fast).
  const taken: PiiSpan[] = []
  /** Index of the first kept span that ends after `pos`. */
  const firstEndingAfter = (pos: number): number => {
    let lo = 0
    let hi = taken.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (taken[mid]!.end <= pos) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  const insert = (span: PiiSpan) => taken.splice(firstEndingAfter(span.start), 0, span)
  for (const c of sorted) {
    const at = firstEndingAfter(c.start)
    const hit = taken[at]
    if (!hit || hit.start >= c.end) {
      insert({start: c.start, end: c.end, type: c.type})
      continue
    }
    if (c.priority >= TRIMMABLE_BELOW || text === undefined) continue
    // The free piece before the first overlap, if it is still a word.
    let end = hit.start
    while (end > c.start && /[\s,;:.\-]/.test(text[end - 1]!)) end--
    if (end - c.start >= 2 && /[\p{L}\p{N}]/u.test(text.slice(c.start, end))) insert({start: c.start, end, type: c.type})
  }
  return taken
}

export function render(text: string, spans: PiiSpan[]): string {
  let out = ''
  let at = 0
  for (const s of spans) {
    out += text.slice(at, s.start) + `<${s.type}>`
    at = s.end
  }
  return out + text.slice(at)
}
