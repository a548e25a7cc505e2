// Fuzz targets: each generates one input from a seeded rng and checks the code under test against
// oracles. A target returns normally when the input was handled correctly; it throws a
// FuzzFailure when the code crashed (an untyped throw) or broke an oracle (e.g. a mutated packet
// that decoded as valid would be a forged signature). Shared by bench/fuzz/run.mjs (against dist/)
// and test/fuzz (against src/), which pass the library modules in.
import {promises as fs} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {encode as cborEncode} from 'cborg'
import * as lp from 'it-length-prefixed'

import {cborGarbage, mutate, rng} from './mutate.mjs'

export class FuzzFailure extends Error {
  constructor(kind, message, cause) {
    super(message, {cause})
    this.name = 'FuzzFailure'
    /** 'crash' (untyped throw) or 'oracle' (wrong answer). */
    this.kind = kind
  }
}

const crash = (where, err) =>
  new FuzzFailure('crash', `${where} threw ${err?.constructor?.name ?? typeof err}: ${err?.message ?? String(err)}`, err)
const oracle = (message) => new FuzzFailure('oracle', message)

/** The rng for input `index` of a run with `seed`: any input can be regenerated alone. */
export const inputRng = (seed, index) => rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0)

const PACKET_CODES = new Set(['EMPTY', 'TOO_LARGE', 'MALFORMED', 'NOT_CANONICAL', 'UNSUPPORTED_VERSION', 'INVALID_FIELD', 'BAD_SIGNATURE', 'EXPIRED', 'FUTURE_TIMESTAMP'])
const STORE_STATUSES = new Set(['stored', 'duplicate', ...PACKET_CODES, 'KEY_MISMATCH', 'PUBLISHER_QUOTA', 'NODE_FULL', 'BAD_REQUEST', 'STORAGE_ERROR'])
const FINGERPRINT = /^[0-9a-f]{32}$/
const CANARY = 'zqxcanary'
const hex = (b) => Buffer.from(b).toString('hex')
const equalBytes = (a, b) => a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0

/** Valid signed packets from several publishers, the seed material for mutations. */
function buildPacketCorpus(lib, now, count = 64) {
  const r = rng(12345)
  const signers = [1, 2, 3, 4].map((s) => lib.signerFromSeed(new Uint8Array(32).fill(s)))
  const domains = ['clinical.oncology', 'legal.contracts', 'general', 'finance.tax', 'a']
  const models = ['llama3-70b-instruct', 'gpt-4o-mini', 'mistral-7b', 'm']
  const packets = []
  for (let i = 0; i < count; i++) {
    const corrected = r.chance(0.3)
    const keys = Array.from({length: r.range(0, 8)}, (_, k) => `k${k}${hex(r.bytes(r.range(1, 6)))}`.slice(0, 16))
    packets.push(
      new Uint8Array(lib.encodePacket(
        {
          scheme: r.pick(['use-lite.cb2048.v1', 'transformers:x.v1']),
          domain_tag: r.pick(domains),
          query_semantic_hash: hex(r.bytes(r.pick([4, 8, 16]))),
          routing_keys: [...new Set(keys)],
          outcome_signal: r.int(1001) / 1000,
          confidence_at_inference: r.int(1001) / 1000,
          model_variant: r.pick(models),
          correction_applied: corrected,
          correction_type: corrected && r.chance(0.7) ? r.pick(['factual', 'tone', 'format']) : null,
          // Live at `now` (ttl longer than the age), so the node-side targets reach their deeper checks.
          timestamp: now - r.int(86_400),
          ttl_hours: r.pick([25, 168, 8760]),
          count: r.chance(0.8) ? 1 : r.range(2, 100000),
        },
        r.pick(signers),
      )),
    )
  }
  return packets
}

// ---------------------------------------------------------------------------------------------
// Log generators for the JSONL and CSV readers: realistic records in the shapes real logs use,
// with a canary inside the query so any reject that copies text is caught.

function logRecord(r, i) {
  const query = `${r.pick(['What is the dose of', 'Summarise the contract for', 'How do I file', 'Explain'])} ${CANARY}${i} ${r.pick(['for John Smith', 'in 2024', '', 'at 555-0100'])}`
  const rec = {}
  rec[r.pick(['id', 'request_id', 'inference_id', 'trace_id'])] = `req-${i}`
  if (r.chance(0.2)) rec.messages = [{role: 'system', content: 'be brief'}, {role: 'user', content: r.chance(0.5) ? query : [{type: 'text', text: query}]}]
  else rec[r.pick(['query', 'prompt', 'input', 'question'])] = query
  rec[r.pick(['domain', 'domain_tag', 'category'])] = r.pick(['clinical.oncology', 'Clinical Oncology', 'legal', '???', ''])
  const outcome = r.int(6)
  if (outcome === 0) rec.outcome = r.pick([0, 0.5, 1, 1.5, -1, 'high', null])
  else if (outcome === 1) rec.rating = r.pick([1, 3, 5, 0, 6, '4'])
  else if (outcome === 2) rec.thumbs = r.pick(['up', 'down', true, false, 'sideways'])
  else if (outcome === 3) rec.score = r.next()
  if (r.chance(0.8)) rec[r.pick(['confidence', 'confidence_at_inference'])] = r.pick([r.next(), 2, -0.1, 'x'])
  rec[r.pick(['model', 'model_variant'])] = r.pick(['llama3-70b', 'GPT 4o', ''])
  if (r.chance(0.3)) rec.correction = `the right answer mentions ${CANARY}c${i}`
  if (r.chance(0.3)) rec.correction_type = r.pick(['factual', 'Tone!', ''])
  rec[r.pick(['timestamp', 'ts', 'created_at', 'time'])] = r.pick([1_764_000_000, 1_764_000_000_123, '2026-11-26T03:00:00Z', 'yesterday', -5])
  if (r.chance(0.5)) rec.response = `model output ${CANARY}r${i}`
  return rec
}

function jsonlLog(r) {
  const n = r.range(0, 25)
  const eol = r.chance(0.8) ? '\n' : '\r\n'
  const lines = []
  for (let i = 0; i < n; i++) lines.push(r.chance(0.08) ? r.pick(['', '   ', '{', 'null', '[1,2]', '"text"']) : JSON.stringify(logRecord(r, i)))
  return Buffer.from((r.chance(0.05) ? '\ufeff' : '') + lines.join(eol) + (r.chance(0.7) ? eol : ''))
}

const csvCell = (v, r) => {
  const s = v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)
  return /[",\n\r]/.test(s) || r.chance(0.1) ? `"${s.replace(/"/g, '""')}"` : s
}

function csvLog(r) {
  const columns = ['id', r.pick(['query', 'prompt', 'question']), 'domain', r.pick(['outcome', 'rating', 'thumbs', 'score']), 'confidence', 'model', 'correction', 'timestamp']
  const n = r.range(0, 20)
  const rows = [columns.join(',')]
  for (let i = 0; i < n; i++) {
    const rec = logRecord(r, i)
    const query = Object.entries(rec).find(([k]) => ['query', 'prompt', 'input', 'question'].includes(k))?.[1] ?? 'q'
    const multiline = r.chance(0.1) ? '\nsecond line' : ''
    rows.push(
      [`req-${i}`, `${query}${multiline}`, rec.domain ?? rec.category ?? '', rec.outcome ?? rec.rating ?? rec.thumbs ?? rec.score ?? '', rec.confidence ?? '', rec.model ?? '', rec.correction ?? '', rec.timestamp ?? rec.ts ?? '']
        .map((v) => csvCell(v, r))
        .join(','),
    )
    if (r.chance(0.05)) rows.push('')
  }
  return Buffer.from((r.chance(0.05) ? '\ufeff' : '') + rows.join(r.chance(0.8) ? '\n' : '\r\n') + (r.chance(0.6) ? '\n' : ''))
}

/** Lines of a JSONL input that must each produce exactly one event (the reader skips blank lines). */
function expectedJsonlLines(bytes, maxLineBytes) {
  const expected = []
  let start = 0
  let line = 1
  const decoder = new TextDecoder()
  for (;;) {
    const nl = bytes.indexOf(0x0a, start)
    const end = nl === -1 ? bytes.length : nl
    if (nl === -1 && end === start) break
    const piece = bytes.subarray(start, end)
    if (piece.length > maxLineBytes + 1 || decoder.decode(piece).trim() !== '') expected.push(line)
    if (nl === -1) break
    start = nl + 1
    line++
  }
  return expected
}

function checkRecordEvent(ev) {
  const rec = ev.record
  if (typeof rec !== 'object' || rec === null) throw oracle('record event without a record')
  for (const f of ['outcome', 'confidence']) {
    if (rec[f] !== undefined && !(typeof rec[f] === 'number' && rec[f] >= 0 && rec[f] <= 1)) throw oracle(`record.${f} = ${rec[f]} is outside 0..1`)
  }
  if (rec.timestamp !== undefined && !Number.isFinite(rec.timestamp)) throw oracle(`record.timestamp ${rec.timestamp} is not finite`)
}

function checkRejectEvent(ev) {
  if (typeof ev.reason !== 'string' || ev.reason.length === 0) throw oracle('reject without a reason')
  const said = `${ev.reason} ${ev.field ?? ''}`
  if (said.includes(CANARY)) throw oracle(`a reject copied log text: ${JSON.stringify(said.slice(0, 120))}`)
}

// ---------------------------------------------------------------------------------------------

/**
 * Builds the targets. `lib` holds the modules under test:
 *   packet: src/packet/index   ingest: src/ingest/index (optional)
 *   protocol: src/swarm/protocol, node: src/swarm/node, storage: src/swarm/storage (optional)
 * Targets whose module is missing are left out (and the runner says so).
 */
export function createTargets(lib, options = {}) {
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const P = lib.packet
  const corpus = buildPacketCorpus(P, now)
  const corpusIds = new Set(corpus.map(hex))
  const targets = {}

  // Decoding a packet: random bytes, CBOR-structured garbage, near-valid structures, and mutations of
  // valid packets. Oracle: never throws; a result that is ok must be one of the signed originals.
  targets.packet = {
    description: 'decodePacket on random bytes, CBOR garbage and mutated valid packets',
    run(r) {
      const roll = r.next()
      let bytes
      let kind
      if (roll < 0.2) {
        kind = 'random'
        bytes = r.bytes(r.chance(0.9) ? r.int(520) : r.int(2048))
      } else if (roll < 0.35) {
        kind = 'cbor'
        bytes = cborGarbage(r)
      } else if (roll < 0.45) {
        kind = 'structured'
        // Right outer shape, wrong insides: exercises field validation rather than the CBOR parser.
        const body = Array.from({length: r.chance(0.8) ? 13 : r.int(20)}, () => r.pick([1, 0, -1, 1000, 1001, 2 ** 40, 'general', 'Bad Text', '', new Uint8Array(r.int(20)), [], ['k'], true, false, null, 0.5]))
        bytes = cborEncode([body, r.chance(0.8) ? r.bytes(32) : r.bytes(r.int(40)), r.chance(0.8) ? r.bytes(64) : r.bytes(r.int(70))])
      } else {
        kind = 'mutated'
        bytes = mutate(r.pick(corpus), r, corpus).bytes
      }
      let result
      try {
        result = P.decodePacket(bytes, {now})
      } catch (err) {
        throw crash('decodePacket', err)
      }
      if (typeof result !== 'object' || typeof result.ok !== 'boolean') throw oracle('decodePacket returned no result')
      if (result.ok) {
        if (!corpusIds.has(hex(bytes))) throw oracle(`a ${kind} input decoded as a valid signed packet: ${hex(bytes)}`)
      } else if (!PACKET_CODES.has(result.error?.code) || typeof result.error.message !== 'string') {
        throw oracle(`unknown error ${JSON.stringify(result.error)}`)
      }
      return kind
    },
  }

  // Reading a packet store: mutated stores read in random chunkings. Oracle: never throws, offsets
  // increase, at most one fatal entry and it is the last, and an undamaged store reads back exactly.
  targets.store = {
    description: 'readStoreStream on mutated .qisp stores in random chunkings',
    async run(r) {
      const packets = Array.from({length: r.range(0, 12)}, () => r.pick(corpus))
      const pristine = Buffer.concat([P.storeHeader(), ...packets.map((p) => P.frameRecord(p))])
      const damaged = r.chance(0.75)
      const bytes = damaged ? mutate(new Uint8Array(pristine), r, [pristine], 4).bytes : new Uint8Array(pristine)
      const chunks = []
      for (let at = 0; at < bytes.length; ) {
        const size = r.chance(0.5) ? bytes.length : r.range(1, 64)
        chunks.push(bytes.subarray(at, at + size))
        at += size
      }
      const entries = []
      try {
        for await (const e of P.readStoreStream((async function* () { yield* chunks })())) entries.push(e)
      } catch (err) {
        throw crash('readStoreStream', err)
      }
      let lastOffset = -1
      for (const [i, e] of entries.entries()) {
        if (e.offset <= lastOffset && !(e.kind === 'corrupt' && e.fatal && e.offset === 0)) throw oracle(`entry ${i} offset ${e.offset} does not increase`)
        lastOffset = e.offset
        if (e.kind === 'packet') {
          // What the packet bytes say is the packet target's business; the reader only frames them.
          if (!(e.bytes.length >= 1 && e.bytes.length <= P.MAX_PACKET_BYTES)) throw oracle(`entry ${i} holds ${e.bytes.length} bytes`)
        } else if (e.kind === 'corrupt') {
          if (e.fatal && i !== entries.length - 1) throw oracle(`fatal entry ${i} is not the last`)
          if (typeof e.reason !== 'string' || !e.reason) throw oracle('corrupt entry without a reason')
        } else throw oracle(`unknown entry kind ${e.kind}`)
      }
      if (entries.length > bytes.length / 7 + 1) throw oracle(`${entries.length} entries from ${bytes.length} bytes`)
      if (!damaged) {
        if (entries.length !== packets.length || entries.some((e, i) => e.kind !== 'packet' || !equalBytes(e.bytes, packets[i]))) {
          throw oracle('an undamaged store did not read back exactly')
        }
      }
      return damaged ? 'mutated' : 'pristine'
    },
  }

  if (lib.ingest) {
    const dir = path.join(options.tmpDir ?? os.tmpdir(), `qis-fuzz-logs-${process.pid}-${Math.floor(Math.random() * 1e9)}`)
    const maxLineBytes = 256
    let warn
    const readerTarget = (format) => ({
      description: `readRecords (${format}) on mutated log files: every line accounted as record or reject, no text in rejects`,
      async setup() {
        await fs.mkdir(dir, {recursive: true})
        // papaparse warns on the console when a mutated header repeats a column: input, not a finding.
        warn = console.warn
        console.warn = (...args) => (String(args[0]).startsWith('Duplicate headers found') ? undefined : warn(...args))
      },
      async teardown() {
        console.warn = warn
        await fs.rm(dir, {recursive: true, force: true})
      },
      async run(r) {
        const base = format === 'jsonl' ? jsonlLog(r) : csvLog(r)
        const damaged = r.chance(0.7)
        const bytes = damaged ? mutate(new Uint8Array(base), r, [new Uint8Array(base)], 4).bytes : new Uint8Array(base)
        const file = path.join(dir, `in.${format}`)
        await fs.writeFile(file, bytes)
        const events = []
        try {
          for await (const ev of lib.ingest.readRecords(file, {maxLineBytes})) events.push(ev)
        } catch (err) {
          if (err?.name === 'QisError' && typeof err.message === 'string' && err.message.startsWith(file)) return 'refused'
          throw crash('readRecords', err)
        }
        for (const ev of events) {
          if (ev.at?.file !== file || !Number.isInteger(ev.at?.line)) throw oracle(`event without a location: ${JSON.stringify(ev.at)}`)
          if (ev.kind === 'record') checkRecordEvent(ev)
          else if (ev.kind === 'reject') checkRejectEvent(ev)
          else throw oracle(`unknown event kind ${ev.kind}`)
        }
        const lines = events.map((e) => e.at.line)
        if (format === 'jsonl') {
          const expected = expectedJsonlLines(bytes, maxLineBytes)
          if (lines.join(',') !== expected.join(',')) throw oracle(`lines with events [${lines}] differ from non-blank lines [${expected}]`)
        } else {
          // papaparse treats CR, LF and CRLF as row breaks.
          const total = (Buffer.from(bytes).toString('latin1').match(/\r\n|\r|\n/g)?.length ?? 0) + 1
          for (let i = 0; i < lines.length; i++) {
            if (lines[i] < 2 || lines[i] > total || (i > 0 && lines[i] <= lines[i - 1])) throw oracle(`CSV event lines [${lines}] are not increasing within 2..${total}`)
          }
          if (!damaged) {
            // Every generated row starts with its id, so the line an event names must start with one.
            const fileLines = Buffer.from(bytes).toString().split(/\r\n|\r|\n/)
            for (const line of lines) if (!/^"?req-\d/.test(fileLines[line - 1] ?? '')) throw oracle(`CSV event at line ${line}, which does not start a row`)
          }
          if (!damaged && !/\r|"[^"]*\n/.test(Buffer.from(bytes).toString())) {
            const dataLines = Buffer.from(bytes).toString().replace(/^\ufeff/, '').split('\n').slice(1).filter((l) => l.trim() !== '').length
            if (lines.length !== dataLines) throw oracle(`${lines.length} events for ${dataLines} CSV rows`)
          }
        }
        return damaged ? 'mutated' : 'pristine'
      },
    })
    targets.jsonl = readerTarget('jsonl')
    targets.csv = readerTarget('csv')
  }

  if (lib.protocol) {
    const S = lib.protocol
    const fp = (r) => hex(r.bytes(16))
    const isProtocolError = (err) => err instanceof S.ProtocolError && STORE_STATUSES.has(err.reason)
    // A network decoder: a valid message, mutated, or garbage; it may only answer or throw ProtocolError.
    const decoderTarget = (description, makeValid, decode, checkResult) => ({
      description,
      run(r) {
        const roll = r.next()
        const bytes = roll < 0.6 ? mutate(makeValid(r), r, corpus).bytes : roll < 0.8 ? cborGarbage(r) : roll < 0.9 ? makeValid(r) : r.bytes(r.int(600))
        let out
        try {
          out = decode(bytes)
        } catch (err) {
          if (isProtocolError(err)) return 'refused'
          throw crash(description.split(' ')[0], err)
        }
        checkResult(out)
        return 'accepted'
      },
    })
    const checkPackets = (packets, max) => {
      if (!Array.isArray(packets) || packets.length > max || packets.some((p) => !(p instanceof Uint8Array))) throw oracle('decoded packets are not a bounded list of byte strings')
    }
    targets['store-request'] = decoderTarget(
      'decodeStoreRequest (what a storage node reads from a publisher)',
      (r) => S.encodeStoreRequest({key: fp(r), packets: Array.from({length: r.int(6)}, () => r.pick(corpus))}),
      (b) => S.decodeStoreRequest(b),
      (m) => {
        if (!FINGERPRINT.test(m.key)) throw oracle(`accepted key ${m.key}`)
        checkPackets(m.packets, S.PROTOCOL_LIMITS.maxStoreBatch)
      },
    )
    targets['fetch-request'] = decoderTarget(
      'decodeFetchRequest (what a storage node reads from a fetcher)',
      (r) => S.encodeFetchRequest({keys: Array.from({length: r.range(1, 6)}, () => fp(r))}),
      (b) => S.decodeFetchRequest(b),
      (m) => {
        if (!Array.isArray(m.keys) || m.keys.length === 0 || m.keys.length > S.PROTOCOL_LIMITS.maxFetchKeys || !m.keys.every((k) => FINGERPRINT.test(k))) throw oracle('accepted bad keys')
      },
    )
    targets['store-response'] = decoderTarget(
      'decodeStoreResponse (what a publisher reads from a storage node)',
      (r) => (r.chance(0.2) ? S.encodeStoreResponse({results: [], error: 'BAD_REQUEST'}) : S.encodeStoreResponse({results: Array.from({length: 4}, () => r.pick([...STORE_STATUSES]))})),
      (b) => S.decodeStoreResponse(b, 4),
      (m) => {
        if (m.error === undefined && m.results.length !== 4) throw oracle('results length differs from the request')
        if (!m.results.every((s) => STORE_STATUSES.has(s))) throw oracle('unknown status accepted')
      },
    )
    targets['fetch-frame'] = decoderTarget(
      'decodeFetchFrame (what a fetcher reads from a storage node)',
      (r) => (r.chance(0.2) ? S.encodeFetchFrame({done: true, truncated: r.chance(0.5)}) : S.encodeFetchFrame({key: fp(r), packets: Array.from({length: r.int(6)}, () => r.pick(corpus))})),
      (b) => S.decodeFetchFrame(b),
      (m) => {
        if ('done' in m) {
          if (typeof m.truncated !== 'boolean') throw oracle('done frame without truncated flag')
        } else {
          if (!FINGERPRINT.test(m.key)) throw oracle(`accepted key ${m.key}`)
          checkPackets(m.packets, S.PROTOCOL_LIMITS.maxPacketsPerFrame)
        }
      },
    )
    targets['closest-request'] = decoderTarget(
      'decodeClosestRequest (what a storage node reads from a looking-up peer)',
      (r) => S.encodeClosestRequest({keys: Array.from({length: r.range(1, 6)}, () => fp(r)), count: r.range(1, 20)}),
      (b) => S.decodeClosestRequest(b),
      (m) => {
        if (!Array.isArray(m.keys) || m.keys.length === 0 || m.keys.length > S.PROTOCOL_LIMITS.maxClosestKeys || !m.keys.every((k) => FINGERPRINT.test(k))) throw oracle('accepted bad keys')
        if (!Number.isInteger(m.count) || m.count < 1 || m.count > S.PROTOCOL_LIMITS.maxClosestCount) throw oracle(`accepted count ${m.count}`)
      },
    )
    const closestAsked = {keys: ['ab'.repeat(16), 'cd'.repeat(16)], count: 4}
    const peerIdText = (r) => '12D3KooW' + Array.from({length: 44}, () => r.pick([...'123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'])).join('')
    targets['closest-response'] = decoderTarget(
      'decodeClosestResponse (what a looking-up peer reads from a storage node)',
      (r) => {
        const peers = Array.from({length: r.int(5)}, () => ({id: peerIdText(r), addrs: [`/ip4/127.0.0.1/tcp/${r.range(1, 65535)}`]}))
        return S.encodeClosestResponse({peers, closest: closestAsked.keys.map(() => (peers.length ? Array.from({length: r.int(4)}, () => r.int(peers.length - 1)) : []))})
      },
      (b) => S.decodeClosestResponse(b, closestAsked),
      (m) => {
        if (m.peers.length > S.PROTOCOL_LIMITS.maxClosestPeers) throw oracle('too many peers accepted')
        if (m.closest.length !== closestAsked.keys.length) throw oracle('lists length differs from the request')
        for (const list of m.closest) if (list.length > closestAsked.count || !list.every((i) => Number.isInteger(i) && i >= 0 && i < m.peers.length)) throw oracle('bad peer index accepted')
        for (const p of m.peers) if (typeof p.id !== 'string' || p.addrs.length > S.PROTOCOL_LIMITS.maxPeerAddrs) throw oracle('bad peer record accepted')
      },
    )

    /** Wire bytes as a peer's stream delivers them: length-prefixed frames, maybe damaged, in random chunks. */
    const wireStream = (r, frames) => {
      let wire = new Uint8Array(Buffer.concat(frames.map((f) => lp.encode.single(f).subarray())))
      if (r.chance(0.3)) wire = mutate(wire, r, corpus, 2).bytes
      const chunks = []
      for (let at = 0; at < wire.length; ) {
        const size = r.chance(0.5) ? wire.length : r.range(1, 32)
        chunks.push(wire.subarray(at, at + size))
        at += size
      }
      return (async function* () {
        yield* chunks
      })()
    }

    // What a fetcher does with a storage node's reply (src/swarm/client/fetch-peer.ts): read frames up to a
    // bound, decode each, refuse keys it did not ask for, stop at the end marker.
    targets['fetch-stream'] = {
      description: 'fetch reply path: stream bytes -> readFrames -> decodeFetchFrame (a fetcher reading a storage node)',
      async run(r) {
        const asked = Array.from({length: r.range(1, 4)}, () => fp(r))
        const frames = []
        for (let i = r.int(5); i > 0; i--) {
          const frame = S.encodeFetchFrame({key: r.chance(0.85) ? r.pick(asked) : fp(r), packets: Array.from({length: r.int(5)}, () => r.pick(corpus))})
          frames.push(r.chance(0.7) ? frame : r.chance(0.7) ? mutate(frame, r, corpus).bytes : cborGarbage(r))
        }
        if (r.chance(0.8)) frames.push(S.encodeFetchFrame({done: true, truncated: r.chance(0.1)}))
        const maxFrames = 8
        const got = []
        try {
          for await (const raw of S.readFrames(wireStream(r, frames), maxFrames)) {
            const frame = S.decodeFetchFrame(raw)
            if ('done' in frame) {
              if (got.some((p) => !(p instanceof Uint8Array))) throw oracle('a fetched packet is not a byte string')
              return 'complete'
            }
            if (!asked.includes(frame.key)) throw new S.ProtocolError('BAD_REQUEST', 'key not asked for')
            got.push(...frame.packets)
          }
        } catch (err) {
          if (isProtocolError(err)) return 'refused'
          if (err instanceof FuzzFailure) throw err
          throw crash('readFrames/decodeFetchFrame', err)
        }
        return 'no-end-marker'
      },
    }

    if (lib.storage) {
      // What a storage node does with a store stream (src/swarm/node.ts): one or more length-prefixed
      // requests, each decoded and handed to PacketStorage.storeBatch before the next is read.
      let storage
      let dir
      const maxRequests = S.PROTOCOL_LIMITS.maxStoreRequestsPerStream ?? 1
      targets['store-handler'] = {
        description: 'store stream path: stream bytes -> readFrames -> decodeStoreRequest -> PacketStorage.storeBatch',
        async setup() {
          dir = await fs.mkdtemp(path.join(options.tmpDir ?? os.tmpdir(), 'qis-fuzz-node-'))
          storage = await lib.storage.PacketStorage.open(dir, {now: () => now, limits: {maxPacketsPerPublisher: 40, maxPackets: 100, maxBytes: 40_000}})
        },
        async teardown() {
          await storage?.close()
          await fs.rm(dir, {recursive: true, force: true})
        },
        async run(r) {
          const valid = () => {
            const p = r.pick(corpus)
            const decoded = P.decodePacket(p, {now})
            const keys = decoded.packet.routing_keys.map((k) => P.keyFingerprint(decoded.packet.scheme, decoded.packet.domain_tag, k))
            const key = keys.length > 0 && r.chance(0.8) ? r.pick(keys) : fp(r)
            return S.encodeStoreRequest({key, packets: [p, ...Array.from({length: r.int(4)}, () => (r.chance(0.5) ? r.pick(corpus) : mutate(r.pick(corpus), r, corpus).bytes))]})
          }
          const requests = Array.from({length: r.range(1, 3)}, () => {
            const roll = r.next()
            return roll < 0.5 ? valid() : roll < 0.8 ? mutate(valid(), r, corpus).bytes : cborGarbage(r)
          })
          let handled = 0
          let stored = false
          try {
            for await (const frame of S.readFrames(wireStream(r, requests), maxRequests)) {
              const decoded = S.decodeStoreRequest(frame)
              let results
              try {
                results = await storage.storeBatch(decoded.key, decoded.packets)
              } catch (err) {
                throw crash('storeBatch', err)
              }
              if (!Array.isArray(results) || results.length !== decoded.packets.length) throw oracle(`storeBatch gave ${results?.length} results for ${decoded.packets.length} packets`)
              for (const [i, st] of results.entries()) {
                if (!STORE_STATUSES.has(st)) throw oracle(`storeBatch status ${st}`)
                if (st === 'stored' && !corpusIds.has(hex(decoded.packets[i]))) throw oracle('storage accepted a packet that is not one of the signed originals')
                stored ||= st === 'stored'
              }
              const stats = storage.stats()
              if (stats.packets > 100 || stats.bytes > 40_000) throw oracle(`storage grew past its limits: ${stats.packets} packets, ${stats.bytes} bytes`)
              handled++
            }
          } catch (err) {
            if (isProtocolError(err)) return handled > 0 ? 'handled-then-refused' : 'refused'
            if (err instanceof FuzzFailure) throw err
            throw crash('readFrames/decodeStoreRequest', err)
          }
          return stored ? 'stored' : 'handled'
        },
      }
    }
  }

  if (lib.node) {
    const N = lib.node
    targets['dht-record'] = {
      description: 'validateRecord (kad-dht PUT_VALUE validator for the qis namespace)',
      run(r) {
        const p = r.pick(corpus)
        const decoded = P.decodePacket(p, {now})
        const keys = decoded.packet.routing_keys.map((k) => P.keyFingerprint(decoded.packet.scheme, decoded.packet.domain_tag, k))
        let key = N.recordKey(keys.length > 0 && r.chance(0.7) ? r.pick(keys) : hex(r.bytes(16)))
        if (r.chance(0.3)) key = mutate(key, r, corpus, 2).bytes
        const value = r.chance(0.3) ? p : r.chance(0.8) ? mutate(p, r, corpus).bytes : cborGarbage(r)
        try {
          N.validateRecord(key, value)
        } catch (err) {
          // The validator's contract is to throw a plain Error to refuse; anything else is a bug.
          if (err?.constructor === Error && /^(not a qis record key|not a valid packet|packet has no routing key)/.test(err.message)) return 'refused'
          throw crash('validateRecord', err)
        }
        if (!corpusIds.has(hex(value))) throw oracle('validateRecord accepted a value that is not a signed original')
        const text = new TextDecoder().decode(key)
        if (!keys.some((k) => text === `/qis/${k}`)) throw oracle(`validateRecord accepted key ${JSON.stringify(text)} for a packet without that routing key`)
        return 'accepted'
      },
    }
  }
  return targets
}
