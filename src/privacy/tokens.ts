/** Word-level view of a text for the name, place and address rules. */
export interface Token {
  text: string
  start: number
  end: number
  kind: 'word' | 'num' | 'newline' | 'punct'
  /** text.toLowerCase(), computed once: every rule looks words up in lowercase. */
  lower: string
  /** First letter upper case (and the word not a single-case script). */
  cap: boolean
}

// Ordinals (40th, 2nd) are one word: street names use them (40th Street).
const TOKEN = /\d+(?:st|nd|rd|th)(?![\p{L}\d])|[\p{L}\p{M}]+(?:[-'’][\p{L}\p{M}]+)*|\d+|\n|[^\s\p{L}\p{M}\d]/gu

export function tokenize(text: string): Token[] {
  const out: Token[] = []
  TOKEN.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = TOKEN.exec(text)) !== null) {
    const t = m[0]
    const c = t.charCodeAt(0)
    const digit = c >= 48 && c <= 57
    const kind = t === '\n' ? 'newline' : digit ? (/\d$/.test(t) ? 'num' : 'word') : /[\p{L}\p{M}]/u.test(t[0]!) ? 'word' : 'punct'
    const lower = kind === 'word' ? t.toLowerCase() : t
    out.push({text: t, start: m.index, end: m.index + t.length, kind, lower, cap: kind === 'word' && lower[0] !== t[0]})
  }
  return out
}

export function isCapitalised(word: string): boolean {
  const first = word[0]!
  return first !== first.toLowerCase() && first === first.toUpperCase()
}

export function isAllCaps(word: string): boolean {
  return word.length > 1 && word === word.toUpperCase() && word !== word.toLowerCase()
}

/** `Konrad's` -> `Konrad`: possessives are looked up and replaced without their `'s`. */
export function stripPossessive(word: string): string {
  return word.replace(/['’]s$/i, '')
}
