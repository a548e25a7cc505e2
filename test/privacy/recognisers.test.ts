import {describe, expect, it} from 'vitest'

import {cardIssuerValid, createScrubber, ibanValid, luhnValid, ssnValid} from '../../src/privacy/index.js'
import type {PiiType} from '../../src/privacy/index.js'

const scrubber = createScrubber()

/** The spans of one type, as the substrings they cover. */
function found(text: string, type: PiiType): string[] {
  return scrubber
    .scrub(text)
    .spans.filter((s) => s.type === type)
    .map((s) => text.slice(s.start, s.end))
}
function anyType(text: string): string[] {
  return scrubber.scrub(text).spans.map((s) => `${s.type}:${text.slice(s.start, s.end)}`)
}

describe('checksums', () => {
  it('Luhn accepts valid and rejects one-digit changes', () => {
    expect(luhnValid('4539301019673114')).toBe(true)
    expect(luhnValid('4539301019673115')).toBe(false)
    expect(luhnValid('79927398713')).toBe(true)
  })
  it('card issuer prefixes and lengths', () => {
    expect(cardIssuerValid('4539301019673114')).toBe(true) // Visa 16
    expect(cardIssuerValid('378282246310005')).toBe(true) // Amex 15
    expect(cardIssuerValid('1234567812345670')).toBe(false) // no network starts with 1
    expect(cardIssuerValid('37828224631000')).toBe(false) // Amex must be 15
  })
  it('IBAN mod-97 with country length', () => {
    expect(ibanValid('GB82WEST12345698765432')).toBe(true)
    expect(ibanValid('DE89 3704 0044 0532 0130 00')).toBe(true)
    expect(ibanValid('GB82WEST12345698765433')).toBe(false)
    expect(ibanValid('DE89370400440532013000123')).toBe(false) // wrong length for DE
  })
  it('SSN structure', () => {
    expect(ssnValid('364213719')).toBe(true)
    expect(ssnValid('000213719')).toBe(false)
    expect(ssnValid('666213719')).toBe(false)
    expect(ssnValid('912213719')).toBe(false)
    expect(ssnValid('364003719')).toBe(false)
  })
})

describe('structured recognisers', () => {
  it('email', () => {
    expect(found('write to jane.doe+x@mail.example.co.uk today', 'EMAIL')).toEqual(['jane.doe+x@mail.example.co.uk'])
    expect(found('the @mention and a@b are not addresses', 'EMAIL')).toEqual([])
  })
  it('credit card: Luhn and issuer checked, separators allowed', () => {
    expect(found('Number is 4539301019673114', 'CREDIT_CARD')).toEqual(['4539301019673114'])
    expect(found('card 4539 3010 1967 3114.', 'CREDIT_CARD')).toEqual(['4539 3010 1967 3114'])
    // 16 digits failing Luhn is not a card
    expect(found('order 4539301019673115', 'CREDIT_CARD')).toEqual([])
    expect(anyType('order 4539301019673115').some((s) => s.startsWith('CREDIT_CARD'))).toBe(false)
  })
  it('SSN with dashes; spaced or bare only with context', () => {
    expect(found("Here's my SSN: 205-46-4452", 'SSN')).toEqual(['205-46-4452'])
    expect(found('ssn 205 46 4452', 'SSN')).toEqual(['205 46 4452'])
    expect(found('social security number 205464452', 'SSN')).toEqual(['205464452'])
    expect(found('part 205464452 shipped', 'SSN')).toEqual([])
    expect(found('SSN 666-12-3456', 'SSN')).toEqual([])
  })
  it('IBAN, any case, spaced', () => {
    expect(found('My IBAN is GB61VFHS82148941232867', 'IBAN')).toEqual(['GB61VFHS82148941232867'])
    expect(found('iban gb82 west 1234 5698 7654 32 please', 'IBAN')).toEqual(['gb82 west 1234 5698 7654 32'])
    expect(found('code GB61VFHS82148941232868', 'IBAN')).toEqual([])
  })
  it('IPv4 and IPv6, not versions or times', () => {
    expect(found('blocked 74.34.59.240 again', 'IP_ADDRESS')).toEqual(['74.34.59.240'])
    expect(found('from d80:e4b5:79da:6cf6:71f3:51f7:9161:c319 and ::1', 'IP_ADDRESS')).toEqual(['d80:e4b5:79da:6cf6:71f3:51f7:9161:c319', '::1'])
    expect(found('version 1.2.3.4000 at 12:40:13', 'IP_ADDRESS')).toEqual([])
    expect(found('999.1.1.1', 'IP_ADDRESS')).toEqual([])
  })
  it('URLs and bare domains', () => {
    expect(found('see https://www.example.com/a?b=1.', 'URL')).toEqual(['https://www.example.com/a?b=1'])
    expect(found('go to shop.example.de now', 'DOMAIN')).toEqual(['shop.example.de'])
    expect(found('e.g. this, i.e. that, file.txt', 'DOMAIN')).toEqual([])
  })
  it('phones: international, US, European groupings, extensions', () => {
    for (const p of ['+1-203-305-2492x5662', '(227)664-8546x506', '916.972.1680', '+44 20 7946 0958', '040 379 2455', '06-10446904', '481 7531']) {
      expect(found(`call ${p} today`, 'PHONE'), p).toEqual([p])
    }
    expect(found('my number is 4155550100, call me', 'PHONE')).toEqual(['4155550100'])
    // a bare digit run without a phone word is not a phone; neither is an impossible + number
    expect(found('invoice 4155550100 paid', 'PHONE')).toEqual([])
    expect(found('+0 000', 'PHONE')).toEqual([])
  })
  it('dates; a year alone is not a date of birth', () => {
    expect(found("It's like that since 1/13/1977", 'DATE')).toEqual(['1/13/1977'])
    expect(found('Date: 1992-12-08 19:28:54', 'DATE')).toEqual(['1992-12-08 19:28:54'])
    expect(found('on March 3, 2021', 'DATE')).toEqual(['March 3, 2021'])
    expect(found('She was born on 4/22/1965.', 'DATE_OF_BIRTH')).toEqual(['4/22/1965'])
    expect(found('DOB: 1980-02-29', 'DATE_OF_BIRTH')).toEqual(['1980-02-29'])
    expect(anyType('The plan for 2026 is ready')).toEqual([])
    expect(found('version 13/45/2020', 'DATE')).toEqual([])
  })
  it('ages', () => {
    expect(found('a 50 year old man', 'AGE')).toEqual(['50 year old'])
    expect(found('patient aged 72 presents', 'AGE')).toEqual(['aged 72'])
    expect(found('we have 50 years of history', 'AGE')).toEqual([])
  })
  it('identifiers after a context word', () => {
    expect(found("My driver's license number is LH329609T", 'DRIVER_LICENSE')).toEqual(['LH329609T'])
    expect(found('MRN: 00123456 admitted', 'MEDICAL_RECORD')).toEqual(['00123456'])
    expect(found('policy number AB-99887766', 'ID_NUMBER')).toEqual(['AB-99887766'])
    expect(found('My zip code is 35649', 'ZIP')).toEqual(['35649'])
    expect(anyType('we sold 123456 units')).toEqual([])
  })
})

describe('addresses', () => {
  it('US street line with unit, city, state and ZIP', () => {
    const t = 'Send it to 221 Baker Street Apt. 4, Springfield, IL 62704 please'
    expect(found(t, 'ADDRESS')).toEqual(['221 Baker Street Apt. 4, Springfield, IL 62704'])
  })
  it('European forms', () => {
    expect(found('lives at Genterstrasse 49, Kiel', 'ADDRESS')).toEqual(['Genterstrasse 49, Kiel'])
    expect(found('office at 87 Rue Joseph Vernet, Paris', 'ADDRESS')).toEqual(['87 Rue Joseph Vernet, Paris'])
  })
  it('multi-line address stops at a blank line and at a phone number', () => {
    const t = 'James Brandt\n\n09 Genterstrasse 49\n Apt. 339\n Kiel\n East Timor 68748\n0431 35 06 90-Office'
    expect(found(t, 'ADDRESS')).toEqual(['09 Genterstrasse 49\n Apt. 339\n Kiel\n East Timor 68748'])
    expect(found(t, 'PERSON')).toEqual(['James Brandt'])
    expect(found(t, 'PHONE')).toEqual(['0431 35 06 90'])
  })
  it('post boxes and military addresses', () => {
    expect(found('to PSC 4296, Box 4371\nAPO AA 03140 for post', 'ADDRESS')).toEqual(['PSC 4296, Box 4371\nAPO AA 03140'])
    expect(found('P.O. Box 255, Dover', 'ADDRESS')).toEqual(['P.O. Box 255, Dover'])
  })
  it('ordinal street names, abbreviations inside street names, and a named street after an address cue', () => {
    expect(found('arrived at 4589 40th Street Suite 603 Calgary AB last night', 'ADDRESS')).toEqual(['4589 40th Street Suite 603 Calgary AB'])
    expect(found('We meet at Esri, 64 Király u. 23., Tiszabög', 'ADDRESS')).toEqual(['64 Király u. 23., Tiszabög'])
    expect(found('The title refers to Bygget 91 street', 'ADDRESS')).toEqual([])
    expect(found('Please return to Sorlaskeid 32 in case of an issue', 'ADDRESS')).toEqual(['Sorlaskeid 32'])
    // without an address cue a name and a number is not an address
    expect(found('I upgraded to Kubuntu 22 yesterday', 'ADDRESS')).toEqual([])
  })
  it('ordinary words before "way" are not a street', () => {
    expect(found('I have 3 cats on the way home', 'ADDRESS')).toEqual([])
  })
})

describe('names, places, titles', () => {
  it('capitalised words outside the English vocabulary, and known first names', () => {
    expect(found('I want to add James Hyvönen as a beneficiary', 'PERSON')).toEqual(['James Hyvönen'])
    expect(found('Sometimes people call me Laura', 'PERSON')).toEqual(['Laura'])
  })
  it('capitalised ordinary words are not names', () => {
    expect(anyType('Capitalized words like Wisdom and Discipline are often mistaken with names.')).toEqual([])
    expect(anyType("I'm sure We'll manage, Don't worry")).toEqual([])
  })
  it('titles before names, suffixes after', () => {
    const t = 'Hello, this is Dr. Kent Jaworski. Who are you?'
    expect(found(t, 'TITLE')).toEqual(['Dr.'])
    expect(found(t, 'PERSON')).toEqual(['Kent Jaworski'])
    expect(found('correct it to Mr. Joshua Okamoto MD?', 'PERSON')).toEqual(['Joshua Okamoto MD'])
    expect(found('Mr. Ford is here', 'PERSON')).toEqual(['Ford'])
  })
  it('lowercase text: known first names only', () => {
    expect(found("don't go to town, carmen!", 'PERSON')).toEqual(['carmen'])
    expect(found('richard leblanc says so', 'PERSON')).toEqual(['richard leblanc'])
  })
  it('places from the lexicon and after place prepositions', () => {
    expect(found('Slovenia was super fun to visit!', 'LOCATION')).toEqual(['Slovenia'])
    expect(found('I moved here from Marshall Islands', 'LOCATION')).toEqual(['Marshall Islands'])
    expect(found("I'm in Cuntis, at the conference", 'LOCATION')).toEqual(['Cuntis'])
  })
  it('organisations by company suffix', () => {
    expect(found('The Keychain Logistics Corp. office', 'ORGANIZATION')).toEqual(['Keychain Logistics Corp.'])
  })
  it('nationalities, symbols and units are not names', () => {
    expect(anyType('Why did the Indians and Americans trade? Mercury (Hg) at 50 Hz.')).toEqual([])
  })
  it('number shapes that are not phones or addresses', () => {
    expect(anyType('during 1837-1843, values 12345.6789 and 0.2 -0.15 -0.1')).toEqual([])
    expect(anyType('balance 2PO4 + 3H2 and a height of 5 ft 5')).toEqual([])
  })
  it('technical queries stay intact', () => {
    expect(anyType('How do I configure Docker and Kubernetes with Python on Linux?')).toEqual([])
    expect(anyType('How do I fix a TypeError in my component UserProfile when using Redux and Webpack?')).toEqual([])
    expect(anyType('Explain the Pythagorean theorem')).toEqual([])
    expect(anyType('Is it safe to take Ibuprofen with Amoxicillin and Atorvastatin?')).toEqual([])
    // names with inner capitals after a known prefix are still names
    expect(found('My colleague McDonald met DeShawn', 'PERSON')).toEqual(['McDonald', 'DeShawn'])
  })
})
