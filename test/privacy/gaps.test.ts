import {describe, expect, it} from 'vitest'

import {createScrubber} from '../../src/privacy/index.js'

const s = createScrubber()
const out = (t: string) => s.scrub(t).text

// The misses issue 18 lists, each as the issue wrote it or close to it.
describe('PII the scrubber used to miss', () => {
  it('a Luhn-valid number the text calls a card, whatever its issuer prefix', () => {
    // 7 is no network's prefix; Luhn-valid, and "card" says what it is.
    expect(out('my store card 7000 1234 5678 9010 was declined')).toBe('my store card <CREDIT_CARD> was declined')
    expect(out('order 7000123456789010 shipped')).toBe('order 7000123456789010 shipped')
  })
  it('weekdays and relative dates', () => {
    expect(out('We met on Tuesday and again last week, 3 days ago')).toBe('We met on <DATE> and again <DATE>, <DATE>')
    expect(out('I saw the doctor yesterday and go back next Monday')).toBe('I saw the doctor <DATE> and go back <DATE>')
  })
  it('ages in "turned 60", "I\'ll turn 23", "60 years of age", but not "turn 90 degrees"', () => {
    expect(out('She turned 60 in May and I\'ll turn 23 soon')).toBe('She <AGE> in May and I\'ll <AGE> soon')
    expect(out('a man 60 years of age')).toBe('a man <AGE>')
    expect(out('turn 90 degrees to the left')).toBe('turn 90 degrees to the left')
  })
  it('ZIP and postcodes named as such, and UK and Canadian postcodes', () => {
    expect(out('my zip code is 880')).toBe('my zip code is <ZIP>')
    expect(out('send it to M14 5TR please')).toBe('send it to <ZIP> please')
    expect(out('the office is at K1A 0B1')).toContain('<ZIP>')
  })
  it('lowercase names after a greeting, and a first name followed by a surname', () => {
    expect(out('hi im john smith')).toBe('hi im <PERSON>')
    expect(out('mike johnson called about the invoice')).toBe('<PERSON> called about the invoice')
    expect(out('hi im having trouble with my router')).toBe('hi im having trouble with my router')
    // The same lowercase name in text that is cased elsewhere: the surname is not left behind.
    expect(out('hi im john smith, I turned 60 on Tuesday')).toBe('hi im <PERSON>, I <AGE> on <DATE>')
    expect(out('hi im john and I need help')).toBe('hi im <PERSON> and I need help')
  })
  it('house numbers stay with their street', () => {
    expect(out('Send it to 2450 Crown St.')).toBe('Send it to <ADDRESS>')
  })
  it('does not take public figures, genera or things after an article for people', () => {
    expect(out('What did Plato say about justice?')).toBe('What did Plato say about justice?')
    expect(out('Homo sapiens evolved in Africa')).toBe('Homo sapiens evolved in Africa')
    expect(out('Homo sapiens evolved in Bavaria')).toBe('Homo sapiens evolved in <LOCATION>')
    expect(out('the Castile region')).toBe('the Castile region')
  })
  it('a country, continent or state only where it says where someone is from, lives or goes', () => {
    expect(out('What was the effect of the tariff on the economy of the United States?')).toBe('What was the effect of the tariff on the economy of the United States?')
    expect(out('Which state borders South Carolina and Georgia?')).toBe('Which state borders South Carolina and Georgia?')
    expect(out("I'm originally from Peru")).toBe("I'm originally from <LOCATION>")
    expect(out('Norway was super fun to visit!')).toBe('<LOCATION> was super fun to visit!')
    expect(out('She moved to Ohio last year.')).toBe('She moved to <LOCATION> last year.')
    // A country that is also a name is still a name.
    expect(out('Virginia Dratchev called.')).toBe('<PERSON> called.')
  })
  it('not a sentence\'s first word the dictionary spells in lower case, nor a compound of words', () => {
    expect(out('Homologous structures share an origin.')).toBe('Homologous structures share an origin.')
    expect(out('Is colour blindness an X-linked recessive trait?')).toBe('Is colour blindness an X-linked recessive trait?')
    expect(out('Write-through is a cache policy.')).toBe('Write-through is a cache policy.')
    expect(out('Duqyaha shouted at the clerk.')).toBe('<PERSON> shouted at the clerk.')
    expect(out('Amy-Leigh Szepesy called.')).toBe('<PERSON> called.')
  })
})

// LOCATION recall on the presidio small set was 89.3% (goal 90%): these were its misses.
describe('place names with inner lowercase words, district numbers and a second spelling', () => {
  it('keeps Czech, Slovene and English connectors inside a place after "in", "from"', () => {
    expect(out('Dr. Nielsen grew up in Ústí nad Labem.')).toBe('<TITLE> <PERSON> grew up in <LOCATION>.')
    expect(out('We moved here from Loka pri Zidanem Mostu')).toBe('We moved here from <LOCATION>')
    expect(out('She lives in Newcastle upon Tyne now')).toBe('She lives in <LOCATION> now')
    // Not after a place word: "u" and "na" stay ordinary text.
    expect(out('Ask Jana u the desk')).not.toContain('<LOCATION>')
  })
  it('an address line ends with the city, its district number, or its other spelling in brackets', () => {
    expect(out('Michael Urner\n\n11 Školní 939\n Apt. 827\n Kaplice 1\n\n Iceland 80392')).toBe('<PERSON>\n\n<ADDRESS>')
    expect(out('his address: 03 Πλατεία Μαβίλη 170, ΑΓΛΑΝΤΖΙΑ (ΑΓΛΑΓΓΙΑ)')).toBe('his address: <ADDRESS>')
    expect(out('Tara lives at 63 Tylova 42, Karlovy Vary 17')).toBe('<PERSON> lives at <ADDRESS>')
  })
})

// Over-scrubbing (issue 18): capitalised words that are not anyone's name.
describe('name-shaped words that are not people', () => {
  it('eponyms: a lone surname before what is named after it', () => {
    expect(out("Early signs of Alzheimer's disease")).toBe("Early signs of Alzheimer's disease")
    expect(out('Is the population in Hardy-Weinberg equilibrium?')).toBe('Is the population in Hardy-Weinberg equilibrium?')
    // A first name is a person whatever follows.
    expect(out("Ask about Maria's test")).toBe("Ask about <PERSON>'s test")
  })
  it('title-case phrases lose their ordinary English words; a name keeps its surname', () => {
    expect(out('Where: Kouklia Country Club.')).toBe('Where: <PERSON> Country Club.')
    expect(out('the Upper Paleolithic period')).not.toContain('Upper')
    expect(out('Ask Alexander Wood about it')).toBe('Ask <PERSON> about it')
    expect(out('I met Randy Shaw today')).toBe('I met <PERSON> today')
  })
  it('a listed proper noun as owner or author is public; as one of several people it is a name', () => {
    expect(out("What is central to Kant's ethics?")).toBe("What is central to Kant's ethics?")
    expect(out('the collected letters of Erasmus')).toBe('the collected letters of Erasmus')
    expect(out('Is there a better song? Schiavone and Livingston were engineers.')).toBe('Is there a better song? <PERSON> and <PERSON> were engineers.')
    expect(out('Beaufort is very reliable.')).toBe('<PERSON> is very reliable.')
  })
})

describe('dates no finer than a year, and terms that end like terms', () => {
  it('keeps year-level relative dates and numbers that merely end in a count', () => {
    expect(out('Sales fell last year and rose 3 years ago')).toBe('Sales fell last year and rose 3 years ago')
    expect(out('Farming began 10,000 days ago')).toBe('Farming began 10,000 days ago')
    expect(out('I saw her last month, 3 weeks ago')).toBe('I saw her <DATE>, <DATE>')
  })
  it('capitalised medical and scientific terms are not names', () => {
    expect(out('Ultrasonography showed a mass. Auscultation was normal.')).toBe('Ultrasonography showed a mass. Auscultation was normal.')
  })
})
