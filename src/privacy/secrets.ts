import {readFileSync} from 'node:fs'

/**
 * Secrets pasted into prompts: API keys, tokens, passwords, private keys, credentials in URLs.
 *
 * The base is gitleaks' rule list (217 rules for provider-prefixed keys, JWTs, private-key blocks and
 * high-entropy values after key-like names), taken as data with its keywords, entropy thresholds and
 * allow-lists (assets/secrets/gitleaks-rules.json, MIT, converted by scripts/gitleaks-rules.mjs).
 * gitleaks is written for source files, where a secret sits after `name = `; prompts carry secrets
 * in prose, so a few rules of qis's own add the forms it misses:
 * - credentials in URLs and connection strings (`postgres://app:S3cr3t@db`): the user:password part;
 * - passwords after a password word in prose or config (`my password is hunter2`, `pwd: x9!`), when
 *   the value is not an ordinary word or a placeholder;
 * - provider-prefixed keys of any length (`sk-proj-...`, `xoxb-...`, `AKIA...`): gitleaks wants the
 *   exact length, and a key pasted into a prompt is often cut or re-typed;
 * - long high-entropy tokens (20+ characters, mixed character classes) within a few words of a
 *   key-like word (key, token, secret, bearer, credential, ...).
 */
export interface SecretRule {
  id: string
  source: string
  flags: string
  secretGroup?: number
  entropy?: number
  keywords: string[]
  allow?: Array<{target: 'secret' | 'match' | 'line'; regexes?: Array<{source: string; flags: string}>; stopwords?: string[]}>
}

interface RuleFile {
  commit: string
  rules: SecretRule[]
  allow: {regexes: Array<{source: string; flags: string}>; stopwords: string[]}
}

interface Compiled {
  id: string
  re: RegExp
  secretGroup?: number
  entropy?: number
  keywords: string[]
  allow: Array<{target: string; regexes: RegExp[]; stopwords: string[]}>
  /** Matches may run far past the keyword (key blocks, multi-line curl commands): never windowed. */
  unbounded: boolean
  /**
   * Matches may run across any amount of text with whitespace in it (key blocks, curl commands):
   * a head of the text is no guide to them. The other unbounded rules only run on without whitespace.
   */
  far: boolean
}

export type SecretPush = (start: number, end: number) => void

/** Shannon entropy in bits per character, as gitleaks computes it. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0
  const counts = new Map<string, number>()
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1)
  let h = 0
  for (const n of counts.values()) {
    const p = n / s.length
    h -= p * Math.log2(p)
  }
  return h
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Unbounded repeats of something that may be whitespace: [\s\S], ., [\r\n], a negated class. */
const FAR = /\[\\s\\S|\.\*|\.\+|\.\{\d+,\}|\[\\r\\n\]|\[\^[^\]]*\](?:\{\d+,\}|[*+])/

let loaded: {rules: Compiled[]; keywordRe: RegExp; noKeyword: Compiled[]; globalRegexes: RegExp[]; globalStopwords: string[]; commit: string} | undefined

function load() {
  if (loaded) return loaded
  const file = JSON.parse(readFileSync(new URL('../../assets/secrets/gitleaks-rules.json', import.meta.url), 'utf8')) as RuleFile
  const rules: Compiled[] = file.rules.map((r) => ({
    id: r.id,
    // d: group indices, to place the secret inside the match.
    re: new RegExp(r.source, r.flags.replace(/[gd]/g, '') + 'gd'),
    secretGroup: r.secretGroup,
    entropy: r.entropy,
    keywords: r.keywords,
    allow: (r.allow ?? []).map((a) => ({target: a.target, regexes: (a.regexes ?? []).map((x) => new RegExp(x.source, x.flags)), stopwords: a.stopwords ?? []})),
    unbounded: /\[\\s\\S|\[\\r\\n\]|\{\d+,\}/.test(r.source) || r.flags.includes('s'),
    far: FAR.test(r.source) || r.flags.includes('s'),
  }))
  const keywords = [...new Set(rules.flatMap((r) => r.keywords))].sort((a, b) => b.length - a.length)
  loaded = {
    rules,
    keywordRe: new RegExp(keywords.map(escape).join('|'), 'g'),
    noKeyword: rules.filter((r) => r.keywords.length === 0),
    globalRegexes: file.allow.regexes.map((x) => new RegExp(x.source, x.flags)),
    globalStopwords: file.allow.stopwords,
    commit: file.commit,
  }
  return loaded
}

/** The gitleaks commit the rules were taken from. */
export function gitleaksCommit(): string {
  return load().commit
}

const URL_CREDENTIALS = /\b[a-z][a-z0-9+.-]{1,20}:\/\/([^\s:/@'"<>]{0,100}):([^\s@/'"<>]{1,200})@[\w.-]/gi
const PASSWORD = /(?<![A-Za-z0-9])(?:[A-Za-z0-9]+_)*(?:passwords?|passwd|pwd|pass ?phrase|passcode|pw|pin|secret|secret[_ ]?key|api[_ ]?key|access[_ ]?key|token)(?![A-Za-z0-9])(?:\s+(?:for|of|to)\s+[\w.@-]{1,40})?\s*["']?\s*(?:=|:|=>|\bis\b|\bwas\b|\bis set to\b)\s*["'`]?([^\s"'`,;]{4,200})/gi
/** Prefixes providers put before their keys, from their documentation; the rest must look random. */
const PREFIXED =
  /(?<![\w-])(?:sk-(?:proj-|svcacct-|admin-|ant-(?:api\d\d-|admin\d\d-)?|or-v1-)?|sk_(?:live|test)_|rk_(?:live|test)_|pk_(?:live|test)_|whsec_|xox[abposre]-|xapp-|gh[pousr]_|github_pat_|glpat-|gldt-|AKIA|ASIA|AIza|ya29\.|hf_|r8_|gsk_|xai-|pplx-|nvapi-|npm_|pypi-|dop_v1_|doo_v1_|shpat_|shpss_|SG\.|key-|pat-(?:na|eu)\d-|sq0atp-|sq0csp-|EAA[A-Za-z0-9]{3}|AC[a-f0-9]{32}|SK[a-f0-9]{32})[A-Za-z0-9_\-.]{12,}/g
const CONTEXT_WORD = /\b(?:key|keys|token|tokens|secret|secrets|password|passwd|credential|credentials|bearer|authorization|auth|apikey|api_key|access_key|private_key|client_secret|signing|hmac|webhook)\b/i
const LONG_TOKEN = /(?<![\w+/=.-])[A-Za-z0-9+/_=.-]{20,512}(?![\w+/=.-])/g
/** Values after a password word that are not a password. */
const PLACEHOLDER = /^(?:<[^>]*>?|\$\{?\w+\}?|\{\{.*|%\w+%?|\*+|x{3,}|\.{3,}|null|none|undefined|true|false|required|empty|blank|hidden|redacted|changeme|\[.*)$|^(?:os\.|process\.env|env\(|getenv|config\.|settings\.|input\(|self\.|this\.|req\.|request\.)|^(?:your|my|the|a|an)[_-]|_here$|[_-]?placeholder$/i

export class SecretFinder {
  private readonly r = load()

  constructor(private readonly isWord: (lower: string) => boolean) {}

  /**
   * `rules`: 'far' runs only the gitleaks rules whose matches run across any amount of text with
   * whitespace in it (a head's scrub runs them over the whole text), 'near' all the others.
   * `whole`: `text` is a head of it (allow-lists that test a secret's whole line read the line there).
   */
  find(text: string, push: SecretPush, rules: 'all' | 'near' | 'far' = 'all', whole = text): void {
    const lower = text.toLowerCase()
    this.gitleaks(text, lower, push, rules, whole)
    if (rules !== 'far') this.own(text, lower, push)
  }

  private gitleaks(text: string, lower: string, push: SecretPush, which: 'all' | 'near' | 'far', whole: string): void {
    const {rules, keywordRe, noKeyword} = this.r
    // Unbounded rules run over the whole text when it holds a keyword anywhere (gitleaks' own test),
    // found by a substring search each: a head's scrub runs them on the whole text, and a few
    // searches beat the keyword scan there.
    for (const rule of rules) {
      if (!rule.unbounded || (which === 'far' && !rule.far) || (which === 'near' && rule.far)) continue
      if (rule.keywords.length === 0 || rule.keywords.some((w) => lower.includes(w))) this.run(rule, text, 0, text.length, push, whole)
    }
    if (which === 'far') return
    // Where each keyword occurs: a rule runs only around its keywords (see windows).
    const found = new Map<string, number[]>()
    keywordRe.lastIndex = 0
    let k: RegExpExecArray | null
    while ((k = keywordRe.exec(lower)) !== null) {
      const at = found.get(k[0])
      if (at) at.push(k.index)
      else found.set(k[0], [k.index])
    }
    if (found.size === 0 && noKeyword.length === 0) return
    // Lowercasing changed some lengths (İ): keyword positions are not text positions, so scan it all.
    const positional = lower.length === text.length
    for (const rule of rules) {
      if (rule.unbounded) continue
      let hits: number[] | undefined
      if (rule.keywords.length > 0) {
        // A keyword inside a longer one that matched first (sk- in sk-ant-api03) counts too.
        for (const [f, at] of found) {
          if (!rule.keywords.some((w) => f.includes(w))) continue
          hits = hits ? hits.concat(at) : at.slice()
        }
        if (!hits) continue
      }
      if (!hits || !positional) this.run(rule, text, 0, text.length, push, whole)
      else for (const [s, e] of windows(hits, text.length)) this.run(rule, text, s, e, push, whole)
    }
  }

  /** Run one rule over text[from, to), pushing the secrets it finds (positions in the whole text). */
  private run(rule: Compiled, text: string, from: number, to: number, push: SecretPush, whole: string): void {
    const part = from === 0 && to === text.length ? text : text.slice(from, to)
    rule.re.lastIndex = 0
    let m: RegExpExecArray | null
    while ((m = rule.re.exec(part)) !== null) {
      if (m[0].length === 0) {
        rule.re.lastIndex++
        continue
      }
      let g = rule.secretGroup ?? 0
      if (!rule.secretGroup) for (let i = 1; i < m.length; i++) if (m[i] !== undefined) { g = i; break }
      const span = m.indices?.[g]
      if (!span) continue
      const secret = m[g]!
      if (rule.entropy !== undefined && shannonEntropy(secret) < rule.entropy) continue
      if (this.allowed(rule, secret, m[0], whole, from + m.index)) continue
      push(from + span[0], from + span[1])
    }
  }

  private allowed(rule: Compiled, secret: string, match: string, text: string, at: number): boolean {
    const s = secret.toLowerCase()
    if (this.r.globalRegexes.some((re) => re.test(secret)) || this.r.globalStopwords.some((w) => s.includes(w))) return true
    for (const a of rule.allow) {
      const target = a.target === 'match' ? match : a.target === 'line' ? lineAt(text, at) : secret
      if (a.regexes.some((re) => re.test(target))) return true
      if (a.stopwords.some((w) => s.includes(w))) return true
    }
    return false
  }

  private own(text: string, lower: string, push: SecretPush): void {
    if (lower.includes('://')) {
      URL_CREDENTIALS.lastIndex = 0
      let m: RegExpExecArray | null
      while ((m = URL_CREDENTIALS.exec(text)) !== null) {
        const pass = m[2]!
        if (PLACEHOLDER.test(pass)) continue
        const start = m.index + m[0].indexOf('://') + 3
        push(start, start + m[1]!.length + 1 + pass.length)
      }
    }
    PASSWORD.lastIndex = 0
    let m: RegExpExecArray | null
    while ((m = PASSWORD.exec(text)) !== null) {
      const value = m[1]!.replace(/[.)\]}>]+$/, '')
      if (value.length < 4 || PLACEHOLDER.test(value)) continue
      // "my password is expired": an ordinary word is not a password; anything with a digit, a symbol,
      // mixed case or length past 12 may be.
      const plain = /^[a-z]+$/i.test(value) && value.length < 12 && (value === value.toLowerCase() || value === value[0] + value.slice(1).toLowerCase())
      if (plain && this.isWord(value.toLowerCase())) continue
      const start = m.index + m[0].length - m[1]!.length
      push(start, start + value.length)
    }
    PREFIXED.lastIndex = 0
    while ((m = PREFIXED.exec(text)) !== null) {
      const token = m[0].replace(/[.\-_]+$/, '')
      if (shannonEntropy(token) < 3 || !/\d/.test(token) || PLACEHOLDER.test(token) || /x{6,}|(.)\1{7,}/i.test(token)) continue
      push(m.index, m.index + token.length)
    }
    LONG_TOKEN.lastIndex = 0
    while ((m = LONG_TOKEN.exec(text)) !== null) {
      const token = m[0].replace(/[.=]+$/, (x) => (x.startsWith('=') ? x : ''))
      if (token.length < 20) continue
      const classes = (/[a-z]/.test(token) ? 1 : 0) + (/[A-Z]/.test(token) ? 1 : 0) + (/\d/.test(token) ? 1 : 0)
      if (classes < 2 || shannonEntropy(token) < 3.5) continue
      // Paths and dotted names (src/Foo/bar.ts, com.example.App) are words joined, not tokens.
      if (/[/.]/.test(token) && token.split(/[/.]/).every((seg) => /^[A-Z]?[a-z0-9_-]*$/.test(seg))) continue
      if (!CONTEXT_WORD.test(text.slice(Math.max(0, m.index - 48), m.index))) continue
      push(m.index, m.index + token.length)
    }
  }
}

/**
 * gitleaks matches contain their rule's keyword, so only text near a keyword can match. Most rules
 * start with `[\w.-]{0,50}?` before the keyword, which tried at every position of a long prompt that
 * merely mentions "discord" costs 50 steps a character; run over merged windows around the keyword
 * hits instead, the whole text costs what its keyword neighbourhoods cost.
 */
const WINDOW_BEFORE = 256
const WINDOW_AFTER = 2048

function windows(hits: number[], length: number): Array<[number, number]> {
  hits.sort((a, b) => a - b)
  const out: Array<[number, number]> = []
  for (const h of hits) {
    const s = Math.max(0, h - WINDOW_BEFORE)
    const e = Math.min(length, h + WINDOW_AFTER)
    const last = out[out.length - 1]
    if (last && s <= last[1]) last[1] = Math.max(last[1], e)
    else out.push([s, e])
  }
  return out
}

function lineAt(text: string, at: number): string {
  const s = text.lastIndexOf('\n', at) + 1
  const e = text.indexOf('\n', at)
  return text.slice(s, e < 0 ? text.length : e)
}
