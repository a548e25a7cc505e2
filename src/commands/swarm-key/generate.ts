import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/command.js'
import {swarmKeyPath, writeSwarmKey} from '../../swarm/pnet.js'

export interface SwarmKeyResult {
  file: string
  fingerprint: string
}

export default class SwarmKeyGenerate extends BaseCommand<typeof SwarmKeyGenerate> {
  static summary = 'Create the pre-shared key of a private swarm (only nodes holding it can connect).'
  static description = `Writes a new 32-byte key in the /key/swarm/psk/1.0.0/ format (the one go-libp2p and IPFS use) to <home>/swarm.key, mode 0600. Every qis command that talks to the swarm uses <home>/swarm.key when it exists (or the file $QIS_SWARM_KEY names), and then connects only to peers with the same key. Give the file to each member over a channel you trust; compare the printed fingerprint, never the key. See docs/operating.md.`

  static examples = ['<%= config.bin %> swarm-key generate', '<%= config.bin %> swarm-key generate --out consortium.key', '<%= config.bin %> swarm-key generate --force --json']

  static flags = {
    out: Flags.file({description: 'Where to write the key. Default: swarm.key in the home.', helpValue: 'FILE'}),
    force: Flags.boolean({description: 'Replace an existing key (this node then no longer reaches peers with the old one).', default: false}),
  }

  async run(): Promise<SwarmKeyResult> {
    const file = this.flags.out ?? swarmKeyPath(await this.home())
    const key = await writeSwarmKey(file, {force: this.flags.force})
    this.log(`Wrote swarm key ${key.file} (fingerprint ${key.fingerprint}).`)
    this.log('Copy it to every member of the swarm as <home>/swarm.key; members compare fingerprints with `qis swarm-key show`.')
    return {file: key.file, fingerprint: key.fingerprint}
  }
}
