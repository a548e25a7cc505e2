import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/command.js'
import {bootstrapFlag, bootstrapPeers, durationFlag, embedderFlags, embedderFromFlags, labelFlag, numberFlag, weightsFlag} from '../cli/flags.js'
import {lines, plural} from '../cli/render.js'
import {loadConfig} from '../config/config.js'
import {QisError} from '../util/errors.js'
import {type QueryAdjustment, adjustConfidence} from '../weights/adjust.js'
import {ADJUST_RULES, type AdjustRule, DEFAULT_CONFIDENCE, DEFAULT_RULE, type VariantEstimate} from '../weights/adjustment.js'

const signed = (x: number) => (x > 0 ? '+' : x < 0 ? '-' : '') + Math.abs(x).toFixed(3)
const records = (m: number) => `${Number.isInteger(m) ? m : m.toFixed(1)} record${m === 1 ? '' : 's'}`
const variantList = (vs: VariantEstimate[]) => vs.map((v) => `${v.model} ${v.probability.toFixed(2)} (${Math.round(v.success * 100)}% of ${records(v.mass)})`).join(', ')

export default class Adjust extends BaseCommand<typeof Adjust> {
  static summary = 'Print the confidence adjustment peers\' outcomes suggest for a query.'
  static description = `Scrubs and hashes the query exactly as distill does and looks its routing keys up in the weights file that \`qis pull-weights\` wrote. The default rule (calibrated) estimates the probability that an answer to this query is right, from how peers did on such queries against their own confidence (with --model, from that model's own outcomes where peers have them), and prints that estimate minus --confidence. --rule reference prints the reference pattern's clamp(weight - 0.5, -0.3, +0.3). It also names the model variants peers did best and worst with on such queries. With --live, keys the weights file does not know are asked of the swarm now (their key fingerprints only, as pull-weights sends; within --live-timeout, else the adjustment uses the file alone) and what is learnt is added to the weights file. The query itself never leaves this process. Library: createAdjuster().`
  static examples = [
    '<%= config.bin %> adjust "What is the first-line treatment for stage II colon cancer?" --domain clinical.oncology --confidence 0.7 --model llama-3-8b',
    '<%= config.bin %> adjust "Is this clause enforceable?" --domain legal.contract_review --rule reference --json',
    '<%= config.bin %> adjust "Is this clause enforceable?" --domain legal.contract_review --live --bootstrap /ip4/10.0.0.5/tcp/4001/p2p/12D3KooW...',
  ]

  static args = {
    query: Args.string({description: 'The query, as your deployment received it (scrubbed before use).', required: true}),
  }

  static flags = {
    domain: labelFlag('domain_tag', {description: 'Domain of the query, as in its packets (e.g. clinical.oncology).'})({required: true}),
    weights: weightsFlag,
    rule: Flags.string({description: `How evidence becomes an adjustment. calibrated: estimated P(success) - confidence; reference: clamp(weight - 0.5, -0.3, +0.3).`, options: [...ADJUST_RULES], default: DEFAULT_RULE}),
    confidence: numberFlag({description: `Your model's confidence in its answer, 0 to 1 (the adjustment is relative to it). Default: ${DEFAULT_CONFIDENCE}.`, min: 0, max: 1})(),
    model: Flags.string({description: "The model variant that answered (as in distill's logs): its own peers' outcomes are used where they exist."}),
    live: Flags.boolean({description: "Ask the swarm now about the query's keys the weights file does not know (key fingerprints only leave this machine), and add what is learnt to the weights file.", default: false}),
    bootstrap: bootstrapFlag,
    'live-timeout': durationFlag({description: 'With --live: how long the lookup may take before the adjustment is made without it.'})({default: 10, defaultHelp: async () => '10s'}),
    'trusted-only': Flags.boolean({description: 'With --live: use only publishers on the trust list (qis trust add).', default: false}),
    // The weights file names the scheme it was pulled under: the query must hash with the same embedder.
    ...embedderFlags,
  }

  async run(): Promise<QueryAdjustment & {weightsFile: string}> {
    const {flags} = this
    for (const f of ['bootstrap', 'live-timeout', 'trusted-only'] as const) {
      if (!flags.live && this.argv.some((a) => a === `--${f}` || a.startsWith(`--${f}=`))) throw new QisError(`--${f} needs --live`, {code: 'BAD_FLAG', hint: `Add --live, or drop --${f}.`})
    }
    // Only --live writes into the home (what it learns); a plain adjust reads, so a typo in --home creates nothing.
    const home = flags.live ? await this.home() : await this.readHome()
    const {config} = await loadConfig(home)
    const embedder = embedderFromFlags(flags, config.embedder)
    const weightsFile = flags.weights ?? home.weightsFile
    let live
    if (flags.live) {
      const bootstrap = bootstrapPeers(flags.bootstrap, config.bootstrap, '--live needs a swarm to ask')
      const {swarmLiveLookup} = await import('../weights/live.js')
      const {readTrustList, trustFile} = await import('../weights/trust.js')
      if (flags['trusted-only'] && (await readTrustList(trustFile(home))).length === 0) {
        throw new QisError(`--trusted-only, but the trust list ${trustFile(home)} is empty`, {code: 'BAD_FLAG', hint: 'Add peers with `qis trust add PEER_ID`, or drop --trusted-only.'})
      }
      live = await swarmLiveLookup({home, bootstrap, timeoutMs: flags['live-timeout'] * 1000, trustedOnly: flags['trusted-only']})
    }
    const result = await adjustConfidence(
      this.args.query,
      {domain: flags.domain, confidence: flags.confidence, model: flags.model, rule: flags.rule as AdjustRule},
      {weights: weightsFile, embedder, modelAlias: config.modelAlias, live, persist: live !== undefined},
    )
    this.log(renderAdjustment(result, weightsFile))
    return {...result, weightsFile}
  }
}

function renderAdjustment(result: QueryAdjustment, weightsFile: string): string {
  const l = result.live
  const liveLine =
    l &&
    (l.failed
      ? `Live lookup failed (${l.failed}); adjusted with ${weightsFile} alone.`
      : `Live lookup: asked the swarm about ${l.keysFetched} keys the weights file did not know (${l.keysUnanswered} unanswered); ${l.keysLive} of the query's keys now have peer evidence from it, added to ${weightsFile}.`)
  const d = result.rule === 'calibrated' ? result.domainEvidence : null
  const from = result.domainFrom === 'summaries' ? 'its deployments\' domain summaries' : 'every key of it in the weights file'
  const domainLine = d ? `  In ${result.domain} as a whole (${from}): right ${Math.round(d.success * 100)}% where expected ${Math.round(d.confidence * 100)}% (${records(d.mass)}, each once), the prior of the keys' evidence.` : undefined
  if (result.keysMatched === 0) {
    const none = `none of the query's ${result.keysLookedUp} routing keys in ${result.domain} is in ${weightsFile}${l ? ' or known to the swarm' : ''}`
    if (!d) return lines(liveLine, `Adjustment 0: ${none}.`)
    return lines(liveLine, `Adjustment ${signed(result.adjustment)}: P(right) ${result.probability.toFixed(3)} against your confidence ${result.confidence.toFixed(3)}, from the domain alone (${none}).`, domainLine)
  }
  const base = `${result.keysMatched} of ${result.keysLookedUp} keys; ${plural(result.publishers, 'publisher')}, ${plural(result.packets, 'packet')} counted per key`
  let verdict: string
  if (result.rule === 'reference') {
    verdict = `Adjustment ${signed(result.adjustment)} (reference rule: weight ${result.weight!.toFixed(3)} from ${base}).`
  } else {
    const ev = result.evidence!
    const whose = result.modelEvidence ? `${result.model}'s own outcomes and the others'` : result.model ? `peers' outcomes (none from ${result.model})` : "peers' outcomes"
    verdict = lines(
      `Adjustment ${signed(result.adjustment)}: P(right) ${result.probability.toFixed(3)} against your confidence ${result.confidence.toFixed(3)}.`,
      `  Why: on such queries the logged answers (peers', and this node's own unless pulled with --no-own-evidence) were right ${Math.round(ev.success * 100)}% of the time where they expected ${Math.round(ev.confidence * 100)}% (${records(ev.mass)} after publisher bounds; ${base}); estimate from ${whose}.`,
      domainLine,
    )
  }
  return lines(
    liveLine,
    verdict,
    result.bestVariants.length > 0 && `  Peers did best with: ${variantList(result.bestVariants)}.`,
    result.worstVariants.length > 0 && `  Peers did worst with: ${variantList(result.worstVariants)}.`,
    ...result.matched.map(
      (m) => `  key ${m.routingKey}: weight ${m.weight.toFixed(3)}, ${plural(m.packets, 'packet')}, ${plural(m.publishers, 'publisher')}, right ${Math.round(m.evidence.success * 100)}% of ${records(m.evidence.mass)}`,
    ),
  )
}
