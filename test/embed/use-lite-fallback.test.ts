import {afterEach, describe, expect, it, vi} from 'vitest'

// What a machine without onnxruntime's native binary sees: the import throws.
vi.mock('onnxruntime-node', () => {
  throw new Error('simulated: no onnxruntime binary for this platform')
})

const {createUseLiteEmbedder, RUNTIME_ENV} = await import('../../src/embed/use-lite.js')

describe('use-lite when onnxruntime cannot load', () => {
  afterEach(() => {
    delete process.env[RUNTIME_ENV]
  })

  it('falls back to TF.js, says why, and still embeds', async () => {
    const embedder = await createUseLiteEmbedder()
    try {
      expect(embedder.runtime).toBe('tfjs')
      expect(embedder.fallbackReason).toMatch(/^onnxruntime could not load \(.+\); using TF.js$/)
      const [v] = await embedder.embed(['how do i reset my password'])
      expect(v).toHaveLength(512)
    } finally {
      await embedder.close()
    }
  })

  it('fails with EMBEDDER_LOAD when onnx is asked for', async () => {
    process.env[RUNTIME_ENV] = 'onnx'
    await expect(createUseLiteEmbedder()).rejects.toMatchObject({code: 'EMBEDDER_LOAD', message: expect.stringMatching(/^Could not load the use-lite embedding model \(onnx\)/)})
  })

  it('takes tfjs from the environment, and refuses a value it does not know', async () => {
    process.env[RUNTIME_ENV] = 'tfjs'
    const embedder = await createUseLiteEmbedder()
    expect(embedder.runtime).toBe('tfjs')
    expect(embedder.fallbackReason).toBeUndefined()
    await embedder.close()
    process.env[RUNTIME_ENV] = 'cuda'
    await expect(createUseLiteEmbedder()).rejects.toMatchObject({code: 'BAD_ENV'})
  })
})
