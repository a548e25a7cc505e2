#!/usr/bin/env node
// Secrets benchmark: a synthetic set of secrets in the shapes providers document, pasted into the kinds of
// prompt people send (an .env dump, a curl line, a stack trace, a question about a key), plus prompts with
// look-alikes that are not secrets (placeholders, hashes, ids, paths). Character-level recall and precision
// of SECRET spans, per kind of secret. Deterministic (seeded); nothing here is a real key.
// Run after `npm run build`:  node bench/pii/secrets.mjs [--show-errors N] [--write FILE]
import {writeFileSync} from 'node:fs'

import {createScrubber} from '../../dist/privacy/index.js'

const args = process.argv.slice(2)
const showErrors = args.includes('--show-errors') ? Number(args[args.indexOf('--show-errors') + 1]) : 0
const writeTo = args.includes('--write') ? args[args.indexOf('--write') + 1] : undefined

// mulberry32: a small seeded generator, so the set is the same on every run.
let seed = 0x5eC4e7
const rand = () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = (xs) => xs[Math.floor(rand() * xs.length)]
const chars = (alphabet, n) => Array.from({length: n}, () => alphabet[Math.floor(rand() * alphabet.length)]).join('')
const AZ = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
const az = 'abcdefghijklmnopqrstuvwxyz'
const D = '0123456789'
const ALNUM = AZ + az + D
const HEX = '0123456789abcdef'
const B64 = ALNUM + '+/'
const B64URL = ALNUM + '-_'
const b64url = (s) => Buffer.from(s).toString('base64url')

// Provider formats, from each provider's documentation of its key format (and gitleaks' rules, which encode the same).
const KINDS = {
  'openai key': () => pick([() => `sk-proj-${chars(B64URL, 74)}T3BlbkFJ${chars(B64URL, 74)}`, () => `sk-${chars(ALNUM, 20)}T3BlbkFJ${chars(ALNUM, 20)}`, () => `sk-svcacct-${chars(B64URL, 58)}T3BlbkFJ${chars(B64URL, 58)}`])(),
  'anthropic key': () => `sk-ant-api03-${chars(B64URL, 93)}AA`,
  'aws access key id': () => `${pick(['AKIA', 'ASIA'])}${chars(AZ + '234567', 16)}`,
  'aws secret access key': () => chars(B64, 40),
  'github token': () => pick([() => `ghp_${chars(ALNUM, 36)}`, () => `github_pat_${chars(ALNUM, 22)}_${chars(ALNUM, 59)}`, () => `gho_${chars(ALNUM, 36)}`])(),
  'slack token': () => `${pick(['xoxb', 'xoxp'])}-${chars(D, 12)}-${chars(D, 13)}-${chars(ALNUM, 24)}`,
  'stripe secret key': () => `${pick(['sk_live_', 'rk_live_', 'sk_test_'])}${chars(ALNUM, 24 + Math.floor(rand() * 75))}`,
  'google api key': () => `AIza${chars(B64URL, 35)}`,
  'gitlab / hugging face / npm token': () => pick([() => `glpat-${chars(B64URL, 20)}`, () => `hf_${chars(AZ + az, 34)}`, () => `npm_${chars(ALNUM, 36)}`])(),
  'sendgrid / twilio / mailgun key': () => pick([() => `SG.${chars(B64URL, 22)}.${chars(B64URL, 43)}`, () => `SK${chars(HEX, 32)}`, () => `key-${chars(HEX, 32)}`])(),
  jwt: () => `${b64url(JSON.stringify({alg: pick(['HS256', 'RS256']), typ: 'JWT'}))}.${b64url(JSON.stringify({sub: chars(D, 8), name: pick(['svc-billing', 'ops']), iat: 1700000000 + Math.floor(rand() * 1e7)}))}.${chars(B64URL, 43)}`,
  'private key block': () => {
    const kind = pick(['RSA PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY'])
    const lines = Array.from({length: 3 + Math.floor(rand() * 5)}, () => chars(B64, 64))
    return `-----BEGIN ${kind}-----\n${lines.join('\n')}\n-----END ${kind}-----`
  },
  'password': () => pick([
    () => `${pick(['Summer', 'Winter', 'Dragon', 'Monkey', 'Sunshine', 'Football'])}${1990 + Math.floor(rand() * 35)}${pick(['!', '#', '$', '?'])}`,
    () => chars(ALNUM + '!@#$%^&*', 10 + Math.floor(rand() * 10)),
    () => `${pick(az.split(''))}${chars(az, 5)}${chars(D, 2)}`,
    () => [pick(['correct', 'purple', 'river', 'canyon', 'velvet']), pick(['horse', 'monkey', 'lantern', 'comet']), pick(['battery', 'staple', 'orbit', 'maple']), chars(D, 2)].join(pick(['-', '.', ''])),
  ])(),
  'url credentials': () => null, // built in its template (the gold span is user:password)
  'generic api key': () => chars(ALNUM, 32),
}

const TEMPLATES = {
  'openai key': [(s) => `I'm getting 401 Unauthorized from the API with this key: ${s} - is it revoked?`, (s) => `Here is my .env, why doesn't it load?\nOPENAI_API_KEY=${s}\nDEBUG=true`, (s) => `client = OpenAI(api_key="${s}")\nresp = client.chat.completions.create(model="gpt-4o")\n# AuthenticationError`],
  'anthropic key': [(s) => `export ANTHROPIC_API_KEY=${s}\nthen claude says invalid x-api-key, what am I missing?`, (s) => `my anthropic key ${s} stopped working today`],
  'aws access key id': [(s) => `boto3 fails with InvalidClientTokenId. aws_access_key_id = ${s}, region eu-west-1`, (s) => `[default]\naws_access_key_id=${s}\nregion=us-east-1\nwhy does the CLI ignore this profile?`],
  'aws secret access key': [(s) => `aws_secret_access_key = ${s}\nis this the right format for ~/.aws/credentials?`, (s) => `the secret key is ${s} and the SDK still says SignatureDoesNotMatch`],
  'github token': [(s) => `git push asks for a password, I used the token ${s} and it says authentication failed`, (s) => `GITHUB_TOKEN: ${s}\nhow do I pass this to actions/checkout?`],
  'slack token': [(s) => `slack_sdk throws invalid_auth with token=${s}, the bot is in the channel`, (s) => `SLACK_BOT_TOKEN=${s} why can't my bot post?`],
  'stripe secret key': [(s) => `stripe.api_key = "${s}"\nstripe.Charge.create(amount=2000) raises AuthenticationError`, (s) => `is it ok to put ${s} in my React app?`],
  'google api key': [(s) => `The Maps embed shows "For development purposes only". key=${s}`, (s) => `fetch("https://maps.googleapis.com/maps/api/geocode/json?address=x&key=${s}") returns REQUEST_DENIED`],
  'gitlab / hugging face / npm token': [(s) => `token = "${s}" but the download returns 401`, (s) => `I set the token ${s} in .npmrc / the env and it still fails, why?`],
  'sendgrid / twilio / mailgun key': [(s) => `SENDGRID_API_KEY=${s}\nsend() returns 403 Forbidden`, (s) => `here is the api key ${s}, the webhook still gets 401`],
  jwt: [(s) => `Decode this token and tell me why it is rejected: ${s}`, (s) => `curl -H "Authorization: Bearer ${s}" https://api.internal.example/v1/orders returns 403`],
  'private key block': [(s) => `ssh says "invalid format" for this key, what's wrong?\n${s}\nthanks`, (s) => `Can you convert this to PKCS8?\n${s}`],
  password: [(s) => `my password is ${s}, is it strong enough?`, (s) => `{"user": "admin", "password": "${s}"} - why does login return 401?`, (s) => `database:\n  host: db.local\n  user: app\n  password: ${s}\nwhat's wrong with this yaml?`, (s) => `I changed pwd=${s} in settings.py and Django still can't connect`],
  'url credentials': [
    () => {
      const user = pick(['app', 'admin', 'postgres', 'svc_reader', 'root'])
      const pass = KINDS.password()
      const scheme = pick(['postgres', 'postgresql', 'mysql', 'mongodb+srv', 'redis', 'amqp'])
      const prefix = `connection refused for ${scheme}://`
      return {text: `${prefix}${user}:${pass}@${pick(['db.internal', 'cluster0.ab1cd.mongodb.net', '10.0.0.5'])}:${pick(['5432', '3306', '27017', '6379'])}/prod - how do I debug it?`, at: prefix.length, len: user.length + 1 + pass.length}
    },
  ],
  'generic api key': [(s) => `headers = {"X-Api-Key": "${s}"}\nrequests.get(url, headers=headers) gives 401`, (s) => `api_key: ${s}\nis this yaml valid for the client?`, (s) => `the API key for our vendor is ${s}, how do I rotate it?`],
}

// Look-alikes that are not secrets: the detector should leave these alone.
const NEGATIVES = [
  () => `commit ${chars(HEX, 40)} broke the build, how do I revert it?`,
  () => `the request id ${chars(HEX, 8)}-${chars(HEX, 4)}-4${chars(HEX, 3)}-a${chars(HEX, 3)}-${chars(HEX, 12)} failed with 500`,
  () => `docker pull nginx@sha256:${chars(HEX, 64)} is slow`,
  () => `set OPENAI_API_KEY=sk-... in your shell, then run the script`,
  () => `api_key = "YOUR_API_KEY_HERE"  # replace before running`,
  () => `password = os.environ["DB_PASSWORD"]`,
  () => `my password is expired, how do I reset it?`,
  () => `the password must be at least 12 characters long`,
  () => `What is the primary key of a table, and how do access tokens work in OAuth?`,
  () => `see src/components/${pick(['UserProfile', 'Billing', 'Checkout'])}Card.tsx and lib/utils/formatDate.ts`,
  () => `token count is ${Math.floor(rand() * 100000)}, limit 128000`,
  () => `the API returned {"error": "invalid_api_key"} - what does it mean?`,
  () => `Authorization: Bearer <token> is what the docs show`,
  () => `version ${Math.floor(rand() * 9)}.${Math.floor(rand() * 20)}.${Math.floor(rand() * 30)} of the SDK`,
  () => `base64 of "hello world" is aGVsbG8gd29ybGQ=`,
]

const records = []
for (const kind of Object.keys(KINDS)) {
  const templates = TEMPLATES[kind]
  for (let i = 0; i < 24; i++) {
    const t = templates[i % templates.length]
    if (kind === 'url credentials') {
      const {text, at, len} = t()
      records.push({kind, text, gold: [[at, at + len]]})
      continue
    }
    const secret = KINDS[kind]()
    const text = t(secret)
    const at = text.indexOf(secret)
    const gold = [[at, at + secret.length]]
    // Two-part AWS credentials: the id is a secret too when both appear.
    records.push({kind, text, gold})
  }
}
for (let i = 0; i < 120; i++) records.push({kind: 'not a secret', text: NEGATIVES[i % NEGATIVES.length](), gold: []})
if (writeTo) writeFileSync(writeTo, records.map((r) => JSON.stringify(r)).join('\n') + '\n')

const scrubber = createScrubber()
const isChar = (c) => /[\p{L}\p{N}]/u.test(c)
const per = {}
let tp = 0
let predN = 0
let goldN = 0
let caughtAny = 0
let caughtSecret = 0
const errors = []
const t0 = process.cpuUsage()
const results = records.map((r) => scrubber.scrub(r.text))
const cpu = process.cpuUsage(t0)
records.forEach((r, idx) => {
  const spans = results[idx].spans
  const goldAt = new Uint8Array(r.text.length)
  for (const [s, e] of r.gold) goldAt.fill(1, s, e)
  const secretAt = new Uint8Array(r.text.length)
  const anyAt = new Uint8Array(r.text.length)
  for (const s of spans) {
    anyAt.fill(1, s.start, s.end)
    if (s.type === 'SECRET') secretAt.fill(1, s.start, s.end)
  }
  const e = (per[r.kind] ??= {gold: 0, caught: 0, typed: 0, pred: 0, fp: 0, records: 0})
  e.records++
  let missed = false
  let fp = false
  for (let i = 0; i < r.text.length; i++) {
    if (!isChar(r.text[i])) continue
    if (goldAt[i]) {
      e.gold++
      goldN++
      if (anyAt[i]) {
        e.caught++
        caughtAny++
      }
      if (secretAt[i]) {
        e.typed++
        caughtSecret++
      } else missed = true
    }
    if (secretAt[i]) {
      e.pred++
      predN++
      if (goldAt[i]) tp++
      else {
        e.fp++
        fp = true
      }
    }
  }
  if (missed || fp) errors.push(`${missed ? 'MISS' : 'FP  '} [${r.kind}] ${JSON.stringify(r.text.slice(0, 200))} -> ${JSON.stringify(results[idx].text.slice(0, 200))}`)
})
const pct = (x) => (Number.isFinite(x) ? (100 * x).toFixed(1).padStart(6) : '     -')
const secretsN = records.filter((r) => r.gold.length).length
console.log(`${records.length} prompts: ${secretsN} with a secret (${Object.keys(KINDS).length} kinds), ${records.length - secretsN} with look-alikes only; ${(records.length / ((cpu.user + cpu.system) / 1e6)).toFixed(0)} prompts per CPU-second (first pass)`)
console.log('kind                                prompts  secret chars  recall(SECRET)  caught(any type)  false-positive chars')
for (const [k, e] of Object.entries(per)) {
  console.log(`${k.padEnd(36)} ${String(e.records).padStart(6)} ${String(e.gold).padStart(12)}  ${pct(e.gold ? e.typed / e.gold : NaN)}          ${pct(e.gold ? e.caught / e.gold : NaN)}            ${e.fp}`)
}
console.log(`SECRETS  recall ${pct(caughtSecret / goldN)}  precision ${pct(tp / predN)}  (caught by any placeholder: ${pct(caughtAny / goldN)})`)
if (showErrors) for (const line of errors.slice(0, showErrors)) console.log(line)
