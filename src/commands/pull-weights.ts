import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/command.js'
import {bootstrapFlag, bootstrapPeers, embedderFlags, embedderFromFlags, labelFlag, renamed, sinceFlag, weightsFlag} from '../cli/flags.js'
import {interruptSignal} from '../cli/interrupt.js'
import {lines, plural} from '../cli/render.js'
import {loadConfig} from '../config/config.js'
import {QisError} from '../util/errors.js'
import type {QueryScrubber} from '../weights/adjust.js'
import {type PullWeightsResult, pullWeights} from '../weights/pull.js'
import {DEFAULT_HAMMING_THRESHOLD} from '../weights/synthesize.js'

export default class PullWeights extends BaseCommand<typeof PullWeights> {
  static summary = "Learn from peers: fetch their outcome packets for this node's recent queries and synthesise routing weights."
  static description = `Asks the swarm about the routing keys of this node's own recent (unexpired) packets, in their domains and in every domain of the config's domainFocus, and with --queries FILE about the keys of queries it is answering now or about to answer (scrubbed and hashed here as adjust does; only key fingerprints leave the machine). Peers' packets are verified (signature, scheme, TTL, key), this node's own are skipped, packets whose fine hash is far from every local query under the key are dropped, and each publisher counts once per key. The result, one weight per key fingerprint, is written atomically to the weights file that \`qis adjust\` reads; entries for keys not asked this time are kept. See docs/weights.md.`
  static examples = [
    '<%= config.bin %> pull-weights --bootstrap /ip4/10.0.0.5/tcp/4001/p2p/12D3KooW...',
    '<%= config.bin %> pull-weights --domain clinical.oncology --since 7d --json',
    '<%= config.bin %> pull-weights --queries todays-queue.jsonl',
  ]

  static flags = {
    domain: labelFlag('domain_tag', {description: 'Only this domain (asked for every own routing key if no own packet is in it); with --queries, the domain of lines that name none.'})(),
    queries: Flags.file({
      description: 'Also ask about these queries: JSONL with "query" (or prompt/question/input/text) and "domain" per line, or plain text, one query per line (then --domain). Their text never leaves this machine.',
      exists: false,
    }),
    // --out was this command's name for the file adjust reads with --weights: one name now.
    weights: renamed(weightsFlag, 'out'),
    bootstrap: bootstrapFlag,
    since: sinceFlag({description: 'Only own packets this recent define what to ask. Default: every unexpired packet.'})(),
    'trusted-only': Flags.boolean({description: 'Use only publishers on the trust list (qis trust add); the others are refused as NOT_TRUSTED.', default: false}),
    'own-evidence': Flags.boolean({description: "Count this node's own packets as evidence beside its peers' (its own record on its own model); --no-own-evidence gives weights from peers alone.", default: true, allowNo: true}),
    'hamming-threshold': Flags.integer({
      description: `Largest Hamming distance (bits of the 64-bit fine hash) between a peer's query and one of ours for its packet to count.`,
      default: DEFAULT_HAMMING_THRESHOLD,
      min: 0,
      max: 64,
    }),
    // --queries are hashed here as adjust hashes a query: the same flags choose the same embedder.
    ...embedderFlags,
  }

  async run(): Promise<PullWeightsResult> {
    const {flags} = this
    const home = await this.home()
    const {config} = await loadConfig(home)
    // Before any own packet is read or query hashed: as publish and adjust --live do.
    const bootstrap = bootstrapPeers(flags.bootstrap, config.bootstrap)
    // Own packets carry their scheme; only texts hashed here (--queries) need an embedder, so a flag for one alone would do nothing.
    const given = (['embedder', 'model-dir', 'allow-download', 'codebook'] as const).find((f) => flags[f] !== undefined && flags[f] !== false)
    if (given && flags.queries === undefined) {
      throw new QisError(`--${given} needs --queries`, {code: 'BAD_FLAG', hint: `The embedder hashes --queries only (own packets already carry their keys): add --queries FILE, or drop --${given}.`})
    }
    const embedder = embedderFromFlags(flags, config.embedder)
    let queries: {query: string; domain: string}[] | undefined
    let scrubber: QueryScrubber | undefined
    if (flags.queries !== undefined) {
      const [{readQueriesFile}, {createScrubber}] = await Promise.all([import('../weights/queries.js'), import('../privacy/index.js')])
      scrubber = createScrubber()
      queries = await readQueriesFile(flags.queries, {domain: flags.domain, scrubber})
    }
    const interrupt = interruptSignal('interrupted; the weights file was not changed')
    try {
      const result = await pullWeights({
        home,
        domain: flags.domain,
        domainFocus: config.domainFocus,
        since: flags.since,
        out: flags.weights,
        hammingThreshold: flags['hamming-threshold'],
        trustedOnly: flags['trusted-only'],
        ownEvidence: flags['own-evidence'],
        bootstrap,
        signal: interrupt.signal,
        queries,
        scrubber,
        embedder,
      })
      this.log(renderPull(result))
      if (result.keysIncomplete > 0) {
        this.failAfterOutput(
          new QisError(`${result.keysIncomplete} of ${result.keysAsked} keys were answered only in part (a peer held more packets than it sent); their previous weights were kept, not replaced or dropped`, {
            code: 'INCOMPLETE_ANSWERS',
            hint: 'Re-run pull-weights later; many packets under one key can be a flood aimed at that key',
          }),
        )
      }
      return result
    } finally {
      interrupt.dispose()
    }
  }
}

function renderPull(r: PullWeightsResult): string {
  const reasons = (m: Record<string, number | undefined>) =>
    Object.entries(m)
      .sort(([, a], [, b]) => (b ?? 0) - (a ?? 0))
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')
  const refusedTotal = Object.values(r.refused).reduce((s: number, n) => s + (n ?? 0), 0)
  const fromQueries = r.queries ? ` and ${plural(r.queries.read, 'query', 'queries')} (${plural(r.queries.keys, 'key')})` : ''
  const failed = Object.keys(r.fetchFailures).length > 0
  const kept = r.weightsKept ? ` (+${r.weightsKept} kept from the previous file)` : ''
  const replaced = r.previous === 'replaced-other-scheme' ? ' The previous file was of another scheme and was replaced.' : r.previous === 'replaced-old-version' ? ' The previous file was of version 1 (no per-model evidence) and was replaced.' : ''
  return lines(
    `Asked ${plural(r.keysAsked, 'key')} (${r.summaryKeys} of them domain summary keys; from ${plural(r.local.packetsUsed, 'own packet')}${r.local.summariesUsed > 0 ? ` (${r.local.summariesUsed === 1 ? 'one of them a domain summary' : `${r.local.summariesUsed} of them domain summaries`})` : ''} in ${plural(r.local.stores, 'packet store')}${fromQueries}, scheme ${r.scheme}); ${plural(r.peers, 'peer')} answered.`,
    // Packets as a person counts them first; a packet filed under several asked keys arrives once per key.
    `Received ${plural(r.packets.received, 'packet')} from peers, ${r.packets.accepted} of them used (as ${plural(r.received, 'packet-key delivery', 'packet-key deliveries')}: ${r.accepted} accepted, ${refusedTotal} refused${refusedTotal ? ` (${reasons(r.refused)})` : ''}).`,
    r.own.packets > 0 && `Used ${plural(r.own.packets, 'own packet')} as evidence beside the peers' (--no-own-evidence for peers alone).`,
    (r.keysUnanswered > 0 || r.keysIncomplete > 0 || failed) && `Fetch problems: ${r.keysUnanswered} keys unanswered, ${r.keysIncomplete} answered in part${failed ? `; ${reasons(r.fetchFailures)}` : ''}.`,
    `Wrote ${plural(r.weightsWritten, 'weight')}${kept} to ${r.out}.${replaced}`,
    r.publishersNew > 0 && `${plural(r.publishersNew, 'publisher')} seen for the first time: together they hold a bounded share of each weight for a week (docs/weights.md).`,
  )
}
