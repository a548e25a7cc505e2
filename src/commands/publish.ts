import {Args, Flags} from '@oclif/core'
import {existsSync} from 'node:fs'

import {BaseCommand} from '../cli/command.js'
import {bootstrapFlag, bootstrapPeers, quietFlag} from '../cli/flags.js'
import {interruptSignal} from '../cli/interrupt.js'
import {startProgress} from '../cli/progress.js'
import {loadConfig} from '../config/config.js'
import {loadOrCreateIdentity} from '../identity/identity.js'
import {DEFAULT_REPLICAS} from '../swarm/defaults.js'
import type {PublishPlan, PublishSummary} from '../swarm/publish.js'
import {QisError} from '../util/errors.js'
import {keyValueTable} from '../util/format.js'

/** Above this many packets an interactive publish asks first. */
const CONFIRM_ABOVE = 1000

export default class Publish extends BaseCommand<typeof Publish> {
  static summary = 'Send packet stores to the swarm, grouped by routing key; a re-run sends only what is left.'
  static description = `Without arguments, publishes every packet store in <home>/packets that is not yet fully published. Packets are grouped by routing-key fingerprint; one batched Kademlia lookup finds the closest peers of every key, and each key's packets are sent in batches to the 3 closest peers of the key (--replicas), with bounded concurrency and retries with backoff.

Every (packet, key) pair the peers acknowledge is appended to a journal in <home>/journal and fsynced, so after a crash, Ctrl-C or unreachable peers a re-run sends only what is left; nodes de-duplicate by packet id, so nothing is stored twice. --republish sends every still-valid packet again to its key's current closest peers, so replicas lost to churn are restored (nodes also re-replicate among themselves).

Exit status: 0 when every packet was delivered (or nothing was left), 1 when any packet was not (the summary says why; run again to finish), 130 when interrupted. See docs/swarm.md.`

  static examples = [
    '<%= config.bin %> publish --bootstrap /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...',
    '<%= config.bin %> publish ~/.qis/packets/20260101-abc.qisp --dry-run',
    '<%= config.bin %> publish --yes --json',
  ]

  static strict = false
  static args = {
    store: Args.string({description: 'Packet store file or folder (several allowed). Default: the stores in <home>/packets not yet fully published.'}),
  }

  static flags = {
    bootstrap: bootstrapFlag,
    'batch-size': Flags.integer({description: 'Packets per store request (1-256).', default: 128, min: 1, max: 256}),
    concurrency: Flags.integer({description: 'Routing keys in flight at once.', default: 8, min: 1, max: 64}),
    replicas: Flags.integer({description: 'Distinct peers that must acknowledge each packet (at most the number of storage nodes in the swarm).', default: DEFAULT_REPLICAS, min: 1, max: 20}),
    retries: Flags.integer({description: 'Attempts per lookup and per peer before moving on.', default: 3, min: 1, max: 10}),
    republish: Flags.boolean({
      description: 'Send every still-valid packet again, journaled or not: the closest peers that lost theirs (nodes gone, wiped) store it again, the others answer duplicate.',
      default: false,
    }),
    'dry-run': Flags.boolean({description: 'Show what would be sent; contact no peer.', default: false}),
    yes: Flags.boolean({char: 'y', description: 'Do not ask before a large publish.', default: false}),
    quiet: quietFlag,
  }

  async run(): Promise<PublishSummary> {
    const {flags} = this
    const layout = await this.readHome()
    const {config} = await loadConfig(layout)
    // A dry run joins nothing, so it needs no peers.
    const bootstrap = flags['dry-run'] ? (flags.bootstrap ?? config.bootstrap) : bootstrapPeers(flags.bootstrap, config.bootstrap)
    // With no store named, a home that does not exist has nothing to publish: say so before the
    // lock, the journal and a new identity would create it (a typo in --home must leave nothing).
    if (this.positionals.length === 0 && !existsSync(layout.root)) throw nothingToPublish(layout.packetsDir)
    const home = await this.home()
    const identity = await loadOrCreateIdentity(home)
    const {publishStores} = await import('../swarm/publish.js')

    const interrupt = interruptSignal('publish interrupted; everything acknowledged so far is journaled, run qis publish again to send the rest')
    const clack = this.interactive ? await import('@clack/prompts') : undefined
    const progress = await startProgress(this.io.stderr, {enabled: !this.jsonEnabled() && !flags.quiet, waiting: 'Joining the swarm', title: 'Publishing'})
    try {
      const summary = await publishStores({
        home,
        privateKey: identity.privateKey,
        stores: this.positionals,
        bootstrap,
        batchSize: flags['batch-size'],
        concurrency: flags.concurrency,
        replicas: flags.replicas,
        retries: flags.retries,
        dryRun: flags['dry-run'],
        republish: flags.republish,
        signal: interrupt.signal,
        onPlan: (plan) => this.reportPlan(plan),
        confirm:
          clack && !flags.yes
            ? async (plan) => {
                if (plan.pending <= CONFIRM_ABOVE) return true
                const keys = new Set(plan.items.map((i) => i.key)).size
                const answer = await clack.confirm({message: `Publish ${plan.pending.toLocaleString('en')} packets under ${keys.toLocaleString('en')} keys to the swarm?`})
                return answer === true
              }
            : undefined,
        onProgress: (settled, total) => progress.update({done: settled, total, text: `${settled.toLocaleString('en')} / ${total.toLocaleString('en')} packet-key pairs`}),
      })
      progress.stop(`${summary.deliveries.toLocaleString('en')} packet-key pairs acknowledged`)
      if (!flags.quiet) this.log(renderPublishSummary(summary))
      // A store that cannot be read is never "nothing left to publish" (issue 21 item 10).
      const read = summary.pending + summary.skipped + summary.expired + summary.invalid
      // A partial publish still prints its summary (and --json its object); the error after it tells scripts to re-run.
      if (summary.failed > 0) this.failAfterOutput(undelivered(summary))
      else if (read === 0 && summary.unreadable.length === 0) {
        this.failAfterOutput(summary.stores.length === 0 ? nothingToPublish(home.packetsDir) : new QisError(`the ${summary.stores.length} packet store(s) hold no packets`, {code: 'NOTHING_PRODUCED', hint: NOTHING_HINT}))
      } else if (summary.unreadable.length > 0) {
        const more = summary.unreadable.length > 1 ? ` (and ${summary.unreadable.length - 1} more)` : ''
        this.failAfterOutput(
          new QisError(`${summary.unreadable.length} packet store(s) could not be read: ${summary.unreadable[0]}${more}`, {
            code: 'STORE_UNREADABLE',
            hint: 'A store qis did not write, or one damaged on disk: `qis inspect packet STORE` shows what is readable.',
          }),
        )
      }
      return summary
    } catch (err) {
      progress.fail('Stopped')
      if (interrupt.signal.aborted) throw interrupt.signal.reason
      throw err
    } finally {
      interrupt.dispose()
    }
  }

  private reportPlan(plan: PublishPlan): void {
    if (this.jsonEnabled()) return
    const shown = plan.problems.slice(0, 10)
    for (const p of shown) this.warn(p)
    if (plan.problems.length > shown.length) this.warn(`... and ${plan.problems.length - shown.length} more unreadable record(s)`)
  }
}

/** The error a publish that left packets undelivered exits with, after its summary. */
function undelivered(s: PublishSummary): QisError {
  const underReplicated = s.storagePeersFound !== undefined && s.failed === (s.failures.UNDER_REPLICATED ?? 0)
  return underReplicated
    ? new QisError(`${s.failed} packet(s) reached only ${s.storagePeersFound} storage peer(s), fewer than --replicas ${s.replicas}`, {
        code: 'UNDER_REPLICATED',
        hint: s.storagePeersFound! > 0 ? `A re-run cannot help until more nodes join; run qis publish --replicas ${s.storagePeersFound} to accept fewer copies.` : 'Check --bootstrap and that a qis node is running.',
      })
    : new QisError(`${s.failed} of ${s.pending} packet(s) were not delivered`, {
        code: 'NOT_DELIVERED',
        hint: `Run qis publish${s.republish ? ' --republish' : ''} again to send them (the summary gives the reasons).`,
      })
}

export function renderPublishSummary(s: PublishSummary): string {
  const lines: string[] = []
  if (s.dryRun) lines.push(`Dry run: would publish ${s.pending} packet(s) under ${s.keys} key(s) from ${s.stores.length} store(s); nothing sent.`)
  else if (s.pending === 0) lines.push(`Nothing to publish: ${s.skipped} packet(s) in ${s.stores.length} store(s) already published.`)
  else if (s.republish && s.failed === 0) lines.push(`Republished ${s.published} packet(s) under ${s.keys} key(s): ${s.restored} had lost a replica and were stored again.`)
  else if (s.failed === 0) lines.push(`Published ${s.published} packet(s) under ${s.keys} key(s) to ${s.peers} peer(s).`)
  else if (s.storagePeersFound !== undefined && s.failed === (s.failures.UNDER_REPLICATED ?? 0)) {
    // A re-run would meet the same swarm: say what the packets did reach and the one change that helps.
    const found = s.storagePeersFound
    lines.push(
      `${s.republish ? 'Republished' : 'Published'} ${s.published} of ${s.pending} packet(s) to ${s.replicas} peers each; ${s.failed} reached only ${found} storage peer(s), fewer than --replicas ${s.replicas}, because the swarm has no more for their keys.`,
      found > 0
        ? `Those copies are stored, but a re-run cannot add replicas until more nodes join; to accept ${found} cop${found === 1 ? 'y' : 'ies'}, run qis publish --replicas ${found}.`
        : 'No storage peer was found: check --bootstrap and that a qis node is running.',
    )
  } else if (s.republish) lines.push(`Republished ${s.published} of ${s.pending} packet(s) (${s.restored} stored again); ${s.failed} failed (run qis publish --republish again to retry them).`)
  else lines.push(`Published ${s.published} of ${s.pending} packet(s); ${s.failed} failed (run qis publish again to retry them).`)
  const rows: [string, string][] = [
    ['published', String(s.published)],
    ['keys', String(s.keys)],
    ['peers', String(s.peers)],
    ['failed', String(s.failed)],
    ['skipped', `${s.skipped} (already published)`],
  ]
  if (s.republish) rows.push(['restored', `${s.restored} (a closest peer lacked them)`])
  if (s.expired) rows.push(['expired', `${s.expired} (past their TTL, not sent)`])
  if (s.invalid) rows.push(['invalid', `${s.invalid} (unreadable records, not sent)`])
  if (s.journalPruned) rows.push(['journal', `${s.journalPruned} line(s) of expired or removed packets dropped`])
  lines.push(keyValueTable(rows))
  const reasons = Object.entries(s.failures).sort((a, b) => b[1] - a[1])
  if (reasons.length > 0) lines.push('Failed by reason:', keyValueTable(reasons.map(([r, n]): [string, string] => [r, String(n)]), '    '))
  return lines.join('\n')
}

const NOTHING_HINT = 'Run `qis distill` first, or name the packet stores to publish.'

function nothingToPublish(packetsDir: string): QisError {
  return new QisError(`no packet stores to publish in ${packetsDir}`, {code: 'NOTHING_PRODUCED', hint: NOTHING_HINT})
}
