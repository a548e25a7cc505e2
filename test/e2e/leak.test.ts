import {mkdirSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {decodePacket} from '../../src/packet/codec.js'
import {readStoreFile} from '../../src/packet/store.js'
import {type CliResult, repoRoot, runCli, tempDir} from '../helpers/cli.js'
import {type NodeProcess, startSwarm, stopAll} from '../helpers/swarm.js'
import {type Hit, filesUnder, needlesFor, searchBytes, searchFiles} from './leak-search.js'

// The leak proof: logs full of canaries go through distill, publish to three `qis node` processes,
// pull-weights on another home and adjust, all through bin/run.js (run `npm run build` first).
// Afterwards no canary may appear in any file of any home, any output, any stored packet or any
// captured stdout/stderr, as text, case-folded, hex, UTF-16 or base64.

const env = {QIS_MODEL_DIR: path.join(repoRoot, 'fixtures/models/qis-tiny-bert'), QIS_BOOTSTRAP: ''}
const DOMAIN = 'clinical.oncology'

const C = {
  query: 'CANARYQ7xQueryTok',
  csvQuery: 'CANARYS7xCsvTok',
  chatQuery: 'CANARYH7xChatTok',
  response: 'CANARYR7xRespTok',
  correction: 'CANARYC7xCorrTok',
  name: 'Quennell Vasquariel',
  surname: 'Vasquariel',
  email: 'canary.q7x@vasquariel-clinic.org',
  phone: '555-0143',
  mrn: 'CQ7MRN448812',
  user: 'CANARYU7xUserId',
  malformed: 'CANARYM7xTornLine',
  badField: 'CANARYF7xBadField',
  adjust: 'CANARYA7xAdjustTok',
  // Secrets in provider shapes (made up), in queries, responses and correction text.
  keyQuery: 'sk-proj-Q7xCanaryKey9mZpLw8RtYc0vN3sHd7GaUeXw2',
  awsQuery: 'AKIAQ7XCANARY2K7ZZQ3',
  dbPassword: 'Q7xCanaryPw!2931',
  keyResponse: 'ghp_Q7xCanaryResp0TokenA1b2C3d4E5f6G7h8I9j0',
  keyCorrection: 'xoxb-2048-3098-Q7xCanaryCorr7Token9z',
  // An organisation in a fine-tuned model id.
  org: 'canaryorgq7x',
}
const CANARIES = Object.values(C)

// Same questions in both homes, so the puller's own keys are the ones the publisher's packets sit under.
const QUESTIONS = [
  `Second-line therapy for stage 3 NSCLC after progression on osimertinib ${C.query}?`,
  `Is pembrolizumab appropriate for patient ${C.name} (MRN: ${C.mrn}) with PD-L1 above 50 percent?`,
  `Dose reduction of capecitabine for grade 2 hand-foot syndrome, call ${C.email} or (617) ${C.phone}`,
  `How long should anticoagulation continue for cancer-associated thrombosis in ${C.surname}'s case?`,
  `The oncology API rejects my key ${C.keyQuery} and aws_access_key_id=${C.awsQuery}; db is postgres://onc:${C.dbPassword}@db.internal/prod`,
]

function writeLogs(dir: string, tag: string): {files: string[]; corrections: string} {
  mkdirSync(dir, {recursive: true})
  const t0 = Date.parse('2026-11-24T08:00:00Z')
  const flat: string[] = []
  QUESTIONS.forEach((q, i) => {
    for (let r = 0; r < 3; r++) {
      flat.push(
        JSON.stringify({
          request_id: `${tag}-${i}-${r}`,
          timestamp: new Date(t0 + (i * 3 + r) * 60_000).toISOString(),
          domain: DOMAIN,
          model: i === 4 ? `ft:gpt-4o-mini-2024-07-18:${C.org}::9qLCdJzV` : 'llama3-70b-instruct',
          prompt: q,
          response: `Answer mentioning ${C.response} and ${C.name}, reachable at ${C.email}, token ${C.keyResponse}.`,
          confidence: 0.6 + r / 10,
          outcome: (i + r) % 2 === 0 ? 0.9 : 0.2,
          user: C.user,
          user_id: C.user,
          patient_name: C.name,
          mrn: C.mrn,
        }),
      )
    }
  })
  flat.push(`{"request_id": "${tag}-torn", "prompt": "${C.malformed} half a line`)
  // A record with an invalid field carrying a canary: rejected, and its value must not reach the rejects file.
  flat.push(JSON.stringify({request_id: `${tag}-bad`, domain: DOMAIN, prompt: `q ${C.badField}`, confidence: `${C.badField}`, outcome: 0.5}))
  const inference = path.join(dir, 'inference.jsonl')
  writeFileSync(inference, flat.join('\n') + '\n')

  const chat = path.join(dir, 'chat.jsonl')
  writeFileSync(
    chat,
    [
      JSON.stringify({
        id: `${tag}-chat-0`,
        created_at: Math.floor(t0 / 1000),
        model: 'llama3-70b-instruct',
        category: DOMAIN,
        user: C.user,
        messages: [
          {role: 'system', content: `You assist ${C.name}.`},
          {role: 'user', content: [{type: 'text', text: `${QUESTIONS[1]} ${C.chatQuery}`}]},
        ],
        choices: [{message: {role: 'assistant', content: `Reply ${C.response} to ${C.email}`}}],
        confidence_at_inference: 0.81,
        feedback: 'down',
      }),
      `{"id": "${tag}-chat-torn", "messages": [{"role": "user", "content": "${C.malformed}`,
    ].join('\n') + '\n',
  )

  const csv = path.join(dir, 'support.csv')
  writeFileSync(
    csv,
    [
      'request_id,ts,category,model_variant,question,rating,confidence,user_email',
      `${tag}-csv-0,${Math.floor(t0 / 1000)},${DOMAIN},llama3-70b-instruct,"Follow-up imaging interval for ${C.name}, ${C.csvQuery}?",4,0.7,${C.email}`,
      `${tag}-csv-1,${Math.floor(t0 / 1000)},${DOMAIN},llama3-70b-instruct,"${C.csvQuery} with a rating out of range",9,0.7,${C.email}`,
    ].join('\n') + '\n',
  )

  const corrections = path.join(dir, 'corrections.jsonl')
  writeFileSync(
    corrections,
    [
      JSON.stringify({request_id: `${tag}-0-0`, correction_type: 'factual', corrected_text: `Corrected by ${C.name} ${C.correction}, see ${C.email}, use ${C.keyCorrection}`, outcome: 0.1, reviewer: C.user}),
      // A correction type that is personal data must be refused, not published as a label.
      JSON.stringify({request_id: `${tag}-1-0`, correction_type: C.email, corrected_text: `${C.correction} ${C.mrn}`, outcome: 0.2}),
      `{"request_id": "${tag}-2-0", "corrected_text": "${C.correction} torn`,
    ].join('\n') + '\n',
  )
  return {files: [inference, chat, csv], corrections}
}

/** Text fields of every packet in every .qisp under `dirs`, plus the raw records. */
async function packetTexts(dirs: string[]): Promise<{packets: number; texts: {where: string; text: string; raw: Uint8Array}[]}> {
  const texts: {where: string; text: string; raw: Uint8Array}[] = []
  let packets = 0
  for (const dir of dirs) {
    for (const file of filesUnder(dir).filter((f) => f.endsWith('.qisp'))) {
      for await (const entry of readStoreFile(file)) {
        if (entry.kind !== 'packet') continue
        const decoded = decodePacket(entry.bytes)
        if (!decoded.ok) throw new Error(`${file} record ${entry.index}: ${decoded.error.message}`)
        packets++
        const p = decoded.packet
        const fields = [p.scheme, p.domain_tag, p.query_semantic_hash, p.model_variant, String(p.correction_type), ...p.routing_keys]
        texts.push({where: `${file}#${entry.index}`, text: fields.join('\n'), raw: entry.bytes})
      }
    }
  }
  return {packets, texts}
}

describe('leak proof: canaries in, none out', () => {
  let nodes: NodeProcess[] = []
  const root = tempDir('qis-leak-')
  const logsA = path.join(root, 'logs-a')
  const logsB = path.join(root, 'logs-b')
  const pubHome = path.join(root, 'home-publisher')
  const pullHome = path.join(root, 'home-puller')
  const outDir = path.join(root, 'out')
  const captured: {what: string; r: CliResult}[] = []

  async function run(what: string, args: string[]): Promise<CliResult> {
    const r = await runCli(args, {env, timeoutMs: 120_000})
    captured.push({what, r})
    return r
  }

  beforeAll(async () => {
    nodes = await startSwarm(3, {env})
  }, 90_000)

  afterAll(async () => {
    await stopAll(nodes)
  })

  it('the search finds every canary where it was planted, in every encoding it looks for', () => {
    const needles = needlesFor(CANARIES)
    const planted = path.join(tempDir('qis-leak-plant-'), 'x')
    mkdirSync(planted)
    // Each canary planted once in each form, inside unrelated bytes; each must be found in that form.
    for (const [i, c] of CANARIES.entries()) {
      const bytes = Buffer.from(c, 'utf8')
      writeFileSync(path.join(planted, `${i}.txt`), `prefix ${c.toUpperCase()} suffix`)
      writeFileSync(path.join(planted, `${i}.hex`), `00ff${bytes.toString('hex').toUpperCase()}ee`)
      writeFileSync(path.join(planted, `${i}.b64`), Buffer.concat([Buffer.from([7, 8]), bytes, Buffer.from([9])]).toString('base64'))
      writeFileSync(path.join(planted, `${i}.u16`), Buffer.from(`x${c}y`, 'utf16le'))
    }
    const {hits} = searchFiles([planted], needles)
    for (const c of CANARIES) {
      for (const form of ['text', 'hex', 'base64', 'utf16le']) {
        expect(hits.some((h) => h.canary === c && h.form === form), `${c} as ${form}`).toBe(true)
      }
    }
    expect(searchBytes('clean', 'nothing to see here 0123456789abcdef', needles)).toEqual([])
  })

  it('distill, publish to 3 nodes, pull-weights on another home and adjust leave no canary anywhere', async () => {
    const a = writeLogs(logsA, 'a')
    const b = writeLogs(logsB, 'b')
    // The inputs hold every canary (except the adjust query's, which only goes on a command line).
    const inputHits = searchFiles([logsA], needlesFor(CANARIES)).hits
    for (const c of CANARIES.filter((x) => x !== C.adjust)) expect(inputHits.some((h) => h.canary === c), c).toBe(true)

    const bootstrap = nodes[0].multiaddrs[0]
    mkdirSync(outDir)
    const d1 = await run('distill publisher', ['distill', ...a.files, '-c', a.corrections, '--rejects', path.join(outDir, 'rejects-a.jsonl'), '--home', pubHome, '--json'])
    expect(d1.code, d1.stderr).toBe(0)
    const s1 = JSON.parse(d1.stdout)
    expect(s1.counts.emitted).toBeGreaterThanOrEqual(15)
    expect(s1.counts.rejected).toBeGreaterThanOrEqual(3)
    const d2 = await run('distill puller', ['distill', ...b.files, '-c', b.corrections, '--rejects', path.join(outDir, 'rejects-b.jsonl'), '--home', pullHome])
    expect(d2.code, d2.stderr).toBe(0)

    const p1 = await run('publish publisher', ['publish', '--home', pubHome, '--bootstrap', bootstrap, '--yes', '--json'])
    expect(p1.code, p1.stderr).toBe(0)
    expect(JSON.parse(p1.stdout), p1.stdout).toMatchObject({failed: 0})
    expect(JSON.parse(p1.stdout).published).toBeGreaterThanOrEqual(15)
    const p2 = await run('publish puller', ['publish', '--home', pullHome, '--bootstrap', bootstrap, '--yes'])
    expect(p2.code, p2.stderr).toBe(0)

    const pw = await run('pull-weights', ['pull-weights', '--home', pullHome, '--bootstrap', bootstrap, '--json'])
    expect(pw.code, pw.stderr).toBe(0)
    const pull = JSON.parse(pw.stdout)
    expect(pull.accepted).toBeGreaterThan(0)
    expect(pull.weightsWritten).toBeGreaterThan(0)
    const pwHuman = await run('pull-weights (human)', ['pull-weights', '--home', pullHome, '--bootstrap', bootstrap])
    expect(pwHuman.code, pwHuman.stderr).toBe(0)

    // The adjust query is a logged question with another canary added; its hash must still meet the weights.
    const query = `Second-line therapy for stage 3 NSCLC after progression on osimertinib ${C.query}? ${C.adjust} ${C.name} ${C.email}`
    const adj = await run('adjust', ['adjust', query, '--domain', DOMAIN, '--home', pullHome, '--json'])
    expect(adj.code, adj.stderr).toBe(0)
    const adjHuman = await run('adjust (human)', ['adjust', query, '--domain', DOMAIN, '--home', pullHome])
    expect(adjHuman.code, adjHuman.stderr).toBe(0)
    await run('inspect', ['inspect', 'packet', s1.out, '--json'])

    // Stop the nodes so their stopped events and final flushes are part of what is searched.
    await stopAll(nodes)

    const needles = needlesFor(CANARIES)
    const homes = [pubHome, pullHome, outDir, ...nodes.map((n) => n.home)]
    const files = searchFiles(homes, needles)
    expect(files.files).toBeGreaterThanOrEqual(10)
    // The outputs most likely to carry text exist and are searched, so a clean result is not vacuous.
    const all = homes.flatMap((h) => filesUnder(h))
    for (const f of ['rejects-a.jsonl', 'rejects-b.jsonl', 'published.log', 'weights.json', 'packets.qisp']) {
      expect(all.some((x) => path.basename(x) === f && statSync(x).size > 0), f).toBe(true)
    }
    const hits: Hit[] = [...files.hits]
    for (const {what, r} of captured) {
      hits.push(...searchBytes(`${what} stdout`, r.stdout, needles), ...searchBytes(`${what} stderr`, r.stderr, needles))
    }
    for (const [i, n] of nodes.entries()) {
      hits.push(...searchBytes(`node ${i} events`, JSON.stringify(n.events), needles), ...searchBytes(`node ${i} stderr`, n.stderr(), needles))
    }
    const {packets, texts} = await packetTexts(homes)
    // Publisher and puller stores plus three replicas of each on the nodes.
    expect(packets).toBeGreaterThanOrEqual(30 + 3 * 15)
    for (const t of texts) hits.push(...searchBytes(`${t.where} fields`, t.text, needles), ...searchBytes(`${t.where} bytes`, Buffer.from(t.raw), needles))
    expect(hits).toEqual([])
  }, 300_000)
})
