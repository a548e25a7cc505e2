import {spawn} from 'node:child_process'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

import {repoRoot} from '../helpers/cli.js'

// A short run of bench/hostile/run.mjs (one real `qis node` process on 127.0.0.1, a hostile peer and
// an honest one). The bench does the attacking and measuring; this test holds it to the rules.
// Run `npm run build` first (the bench and the node run dist/).

const QUOTA = 200
const QUOTA_BYTES = 40_000
const IDENTITIES = 3

function runBench(args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bench/hostile/run.mjs'), ...args], {cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 170_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr})
    })
  })
}

describe('hostile peer against a qis node', () => {
  it('refuses every bad packet with a counted reason, holds the quotas, stays small and keeps serving an honest peer', async () => {
    const r = await runBench(['--seconds', '2', '--quota', String(QUOTA), '--quota-bytes', String(QUOTA_BYTES), '--identities', String(IDENTITIES), '--garbage', '5', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const res = JSON.parse(r.stdout)

    // Garbage on the TCP port and everything after it did not bring the node down; it stopped cleanly.
    expect(res.node).toEqual({aliveThroughout: true, exit: {code: 0, signal: null}})

    expect(res.crafted).toEqual({
      oversizedFrame: 'BAD_REQUEST',
      badCbor: 'BAD_REQUEST',
      tooManyPackets: 'BAD_REQUEST',
      fetchTooManyKeys: 'BAD_REQUEST',
      fetchBadKey: 'BAD_REQUEST',
      forgedSignature: 'BAD_SIGNATURE',
      foreignPublicKey: 'BAD_SIGNATURE',
      futureTimestamp: 'FUTURE_TIMESTAMP',
      expired: 'EXPIRED',
      wrongKey: 'KEY_MISMATCH',
      wrongScheme: 'INVALID_FIELD',
      outcomeOutOfRange: 'INVALID_FIELD',
      confidenceNegative: 'INVALID_FIELD',
      ttlOutOfRange: 'INVALID_FIELD',
      unknownVersion: 'UNSUPPORTED_VERSION',
      shortPublicKey: 'INVALID_FIELD',
      trailingByte: 'MALFORMED',
      notCbor: 'MALFORMED',
      empty: 'EMPTY',
      oversizedPacket: 'TOO_LARGE',
      original: 'stored',
      replayInBatch: 'duplicate',
      replayLater: 'duplicate',
    })

    // Every refusal the hostile peer was told about is in the node's own counters, and nothing else is.
    expect(res.nodeRefused).toEqual(res.told)
    expect(res.told.PUBLISHER_QUOTA).toBeGreaterThan(0)
    expect(res.flood.statuses['replay:duplicate']).toBeGreaterThan(0)
    expect(res.flood.statuses['forged:BAD_SIGNATURE']).toBeGreaterThan(0)
    expect(res.flood.statuses['forged:stored']).toBeUndefined()

    // Per-publisher quota, read back from the node's log: one identity sent 3x its quota, several
    // sent a little over theirs, and one sent large packets so the byte cap binds first.
    expect(res.quota.oneIdentity.packets).toBe(QUOTA)
    for (const q of res.quota.severalIdentities) expect(q.packets).toBe(QUOTA)
    expect(res.quota.bytesQuota.bytes).toBeLessThanOrEqual(QUOTA_BYTES)
    expect(res.quota.bytesQuota.bytes).toBeGreaterThan(QUOTA_BYTES - 512)
    expect(res.quota.bytesQuota.packets).toBeLessThan(QUOTA)
    expect(res.quota.maxHeld.packets).toBeLessThanOrEqual(QUOTA)
    expect(res.quota.maxHeld.bytes).toBeLessThanOrEqual(QUOTA_BYTES)

    // The honest peer published during the flood and every one of its packets can be fetched.
    expect(res.honest.published).toBeGreaterThan(0)
    expect(res.honest.failedPackets).toBe(0)
    expect(res.honest.missingAfterFlood).toBe(0)

    // Memory stays bounded: the whole attack is a few MiB on the wire, so growth must be far below
    // anything that would mean the node buffers what it refuses.
    expect(res.rss.peakMiB - res.rss.beforeMiB).toBeLessThan(150)
  }, 180_000)
})
