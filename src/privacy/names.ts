import {fold, type Lexicon} from './lexicon.js'
import {PRIORITY} from './patterns.js'
import {isAllCaps, isCapitalised, stripPossessive, type Token} from './tokens.js'
import type {PiiType} from './types.js'

/**
 * Person names, places, titles and organisations from word shape, lexicons and context, without a
 * parser: a capitalised word that is not ordinary English (SCOWL) or is a known first or last name
 * (compromise) starts a name; the name runs over the following name-like words on the same line.
 * In all-lowercase text only known first names (and the words right after them) are taken.
 * Places come from compromise's place lexicon and from prepositions (`in`, `from`, ...).
 */

const NAME_SUFFIX = new Set(['md', 'phd', 'jr', 'sr', 'ii', 'iii', 'iv', 'esq', 'dds', 'rn', 'cpa'])
const ORG_SUFFIX = new Set([
  'inc', 'ltd', 'llc', 'llp', 'corp', 'corporation', 'co', 'company', 'gmbh', 'ag', 'sa', 'plc', 'group', 'bv', 'nv',
  'foundation', 'association', 'institute', 'university', 'bank', 'hospital', 'clinic', 'partners', 'holdings',
])
/** Words that end a name run: what follows a name, not part of it. */
const RUN_STOP = new Set([
  'apt', 'apartment', 'suite', 'unit', 'street', 'st', 'road', 'rd', 'avenue', 'ave', 'lane', 'drive', 'boulevard', 'blvd',
  'way', 'court', 'place', 'square', 'box', 'po',
])
/** Lowercase particles inside names: Donald van der Voet, Teresa de Vaan. */
const PARTICLES = new Set(['van', 'von', 'der', 'den', 'de', 'da', 'di', 'del', 'della', 'du', 'la', 'le', 'ten', 'ter', 'bin', 'ibn', 'al', 'el', 'dos', 'das'])
/** Contraction endings: I'm, We'll, Don't are not names. */
const CONTRACTION = /['’](?:m|d|ll|re|ve|t|s)$/i
const PLACE_PREPOSITIONS = new Set(['in', 'from', 'at', 'to', 'near', 'visit', 'visiting', 'visited', 'around', 'across', 'into', 'towards', 'toward'])
/** Phrases after which the next word is a name even when it is lowercase. */
const NAME_CUES = [/\bmy name is\s*$/i, /\bname is\s*$/i, /\bname:\s*$/i, /\bcall me\s*$/i, /\b(?:hi|hello|hey|dear)[ ,]+$/i, /\b(?:hi|hello|hey)[ ,]+(?:i'?m|i am|this is|it'?s) $/i, /\bi am\s*$/i, /\bi'm\s*$/i, /^im\s*$/i, /[.!?,] *im\s*$/i, /\bthis is\s*$/i, /\bpatient:?\s*$/i]
/** Last words of NAME_CUES: the cue regexes run only after one of these. */
const CUE_ENDS = new Set(['is', ':', 'me', 'hi', 'hello', 'hey', 'dear', ',', 'am', "i'm", 'i’m', 'im', "it's", 'its', 'this', 'patient'])
/** Words that say who is speaking rather than being a name ("hi im ...", "hey it's ..."). */
const NOT_NAME_AFTER_GREETING = new Set(['im', 'i', "i'm", 'i’m', 'its', "it's", 'this', 'my', 'there', 'all', 'everyone', 'team', 'guys', 'folks'])
/** Honorifics that can stand before a surname that is also an English word (Dr. Ball). */
const STRONG_HONORIFIC = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'madam', 'dame', 'herr', 'frau', 'mme', 'mlle', 'rev'])

// ASCII only: identifiers are ASCII, and mis-decoded accents (SÃ£o) put capitals inside real names.
const INNER_CAPITAL = /^.[a-z'’]*[A-Z]/
const NAME_PREFIX = /^(?:Mc|Mac|De|Di|Da|Du|La|Le|Van|Von|Fitz|O['’]|D['’])\p{Lu}/u
// Greek and Latin word endings of terms (Ultrasonography, Neurologic, Auscultation, Nephritis), which
// a capitalised heading or sentence start makes look like names; names rarely end so.
const DERIVED = /(?:ean|ian|ism|ist|esque|ology|ography|ologic|ological|ation|ectomy|otomy|oscopy|itis|osis|emia|aemia|algia|opathy|plasty|genesis|lysis)$/
/** WHO INN stems of drug names (Amoxicillin, Ibuprofen, Atorvastatin): medical queries capitalise them. */
const DRUG_STEM = /(?:mab|cillin|mycin|cycline|pril|sartan|statin|olol|azole|prazole|oxetine|tidine|profen|azepam|zolam|floxacin|parin|gliptin|glitazone|dronate|lukast|tinib|setron|triptan|caine|dipine|thiazide|semide|formin|olone|vudine|navir|previr|buvir)$/

/** Lowercase words inside place names (Ústí nad Labem, Hrušovany u Brna, Newcastle upon Tyne, Weil am Rhein). */
const PLACE_CONNECTORS = new Set(['nad', 'pod', 'u', 'pri', 'na', 'ob', 'am', 'an', 'upon', 'sur', 'sous'])

/** Nouns that follow the name in eponyms (Alzheimer's disease, Bayes theorem, Doppler effect). */
const EPONYM_HEADS = new Set([
  'disease', 'syndrome', 'disorder', 'law', 'laws', 'principle', 'theorem', 'equation', 'equations', 'effect', 'constant',
  'paradox', 'hypothesis', 'conjecture', 'lemma', 'inequality', 'equilibrium', 'criterion', 'distribution', 'algorithm',
  'transform', 'series', 'integral', 'function', 'functions', 'number', 'numbers', 'cycle', 'reaction', 'triad', 'sign',
  'scale', 'classification', 'theory', 'model', 'rule', 'method', 'test', 'ratio', 'curve', 'index', 'coefficient',
  'ethics', 'philosophy', 'doctrine', 'view', 'views', 'argument', 'critique', 'dilemma', 'razor', 'wager', 'fallacy',
  'experiment', 'experiments', 'apparatus', 'process', 'procedure', 'operation', 'maneuver', 'manoeuvre', 'reflex',
  'gland', 'glands', 'duct', 'canal', 'membrane', 'cell', 'cells', 'node', 'nodes', 'fibers', 'fibres', 'area', 'tube',
])

/**
 * What follows an author in academic writing: co-authors and a year in brackets or "et al.", or a
 * verb of argument before what is argued. Narrative verbs (said, thinks, believes) are not here: a
 * lone surname says them in police reports and case notes too.
 */
const CITED_AUTHOR = /^(?:(?:(?:\s*,|\s+and|\s+&)\s+\p{Lu}[\p{L}'’-]+){0,2}(?:\s+et\s+al\b\.?|,?\s*\(\s*(?:1[6-9]|20)\d\d[a-z]?\s*[),;:])|\s+(?:argues|argued|contends|contended|maintains|posits|claims|claimed|insists|denies|defines|distinguishes|proposes|proposed|asserts|holds|objects)\s+(?:that|against|for|between|to)\b)/u
/** "(Huemer, 2005)", "(Smith et al., 2019; ...)": an author-year citation inside brackets. */
const CITED_IN_BRACKETS = /^(?:\s+et\s+al\.?)?,?\s+(?:1[6-9]|20)\d\d[a-z]?\s*[);,]/

const PLACE_TAILS = new Set(['city', 'county', 'province', 'state', 'island', 'islands', 'region', 'district', 'town', 'village'])

/** Sentence-initial words that are never part of an organisation's name (If XYZ Corporation). */
const LEADING_FUNCTION_WORDS = new Set([
  'the', 'a', 'an', 'if', 'when', 'in', 'at', 'on', 'for', 'and', 'but', 'or', 'so', 'as', 'by', 'to', 'of', 'with', 'from',
  'this', 'that', 'these', 'those', 'my', 'our', 'your', 'their', 'his', 'her', 'its', 'while', 'after', 'before', 'since',
])

type Push = (s: number, e: number, type: PiiType, p: number) => void

/** Words that make a sentence about a person, or a person's whereabouts. */
const PERSONAL_WORDS = new Set([
  'i', 'me', 'my', 'mine', 'myself', 'we', 'us', 'our', 'ours', 'you', 'your', 'yours', 'he', 'him', 'his', 'she', 'her',
  'hers', 'they', 'them', 'their', "i'm", 'im', "i've", "i'll", "i'd", "we're", "we've", "we'll", "you're", "he's", "she's",
  "they're", 'i’m', 'i’ve', 'i’ll', 'we’re', 'you’re', 'he’s', 'she’s', 'they’re',
  // ...and what a person does at a place: comes from it, lives, stays or travels there.
  'originally', 'born', 'live', 'lives', 'lived', 'living', 'moved', 'moving', 'visit', 'visits', 'visited', 'visiting',
  'trip', 'travel', 'travels', 'travelled', 'traveled', 'travelling', 'traveling', 'arrived', 'arriving', 'flew', 'flight',
  'stay', 'stayed', 'staying', 'vacation', 'holiday', 'hometown', 'relocated', 'emigrated', 'immigrated',
])
/** How far either side of a place aboutSomeone looks, within its sentence (bounded, so a head of a text decides it as the whole does). */
const FRAME_CHARS = 160

/** "according to X": X is the source of a view, like "by X", not a place one goes to. */
function attributedTo(toks: Token[], i: number): boolean {
  return toks[i - 1]?.lower === 'to' && toks[i - 2]?.lower === 'according'
}

/** Whether the sentence around toks[i..j], up to FRAME_CHARS either side, has a personal pronoun. */
function aboutSomeone(text: string, toks: Token[], i: number, j: number): boolean {
  const stop = (t: Token) => t.kind === 'newline' || (t.kind === 'punct' && /[.!?]/.test(t.text))
  for (let k = i - 1; k >= 0 && toks[k]!.start >= toks[i]!.start - FRAME_CHARS && !stop(toks[k]!); k--) if (PERSONAL_WORDS.has(toks[k]!.lower)) return true
  for (let k = j + 1; k < toks.length && toks[k]!.end <= toks[j]!.end + FRAME_CHARS && !stop(toks[k]!); k++) if (PERSONAL_WORDS.has(toks[k]!.lower)) return true
  return false
}

export class NameFinder {
  constructor(private readonly lex: Lexicon) {}

  /** `lowerText`: whether the whole text has no capitals (given when `text` is one window of it). */
  find(text: string, toks: Token[], push: Push, lowerText = text === text.toLowerCase()): void {
    const lex = this.lex
    const gap = (a: Token, b: Token) => text.slice(a.end, b.start)
    const sentenceStart = (i: number): boolean => {
      let j = i - 1
      while (j >= 0 && (toks[j]!.text === '"' || toks[j]!.text === '(' || toks[j]!.text === "'" || toks[j]!.text === '“')) j--
      if (j < 0) return true
      const p = toks[j]!
      return p.kind === 'newline' || (p.kind === 'punct' && /[.!?:;•*\-–—|>]/.test(p.text))
    }

    // Countries and states left alone are no name's part either (South Carolina, not a Carolina).
    const polity = this.findPlaces(text, toks, push, lowerText, sentenceStart)

    // Strength of each word as part of a person name.
    // 2: starts a name; 1: continues one (a surname that is also an English word); 0: neither.
    const afterPlacePreposition = (i: number): boolean => {
      const p = toks[i - 1]
      return !!p && p.kind === 'word' && PLACE_PREPOSITIONS.has(p.text.toLowerCase()) && !attributedTo(toks, i)
    }
    const memo = new Int8Array(toks.length).fill(-1)
    const strength = (i: number, forced: boolean): number => {
      if (!forced && memo[i]! >= 0) return memo[i]!
      const s = strengthOf(i, forced)
      if (!forced) memo[i] = s
      return s
    }
    const strengthOf = (i: number, forced: boolean): number => {
      const t = toks[i]!
      if (t.kind !== 'word' || (polity[i] === 1 && !forced)) return 0
      const hasApostrophe = t.text.includes("'") || t.text.includes('’')
      if (hasApostrophe && CONTRACTION.test(t.text) && !/['’]s$/i.test(t.text)) return 0
      const w = hasApostrophe ? stripPossessive(t.text) : t.text
      const l = hasApostrophe ? w.toLowerCase() : t.lower
      if (lex.honorifics.has(l) || ORG_SUFFIX.has(l) || NAME_SUFFIX.has(l) || RUN_STOP.has(l) || w.length < 2) return 0
      const common = lex.common.has(l)
      const first = lex.firstNames.has(l)
      const last = lex.lastNames.has(l)
      if (w.length > 1 && t.cap && isAllCaps(w)) {
        // Acronyms are common in queries; an all-caps word is a name only where one is expected.
        if (lowerText || w.length < 4 || common || lex.knownNonPersonal.has(l)) return 0
        return forced || afterPlacePreposition(i) ? 2 : 0
      }
      if (t.cap) {
        if (lex.knownNonPersonal.has(l) && !forced) return 0
        if (w.length === 1) return 0
        if (first || last) return common && sentenceStart(i) && !forced ? 1 : 2
        // Two-letter capitalised tokens are mostly symbols and units (Hg, Hz), not names.
        if (!common && w.length < 3 && !forced) return 0
        // Identifiers and products (TypeError, UserProfile, JavaScript) have inner capitals; names
        // that do have a known prefix (McDonald, DeShawn, O'Neil, MacArthur).
        if (!common && !forced && INNER_CAPITAL.test(w) && !NAME_PREFIX.test(w)) return 0
        // Adjectives and doctrines made from names (Pythagorean, Newtonian, Marxism) are not names.
        if (!common && !forced && (DERIVED.test(l) || DRUG_STEM.test(l))) return 0
        // A sentence's first word is capitalised whatever it is: one the dictionary spells in lower
        // case is a word (Homologous structures, Stridor is); a compound of words and letters is
        // one too (X-linked, Short-term, Write-through).
        if (!common && !forced && ((lex.spelled.has(l) && sentenceStart(i)) || (l.includes('-') && l.split('-').every((p) => p.length === 1 || lex.common.has(p) || lex.spelled.has(p))))) return 0
        if (!common && !forced) {
          // Not a known name, so its context decides: after an article it names a thing ("the
          // Castile region", "a Pangloss"), and before a lowercase word that is not English it is a
          // genus ("Homo sapiens", "Escherichia coli").
          const p = toks[i - 1]
          if (p && p.kind === 'word' && (p.lower === 'the' || p.lower === 'a' || p.lower === 'an') && text.slice(p.end, t.start) === ' ') return 0
          const n = toks[i + 1]
          if (n && n.kind === 'word' && !n.cap && n.text.length > 3 && !lex.common.has(n.lower) && text.slice(t.end, n.start) === ' ' && !lex.lastNames.has(n.lower)) return 0
        }
        if (!common) return 2
        return forced ? 2 : 1
      }
      // lowercase
      if (first && !common) return 2
      if (forced && (first || last || !common) && !NOT_NAME_AFTER_GREETING.has(l)) return 2
      // "mike johnson": a first name that is also a word, when a surname that is not one follows.
      if (first && lowerText) {
        const n = toks[i + 1]
        if (n && n.kind === 'word' && text.slice(t.end, n.start) === ' ' && lex.lastNames.has(n.lower) && !lex.common.has(n.lower)) return 2
      }
      // In all-lowercase text a known surname continues a name ("john smith").
      if (lowerText && last) return 1
      if (!common && lowerText) return 1
      return 0
    }

    let i = 0
    while (i < toks.length) {
      const t = toks[i]!
      if (t.kind !== 'word') {
        i++
        continue
      }
      const l = t.lower
      let forced = false
      let start = i
      // Honorific (Dr., Mrs) before a name: a TITLE span, and the next word is a name whatever it is.
      if (lex.honorifics.has(l) && (isCapitalised(t.text) || (lowerText && STRONG_HONORIFIC.has(l) && toks[i + 1]?.text === '.'))) {
        const k = toks[i + 1]?.text === '.' ? i + 2 : i + 1
        const next = toks[k]
        if (next && next.kind === 'word' && (isCapitalised(next.text) || lowerText) && !gap(toks[k - 1]!, next).includes('\n') && (STRONG_HONORIFIC.has(l) || strength(k, false) === 2)) {
          push(t.start, toks[k - 1]!.end, 'TITLE', PRIORITY.word)
          forced = true
          start = k
        }
      }
      if (!forced) {
        const prev = toks[i - 1]
        if (prev && CUE_ENDS.has(prev.lower) && (!lex.common.has(l) || t.cap || lex.firstNames.has(l)) && strength(i, false) < 2) {
          const prefix = text.slice(Math.max(0, t.start - 16), t.start)
          forced = NAME_CUES.some((re) => re.test(prefix))
        }
      }
      let s0 = strength(start, forced)
      if (s0 === 1 && lex.firstNames.has(l) && isCapitalised(t.text)) {
        // "Penny Cavalcanti" at a sentence start: a first name that is also a word, followed by a surname.
        const n = toks[start + 1]
        if (n && gap(t, n) === ' ' && isCapitalised(n.text) && strength(start + 1, false) === 2) s0 = 2
      }
      if (s0 < 2) {
        i = start + 1
        continue
      }
      // A capitalised English word right before the name is part of it (Randy Shaw, Producer Sandy
      // Lahtela -> Sandy Lahtela): mid-sentence, or as the value after a label (User: Penny Cavalcanti).
      if (!forced && start > 0) {
        const p = toks[start - 1]!
        const pp = toks[start - 2]
        if (p.kind === 'word' && p.cap && !isAllCaps(p.text) && !/['’]s$/i.test(p.text) && gap(p, toks[start]!) === ' ' && strength(start - 1, false) === 1 && !LEADING_FUNCTION_WORDS.has(p.lower) && (!sentenceStart(start - 1) || pp?.text === ':')) {
          start--
        }
      }
      // Extend over name words on the same line separated by one space (middle initials allowed).
      const placeRun = !forced && !lowerText && afterPlacePreposition(start)
      let end = start
      let k = start + 1
      while (k < toks.length && end - start < 4) {
        const x = toks[k]!
        const g = gap(toks[k - 1]!, x)
        if (g !== ' ') break
        if (x.kind === 'word' && x.text.length === 1 && isCapitalised(x.text)) {
          // Middle initial: "Greg K. Kerr", "Greg K Kerr"
          const after = toks[k + 1]?.text === '.' ? k + 2 : k + 1
          if (toks[after] && gap(toks[after - 1]!, toks[after]!) === ' ' && strength(after, false) >= 1 && isCapitalised(toks[after]!.text)) {
            end = after
            k = after + 1
            continue
          }
          break
        }
        if (x.kind !== 'word') break
        if (/['’]s$/i.test(toks[k - 1]!.text)) break // Elizabeth Mitchell's Cautionary Tales
        // Inside a place name after "in", "from", ...: Ústí nad Labem, Newcastle upon Tyne, Weil am Rhein.
        if (placeRun && PLACE_CONNECTORS.has(x.text) && toks[k + 1] && gap(x, toks[k + 1]!) === ' ' && isCapitalised(toks[k + 1]!.text)) {
          end = k + 1
          k += 2
          continue
        }
        if (PARTICLES.has(x.text) && toks[k + 1] && gap(x, toks[k + 1]!) === ' ') {
          // Particles: Donald van der Voet
          let q = k
          while (q < k + 2 && PARTICLES.has(toks[q]!.text) && toks[q + 1] && gap(toks[q]!, toks[q + 1]!) === ' ') q++
          const y = toks[q]
          if (y && y.kind === 'word' && isCapitalised(y.text) && strength(q, false) >= 1) {
            end = q
            k = q + 1
            continue
          }
          break
        }
        // A name its writer spelt in lower case goes on with a known surname in lower case, as in
        // all-lowercase text, even where the rest of the text is cased ("hi im john smith, I need help").
        if (!lowerText && !isCapitalised(toks[start]!.text) && !isCapitalised(x.text) && lex.lastNames.has(x.lower)) {
          end = k
          k++
          continue
        }
        if (strength(k, false) < 1) break
        if (!lowerText && !isCapitalised(x.text) && !forced) break
        end = k
        k++
      }
      // Trailing name suffix: MD, Jr., III
      let last = end
      const sfx = toks[end + 1]
      if (sfx && sfx.kind === 'word' && NAME_SUFFIX.has(sfx.text.toLowerCase()) && /^[ ,]+$/.test(gap(toks[end]!, sfx))) {
        last = toks[end + 2]?.text === '.' ? end + 2 : end + 1
      }
      const endTok = toks[last]!
      let endPos = endTok.start + (last === end ? stripPossessive(endTok.text).length : endTok.text.length)
      // A famous person, planet or god named alone ("Plato argued", "orbit of Jupiter") is public.
      if (!forced && start === end && lex.publicFigures.has(stripPossessive(toks[start]!.text).toLowerCase())) {
        i = Math.max(last + 1, i + 1)
        continue
      }
      if (!forced && !lowerText && placeRun && this.notAPerson(text, toks, start, end, true)) {
        i = Math.max(last + 1, i + 1)
        continue
      }
      if (!forced && !lowerText && !placeRun) {
        // A title-case phrase ends in ordinary English words that are no surnames (Atlantic Treaty,
        // Kouklia Country Club, Upper Paleolithic): a person's name ends in a surname. Without a
        // known first name, those words are not part of a name; what is left may still be one.
        const named = toks.slice(start, end + 1).some((w) => w.kind === 'word' && lex.firstNames.has(stripPossessive(w.lower)))
        let e = end
        while (!named && e > start && this.ordinaryWord(toks[e]!)) e--
        if (e < end) {
          while (e > start && toks[e]!.kind !== 'word') e--
          if (e === start && (this.ordinaryWord(toks[start]!) || strength(start, false) < 2)) {
            i = Math.max(last + 1, i + 1)
            continue
          }
          end = e
          last = e
          endPos = toks[e]!.end
        }
        if (this.notAPerson(text, toks, start, end, false)) {
          i = Math.max(last + 1, i + 1)
          continue
        }
      }
      const type = this.classify(toks, start, end, text)
      if (type === 'ORGANIZATION') {
        const o = toks[end + 1]!
        const oe = toks[end + 2]?.text === '.' ? toks[end + 2]!.end : o.end
        push(toks[start]!.start, oe, 'ORGANIZATION', PRIORITY.word + 2)
      } else {
        push(toks[start]!.start, endPos, type, PRIORITY.word)
      }
      i = Math.max(last + 1, i + 1) // always move on, even when the run began before i

    }

    this.findOrganisations(text, toks, push)
  }

  /**
   * Runs that are capitalised like names but name something else:
   * - an eponym: a lone surname before the thing named after it (Alzheimer's disease, Hardy-Weinberg
   *   equilibrium, Kant's ethics are not about a user);
   * - a lone proper noun a spelling dictionary lists (Erasmus, Gilgamesh, Piaget) as the owner or
   *   author of something: widely known, so public, unless the text treats it as one of several people
   *   (Sjöberg and Cantu; Leehy, Perkins and Copeland) or a name cue introduces it.
   */
  private ordinaryWord(t: Token): boolean {
    const l = stripPossessive(t.lower)
    return t.kind === 'word' && this.lex.common.has(l) && !this.lex.lastNames.has(l) && !this.lex.firstNames.has(l) && !NAME_SUFFIX.has(l)
  }

  private notAPerson(text: string, toks: Token[], start: number, end: number, placeRun: boolean): boolean {
    if (start !== end) return false
    const lex = this.lex
    const lastWord = toks[end]!
    const lastLower = stripPossessive(lastWord.lower)
    if (lex.firstNames.has(lastLower)) return false
    // Eponyms: "Alzheimer's disease", "Bayes theorem", "Hardy-Weinberg equilibrium".
    const n = toks[end + 1]
    if (n && n.kind === 'word' && !n.cap && EPONYM_HEADS.has(n.lower) && text.slice(lastWord.end, n.start) === ' ') return true
    // Academic register: an author cited with a year or "et al." (Mulholland (1998), Bailey and
    // Pillard (1991), (Huemer, 2005), Yee et al.), or a lone surname that argues a position (Ashford
    // argues that, Kant claims that): writing about publications, not a record about someone.
    if (!/['’]s$/i.test(lastWord.text)) {
      const after = text.slice(lastWord.end, lastWord.end + 64)
      if (CITED_AUTHOR.test(after) || (text[toks[start]!.start - 1] === '(' && CITED_IN_BRACKETS.test(after))) return true
    }
    if (!lex.listedProper.has(lastLower)) return false
    // After "in", "to", "from" a listed name is a place ("in Aragon"), unless it owns something ("to Kant's ethics").
    if (placeRun && !/['’]s$/i.test(lastWord.text)) return false
    // Only as the owner, author or source of something (Kant's ethics, the works of Erasmus, written
    // by Tacitus, according to Locke): as the subject of a sentence a listed name is as often a user (Beaufort is reliable).
    const p = toks[start - 1]
    if (!/['’]s$/i.test(lastWord.text) && !(p && (p.lower === 'of' || p.lower === 'by' || attributedTo(toks, start)))) return false
    // One of several names: "A and B", "A, B and C", "A & B".
    const joined = (a: Token | undefined, b: Token | undefined): boolean => !!a && !!b && /^(?:\s*,\s*|\s+(?:and|or|&)\s+|\s*,\s*(?:and|or)\s+)$/.test(text.slice(a.end, b.start))
    const prevName = start > 0 ? this.prevWord(toks, start) : undefined
    const nextName = this.nextWord(toks, end)
    if ((prevName && prevName.cap && joined(prevName, toks[start])) || (nextName && nextName.cap && joined(toks[end], nextName))) return false
    const before = text.slice(Math.max(0, toks[start]!.start - 24), toks[start]!.start)
    if (NAME_CUES.some((re) => re.test(before)) || /\b(?:(?:maiden|last|first|sur|family|nick)\s*name(?: is|:)|calls? me|called)\s*$/i.test(before)) return false
    return true
  }

  private prevWord(toks: Token[], i: number): Token | undefined {
    for (let j = i - 1; j >= 0 && j >= i - 3; j--) if (toks[j]!.kind === 'word' && !/^(?:and|or)$/.test(toks[j]!.lower)) return toks[j]
    return undefined
  }

  private nextWord(toks: Token[], i: number): Token | undefined {
    for (let j = i + 1; j < toks.length && j <= i + 3; j++) if (toks[j]!.kind === 'word' && !/^(?:and|or)$/.test(toks[j]!.lower)) return toks[j]
    return undefined
  }

  private classify(toks: Token[], start: number, end: number, text: string): PiiType {
    const nxt = toks[end + 1]
    if (nxt && nxt.kind === 'word' && ORG_SUFFIX.has(nxt.text.toLowerCase()) && isCapitalised(nxt.text) && text.slice(toks[end]!.end, nxt.start) === ' ') return 'ORGANIZATION'
    const words = toks.slice(start, end + 1)
    if (words.some((w) => this.lex.firstNames.has(w.text.toLowerCase()))) return 'PERSON'
    const p = toks[start - 1]
    if (p && p.kind === 'word' && PLACE_PREPOSITIONS.has(p.lower) && !attributedTo(toks, start)) return 'LOCATION'
    return 'PERSON'
  }

  /** Known places, single or multi-word (`Saint Lucia`, `antigua and barbuda`). */
  private findPlaces(text: string, toks: Token[], push: Push, lowerText: boolean, sentenceStart: (i: number) => boolean): Uint8Array {
    const lex = this.lex
    const polity = new Uint8Array(toks.length)
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i]!
      if (t.kind !== 'word') continue
      const f0 = fold(t.lower)
      if (!lex.placeStarts.has(f0)) continue
      // Longest match first.
      let phrase = f0
      let best = lex.places.has(f0) ? i : -1
      let j = i
      for (let n = 2; n <= lex.placeMaxWords; n++) {
        j++
        const x = toks[j]
        if (!x || x.kind !== 'word' || text.slice(toks[j - 1]!.end, x.start) !== ' ') break
        phrase += ' ' + fold(x.lower)
        if (lex.places.has(phrase)) best = j
      }
      if (best < 0) continue
      // A country or continent alone (not before a name: Virginia Dratchev) identifies no one (HIPAA's Safe Harbor keeps even a state; what
      // is smaller, a city, a county, a street, goes): it is scrubbed where it says where a person
      // is from, lives or goes, i.e. in a sentence about someone ("I'm from Peru", "she moved to
      // Chad"), and kept in one about the country ("the economy of the United States"). One in an
      // address goes with the address.
      const after = toks[best + 1]
      const beforeName = !!after && after.kind === 'word' && after.cap && !lex.common.has(after.lower) && text.slice(toks[best]!.end, after.start) === ' '
      if (!beforeName && lex.polities.has(toks.slice(i, best + 1).map((x) => fold(x.lower)).join(' ')) && !aboutSomeone(text, toks, i, best)) {
        // A lone one that is also a name (Virginia, Jordan) is left to the name rules.
        if (best > i || !(lex.firstNames.has(f0) || lex.lastNames.has(f0))) polity.fill(1, i, best + 1)
        i = best
        continue
      }
      const single = best === i
      const l = t.text.toLowerCase()
      const cap = isCapitalised(t.text)
      if (single && lex.common.has(l) && (!cap || sentenceStart(i))) continue
      if (single && !cap && !lowerText) continue
      if (single && (lex.firstNames.has(l) || lex.lastNames.has(l)) && !cap) continue
      // Oklahoma City, Kent County, Prince Edward Island
      const nx = toks[best + 1]
      if (nx && nx.cap && PLACE_TAILS.has(nx.lower) && text.slice(toks[best]!.end, nx.start) === ' ') best++
      // Newcastle upon Tyne, Frankfurt am Main
      const c = toks[best + 1]
      const w = toks[best + 2]
      if (c && w && PLACE_CONNECTORS.has(c.text) && w.cap && text.slice(toks[best]!.end, c.start) === ' ' && text.slice(c.end, w.start) === ' ') best += 2
      push(t.start, toks[best]!.end, 'LOCATION', PRIORITY.word + 1)
      i = best
    }
    return polity
  }

  /** `Keychain Logistics Corp.`: capitalised words before a company suffix, even ordinary English ones. */
  private findOrganisations(text: string, toks: Token[], push: Push): void {
    for (let i = 1; i < toks.length; i++) {
      const t = toks[i]!
      if (t.kind !== 'word' || !t.cap || !ORG_SUFFIX.has(t.lower)) continue
      let s = i
      while (s > 0 && i - s < 4 && toks[s - 1]!.kind === 'word' && isCapitalised(toks[s - 1]!.text) && text.slice(toks[s - 1]!.end, toks[s]!.start) === ' ') s--
      while (s < i && LEADING_FUNCTION_WORDS.has(toks[s]!.lower)) s++
      if (s === i) continue
      const e = toks[i + 1]?.text === '.' ? toks[i + 1]!.end : t.end
      push(toks[s]!.start, e, 'ORGANIZATION', PRIORITY.word + 2)
    }
  }
}
