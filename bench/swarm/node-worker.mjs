// One storage node for bench/swarm, as its own process: the same createSwarmNode + PacketStorage
// that `qis node` runs, without oclif's start-up cost (40 of these start on 2 cores).
// Prints one JSON line {multiaddr} when listening; stops on SIGTERM.
import {generateKeyPair} from '@libp2p/crypto/keys'

import {createSwarmNode} from '../../dist/swarm/node.js'
import {PacketStorage} from '../../dist/swarm/storage.js'

// If the bench dies first, writing to its closed pipe must not crash this node with EPIPE.
process.stdout.on('error', () => {})

const [dir, ...bootstrap] = process.argv.slice(2)
const storage = await PacketStorage.open(dir)
const node = await createSwarmNode({
  privateKey: await generateKeyPair('Ed25519'),
  listen: ['/ip4/127.0.0.1/tcp/0'],
  bootstrap,
  storage,
})
await node.dialBootstrap()
process.stdout.write(JSON.stringify({multiaddr: node.multiaddrs()[0]}) + '\n')
process.on('SIGTERM', async () => {
  const stats = storage.stats()
  await node.stop()
  process.stdout.write(JSON.stringify({stopped: true, packets: stats.packets, refused: stats.refused}) + '\n')
  process.exit(0)
})
