import {describe, expect, it} from 'vitest'

import {createScrubber} from '../../src/privacy/index.js'
import {gitleaksCommit, shannonEntropy} from '../../src/privacy/secrets.js'

// Keys below are made up in each provider's documented shape; none is real.
const scrubber = createScrubber()
const secrets = (text: string) => scrubber.scrub(text).spans.filter((s) => s.type === 'SECRET').map((s) => text.slice(s.start, s.end))

describe('secret detector', () => {
  it('catches the keys, tokens and passwords the issue found passing through', () => {
    const cases: Array<[string, string]> = [
      ['my key is sk-proj-4fJk29XbQ1mZpLw8RtYc0vN3sHd7GaUe please help', 'sk-proj-4fJk29XbQ1mZpLw8RtYc0vN3sHd7GaUe'],
      ['OPENAI_API_KEY=sk-abc123def456ghi789jkl012mno345', 'sk-abc123def456ghi789jkl012mno345'],
      ['aws_access_key_id = AKIAZ7QWERTYUI0PASD3', 'AKIAZ7QWERTYUI0PASD3'],
      ['and the secret key is wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzKEY2xq9', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzKEY2xq9'],
      ['slack bot token xoxb-2048-3098-a1b2c3d4e5f6g7h8i9j0 fails', 'xoxb-2048-3098-a1b2c3d4e5f6g7h8i9j0'],
      ['decode eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U for me', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'],
      ['stripe.api_key = "sk_live_51HxYzABcdEFgh1234567890"', 'sk_live_51HxYzABcdEFgh1234567890'],
      ['maps key AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY works', 'AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY'],
      ['postgres://app:S3cr3tPa55@db.internal:5432/prod', 'app:S3cr3tPa55'],
      ['my password is hunter2', 'hunter2'],
      ['{"user": "ops", "password": "correcthorsebattery"}', 'correcthorsebattery'],
      ['pwd: Tr0ub4dor&3', 'Tr0ub4dor&3'],
      ['DB_PASSWORD=s3cr3t!x', 's3cr3t!x'],
    ]
    for (const [text, secret] of cases) expect(secrets(text), text).toEqual([secret])
  })

  it('replaces a whole private-key block', () => {
    const text = 'why does this fail?\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq0x8Zl0nW3JX9eXb8u+2Vv3lL2m0d1a9K4JXl2z8M5Q3pM2xqfZk1y\nq9Xw3rT5uV7yZ1aB2cD4eF6gH8iJ0kL2mN4oP6qR8sT0uV2wX4yZ6aB8cD0eF2gH4iJ6kL8\n-----END RSA PRIVATE KEY-----\nthanks'
    expect(scrubber.scrub(text).text).toBe('why does this fail?\n<SECRET>\nthanks')
  })

  it('leaves placeholders, ordinary words, code references, hashes and ids alone', () => {
    for (const text of [
      'my password is expired, how do I reset it?',
      'password = os.environ["DB_PASSWORD"]',
      'set api_key=YOUR_API_KEY in the config',
      'the token is <TOKEN> and the password is ********',
      'commit 3f2a9c1b7e4d5a6f8b0c2d4e6f8a0b1c3d5e7f9a fixed the build',
      'request id 123e4567-e89b-12d3-a456-426614174000 failed',
      'see src/components/UserProfileCard.tsx and com.example.payments.Service',
      'What is the primary key of a table, and how do access tokens work in OAuth?',
    ]) {
      expect(secrets(text), text).toEqual([])
    }
  })

  it('loads the gitleaks rules it was built from', () => {
    expect(gitleaksCommit()).toMatch(/^[0-9a-f]{40}$/)
    expect(shannonEntropy('aaaa')).toBe(0)
    expect(shannonEntropy('abcd')).toBe(2)
  })
})

describe('user-defined recognisers', () => {
  it('regex, deny-list and allow-list, with their own types', () => {
    const s = createScrubber({custom: {recognizers: [{type: 'WARD', pattern: '\\bWard [A-Z]\\d\\b'}], deny: [{type: 'TRIAL', words: ['Project Zeta', 'ZX-44']}], allow: ['Keytruda', 'Mercy']}})
    expect(s.scrub('Patient on Keytruda in Ward B4 at Mercy, enrolled in project  zeta (ZX-44), seen by Anna Smith').text).toBe(
      'Patient on Keytruda in <WARD> at Mercy, enrolled in <TRIAL> (<TRIAL>), seen by <PERSON>',
    )
    // Without the allow-list the same words are taken as names.
    expect(createScrubber().scrub('Patient on Keytruda at Mercy').text).not.toBe('Patient on Keytruda at Mercy')
    expect(() => createScrubber({custom: {recognizers: [{type: 'x', pattern: '('}]}})).toThrow(/privacy\.recognizers\[0\]/)
  })
})
