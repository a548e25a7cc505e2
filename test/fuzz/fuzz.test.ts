import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type FuzzTarget, createTargets, inputRng} from '../../bench/fuzz/targets.mjs'
import * as ingest from '../../src/ingest/index.js'
import * as packet from '../../src/packet/index.js'
import * as node from '../../src/swarm/node.js'
import * as protocol from '../../src/swarm/protocol.js'
import * as storage from '../../src/swarm/storage.js'

/**
 * The in-suite slice of bench/fuzz: the same targets and oracles against src/, a couple of thousand
 * inputs each with a fixed seed (the bench runs 100,000 per target). A failure names the input index;
 * `node bench/fuzz/run.mjs --target NAME --seed 7 --runs N` reproduces it against dist/.
 */
const SEED = 7
const RUNS: Record<string, number> = {
  packet: 3000,
  store: 1500,
  jsonl: 600,
  csv: 600,
  'store-request': 2000,
  'fetch-request': 2000,
  'store-response': 2000,
  'fetch-frame': 2000,
  'closest-request': 2000,
  'closest-response': 2000,
  'store-handler': 600,
  'fetch-stream': 2000,
  'dht-record': 2000,
}

const targets = createTargets({packet, ingest, protocol, storage, node})

describe('fuzzing (in-suite slice)', () => {
  it('covers every target the bench runs', () => {
    expect(Object.keys(targets).sort()).toEqual(Object.keys(RUNS).sort())
  })

  for (const [name, runs] of Object.entries(RUNS)) {
    describe(name, () => {
      const target = targets[name] as FuzzTarget
      beforeAll(() => target.setup?.())
      afterAll(() => target.teardown?.())

      it(`${runs} inputs: no crash, no oracle failure`, async () => {
        const failures: string[] = []
        const kinds: Record<string, number> = {}
        for (let i = 0; i < runs; i++) {
          try {
            const kind = await target.run(inputRng(SEED, i))
            kinds[kind] = (kinds[kind] ?? 0) + 1
          } catch (err) {
            if (failures.length < 5) failures.push(`input ${i}: ${(err as Error).message}`)
            else failures.push('...')
          }
        }
        expect(failures).toEqual([])
        // Each target must reach more than one outcome, or its generator is not exercising the code.
        expect(Object.keys(kinds).length).toBeGreaterThan(1)
      })
    })
  }
})

describe('the fuzz oracles catch broken code', () => {
  const firstFailure = async (target: FuzzTarget, runs: number) => {
    await target.setup?.()
    try {
      for (let i = 0; i < runs; i++) {
        try {
          await target.run(inputRng(SEED, i))
        } catch (err) {
          return err as Error & {kind?: string}
        }
      }
      return undefined
    } finally {
      await target.teardown?.()
    }
  }

  it('a decoder that accepts a mutated packet is a forgery finding', async () => {
    const lenient = {...packet, decodePacket: (bytes: Uint8Array) => ({...packet.decodePacket(bytes), ok: true}) as ReturnType<typeof packet.decodePacket>}
    const err = await firstFailure(createTargets({packet: lenient}).packet as FuzzTarget, 200)
    expect(err?.kind).toBe('oracle')
    expect(err?.message).toMatch(/decoded as a valid signed packet/)
  })

  it('a decoder that throws is a crash', async () => {
    const throwing = {...packet, decodePacket: (): never => {
      throw new TypeError('boom')
    }}
    const err = await firstFailure(createTargets({packet: throwing}).packet as FuzzTarget, 10)
    expect(err?.kind).toBe('crash')
  })

  it('a reader that loses a line, or copies text into a reject, is caught', async () => {
    const dropping = {
      ...ingest,
      async *readRecords(file: string, options?: Parameters<typeof ingest.readRecords>[1]) {
        const events = []
        for await (const ev of ingest.readRecords(file, options)) events.push(ev)
        yield* events.slice(0, -1)
      },
    }
    expect((await firstFailure(createTargets({packet, ingest: dropping}).jsonl as FuzzTarget, 50))?.message).toMatch(/differ from non-blank lines/)
    const leaking = {
      ...ingest,
      async *readRecords(file: string, options?: Parameters<typeof ingest.readRecords>[1]) {
        for await (const ev of ingest.readRecords(file, options)) yield {kind: 'reject' as const, at: ev.at, reason: `bad line ${JSON.stringify(ev)}`}
      },
    }
    expect((await firstFailure(createTargets({packet, ingest: leaking}).jsonl as FuzzTarget, 50))?.message).toMatch(/copied log text/)
  })
})
