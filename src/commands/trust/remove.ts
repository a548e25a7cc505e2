import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/command.js'
import {type TrustedPublisher, trustFile, trustRemove} from '../../weights/trust.js'

export default class TrustRemove extends BaseCommand<typeof TrustRemove> {
  static summary = 'Take a peer off the trust list.'
  static description = 'PUBLISHER is its peer id, public key or label. Its packets count again as any other publisher\'s from the next pull-weights.'
  static examples = ['<%= config.bin %> trust remove clinic-a']

  static args = {
    publisher: Args.string({description: "The peer's id, public key or label.", required: true}),
  }

  async run(): Promise<{removed: TrustedPublisher; file: string}> {
    const home = await this.home()
    const removed = await trustRemove(home, this.args.publisher)
    this.log(`No longer trusted: ${removed.label} (${removed.peerId}).`)
    return {removed, file: trustFile(home)}
  }
}
