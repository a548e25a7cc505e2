import {describe, expect, it} from 'vitest'

import type {HashPipeline} from '../../src/hash/pipeline.js'
import type {HashScheme} from '../../src/hash/index.js'
import {type HashInput, type HashOutput, hashStream} from '../../src/hash/stream.js'

/** A pipeline that records the calls it gets and "hashes" a text to its own length. */
function recordingPipeline(): {pipeline: HashPipeline; calls: string[][]} {
  const calls: string[][] = []
  const pipeline = {
    async hashMany(texts: string[]) {
      calls.push(texts)
      return texts.map((t) => ({hash: t.length.toString(16).padStart(16, '0'), keys: [`k${t}`]}))
    },
  } as unknown as HashPipeline
  return {pipeline, calls}
}

const scheme = {id: 'test.scheme.v1'} as HashScheme

async function* items(texts: string[]): AsyncGenerator<HashInput> {
  for (const [i, text] of texts.entries()) yield {line: i + 1, text}
}

describe('hashStream', () => {
  it('hashes in order, a chunk per pipeline call, with line errors in place', async () => {
    const {pipeline, calls} = recordingPipeline()
    async function* input(): AsyncGenerator<HashInput> {
      yield {line: 1, text: 'a'}
      yield {line: 2, error: 'not valid JSON'}
      yield {line: 3, text: 'bbb'}
      yield {line: 4, text: 'cc'}
    }
    const out: HashOutput[] = []
    for await (const o of hashStream(input(), {pipeline, scheme, domain: 'general', chunkSize: 2})) out.push(o)
    expect(calls).toEqual([['a'], ['bbb', 'cc']])
    expect(out.map((o) => ('error' in o ? `error ${o.line}` : o.hash.slice(-1)))).toEqual(['1', 'error 2', '3', '2'])
  })

  it('hashes what it has when the input pauses, without waiting for a full chunk', async () => {
    const {pipeline, calls} = recordingPipeline()
    let release!: () => void
    const paused = new Promise<void>((resolve) => (release = resolve))
    // Three lines, then nothing until the test has seen their output: a live log piped in.
    async function* input(): AsyncGenerator<HashInput> {
      yield* items(['one', 'two', 'three'])
      await paused
      yield {line: 4, text: 'four'}
    }
    const out: HashOutput[] = []
    for await (const o of hashStream(input(), {pipeline, scheme, domain: 'general', chunkSize: 512, idleMs: 20})) {
      out.push(o)
      if (out.length === 3) release()
    }
    expect(out).toHaveLength(4)
    expect(calls).toEqual([['one', 'two', 'three'], ['four']])
  }, 5000)

  it('with idleMs 0 waits for a full chunk or the end of input', async () => {
    const {pipeline, calls} = recordingPipeline()
    async function* input(): AsyncGenerator<HashInput> {
      yield* items(['one', 'two', 'three'])
      await new Promise((resolve) => setTimeout(resolve, 50))
      yield {line: 4, text: 'four'}
    }
    for await (const o of hashStream(input(), {pipeline, scheme, domain: 'general', chunkSize: 512, idleMs: 0})) expect(o).toBeDefined()
    expect(calls).toEqual([['one', 'two', 'three', 'four']])
  })

  it('releases the input when hashing fails part-way', async () => {
    let returned = false
    async function* input(): AsyncGenerator<HashInput> {
      try {
        yield* items(['one', 'two', 'three', 'four'])
      } finally {
        returned = true
      }
    }
    const failing = {
      async hashMany(): Promise<never> {
        throw new Error('model failed')
      },
    } as unknown as HashPipeline
    const run = async () => {
      for await (const o of hashStream(input(), {pipeline: failing, scheme, domain: 'general', chunkSize: 2})) expect(o).toBeDefined()
    }
    await expect(run()).rejects.toThrow('model failed')
    await new Promise((resolve) => setImmediate(resolve))
    expect(returned).toBe(true)
  })
})
