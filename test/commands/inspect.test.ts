import {promises as fs} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {repoRoot, runCli, tempDir} from '../helpers/cli.js'
import {runCommand} from '../helpers/command.js'
import {makePacket, signerFor, writeStore} from '../swarm/fixtures.js'

const fixture = path.join(repoRoot, 'fixtures', 'packets', 'reference.qisp')

describe('qis inspect packet (in-process)', () => {
  it('shows the reference example for a person', async () => {
    const r = await runCommand(['inspect', 'packet', fixture])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('store with 4 packet(s)')
    expect(r.stdout).toMatch(/domain_tag\s+clinical\.oncology/)
    expect(r.stdout).toMatch(/query_semantic_hash\s+a3f7c9d1b2e4/)
    expect(r.stdout).toMatch(/signature\s+valid \(ed25519\)/)
    expect(r.stdout).toMatch(/signer\s+12D3KooW/)
    expect(r.stdout).toMatch(/expiry\s+(valid for|expired)/)
  })

  it('says when an outcome was randomised, and with which epsilon', async () => {
    const file = path.join(tempDir(), 'noisy.qisp')
    await writeStore(file, [makePacket(signerFor('ldp'), 1, {epsilon: 1.5}), makePacket(signerFor('ldp'), 2)])
    const r = await runCommand(['inspect', 'packet', file])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/outcome_signal\s+0\.100 \(randomised response, epsilon 1\.5\)/)
    expect(r.stdout).toMatch(/version\s+2/)
    expect(r.stdout).toMatch(/outcome_signal\s+0\.200\n/)
    const json = JSON.parse((await runCommand(['inspect', 'packet', file, '--json'])).stdout)
    expect(json.packets.map((p: {packet: {version: number; outcome_epsilon: number | null}}) => [p.packet.version, p.packet.outcome_epsilon])).toEqual([[2, 1.5], [1, null]])
  })

  it('counts the domain summaries in a store apart from the records\' packets, and labels each', async () => {
    const file = path.join(tempDir(), 'with-summary.qisp')
    const signer = signerFor('summary')
    await writeStore(file, [makePacket(signer, 1), makePacket(signer, 2), makePacket(signer, 3, {routingKeys: ['domain:5']})])
    const r = await runCommand(['inspect', 'packet', file])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('store with 3 packet(s) (2 record packet(s), 1 domain summary)')
    expect(r.stdout).toMatch(/packet #2 {2}valid {2}\d+ bytes {2}domain summary/)
    expect(r.stdout).not.toMatch(/packet #[01] .*domain summary/)
    const json = JSON.parse((await runCommand(['inspect', 'packet', file, '--json'])).stdout)
    expect(json).toMatchObject({total: 3, summaries: 1})
    expect(json.packets.map((p: {kind: string}) => p.kind)).toEqual(['record', 'record', 'domain-summary'])
  })

  it('returns the documented JSON shape', async () => {
    const r = await runCommand(['inspect', 'packet', fixture, '--json', '--index', '0', '--limit', '1'])
    expect(r.code).toBe(0)
    const json = JSON.parse(r.stdout)
    expect(json.packets).toHaveLength(1)
    const p = json.packets[0]
    expect(p).toMatchObject({index: 0, size: expect.any(Number), valid: true, signatureValid: true, queryFingerprint: expect.stringMatching(/^[0-9a-f]{32}$/), errors: []})
    expect(p.id).toMatch(/^[0-9a-f]+$/)
    expect(p.packet).toMatchObject({
      domain_tag: 'clinical.oncology',
      query_semantic_hash: 'a3f7c9d1b2e4',
      outcome_signal: 0.91,
      confidence_at_inference: 0.84,
      model_variant: 'llama3-70b-instruct',
      correction_applied: false,
      correction_type: null,
      ttl_hours: 168,
    })
  })

  it('decodes a single packet given as hex on stdin and as base64 argument', async () => {
    const bytes = await fs.readFile(fixture)
    const len = bytes.readUInt16BE(8)
    const one = bytes.subarray(10, 10 + len)
    const viaStdin = await runCommand(['inspect', 'packet', '-', '--json'], {stdin: one.toString('hex') + '\n'})
    expect(viaStdin.code).toBe(0)
    expect(JSON.parse(viaStdin.stdout).packets[0].packet.domain_tag).toBe('clinical.oncology')
    const viaArg = await runCommand(['inspect', 'packet', one.toString('base64'), '--json'])
    expect(JSON.parse(viaArg.stdout).packets[0].valid).toBe(true)
  })

  it('explains garbage without a stack trace and exits 2; a missing file or a folder is a usage error too', async () => {
    const dir = tempDir()
    const garbage = path.join(dir, 'garbage.bin')
    await fs.writeFile(garbage, 'this is not a packet at all\n'.repeat(3))
    const r = await runCommand(['inspect', 'packet', garbage])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(`Error: ${garbage}: 1 bad packet(s) at index 0\n`)
    const missing = await runCommand(['inspect', 'packet', path.join(dir, 'nope.qisp'), '--json'])
    expect(missing.code).toBe(2)
    expect(JSON.parse(missing.stdout).error).toEqual({code: 'INPUT_NOT_FOUND', message: `${path.join(dir, 'nope.qisp')}: no such file, and not a packet in hex or base64`})
    // A short name that happens to be valid base64 (or hex) is a missing file too, not a "bad packet".
    for (const name of ['nope', 'cafe', 'abcd']) {
      const r = await runCommand(['inspect', 'packet', name, '--json'])
      expect(r.code).toBe(2)
      expect(JSON.parse(r.stdout).error).toEqual({code: 'INPUT_NOT_FOUND', message: `${name}: no such file, and not a packet in hex or base64`})
    }
    const folder = await runCommand(['inspect', 'packet', dir])
    expect(folder.code).toBe(2)
    expect(folder.stderr).toBe(`Error: ${dir} is a folder; give a packet store or packet file\n`)
  })

  it('an input that exists but cannot be read is STORE_UNREADABLE (exit 1), in words', async () => {
    const loop = path.join(tempDir(), 'loop.qisp')
    await fs.symlink(loop, loop)
    const r = await runCommand(['inspect', 'packet', loop, '--json'])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout).error).toEqual({code: 'STORE_UNREADABLE', message: `cannot read ${loop}: stat failed: too many symbolic links encountered`})
  })

  it('names the bad indexes of a damaged, truncated store and still shows the good packets', async () => {
    const dir = tempDir()
    const bytes = Buffer.from(await fs.readFile(fixture))
    const firstLen = bytes.readUInt16BE(8)
    bytes[8 + 2 + firstLen - 5] ^= 0x01 // damage packet 0 (its checksum catches it)
    const damaged = path.join(dir, 'damaged.qisp')
    await fs.writeFile(damaged, bytes.subarray(0, bytes.length - 20)) // and tear the tail
    const r = await runCommand(['inspect', 'packet', damaged, '--json'])
    expect(r.code).toBe(2)
    const json = JSON.parse(r.stdout)
    expect(json.packets[0].valid).toBe(false)
    expect(json.packets[1].valid).toBe(true)
    expect(json.storeErrors.join()).toMatch(/torn tail/)
    expect(json.error).toMatchObject({code: 'BAD_PACKET', message: expect.stringMatching(/1 bad packet\(s\) at index 0; store damaged at byte \d+/)})
    const human = await runCommand(['inspect', 'packet', damaged])
    expect(human.stdout).toMatch(/domain_tag\s+clinical\.oncology/)
    expect(human.stderr).toMatch(/^Error: \S+damaged\.qisp: 1 bad packet\(s\) at index 0; store damaged at byte/)
  })

  it('flags a tampered packet whose checksum was recomputed by its signature', async () => {
    const {crc32} = await import('node:zlib')
    const bytes = Buffer.from(await fs.readFile(fixture))
    const len = bytes.readUInt16BE(8)
    const body = bytes.subarray(10, 10 + len)
    const at = body.indexOf(Buffer.from('clinical'))
    body[at] = 'x'.charCodeAt(0) // "xlinical.oncology": still a valid label
    bytes.writeUInt32BE(crc32(body), 10 + len)
    const file = path.join(tempDir(), 'tampered.qisp')
    await fs.writeFile(file, bytes)
    const r = await runCommand(['inspect', 'packet', file, '--json', '--limit', '1'])
    expect(r.code).toBe(2)
    const p = JSON.parse(r.stdout).packets[0]
    expect(p.signatureValid).toBe(false)
    expect(p.errors[0]).toMatch(/BAD_SIGNATURE/)
  })
})

describe('qis inspect packet (real process)', () => {
  it('reads a packet piped to - and prints it for a person', async () => {
    const bytes = await fs.readFile(fixture)
    const one = bytes.subarray(10, 10 + bytes.readUInt16BE(8))
    const r = await runCli(['inspect', 'packet', '-'], {input: one.toString('base64')})
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/signature\s+valid \(ed25519\)/)
    expect(r.stdout).toMatch(/query fingerprint\s+[0-9a-f]{32}/)
  })
})
