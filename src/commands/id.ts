import {BaseCommand} from '../cli/command.js'
import {loadOrCreateIdentity} from '../identity/identity.js'

export interface IdResult {
  peerId: string
}

export default class Id extends BaseCommand<typeof Id> {
  static summary = "Print this node's peer ID (created with its key pair on first use)."
  static description =
    'The ed25519 key in the home signs every outcome packet this node emits and is also its libp2p peer identity.'
  static examples = ['<%= config.bin %> id', '<%= config.bin %> id --json']

  async run(): Promise<IdResult> {
    const identity = await loadOrCreateIdentity(await this.home())
    this.log(identity.peerId)
    return {peerId: identity.peerId}
  }
}
