import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../base.js'
import {loadConfig} from '../config/config.js'
import {type QueryAdjustment, adjustConfidence} from '../weights/adjust.js'

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
const signed = (x: number) => (x > 0 ? '+' : x < 0 ? '-' : '') + Math.abs(x).toFixed(3)

export default class Adjust extends BaseCommand<typeof Adjust> {
  static summary = 'Print the confidence adjustment peers\' outcomes suggest for a query.'
  static description = `Scrubs and hashes the query exactly as distill does, looks its routing keys up in the weights file that \`qis pull-weights\` wrote, and prints clamp(weight - 0.5, -0.3, +0.3): positive where peers succeeded on such queries, negative where they failed or were corrected, 0 when nothing is known. Several matching keys are combined as a mean weighted by each key's publisher count. The query itself never leaves this process. Library: adjustConfidence() / createAdjuster().`
  static examples = [
    '<%= config.bin %> adjust "What is the first-line treatment for stage II colon cancer?" --domain clinical.oncology',
    '<%= config.bin %> adjust "Is this clause enforceable?" --domain legal.contract_review --weights ./weights.json --json',
  ]

  static args = {
    query: Args.string({description: 'The query, as your deployment received it (scrubbed before use).', required: true}),
  }

  static flags = {
    domain: Flags.string({description: 'Domain of the query, as in its packets (e.g. clinical.oncology).', required: true}),
    weights: Flags.file({description: 'Weights file. Default: weights.json in the home.', exists: false}),
  }

  async run(): Promise<QueryAdjustment & {weightsFile: string}> {
    const home = await this.home()
    const {config} = await loadConfig(home)
    const weightsFile = this.flags.weights ?? home.weightsFile
    const result = await adjustConfidence(this.args.query, this.flags.domain, {weightsFile, embedder: config.embedder})
    if (result.keysMatched === 0) {
      this.log(`Adjustment 0: none of the query's ${result.keysLookedUp} routing keys in ${result.domain} is in ${weightsFile}.`)
    } else {
      this.log(
        `Adjustment ${signed(result.adjustment)} (weight ${result.weight!.toFixed(3)} from ${result.keysMatched} of ${result.keysLookedUp} keys; ${plural(result.publishers, 'publisher')}, ${plural(result.packets, 'packet')} counted per key).`,
      )
      for (const m of result.matched) {
        this.log(`  key ${m.routingKey}: weight ${m.weight.toFixed(3)}, ${plural(m.packets, 'packet')}, ${plural(m.publishers, 'publisher')}`)
      }
    }
    return {...result, weightsFile}
  }
}
