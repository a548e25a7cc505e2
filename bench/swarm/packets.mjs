// Signed synthetic packets for the swarm benches (bench/swarm/run.mjs, bench/swarm/churn.mjs,
// bench/node/run.mjs): `count` packets spread over `keys` routing keys, one publisher per `seed`.
// Run after `npm run build`.
import {createHash} from 'node:crypto'

import {encodePacket, keyFingerprint, packetId, signerFromSeed} from '../../dist/packet/index.js'

export function makeBenchPackets({seed, count, keys, queryPrefix = 'q'}) {
  const signer = signerFromSeed(createHash('sha256').update(seed).digest())
  const now = Math.floor(Date.now() / 1000) - 60
  return Array.from({length: count}, (_, i) => {
    const rk = `rk${i % keys}`
    const bytes = encodePacket(
      {
        scheme: 'bench-v1',
        domain_tag: 'clinical',
        query_semantic_hash: createHash('sha256').update(`${queryPrefix}${i}`).digest('hex').slice(0, 16),
        routing_keys: [rk],
        outcome_signal: (i % 10) / 10,
        confidence_at_inference: 0.5,
        model_variant: 'llama-3-8b',
        correction_applied: false,
        timestamp: now,
      },
      signer,
    )
    return {key: keyFingerprint('bench-v1', 'clinical', rk), bytes, id: packetId(bytes)}
  })
}
