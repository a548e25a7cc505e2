import {BaseCommand} from '../../cli/command.js'
import {type TrustedPublisher, readTrustList, trustFile} from '../../weights/trust.js'

export default class TrustList extends BaseCommand<typeof TrustList> {
  static summary = 'List the peers this deployment trusts.'
  static examples = ['<%= config.bin %> trust list --json']

  async run(): Promise<{trusted: TrustedPublisher[]; file: string}> {
    const home = await this.home()
    const file = trustFile(home)
    const trusted = await readTrustList(file)
    if (trusted.length === 0) this.log(`No trusted peers (${file}); add one with \`qis trust add PEER_ID\`.`)
    for (const t of trusted) this.log(`${t.label}  ${t.peerId}  since ${t.addedAt}`)
    return {trusted, file}
  }
}
