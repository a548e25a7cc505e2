import {describe, expect, it} from 'vitest'

import {createScrubber} from '../../src/privacy/index.js'
import {citesHistoricalSource, historicalSentence} from '../../src/privacy/register.js'

const s = createScrubber()
const out = (t: string) => s.scrub(t).text

// Over-scrubbing (issue 18): names in writing dated more than a century ago are history.
describe('historical register', () => {
  it('a text crediting a source dated before 1920 keeps its names, places and titles', () => {
    const text = '"These are the times that try men\'s souls."\n—Thomas Paine, The American Crisis, 1776\nWhat did Paine want from the colonists in Boston?'
    expect(out(text)).toBe(text)
    expect(out('"Leave the army to me."\nOtto von Bismarck, 1884\nWhat did Bismarck mean?')).not.toContain('<PERSON>')
    expect(out('A letter.\n—George Washington, letter to John Jay, August 1, 1786')).not.toContain('<')
  })
  it('...but not one dated after it, nor an address or a birth year that looks like a credit', () => {
    expect(out('"We will win."\n—Jane Hollister, campaign speech, 2016\nWhat did Hollister promise?')).toContain('<PERSON>')
    // A Brazilian street line ends in a comma and a house number the shape of a year.
    expect(out('Ship to Mariana Kowalczyk\nRua Augusta, 1508\nSão Paulo')).toContain('<PERSON>')
    expect(out('Ship to Mariana Kowalczyk\nAv. Paulista, 1578')).toContain('<PERSON>')
    // Digits in the credit (a record row, not a source) and a first line (nothing quoted above it).
    expect(citesHistoricalSource('Name: Kowalczyk, 42, 1915')).toBe(false)
    expect(citesHistoricalSource('notes\nMariana Kowalczyk, ward 4, 1915')).toBe(false)
    expect(citesHistoricalSource('A quote.\n—Galileo Galilei, 1610')).toBe(true)
    // A list or table of names and numbers is no credit: it follows no quote, and its rows come in runs.
    expect(out('Sales this week:\nMariana Kowalczyk, 1200\nTomasz Wierzbicki, 1350')).toBe('Sales this week:\n<PERSON>, 1200\n<PERSON>, 1350')
    expect(citesHistoricalSource('Sales were good.\nMariana Kowalczyk, 1200\nTomasz Wierzbicki, 1350')).toBe(false)
    expect(citesHistoricalSource('"A quote"\nHeinrich von Füch, "On the Treatment of Natives," 1744')).toBe(true)
  })
  it('a historical date in the name\'s own sentence', () => {
    expect(out('In 1776, Thomas Jefferson wrote the Declaration.')).toBe('In 1776, Thomas Jefferson wrote the Declaration.')
    expect(out('Which reforms did Louis XIV (1643–1715) make?')).toBe('Which reforms did Louis XIV (1643–1715) make?')
    expect(out('Ibn Battuta travelled to Timbuktu in the 1350s.')).toBe('Ibn Battuta travelled to Timbuktu in the 1350s.')
    expect(out('Ashoka ruled Magadha in the third century BCE.')).toBe('Ashoka ruled Magadha in the third century BCE.')
    // The next sentence is not dated by it.
    expect(out('The mill opened in 1850. Tomasz Wierzbicki works there now.')).toBe('The mill opened in 1850. <PERSON> works there now.')
  })
  it('a year of birth, a count or a house number is no historical date', () => {
    expect(out('Mariana Kowalczyk, born in 1915, was admitted.')).toContain('<PERSON>')
    expect(out('Mariana Kowalczyk treated 1500 patients in 2019.')).toContain('<PERSON>')
    expect(out('Mariana Kowalczyk lives at 1850 Main Street.')).toContain('<PERSON>')
    expect(historicalSentence('Kowalczyk sent 1900 letters.', 0, 9)).toBe(false)
    // Eras and centuries that date nothing: Alzheimer's disease, advertising, this century.
    expect(out('Mariana Kowalczyk has stage 3 AD.')).toContain('<PERSON>')
    expect(out('Mariana Kowalczyk bought 900 ad slots.')).toContain('<PERSON>')
    expect(out('In the 21st century Mariana Kowalczyk moved on.')).toContain('<PERSON>')
    expect(out('Ashoka ruled in 250 BCE, Mariana Kowalczyk says.')).not.toContain('<PERSON>')
    expect(historicalSentence('Kowalczyk wrote in 1900.', 0, 9)).toBe(true)
    expect(out('Call Mariana Kowalczyk around 1400.')).toContain('<PERSON>')
    expect(out('Mariana Kowalczyk is busy until 1130.')).toContain('<PERSON>')
  })
  it('a name the text introduces as its writer\'s own stays personal beside a historical source', () => {
    const r = out('Hi, I\'m Mariana Kowalczyk. Summarise this:\n"These are the times."\n—Thomas Paine, The American Crisis, 1776\nRegards,\nTomasz Wierzbicki')
    expect(r).toContain('Thomas Paine')
    expect(r).toBe('Hi, I\'m <PERSON>. Summarise this:\n"These are the times."\n—Thomas Paine, The American Crisis, 1776\nRegards,\n<PERSON>')
  })
  it('spares only what the word rules found: a date, a phone or an email in a historical text still goes', () => {
    const r = out('"Liberty."\n—Patrick Henry, March 23, 1775\nCall Wierzbicki on 555-201-3344 or mail henry@example.com on Tuesday')
    expect(r).toContain('Patrick Henry')
    expect(r).toContain('<PHONE>')
    expect(r).toContain('<EMAIL>')
    expect(r).toContain('<DATE>')
    // A date as old as its source is history; a numeric one outside such writing is not dated by its year.
    expect(r).toContain('March 23, 1775')
    expect(out('Seen 03/04/1915 by Dr. Wierzbicki')).toBe('Seen <DATE> by <TITLE> <PERSON>')
  })
})

describe('academic register', () => {
  it('an author cited with a year or et al., alone or with co-authors', () => {
    expect(out('What does Berger (1963) describe as a metaphor for social reality?')).toBe('What does Berger (1963) describe as a metaphor for social reality?')
    expect(out('According to Schnackenberg and Tomlinson (2014), what are the criteria?')).toBe('According to Schnackenberg and Tomlinson (2014), what are the criteria?')
    expect(out('The sandbox described by Yee et al. uses segmentation.')).toBe('The sandbox described by Yee et al. uses segmentation.')
    expect(out('Harm is not the point (Huemer, 2005).')).toBe('Harm is not the point (Huemer, 2005).')
  })
  it('a lone surname arguing a position', () => {
    expect(out('Ashford argues that worries about dependency are overstated.')).toBe('Ashford argues that worries about dependency are overstated.')
    expect(out('Pogge claims that we are responsible for global poverty.')).toBe('Pogge claims that we are responsible for global poverty.')
  })
  it('"according to" names the source of a view, not a place: a listed name is public, another a person', () => {
    expect(out('According to Kant, the basis of morality is duty.')).toBe('According to Kant, the basis of morality is duty.')
    expect(out('According to Wierzbicki, the meeting moved.')).toBe('According to <PERSON>, the meeting moved.')
    expect(out('We drove to Wierzbicki yesterday.')).toContain('<LOCATION>')
  })
  it('but not a first name, a narrative verb, a possessive or a year without brackets', () => {
    expect(out('Miranda argues that the bill is wrong.')).toBe('<PERSON> argues that the bill is wrong.')
    expect(out('Wierzbicki said that he fell twice.')).toBe('<PERSON> said that he fell twice.')
    expect(out('Wierzbicki claims damages from the landlord.')).toBe('<PERSON> claims damages from the landlord.')
    expect(out("Wierzbicki's claims that he fell were true.")).toContain('<PERSON>')
    expect(out('Wierzbicki 1963 was the account number.')).toContain('<PERSON>')
  })
})
