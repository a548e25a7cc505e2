import {AddressFinder} from './address.js'
import {loadLexicon} from './lexicon.js'
import {NameFinder} from './names.js'
import {PRIORITY, findStructured} from './patterns.js'
import {dropHistorical} from './register.js'
import {SecretFinder} from './secrets.js'
import {tokenize} from './tokens.js'
import type {Candidate, CustomRecognisers, PiiSpan, ScrubResult, Scrubber, ScrubberOptions, SpanType} from './types.js'

/**
 * Build a scrubber. Synchronous and reusable: the word lists and secret rules load once per process
 * (~0.5 s) and each `scrub` call is pure computation (no I/O, no network), deterministic for a given
 * input. `custom` adds the deployment's own recognisers, deny-lists and allow-lists; a bad one is an
 * Error naming it (see customProblems).
 */
export function createScrubber(options: ScrubberOptions = {}): Scrubber {
  const lex = loadLexicon()
  const names = new NameFinder(lex)
  const addresses = new AddressFinder(lex)
  const secrets = new SecretFinder((w) => lex.common.has(w))
  const keep = new Set<SpanType>(options.keep ?? [])
  const custom = compileCustom(options.custom)
  const headMargin = options.headMargin ?? HEAD_MARGIN

  return {
    scrub(text: string): ScrubResult {
      const spans = detect(text, names, addresses, secrets, custom).filter((s) => !keep.has(s.type))
      return {text: render(text, spans), spans}
    },
    head(text: string, chars: number): string | undefined {
      return scrubbedHead(text, chars, headMargin, (part, whole) => detect(part, names, addresses, secrets, custom, whole).filter((s) => !keep.has(s.type)))
    },
  }
}

/**
 * How much a head's scrub reads past its cut, and how much of that must stay unused, in characters
 * other than whitespace (a run of spaces is free: `age   42`, "A,   and B" read across any run).
 * The left context of everything before the cut is in the head; what a rule may read to the right
 * of a span it decides is what the margin must hold:
 * - phones: a phone word up to 20 characters after the number;
 * - names, places, titles, organisations: a few words (a surname, a suffix, "Corp.", "disease"
 *   after an eponym, "and Smith" after a name); addresses: their next lines up to a blank one;
 * - gitleaks rules with a bounded match: their match, which lies within 2,048 characters after its
 *   keyword (they run in such windows, secrets.ts); qis's own secret rules: a password word and its
 *   value, or one run without whitespace, which a cut at whitespace does not split;
 * - the other shape rules (emails, URLs, cards, dates, ids, ages): their own match.
 * A span cut short by the end of what was read ends near that end, so it pushes the cut to within a
 * margin of it and the head is refused. What has no bound across whitespace (gitleaks' private-key
 * blocks and curl commands; the deployment's own regexes) runs over the whole text even for a head;
 * whether the text has any capital letter is asked of the whole text.
 * test/privacy/head.test.ts plants spans across the cut and across the end of what was read: exact
 * with this margin, wrong with a margin of 4 (the phone and name plants need 6); the margin is this
 * wide for the gitleaks windows, and costs 5-10 ms a head.
 */
export const HEAD_MARGIN = 4096

/**
 * Scrubbed text of a head of `text`: the scrubbed whole text's own first part, cut at the first
 * whitespace at or after `chars` that no span covers, so exactly what `scrub(text).text` begins
 * with (see HEAD_MARGIN). undefined when the text is too short to gain from a head or no such cut
 * leaves a full margin before the end of what was read (a span running on past it): scrub it all,
 * or try a longer head.
 */
function scrubbedHead(text: string, chars: number, margin: number, spansOf: (part: string, whole: string) => PiiSpan[]): string | undefined {
  const ws = /\s/g
  const nextSpace = (from: number): number => {
    ws.lastIndex = from
    return ws.exec(text)?.index ?? -1
  }
  /** Where `n` characters other than whitespace after `from` have been passed, or -1 at the end. */
  const past = (from: number, n: number): number => {
    let i = from
    for (; i < text.length && n > 0; i++) {
      const c = text.charCodeAt(i)
      if (!(c === 32 || (c >= 9 && c <= 13) || ((c === 0xa0 || c >= 0x1680) && /\s/.test(text[i]!)))) n--
    }
    return n > 0 ? -1 : i
  }
  const first = nextSpace(chars)
  if (first < 0) return undefined
  const reach = past(first, 2 * margin)
  const end = reach < 0 ? -1 : nextSpace(reach)
  if (end < 0) return undefined
  const spans = spansOf(text.slice(0, end), text)
  // The cut moves past any span around it (a name, an address across lines).
  let cut = first
  for (const s of spans) {
    if (s.end <= cut) continue
    if (s.start >= cut) break
    cut = nextSpace(s.end)
    if (cut < 0) return undefined
  }
  const unused = past(cut, margin)
  if (unused < 0 || unused > end) return undefined
  return render(text.slice(0, cut), spans.filter((s) => s.end <= cut))
}

/**
 * Candidates, resolved. `whole`: `text` is a head of it; rules with no bound on how far they read
 * run over the whole, the rest over the head.
 */
function detect(text: string, names: NameFinder, addresses: AddressFinder, secrets: SecretFinder, custom: CompiledCustom, whole = text): PiiSpan[] {
  let candidates: Candidate[] = []
  const push = (start: number, end: number, type: SpanType, priority: number) => {
    if (end > start) candidates.push({start, end, type, priority})
  }
  const head = whole !== text
  const secret = (s: number, e: number) => {
    if (s < text.length) push(s, e, 'SECRET', PRIORITY.secret)
  }
  if (head) {
    secrets.find(text, secret, 'near', whole)
    secrets.find(whole, secret, 'far')
  } else secrets.find(text, secret)
  findStructured(text, push)
  if (text.length <= WINDOW && !head) {
    const toks = tokenize(text)
    addresses.find(text, toks, push)
    names.find(text, toks, push)
  } else {
    const lowerText = whole === whole.toLowerCase()
    for (const w of wordWindows(text)) {
      const part = text.slice(w.from, w.to)
      const toks = tokenize(part)
      const local = (s: number, e: number, type: SpanType, priority: number) => {
        if (w.from + s >= w.coreStart && w.from + s < w.coreEnd) push(w.from + s, w.from + e, type, priority)
      }
      addresses.find(part, toks, local, lowerText)
      names.find(part, toks, local, lowerText)
    }
  }
  for (const {type, re} of custom.patterns) {
    re.lastIndex = 0
    let m: RegExpExecArray | null
    while ((m = re.exec(whole)) !== null) {
      if (m[0].length === 0) {
        re.lastIndex++
        continue
      }
      if (m.index >= text.length) break
      push(m.index, m.index + m[0].length, type, PRIORITY.custom)
    }
  }
  // Word-level rules sit below every shape rule; history spares only what they found.
  candidates = dropHistorical(text, candidates, PRIORITY.zip, whole)
  if (custom.allow) candidates = allowed(text, candidates, custom.allow)
  return resolve(candidates, text)
}

/**
 * Long texts go through the word-level rules (names, places, addresses) in windows: each window's
 * core is WINDOW characters, read with MARGIN characters of context on either side, and keeps the
 * candidates that start in its core. The rules look at most a few words around a candidate, so the
 * candidates are those of one pass over the whole text; but a window's tokens die young, which
 * keeps a 900 KB prompt's 200,000 tokens out of the old generation of the garbage collector
 * (scrub time on it fell from 0.65 to 0.4 CPU-s in the steady state).
 */
const WINDOW = 16_384
const MARGIN = 512

interface WordWindow {
  from: number
  to: number
  coreStart: number
  coreEnd: number
}

export function wordWindows(text: string): WordWindow[] {
  const out: WordWindow[] = []
  // Window edges move to the next whitespace (within 64 characters), so they do not split a word.
  const snap = (at: number): number => {
    if (at <= 0) return 0
    if (at >= text.length) return text.length
    for (let i = at; i < Math.min(text.length, at + 64); i++) if (/\s/.test(text[i]!)) return i
    return at
  }
  let coreStart = 0
  while (coreStart < text.length) {
    const coreEnd = snap(coreStart + WINDOW)
    out.push({from: snap(coreStart - MARGIN), to: snap(coreEnd + MARGIN), coreStart, coreEnd})
    coreStart = coreEnd
  }
  return out
}

interface CompiledCustom {
  patterns: Array<{type: string; re: RegExp}>
  allow?: RegExp
}

const CUSTOM_TYPE = /^[A-Z][A-Z0-9_]{1,31}$/
const wordsRe = (words: string[]) => new RegExp(`(?<![\\p{L}\\p{N}])(?:${words.map((w) => w.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+')).filter(Boolean).join('|')})(?![\\p{L}\\p{N}])`, 'giu')

/** What is wrong with a deployment's own recognisers, each naming the entry; empty when usable. */
export function customProblems(custom: CustomRecognisers | undefined): string[] {
  const problems: string[] = []
  if (custom === undefined || custom === null) return problems
  if (typeof custom !== 'object') return ['privacy must be an object with recognizers, deny and allow']
  const typeProblem = (where: string, type: unknown) =>
    typeof type !== 'string' || !CUSTOM_TYPE.test(type) ? `${where}: type ${JSON.stringify(type)} must be 2-32 uppercase letters, digits or _, starting with a letter (it becomes the <TYPE> placeholder)` : undefined
  ;(custom.recognizers ?? []).forEach((r, i) => {
    const where = `privacy.recognizers[${i}]`
    const t = typeProblem(where, r?.type)
    if (t) problems.push(t)
    if (typeof r?.pattern !== 'string' || r.pattern === '') problems.push(`${where}: pattern must be a non-empty regular expression`)
    else {
      try {
        const re = new RegExp(r.pattern, (r.flags ?? '').replace(/g/g, ''))
        if (re.test('')) problems.push(`${where}: pattern ${JSON.stringify(r.pattern)} matches the empty string`)
      } catch (err) {
        problems.push(`${where}: pattern ${JSON.stringify(r.pattern)} is not a valid regular expression (${(err as Error).message})`)
      }
    }
  })
  ;(custom.deny ?? []).forEach((d, i) => {
    const where = `privacy.deny[${i}]`
    const t = typeProblem(where, d?.type)
    if (t) problems.push(t)
    if (!Array.isArray(d?.words) || d.words.some((w) => typeof w !== 'string' || w.trim() === '')) problems.push(`${where}: words must be a list of non-empty strings`)
  })
  if (custom.allow !== undefined && (!Array.isArray(custom.allow) || custom.allow.some((w) => typeof w !== 'string' || w.trim() === ''))) {
    problems.push('privacy.allow must be a list of non-empty strings')
  }
  return problems
}

function compileCustom(custom: CustomRecognisers | undefined): CompiledCustom {
  const problems = customProblems(custom)
  if (problems.length) throw new Error(problems.join('; '))
  const patterns: CompiledCustom['patterns'] = []
  for (const r of custom?.recognizers ?? []) patterns.push({type: r.type, re: new RegExp(r.pattern, (r.flags ?? '').replace(/g/g, '') + 'g')})
  for (const d of custom?.deny ?? []) if (d.words.length) patterns.push({type: d.type, re: wordsRe(d.words)})
  return {patterns, allow: custom?.allow?.length ? wordsRe(custom.allow) : undefined}
}

/**
 * Drops what an allow-listed word or phrase covers: a candidate inside an allowed occurrence goes; a
 * word-level one (a name run, a place) that reaches into it keeps its longer part outside. The
 * deployment's own recognisers are never dropped.
 */
function allowed(text: string, candidates: Candidate[], allow: RegExp): Candidate[] {
  const hits: Array<[number, number]> = []
  allow.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = allow.exec(text)) !== null) hits.push([m.index, m.index + m[0].length])
  if (hits.length === 0) return candidates
  const out: Candidate[] = []
  for (const c of candidates) {
    const hit = c.priority >= PRIORITY.custom ? undefined : hits.find(([s, e]) => s < c.end && e > c.start)
    if (!hit) {
      out.push(c)
      continue
    }
    if (hit[0] <= c.start && hit[1] >= c.end) continue
    if (c.priority >= TRIMMABLE_BELOW) continue
    const before = hit[0] - c.start
    const after = c.end - hit[1]
    if (before >= after && before > 1) out.push({...c, end: hit[0]})
    else if (after > 1) out.push({...c, start: hit[1]})
  }
  return out
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
