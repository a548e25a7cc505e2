import {Flags} from '@oclif/core'
import path from 'node:path'

import {BaseCommand} from '../cli/command.js'
import {bootstrapFlag, durationFlag} from '../cli/flags.js'
import {interruptSignal} from '../cli/interrupt.js'
import {loadConfig} from '../config/config.js'
import {acquireHomeLock} from '../config/lock.js'
import {loadSwarmKey} from '../swarm/pnet.js'
import {QisError} from '../util/errors.js'
import type {SwarmEvent} from '../swarm/node.js'
import type {ReplicationStats} from '../swarm/replicate.js'
import type {StorageStats} from '../swarm/storage.js'

export interface NodeResult {
  peerId: string
  multiaddrs: string[]
  /** Storage at shutdown: packets held, stored/duplicates/refused-by-reason since start. */
  storage: StorageStats
  /** Re-replication since start (absent with --no-replicate). */
  replication?: ReplicationStats
}

/** What a human log prints: quiet = start, warnings and stop; info adds state changes and the periodic summary; verbose adds every event. */
export type LogLevel = 'quiet' | 'info' | 'verbose'
export const LOG_LEVELS: readonly LogLevel[] = ['quiet', 'info', 'verbose']

/** The lowest level at which an event gets its own human line. */
export function eventLevel(e: SwarmEvent): LogLevel {
  switch (e.event) {
    case 'bootstrap:failed':
      return 'quiet'
    case 'bootstrap:joined':
    case 'addresses':
    case 'expired':
    case 'replicated':
      return 'info'
    default:
      return 'verbose'
  }
}

const short = (peer: string) => (peer.length > 16 ? `${peer.slice(0, 8)}…${peer.slice(-6)}` : peer)

/** One human line per event (the --json log prints the event object instead). */
export function describeEvent(e: SwarmEvent): string {
  switch (e.event) {
    case 'peer:connect':
      return `peer connected ${e.peer}`
    case 'peer:disconnect':
      return `peer disconnected ${e.peer}`
    case 'stored': {
      const refused = Object.entries(e.refused).map(([r, n]) => `${r} x${n}`)
      return (
        `stored ${e.stored} for key ${e.key} from ${short(e.from)}` +
        (e.duplicates ? `, ${e.duplicates} duplicate(s)` : '') +
        (refused.length ? `, refused ${refused.join(', ')}` : '') +
        (e.evicted ? `, evicted ${e.evicted} of later arrivals to make room` : '')
      )
    }
    case 'refused':
      return `refused ${e.reason} from ${short(e.from)}: ${e.message}`
    case 'served':
      return `served ${e.packets} packet(s) for ${e.keys} key(s) to ${short(e.from)}${e.truncated ? ' (truncated)' : ''}`
    case 'expired':
      return `expired ${e.dropped} packet(s)`
    case 'bootstrap:failed':
      return `bootstrap peer ${e.multiaddr} unreachable: ${e.message}${e.retryInMs === undefined ? '' : `; trying again in ${(e.retryInMs / 1000).toFixed(1)} s`}`
    case 'bootstrap:joined':
      return `joined the swarm: ${e.peers} peer(s) in the routing table${e.attempts > 1 ? ` after ${e.attempts} attempts` : ''}`
    case 'routing':
      return `routing table: ${e.size} peer(s)`
    case 'addresses':
      return e.multiaddrs.length > 0 ? `advertising ${e.multiaddrs.join(' ')}` : 'advertising no address (not reachable by peers yet)'
    case 'replicated': {
      const failed = e.failed ? `, ${e.failed} push(es) failed (retried later)` : ''
      if (e.sent === 0) return `re-replication checked ${e.keys} key(s) with ${e.peers} peer(s) by ${e.checkedIds} packet id(s): nothing missing${failed}`
      return `re-replicated ${e.keys} key(s) to ${e.peers} peer(s): ${e.stored} of ${e.sent} packet(s) were new to them${failed}`
    }
  }
}

export default class Node extends BaseCommand<typeof Node> {
  static summary = 'Run a swarm peer that stores and serves outcome packets for the keys it is close to.'
  static description = `Joins the qis swarm (libp2p: TCP, noise, yamux, Kademlia routing on /qis/kad/1.0.0), answers batched closest-peer lookups over /qis/closest/1.0.0 and accepts packets over /qis/store/1.0.0 and /qis/fetch/1.0.0. Every packet is checked on receipt (signature, fields, TTL, that it carries the routing key it was pushed under) and refused with a counted reason otherwise; each publisher's share of the node is bounded. Packets are kept in <home>/node across restarts and dropped when their TTL runs out.

Every minute it looks up the current closest peers of the keys it holds and pushes a key's packets to each of its 3 closest peers not yet known to hold them, a probe of a few packets first (re-replication under churn; --no-replicate switches it off).

Prints its peer ID and one "listening <multiaddr>" line per address, then bootstrap and address changes and, once a minute when anything happened, one summary line (--summary-interval); --verbose prints a line per event as well (every stored batch, fetch, connection), --quiet only warnings. Stops cleanly on Ctrl-C / SIGTERM. With --json, every line is a JSON object with an "event" field: every event, and the summaries, whatever the level. See docs/swarm.md; ports, NATs, relays, the swarm key and metrics: docs/operating.md.`

  static examples = [
    '<%= config.bin %> node --listen /ip4/0.0.0.0/tcp/4001',
    '<%= config.bin %> node --listen /ip4/127.0.0.1/tcp/0 --bootstrap /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...',
    '<%= config.bin %> node --json',
    '<%= config.bin %> node --listen /ip4/0.0.0.0/tcp/4001 --announce /dns4/relay.example.org/tcp/4001 --relay --metrics 127.0.0.1:9464',
  ]

  static flags = {
    listen: Flags.string({description: 'Multiaddr to listen on (repeatable). Default: $QIS_LISTEN, the config, or /ip4/127.0.0.1/tcp/0.', multiple: true}),
    bootstrap: bootstrapFlag,
    'publisher-max-packets': Flags.integer({description: 'Packets one publisher may keep on this node.', min: 1}),
    'publisher-max-bytes': Flags.integer({description: 'Bytes one publisher may keep on this node.', min: 1}),
    'max-packets': Flags.integer({description: 'Packets this node keeps in total.', min: 1}),
    'max-bytes': Flags.integer({description: 'Bytes this node keeps in total.', min: 1}),
    'fetch-max-packets': Flags.integer({description: 'Packets one fetch reply carries at most (shared out per key; the rest is paged).', min: 1}),
    announce: Flags.string({
      description: 'Multiaddr to advertise to peers instead of the listen addresses (repeatable): a port-forwarded public address or a /dns4/ name. Default: config network.announce.',
      multiple: true,
      helpGroup: 'REACHABILITY',
    }),
    lan: Flags.boolean({
      description: 'Advertise private and loopback addresses (a swarm inside one network). Default: config network.lan; "auto" advertises them only when every listen address is loopback.',
      allowNo: true,
      helpGroup: 'REACHABILITY',
    }),
    'lan-range': Flags.string({description: 'CIDR whose addresses may be advertised although private (repeatable), e.g. 10.20.0.0/16.', multiple: true, helpGroup: 'REACHABILITY'}),
    relay: Flags.boolean({description: 'Serve as a circuit relay for nodes behind NATs (run it on a node with a public address).', allowNo: true, helpGroup: 'REACHABILITY'}),
    'reserve-relay': Flags.boolean({
      description: 'Reserve a slot on a relay and advertise the relayed address. Default: when the node has no address peers can dial.',
      allowNo: true,
      helpGroup: 'REACHABILITY',
    }),
    upnp: Flags.boolean({description: 'Ask the router for a port mapping over UPnP.', allowNo: true, helpGroup: 'REACHABILITY'}),
    'log-level': Flags.string({
      description: 'How much to log. quiet: start, warnings and stop; info: also joins, address changes and a periodic summary; verbose: also one line per event. --json prints every event whatever the level.',
      options: [...LOG_LEVELS],
      default: 'info',
      exclusive: ['quiet', 'verbose'],
      helpGroup: 'LOG',
    }),
    quiet: Flags.boolean({char: 'q', description: 'Same as --log-level quiet.', exclusive: ['verbose'], helpGroup: 'LOG'}),
    verbose: Flags.boolean({char: 'v', description: 'Same as --log-level verbose.', helpGroup: 'LOG'}),
    'summary-interval': durationFlag({description: 'How often the activity summary is printed (when anything happened).', allowZero: true})({default: 60, defaultHelp: async () => '1m', helpGroup: 'LOG'}),
    replicate: Flags.boolean({
      description: 'Re-replicate held packets to their keys\' current closest peers that lack them (churn).',
      default: true,
      allowNo: true,
      helpGroup: 'REPLICATION',
    }),
    'replicate-interval': durationFlag({description: 'Time between re-replication rounds.'})({default: 60, defaultHelp: async () => '1m', helpGroup: 'REPLICATION'}),
    metrics: Flags.string({
      description: 'Serve Prometheus metrics on http://HOST:PORT/metrics and a health check on /healthz, e.g. 127.0.0.1:9464. Default: config network.metrics (none).',
      helpValue: 'HOST:PORT',
    }),
  }

  async run(): Promise<NodeResult> {
    const {flags} = this
    const home = await this.home()
    const {config} = await loadConfig(home)
    const [{createSwarmNode}, {PacketStorage}, {reachabilityFrom}] = await Promise.all([
      import('../swarm/node.js'),
      import('../swarm/storage.js'),
      import('../swarm/reachability.js'),
    ])
    const swarmKey = await loadSwarmKey(home)
    const metricsAt = flags.metrics ?? (typeof config.network?.metrics === 'string' ? config.network.metrics : '')
    const metricsModule = metricsAt ? await import('../swarm/metrics.js') : undefined
    const metricsAddress = metricsModule?.parseMetricsAddress(metricsAt)
    let metrics: import('../swarm/metrics.js').NodeMetrics | undefined
    const reachability = reachabilityFrom(config.network ?? {}, {
      announce: flags.announce,
      lan: flags.lan,
      lanRange: flags['lan-range'],
      relay: flags.relay,
      reserveRelay: flags['reserve-relay'],
      upnp: flags.upnp,
    })
    const listen = flags.listen ?? config.listen
    const bootstrap = flags.bootstrap ?? config.bootstrap
    // Every address is checked before the identity and storage are written, so a typo leaves no home behind.
    const {multiaddrProblem} = await import('../init/validate.js')
    for (const [what, list] of [['listen', listen], ['bootstrap', bootstrap], ['announce', reachability.announce ?? []]] as const) {
      for (const a of list) {
        const problem = multiaddrProblem(a)
        if (problem) throw new QisError(`${what}: ${problem}`, {code: 'BAD_MULTIADDR'})
      }
    }
    // Lazily: the key code costs ~0.2 s, and oclif loads this module for `qis node --help` too (its duration defaults).
    const {loadOrCreateIdentity} = await import('../identity/identity.js')
    const identity = await loadOrCreateIdentity(home)
    const json = this.jsonEnabled()
    const level: LogLevel = flags.quiet ? 'quiet' : flags.verbose ? 'verbose' : (flags['log-level'] as LogLevel)
    const shown = (l: LogLevel) => LOG_LEVELS.indexOf(l) <= LOG_LEVELS.indexOf(level)
    const {ActivityCounter, describeSummary} = await import('../swarm/activity.js')
    const activity = new ActivityCounter()
    // Event lines go straight to stdout: this.log is silent under --json, and a log is what --json asks for here.
    const out = (line: string) => this.io.stdout.write(line)
    const emit = (event: Record<string, unknown> & {event: string}, text: string) => {
      out(json ? JSON.stringify({...event, time: new Date().toISOString()}) + '\n' : `${new Date().toISOString()} ${text}\n`)
    }
    // Two nodes on one home would share a peer id and append to one storage log.
    const lock = await acquireHomeLock(home, 'node')
    // A crash must not leave the lock behind; a clean stop releases it and removes this.
    const releaseAtExit = () => lock.releaseSync()
    process.once('exit', releaseAtExit)
    // Registered before the node starts, so a Ctrl-C during the start is a clean stop too. A second
    // signal while stopping gets the default behaviour (the process ends at once).
    const interrupt = interruptSignal('node stopped')
    let storage: import('../swarm/storage.js').PacketStorage | undefined
    let node: import('../swarm/node.js').SwarmNode | undefined
    try {
      storage = await PacketStorage.open(home.nodeDir, {
        limits: {
          maxPacketsPerPublisher: flags['publisher-max-packets'],
          maxBytesPerPublisher: flags['publisher-max-bytes'],
          maxPackets: flags['max-packets'],
          maxBytes: flags['max-bytes'],
        },
      })
      node = await createSwarmNode({
        privateKey: identity.privateKey,
        listen,
        bootstrap,
        storage,
        limits: flags['fetch-max-packets'] === undefined ? undefined : {maxFetchPackets: flags['fetch-max-packets']},
        logger: (e) => {
          metrics?.observe(e)
          activity.observe(e)
          if (json || shown(eventLevel(e))) emit(e, describeEvent(e))
        },
        reachability,
        peerStoreDir: path.join(home.nodeDir, 'peers'),
        replication: flags.replicate ? {intervalMs: flags['replicate-interval'] * 1000} : false,
        swarmKey: swarmKey?.bytes,
        metrics: metricsAddress !== undefined,
      })
      if (metricsModule && metricsAddress) {
        const running = node
        metrics = await metricsModule.startNodeMetrics(metricsAddress, {libp2p: running.libp2p, storage, routingTableSize: () => running.routingTableSize(), replication: running.replication?.stats})
      }
    } catch (err) {
      // createSwarmNode closes the storage it was given only through node.stop(); a failed start closes it here.
      interrupt.dispose()
      await (node ? node.stop() : storage?.close())?.catch(() => {})
      process.off('exit', releaseAtExit)
      await lock.release()
      throw err
    }
    const running = node
    const multiaddrs = running.multiaddrs()
    const loaded = storage.stats()
    if (json) {
      emit({event: 'started', peerId: running.peerId, multiaddrs, packets: loaded.packets, swarmKey: swarmKey?.fingerprint ?? null, metrics: metrics?.url ?? null}, '')
      for (const m of multiaddrs) emit({event: 'listening', multiaddr: m}, '')
    } else {
      out(`qis node ${running.peerId}\n`)
      if (swarmKey) out(`private swarm: key ${swarmKey.file} (fingerprint ${swarmKey.fingerprint})\n`)
      for (const m of multiaddrs) out(`listening ${m}\n`)
      if (metrics) out(`metrics ${metrics.url}/metrics, health ${metrics.url}/healthz\n`)
      if (multiaddrs.length === 0) out('advertising no address yet: none is public (see --announce, --lan, --reserve-relay)\n')
      out(`storage ${storage.file}: ${loaded.packets} packet(s) under ${loaded.keys} key(s)\n`)
    }
    // The node dials its bootstrap peers itself, with back-off until joined and again after losing every peer.
    const held = storage
    const summaries =
      flags['summary-interval'] > 0 && (json || shown('info'))
        ? setInterval(() => {
            const summary = activity.take({peers: running.libp2p.getPeers().length, routing: running.routingTableSize(), packets: held.stats().packets})
            if (summary) emit({...summary}, describeSummary(summary))
          }, flags['summary-interval'] * 1000)
        : undefined
    summaries?.unref()

    if (!interrupt.signal.aborted) await new Promise((resolve) => interrupt.signal.addEventListener('abort', resolve, {once: true}))
    const signal = interrupt.received() ?? 'SIGTERM'
    clearInterval(summaries)
    emit({event: 'stopping', signal}, `stopping (${signal})`)
    // A stuck stop must not leave the process hanging; acknowledged packets are already on disk.
    setTimeout(() => process.exit(0), 5000).unref()
    await metrics?.close()
    await running.stop()
    process.off('exit', releaseAtExit)
    await lock.release()
    const stats = storage.stats()
    const replication = running.replication?.stats
    emit(
      {event: 'stopped', storage: stats, guard: running.guard, replication: replication ?? null},
      `stopped: ${stats.packets} packet(s) kept, ${stats.stored} stored and ${Object.values(stats.refused).reduce((a, b) => a + (b ?? 0), 0)} refused this run` +
        (replication && replication.sent > 0 ? `; re-replicated ${replication.stored} packet(s) to new closest peers` : ''),
    )
    return {peerId: running.peerId, multiaddrs, storage: stats, ...(replication ? {replication} : {})}
  }
}
