import {fold, type Lexicon} from './lexicon.js'
import {PRIORITY} from './patterns.js'
import {isAllCaps, isCapitalised, type Token} from './tokens.js'
import type {PiiType} from './types.js'

/**
 * Street addresses, in the forms real text uses: `123 Main Street`, `Rue Victor Hugo 40`,
 * `Genterstrasse 49`, `49 Bergshaugen 43`, `P.O. Box 255`, `Apt. 680`, military `PSC 4296, Box 4371`
 * / `APO AA 03140`, followed by what usually comes after a street line: unit, city, state code,
 * postal code and country, across commas and single line breaks (a blank line ends an address).
 */

const SUFFIX = new Set(
  ('street st road rd avenue ave av boulevard blvd lane ln drive dr court ct way place pl square sq terrace ' +
    'parkway pkwy highway hwy circle cir crescent cres close grove gardens gdns row walk mews trail trl alley plaza ' +
    'loop pike creek heights hts ridge wharf quay esplanade parade pde freeway expressway causeway str').split(' '),
)
const PREFIX = new Set(
  ('rue rua via viale vicolo piazza piazzale corso calle carrer avenida avda avenue boulevard bd chemin allée ' +
    'ul ulica al aleja strada travessa largo praça rambla paseo camino quai impasse rr ulitsa prospekt ' +
    'plac rynek').split(' '),
)
const COMPOUND = /(?:straße|strasse|stasse|str|gasse|weg|allee|platz|damm|ufer|vej|gade|vænget|stræde|allé|alléen|laan|straat|gracht|plein|dijk|kade|singel|gatan|gata|vägen|väg|gränd|katu|tie|kuja|utca|út|útja|veien|vegen|gaten|ulica|cesta|straden|steig|pfad)$/
const UNIT = new Set(['apt', 'apartment', 'suite', 'ste', 'unit', 'flat', 'floor', 'fl', 'room', 'rm', 'bldg', 'building', 'box', 'psc', 'cmr'])
/** US Navy and Coast Guard ship prefixes in military addresses (USS Name, FPO AP 12345). */
const SHIP_PREFIX = new Set(['USS', 'USNS', 'USNV', 'USCGC', 'USAV'])
/** Words before a place that say an address follows ("lives at Bygget 91"). */
const ADDRESS_CUE = /\b(?:address(?: is)?|live[sd]? (?:at|on|in)|living (?:at|on)|located (?:at|on)|resides? (?:at|on)|deliver(?:ed)? to|sen[dt](?: it)? to|ship(?:ped)? to|meet(?: me)? at|return(?: it)? to|corner of|moved to)\W{0,4}$/i
// Lowercase words inside place names, also the Czech, Slovak and Slovene ones (Ústí nad Labem,
// Hrušovany u Brna, Loka pri Zidanem Mostu).
const CONNECT = new Set(['and', 'de', 'del', 'della', 'la', 'le', 'les', 'di', 'da', 'do', 'dos', 'das', 'van', 'von', 'der', 'den', 'of', 'the', 'am', 'an', 'im', 'sur', 'upon', 'on', 'en', 'y', 'al', 'el', 'nad', 'pod', 'u', 'pri', 'na', 'ob'])

export interface AddressSpan {
  start: number
  end: number
  type: PiiType
  priority: number
}

export class AddressFinder {
  constructor(private readonly lex: Lexicon) {}

  private lower(t: Token | undefined): string {
    return t ? t.lower : ''
  }

  /** A word that can be part of a street or place name: capitalised, all caps, or not ordinary English. */
  private nameWord(t: Token | undefined): boolean {
    if (!t || t.kind !== 'word') return false
    const l = t.lower
    if (CONNECT.has(l)) return false
    return t.cap || !this.lex.common.has(l) || this.lex.places.has(fold(l))
  }

  private distinctive(t: Token): boolean {
    return t.kind === 'word' && (!this.lex.common.has(t.lower) || this.lex.places.has(fold(t.lower)) || isAllCaps(t.text))
  }

  private num(t: Token | undefined, maxLen = 5): boolean {
    return !!t && t.kind === 'num' && t.text.length <= maxLen
  }

  /** Whether the text being scanned has no capitals (set per find call; lowercasing per token would be quadratic). */
  private lowerText = false

  /** `lowerText`: whether the whole text has no capitals (given when `text` is one window of it). */
  find(text: string, toks: Token[], push: (s: number, e: number, type: PiiType, p: number) => void, lowerText = text === text.toLowerCase()): void {
    this.lowerText = lowerText
    const sameLine = (a: Token, b: Token) => !text.slice(a.end, b.start).includes('\n')
    let i = 0
    while (i < toks.length) {
      const end = this.core(text, toks, i, sameLine)
      if (end < 0) {
        i++
        continue
      }
      const last = this.extend(text, toks, end)
      push(toks[i]!.start, toks[last]!.end, 'ADDRESS', PRIORITY.address)
      i = last + 1
    }
  }

  /** Index of the last token of a street line starting at i, or -1. */
  private core(text: string, toks: Token[], i: number, sameLine: (a: Token, b: Token) => boolean): number {
    const t = toks[i]!
    // Cheap exit for the common case: an address starts with a number or a capitalised or keyword word.
    if (t.kind === 'punct' || t.kind === 'newline') return -1
    if (t.kind === 'word' && !t.cap && !PREFIX.has(t.lower) && !UNIT.has(t.lower) && t.lower !== 'p' && t.lower !== 'po') return -1
    const run = (from: number, max: number, ok: (t: Token) => boolean): number => {
      let j = from
      while (j < toks.length && j - from < max && ok(toks[j]!) && sameLine(toks[from - 1] ?? toks[from]!, toks[j]!)) j++
      return j // first index not in the run
    }
    const wordOrConnector = (x: Token) => this.nameWord(x) || (x.kind === 'word' && CONNECT.has(x.text.toLowerCase()))
    const afterDot = (j: number) => (toks[j]?.text === '.' ? j + 1 : j)

    // Leading house numbers (up to two: "38 73 Rue ...").
    let j = i
    while (j < i + 2 && this.num(toks[j]) && sameLine(t, toks[j]!)) j++
    const numbers = j - i
    if (numbers === 0 && t.kind !== 'word') return -1

    // Post boxes, possibly after a house number.
    {
      const l = this.lower(toks[j])
      if ((l === 'p' && toks[j + 1]?.text === '.' && this.lower(toks[j + 2]) === 'o') || l === 'po') {
        let k = l === 'po' ? j + 1 : j + 3
        if (toks[k]?.text === '.') k++
        if (this.lower(toks[k]) === 'box' && this.num(toks[k + 1], 8)) return k + 1
      }
    }
    // Military addresses, units on their own.
    if (numbers === 0) {
      const l = this.lower(t)
      if (UNIT.has(l) && l !== 'floor' && l !== 'room' && l !== 'building') {
        const k = afterDot(i + 1)
        const kk = toks[k]?.text === '#' ? k + 1 : k
        if (this.num(toks[kk], 6) && (isCapitalised(t.text) || l === 'apt' || l === 'psc' || this.lowerText)) {
          // Unit 4502 Box 4881, PSC 4296, Box 4371
          let e = kk
          const n1 = toks[e + 1]?.text === ',' ? e + 2 : e + 1
          if (this.lower(toks[n1]) === 'box' && this.num(toks[n1 + 1], 6)) e = n1 + 1
          return e
        }
      }
      const lowerText = this.lowerText
      const upper = lowerText ? t.text.toUpperCase() : t.text
      if ((upper === 'APO' || upper === 'FPO' || upper === 'DPO') && /^[A-Z]{2}$/.test(lowerText ? (toks[i + 1]?.text ?? '').toUpperCase() : (toks[i + 1]?.text ?? '')) && this.num(toks[i + 2])) return i + 2
      if (SHIP_PREFIX.has(upper) && this.nameWord(toks[i + 1])) return i + 1
    }

    // Street prefix: [num] Rue|Via|Calle ... words [num]
    if (t.kind === 'word' || numbers > 0) {
      const p = j
      if (toks[p]?.kind === 'word' && PREFIX.has(this.lower(toks[p]))) {
        const w0 = afterDot(p + 1)
        const w1 = run(w0, 5, wordOrConnector)
        if (w1 > w0 && this.nameWord(toks[w1 - 1])) {
          if (this.num(toks[w1]) && sameLine(toks[w1 - 1]!, toks[w1]!)) return w1
          if (numbers > 0) return w1 - 1
        }
      }
    }

    if (numbers > 0) {
      // [num] words Street  /  num words num
      const w1 = run(j, 5, (x) => x.kind === 'word' && (this.nameWord(x) || SUFFIX.has(x.text.toLowerCase())))
      for (let k = w1 - 1; k >= j; k--) {
        const l = this.lower(toks[k])
        if (SUFFIX.has(l) && k > j) {
          const words = toks.slice(j, k)
          // "3 cats on the way" has ordinary words before `way`: street names are capitalised or not English.
          if (words.every((x) => isCapitalised(x.text) || !this.lex.common.has(x.text.toLowerCase()))) {
            return toks[k + 1]?.text === '.' && /^(st|rd|ave|av|blvd|ln|dr|ct|pl|sq|ter|pkwy|hwy|cir|cres|gdns|trl|pde|hts|str)$/.test(l) ? k + 1 : k
          }
        }
        if (COMPOUND.test(l) && l.length > 4) {
          const w = toks.slice(j, k + 1)
          if (this.num(toks[k + 1]) && sameLine(toks[k]!, toks[k + 1]!)) return k + 1
          if (w.every((x) => this.nameWord(x))) return k
        }
      }
      // num words num: "49 Bergshaugen 43", "14 Republica de Chile 8305", "64 Király u. 23", "48 Αγ. Ανδρέα 34"
      // An abbreviation: a short word with its dot attached (u., Αγ., St.).
      const abbr = (q: number) => toks[q]!.kind === 'word' && toks[q]!.text.length <= 3 && toks[q + 1]?.text === '.' && toks[q + 1]!.start === toks[q]!.end
      let w2 = j
      while (w2 < toks.length && w2 - j < 6 && sameLine(toks[j]!, toks[w2]!)) {
        const x = toks[w2]!
        if (wordOrConnector(x) || abbr(w2)) w2++
        else if (x.text === '.' && w2 > j && abbr(w2 - 1)) w2++
        else break
      }
      if (w2 > j && this.num(toks[w2]) && sameLine(toks[w2 - 1]!, toks[w2]!)) {
        const words = toks.slice(j, w2)
        // Spaces between the parts (2PO4 is a formula) and a real name among the words (5 ft 5 is a height).
        const parts = [toks[j - 1]!, ...words.filter((x) => x.text !== '.'), toks[w2]!]
        const spaced = parts.every((x, q, a) => q === 0 || (x.start > a[q - 1]!.end && x.start - a[q - 1]!.end <= 3))
        const named = words.filter((x) => x.kind === 'word')
        const edgeOk = (x: Token) => this.nameWord(x) || (x.text.length <= 3 && text[x.end] === '.')
        if (spaced && named.some((x) => this.distinctive(x) && x.text.length >= 3 && (x.cap || this.lowerText)) && edgeOk(named[0]!) && edgeOk(named[named.length - 1]!)) {
          return toks[w2 + 1]?.text === '.' && toks[w2 + 1]!.start === toks[w2]!.end && toks[w2 + 2]?.text === ',' ? w2 + 1 : w2
        }
      }
      return -1
    }

    // A named street without a number: "Almeida Street", "the corner of Sinko Street and ..."
    if (t.kind === 'word' && isCapitalised(t.text) && this.nameWord(t)) {
      const w1 = run(i, 4, (x) => x.kind === 'word' && isCapitalised(x.text))
      for (let k = i + 1; k < w1; k++) {
        const l = this.lower(toks[k])
        if (l === 'street' || l === 'avenue' || l === 'road' || l === 'boulevard' || l === 'lane') {
          if (toks.slice(i, k).some((x) => this.distinctive(x) && !this.lex.firstNames.has(x.text.toLowerCase()))) return k
          break
        }
      }
    }

    // After an address cue, a name and a house number: "lives at Bygget 91", "return to Sorlaskeid 32"
    if (t.kind === 'word' && t.cap && this.distinctive(t) && ADDRESS_CUE.test(text.slice(Math.max(0, t.start - 40), t.start))) {
      let k = i
      while (k < i + 3 && this.nameWord(toks[k]) && sameLine(t, toks[k]!)) k++
      if (k > i && this.num(toks[k]) && sameLine(t, toks[k]!)) return k
    }
    // Word-first European form: [Capitalised]{0,2} Xxxstrasse 49
    if (t.kind === 'word' && isCapitalised(t.text)) {
      for (let k = i; k < i + 3 && k < toks.length; k++) {
        const x = toks[k]!
        if (x.kind !== 'word' || !sameLine(t, x)) break
        const l = x.text.toLowerCase()
        if (COMPOUND.test(l) && l.length > 5 && this.num(toks[k + 1]) && sameLine(x, toks[k + 1]!)) return k + 1
        if (!this.nameWord(x)) break
      }
    }
    return -1
  }

  /** Index of the last token of a known place starting at k, or -1. */
  private placeAt(text: string, toks: Token[], k: number): number {
    const t = toks[k]
    if (!t || t.kind !== 'word' || !this.lex.placeStarts.has(fold(t.lower))) return -1
    let phrase = fold(t.lower)
    let best = this.lex.places.has(phrase) ? k : -1
    for (let j = k + 1; j < toks.length && j - k < this.lex.placeMaxWords; j++) {
      const x = toks[j]!
      if (x.kind !== 'word' || text.slice(toks[j - 1]!.end, x.start) !== ' ') break
      phrase += ' ' + fold(x.lower)
      if (this.lex.places.has(phrase)) best = j
    }
    return best
  }

  /** Extend an address over unit, city, state, postal code and country parts. */
  private extend(text: string, toks: Token[], last: number): number {
    let steps = 0
    while (steps++ < 8) {
      let k = last + 1
      let newlines = 0
      // Separators: commas, one line break, list bullets at a line start.
      while (k < toks.length) {
        const x = toks[k]!
        if (x.text === ',') k++
        else if (x.kind === 'newline') {
          newlines++
          k++
        } else if (newlines > 0 && x.kind === 'punct' && /[?•*>|\-–—]/.test(x.text)) k++
        else break
      }
      if (k >= toks.length) break
      // A blank line ends the address, unless what follows is plainly its country or postal code.
      if (newlines > 1 && !(newlines === 2 && (toks[k]!.kind === 'num' || this.lex.places.has(fold(toks[k]!.text))))) break
      if (text.slice(toks[last]!.end, toks[k]!.start).includes('.')) break
      const x = toks[k]!
      const l = x.text.toLowerCase()
      // Unit: Apt. 123 / Suite 12 / # 4
      if ((UNIT.has(l) || x.text === '#') && this.num(toks[x.text === '#' ? k + 1 : toks[k + 1]?.text === '.' ? k + 2 : k + 1], 6)) {
        last = x.text === '#' ? k + 1 : toks[k + 1]?.text === '.' ? k + 2 : k + 1
        continue
      }
      // Postal code: 12345, 12345-6789, 12-345, NW1 6XE
      if (x.kind === 'num' && (x.text.length >= 4 && x.text.length <= 6)) {
        const nxt = toks[k + 1]
        if (nxt && nxt.text === '-' && toks[k + 2]?.kind === 'num' && text[nxt.end] !== ' ') {
          if (toks[k + 2]!.text.length === 4) {
            last = k + 2
            continue
          }
          break // 0431-35-06-90 is a phone number
        }
        if (nxt && nxt.kind === 'num' && !text.slice(x.end, nxt.start).includes('\n')) break
        last = k
        continue
      }
      if (x.kind === 'num' && x.text.length === 2 && toks[k + 1]?.text === '-' && toks[k + 2]?.text.length === 3 && toks[k + 3]?.kind !== 'punct') {
        last = k + 2
        continue
      }
      // State or province code: PA, NSW
      if (x.kind === 'word' && /^[A-Z]{2,3}$/.test(x.text)) {
        last = k
        continue
      }
      // A known place, possibly several words (Czech Republic, Antigua and Barbuda).
      const placeEnd = this.placeAt(text, toks, k)
      if (placeEnd >= 0) {
        last = placeEnd
        continue
      }
      // City, region, country: 1-4 name words, needing at least one that is not ordinary English.
      if (x.kind === 'word') {
        let e = k
        if (CONNECT.has(x.lower) && x.cap && this.nameWord(toks[k + 1])) e++ // El Tornadizo, La Paz
        let ok = false
        while (e < toks.length && e - k < 5) {
          const y = toks[e]!
          if (y.kind !== 'word') break
          if (e > k && text.slice(toks[e - 1]!.end, y.start).includes('\n')) break
          const yl = y.text.toLowerCase()
          if (e > k && CONNECT.has(yl) && this.nameWord(toks[e + 1])) {
            e++
            continue
          }
          if (y.text.length === 1 && e > k && isCapitalised(y.text)) {
            e++
            continue
          }
          if (!this.nameWord(y)) break
          if (this.distinctive(y)) ok = true
          e++
        }
        if (!ok || e === k) break
        last = e - 1
        // A district number ends a city line (Praha 2, Karlovy Vary 17), before a comma or line break.
        const d = toks[e]
        const after = toks[e + 1]
        if (d && d.kind === 'num' && d.text.length <= 2 && text.slice(toks[last]!.end, d.start) === ' ' && (!after || after.kind === 'newline' || after.text === ',')) last = e
        // A second name in brackets (ΑΓΛΑΝΤΖΙΑ (ΑΓΛΑΓΓΙΑ)): a place's other spelling or language.
        else if (d?.text === '(' && this.nameWord(toks[e + 1]) && sameLineText(text, d.start, toks[e + 1]!.start)) {
          let q = e + 1
          while (q < e + 4 && this.nameWord(toks[q])) q++
          if (toks[q]?.text === ')' && sameLineText(text, d.start, toks[q]!.end)) last = q
        }
        continue
      }
      break
    }
    return last
  }
}

function sameLineText(text: string, from: number, to: number): boolean {
  return !text.slice(from, to).includes('\n')
}
