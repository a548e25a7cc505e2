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
  jsonl: 800,
  csv: 800,
  'store-request': 2000,
  'fetch-request': 2000,
  'store-response': 2000,
  'fetch-frame': 2000,
  'store-handler': 1000,
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
