import fc from 'fast-check'
import {existsSync, promises as fs, readdirSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {
  PacketStoreWriter,
  STORE_HEADER_BYTES,
  appendToStore,
  encodePacket,
  readStoreBytes,
  readStoreFile,
  repairStoreTail,
  signerFromSeed,
  type StoreEntry,
} from '../../src/packet/index.js'
import {tempDir} from '../helpers/cli.js'

const signer = signerFromSeed(new Uint8Array(32).fill(5))
const packet = (i: number) =>
  encodePacket(
    {scheme: 'test.v1', domain_tag: 'general', query_semantic_hash: i.toString(16).padStart(16, '0'), outcome_signal: (i % 10) / 10, confidence_at_inference: 0.5, model_variant: 'm', correction_applied: false, timestamp: 1_700_000_000 + i},
    signer,
  )

async function collect(it: AsyncIterable<StoreEntry>): Promise<StoreEntry[]> {
  const out: StoreEntry[] = []
  for await (const e of it) out.push(e)
  return out
}

describe('packet store', () => {
  it('writes atomically and streams back every packet in order', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'a.qisp')
    const writer = await PacketStoreWriter.create(file)
    const packets = Array.from({length: 2000}, (_, i) => packet(i))
    for (const p of packets) await writer.append(p)
    expect(existsSync(file)).toBe(false) // nothing under the final name until commit
    await writer.commit()
    expect(readdirSync(dir)).toEqual(['a.qisp'])
    const entries = await collect(readStoreFile(file))
    expect(entries.every((e) => e.kind === 'packet')).toBe(true)
    expect(entries.map((e) => (e.kind === 'packet' ? Buffer.from(e.bytes).toString('hex') : ''))).toEqual(packets.map((p) => Buffer.from(p).toString('hex')))
  })

  it('abort leaves nothing behind', async () => {
    const dir = tempDir()
    const writer = await PacketStoreWriter.create(path.join(dir, 'b.qisp'))
    await writer.append(packet(1))
    await writer.abort()
    expect(readdirSync(dir)).toEqual([])
  })

  it('reports a torn tail instead of dropping it silently, and repair cuts it off', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'c.qisp')
    await appendToStore(file, [packet(1), packet(2), packet(3)])
    const {size} = await fs.stat(file)
    await fs.truncate(file, size - 7)
    const entries = await collect(readStoreFile(file))
    expect(entries.filter((e) => e.kind === 'packet')).toHaveLength(2)
    const last = entries.at(-1)!
    expect(last.kind).toBe('corrupt')
    expect(last.kind === 'corrupt' && last.reason).toMatch(/torn tail/)
    expect(await repairStoreTail(file)).toBeGreaterThan(0)
    expect((await collect(readStoreFile(file))).every((e) => e.kind === 'packet')).toBe(true)
    await appendToStore(file, [packet(4)])
    expect(await collect(readStoreFile(file))).toHaveLength(3)
  })

  it('flags a damaged record by index and keeps reading past it', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'd.qisp')
    await appendToStore(file, [packet(1), packet(2), packet(3)])
    const bytes = await fs.readFile(file)
    bytes[STORE_HEADER_BYTES + 2 + 10] ^= 0xff // inside packet 0
    const entries = await collect(readStoreBytes(bytes))
    expect(entries.map((e) => e.kind)).toEqual(['corrupt', 'packet', 'packet'])
    expect(entries[0].kind === 'corrupt' && entries[0].fatal).toBe(false)
  })

  it('refuses files that are not stores', async () => {
    for (const bytes of [Buffer.alloc(0), Buffer.from('QIS'), Buffer.from('PK\x03\x04 not a store'), Buffer.from('QISP\x09\0\0\0')]) {
      const entries = await collect(readStoreBytes(bytes))
      expect(entries).toHaveLength(1)
      expect(entries[0].kind === 'corrupt' && entries[0].fatal).toBe(true)
    }
  })

  it('never throws and never yields more than the bytes allow, for any input', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({maxLength: 2000}), fc.boolean(), async (body, withHeader) => {
        const bytes = withHeader ? Buffer.concat([Buffer.from('QISP\x01\0\0\0'), body]) : Buffer.from(body)
        const entries = await collect(readStoreBytes(bytes))
        expect(entries.length).toBeLessThanOrEqual(Math.max(1, Math.ceil(bytes.length / 7)))
      }),
      {numRuns: 500},
    )
  })
})
