import {readFileSync} from 'node:fs'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {createUseLiteEmbedder, type UseLiteEmbedder} from '../../src/embed/use-lite.js'
import {USE_LITE_INT8_ONNX_SHA256, USE_LITE_ONNX_SHA256, buildUseLiteOnnx, readUseLiteWeights, sha256} from '../../src/embed/use-lite-onnx.js'
import {schemeFor} from '../../src/hash/index.js'
import {embeddingText} from '../../src/hash/input.js'

const queries = readFileSync(new URL('../../bench/hash/data/query-paraphrases.tsv', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line && !line.startsWith('#'))
  .flatMap((line) => line.split('\t').slice(2, 4))

describe('use-lite as ONNX', () => {
  it('builds byte for byte the same model from the installed weights', () => {
    const weights = readUseLiteWeights()
    const first = buildUseLiteOnnx(weights)
    const second = buildUseLiteOnnx(readUseLiteWeights())
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true)
    // Pinned, so a change to the builder or the weights package is a visible, deliberate change.
    expect(sha256(first)).toBe(USE_LITE_ONNX_SHA256)
  })

  it('builds the int8 experiment byte for byte the same too', () => {
    const weights = readUseLiteWeights()
    const first = buildUseLiteOnnx(weights, 'int8')
    expect(Buffer.from(buildUseLiteOnnx(readUseLiteWeights(), 'int8')).equals(Buffer.from(first))).toBe(true)
    expect(sha256(first)).toBe(USE_LITE_INT8_ONNX_SHA256)
  })

  // The int8 graph is a measured experiment (bench/hash/int8.mjs, int8-scheme.mjs): its vectors move ~5e-3 a
  // component, so it has its own embedder id and must never hash under the shipped scheme; a
  // text's vector must still not depend on its batch (per-row activation scales).
  it('int8: its own id, close to fp32, and a text\'s vector independent of its batch', async () => {
    const [int8, fp32] = await Promise.all([createUseLiteEmbedder({precision: 'int8', threads: 1}), createUseLiteEmbedder({runtime: 'onnx', threads: 1})])
    try {
      expect(int8.id).toBe('use-lite-int8')
      expect(int8.runtime).toBe('onnx')
      const texts = queries.slice(0, 24).map((q) => embeddingText(q))
      const [together, exact] = [await int8.embed(texts), await fp32.embed(texts)]
      for (let i = 0; i < texts.length; i++) {
        const [alone] = await int8.embed([texts[i]])
        expect(Array.from(alone)).toEqual(Array.from(together[i]))
        let cosine = 0
        for (let k = 0; k < 512; k++) cosine += together[i][k] * exact[i][k]
        expect(cosine).toBeGreaterThan(0.997)
        expect(cosine).toBeLessThan(1)
      }
    } finally {
      await Promise.all([int8.close(), fp32.close()])
    }
  })

  describe('against TF.js', () => {
    let onnx: UseLiteEmbedder
    let tfjs: UseLiteEmbedder
    beforeAll(async () => {
      ;[onnx, tfjs] = await Promise.all([createUseLiteEmbedder({runtime: 'onnx'}), createUseLiteEmbedder({runtime: 'tfjs'})])
    })
    afterAll(async () => {
      await onnx?.close()
      await tfjs?.close()
    })

    // The hand-written queries as qis embeds them, raw, and a few odd ones (unknown symbols,
    // a lone token, a text past the 128 tokens the graph reads).
    const texts = [
      ...queries.map((q) => embeddingText(q)),
      ...queries.slice(0, 40),
      'a',
      '☃ 日本語 x',
      queries.join(' '),
    ]

    it('gives the same vectors to within 1e-5 a component, and the same fine hash and keys', async () => {
      const [a, b] = await Promise.all([onnx.embed(texts), tfjs.embed(texts)])
      const scheme = schemeFor(onnx)
      let worst = 0
      let sameCodes = 0
      for (let i = 0; i < texts.length; i++) {
        for (let k = 0; k < 512; k++) worst = Math.max(worst, Math.abs(a[i][k] - b[i][k]))
        const same =
          scheme.fineHash(a[i]) === scheme.fineHash(b[i]) &&
          JSON.stringify(scheme.routingKeys(a[i], texts[i])) === JSON.stringify(scheme.routingKeys(b[i], texts[i]))
        if (same) sameCodes++
      }
      expect(worst).toBeLessThanOrEqual(1e-5)
      // bench/hash/runtimes.mjs measures agreement on MSR and MMLU (>= 99.9%); on this sample none may differ.
      expect(sameCodes).toBe(texts.length)
    })
  })
})

// The CLI runs the compiled code under plain Node, whose ESM loader hands a CommonJS package
// (onnxruntime-node) over differently from vitest's; a mistake there silently meant TF.js.
describe('use-lite under plain Node (as the CLI runs it)', () => {
  it('runs on onnx by default', async () => {
    const {execFileSync} = await import('node:child_process')
    const entry = new URL('../../dist/embed/use-lite.js', import.meta.url).href
    const script = `const m = await import(${JSON.stringify(entry)}); const e = await m.createUseLiteEmbedder(); await e.embed(['x']); console.log(JSON.stringify([e.runtime, e.fallbackReason ?? null]))`
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {encoding: 'utf8', env: {...process.env, QIS_USE_LITE_RUNTIME: ''}})
    expect(JSON.parse(out.trim())).toEqual(['onnx', null])
  })
})
