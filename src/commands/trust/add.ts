import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/command.js'
import {type TrustedPublisher, trustAdd, trustFile} from '../../weights/trust.js'

export default class TrustAdd extends BaseCommand<typeof TrustAdd> {
  static summary = "Trust a peer's outcome packets: it never counts as new, and pull-weights --trusted-only uses only such peers."
  static description = 'PUBLISHER is the peer id the other deployment\'s `qis id` prints (or its 64-hex public key). The list lives in trust.json in the home. See docs/weights.md.'
  static examples = ['<%= config.bin %> trust add 12D3KooWKFjydcnkEb7FL5Typ7fxugxgkrcfKdDgDiLCzjddZX9d --label clinic-a']

  static args = {
    publisher: Args.string({description: "The peer's id (qis id) or public key.", required: true}),
  }

  static flags = {
    label: Flags.string({description: 'A name for people (default: the end of the peer id).'}),
  }

  async run(): Promise<{added: boolean; publisher: TrustedPublisher; file: string}> {
    const home = await this.home()
    const r = await trustAdd(home, this.args.publisher, this.flags.label)
    this.log(`${r.added ? 'Trusted' : 'Already trusted'}: ${r.publisher.label} (${r.publisher.peerId}), in ${trustFile(home)}.`)
    return {...r, file: trustFile(home)}
  }
}
