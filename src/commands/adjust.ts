import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/command.js'
import {bootstrapFlag, durationFlag} from '../cli/flags.js'
import {loadConfig} from '../config/config.js'
import {QisError} from '../util/errors.js'
import {type QueryAdjustment, adjustConfidence} from '../weights/adjust.js'
import {ADJUST_RULES, type AdjustRule, DEFAULT_CONFIDENCE, DEFAULT_RULE, type VariantEstimate} from '../weights/adjustment.js'

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
const signed = (x: number) => (x > 0 ? '+' : x < 0 ? '-' : '') + Math.abs(x).toFixed(3)
const records = (m: number) => `${Number.isInteger(m) ? m : m.toFixed(1)} record${m === 1 ? '' : 's'}`
const variantList = (vs: VariantEstimate[]) => vs.map((v) => `${v.model} ${v.probability.toFixed(2)} (${Math.round(v.success * 100)}% of ${records(v.mass)})`).join(', ')

export default class Adjust extends BaseCommand<typeof Adjust> {
  static summary = 'Print the confidence adjustment peers\' outcomes suggest for a query.'
  static description = `Scrubs and hashes the query exactly as distill does and looks its routing keys up in the weights file that \`qis pull-weights\` wrote. The default rule (calibrated) estimates the probability that an answer to this query is right, from how peers did on such queries against their own confidence (with --model, from that model's own outcomes where peers have them), and prints that estimate minus --confidence. --rule reference prints the reference pattern's clamp(weight - 0.5, -0.3, +0.3). It also names the model variants peers did best and worst with on such queries. With --live, keys the weights file does not know are asked of the swarm now (their fingerprints only, as pull-weights sends; within --live-timeout, else the adjustment uses the file alone) and what is learnt is added to the weights file. The query itself never leaves this process. Library: createAdjuster().`
  static examples = [
    '<%= config.bin %> adjust "What is the first-line treatment for stage II colon cancer?" --domain clinical.oncology --confidence 0.7 --model llama-3-8b',
    '<%= config.bin %> adjust "Is this clause enforceable?" --domain legal.contract_review --rule reference --json',
    '<%= config.bin %> adjust "Is this clause enforceable?" --domain legal.contract_review --live --bootstrap /ip4/10.0.0.5/tcp/4001/p2p/12D3KooW...',
  ]

  static args = {
    query: Args.string({description: 'The query, as your deployment received it (scrubbed before use).', required: true}),
  }

  static flags = {
    domain: Flags.string({description: 'Domain of the query, as in its packets (e.g. clinical.oncology).', required: true}),
    weights: Flags.file({description: 'Weights file. Default: weights.json in the home.', exists: false}),
    rule: Flags.string({description: `calibrated: estimated P(success) - confidence; reference: clamp(weight - 0.5, -0.3, +0.3).`, options: [...ADJUST_RULES], default: DEFAULT_RULE}),
    confidence: Flags.string({description: `Your model's confidence in its answer, 0 to 1 (the adjustment is relative to it). Default: ${DEFAULT_CONFIDENCE}.`}),
    model: Flags.string({description: "The model variant that answered (as in distill's logs): its own peers' outcomes are used where they exist."}),
    live: Flags.boolean({description: "Ask the swarm now about the query's keys the weights file does not know (key fingerprints only leave this machine), and add what is learnt to the weights file.", default: false}),
    bootstrap: bootstrapFlag,
    'live-timeout': durationFlag({description: 'With --live: how long the lookup may take before the adjustment is made without it.'})({default: 10, defaultHelp: async () => '10s'}),
    'trusted-only': Flags.boolean({description: 'With --live: use only publishers on the trust list (qis trust add).', default: false}),
  }

  async run(): Promise<QueryAdjustment & {weightsFile: string}> {
    const home = await this.home()
    const {config} = await loadConfig(home)
    const weightsFile = this.flags.weights ?? home.weightsFile
    let confidence: number | undefined
    if (this.flags.confidence !== undefined) {
      confidence = Number(this.flags.confidence)
      if (this.flags.confidence.trim() === '' || !(confidence >= 0 && confidence <= 1)) throw new QisError(`--confidence must be a number from 0 to 1, got "${this.flags.confidence}"`, {code: 'BAD_FLAG', exitCode: 2})
    }
    for (const f of ['bootstrap', 'live-timeout', 'trusted-only'] as const) {
      if (!this.flags.live && this.argv.some((a) => a === `--${f}` || a.startsWith(`--${f}=`))) throw new QisError(`--${f} needs --live`, {code: 'BAD_FLAG', exitCode: 2})
    }
    let live
    if (this.flags.live) {
      const bootstrap = this.flags.bootstrap && this.flags.bootstrap.length > 0 ? this.flags.bootstrap : config.bootstrap
      if (bootstrap.length === 0) throw new QisError('--live needs a swarm to ask: pass --bootstrap MULTIADDR, set QIS_BOOTSTRAP, or add "bootstrap" to the config', {code: 'NO_BOOTSTRAP', exitCode: 2})
      const {swarmLiveLookup} = await import('../weights/live.js')
      const {readTrustList, trustFile} = await import('../weights/trust.js')
      if (this.flags['trusted-only'] && (await readTrustList(trustFile(home))).length === 0) {
        throw new QisError(`--trusted-only, but the trust list ${trustFile(home)} is empty: add peers with \`qis trust add PEER_ID\``, {code: 'BAD_FLAG', exitCode: 2})
      }
      live = await swarmLiveLookup({home, bootstrap, timeoutMs: this.flags['live-timeout'] * 1000, trustedOnly: this.flags['trusted-only']})
    }
    const result = await adjustConfidence(
      this.args.query,
      {domain: this.flags.domain, confidence, model: this.flags.model, rule: this.flags.rule as AdjustRule},
      {weights: weightsFile, embedder: config.embedder, modelAlias: config.modelAlias, live, persist: live !== undefined},
    )
    if (result.live) {
      const l = result.live
      this.log(
        l.failed
          ? `Live lookup failed (${l.failed}); adjusted with ${weightsFile} alone.`
          : `Live lookup: asked the swarm about ${l.keysFetched} keys the weights file did not know (${l.keysUnanswered} unanswered); ${l.keysLive} of the query's keys now have peer evidence from it, added to ${weightsFile}.`,
      )
    }
    if (result.keysMatched === 0) {
      this.log(`Adjustment 0: none of the query's ${result.keysLookedUp} routing keys in ${result.domain} is in ${weightsFile}${result.live ? ' or known to the swarm' : ''}.`)
      return {...result, weightsFile}
    }
    const base = `${result.keysMatched} of ${result.keysLookedUp} keys; ${plural(result.publishers, 'publisher')}, ${plural(result.packets, 'packet')} counted per key`
    if (result.rule === 'reference') {
      this.log(`Adjustment ${signed(result.adjustment)} (reference rule: weight ${result.weight!.toFixed(3)} from ${base}).`)
    } else {
      const ev = result.evidence!
      const whose = result.modelEvidence ? `${result.model}'s own outcomes and the others'` : result.model ? `peers' outcomes (none from ${result.model})` : "peers' outcomes"
      this.log(`Adjustment ${signed(result.adjustment)}: P(right) ${result.probability.toFixed(3)} against your confidence ${result.confidence.toFixed(3)}.`)
      this.log(
        `  Why: on such queries peers were right ${Math.round(ev.success * 100)}% of the time where they expected ${Math.round(ev.confidence * 100)}% (${records(ev.mass)} after publisher bounds; ${base}); estimate from ${whose}.`,
      )
    }
    if (result.bestVariants.length > 0) this.log(`  Peers did best with: ${variantList(result.bestVariants)}.`)
    if (result.worstVariants.length > 0) this.log(`  Peers did worst with: ${variantList(result.worstVariants)}.`)
    for (const m of result.matched) {
      this.log(`  key ${m.routingKey}: weight ${m.weight.toFixed(3)}, ${plural(m.packets, 'packet')}, ${plural(m.publishers, 'publisher')}, right ${Math.round(m.evidence.success * 100)}% of ${records(m.evidence.mass)}`)
    }
    return {...result, weightsFile}
  }
}
