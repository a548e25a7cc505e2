/**
 * `qis node --metrics HOST:PORT`: Prometheus text on /metrics (libp2p's own metrics through
 * @libp2p/prometheus-metrics, plus the node's storage and serving counters) and /healthz.
 * Loaded only when the flag is given. See docs/operating.md ("Metrics").
 */
import type {Libp2p} from '@libp2p/interface'
import {prometheusMetrics} from '@libp2p/prometheus-metrics'
import {createServer} from 'node:http'
import {isIP} from 'node:net'
import {Counter, Gauge, register} from 'prom-client'

import {QisError, errorMessage} from '../util/errors.js'
import type {SwarmEvent} from './node.js'
import {portInUseError} from './reachability.js'
import type {ReplicationStats} from './replicate.js'
import type {PacketStorage} from './storage.js'

export interface MetricsAddress {
  host: string
  port: number
}

/** HOST:PORT, [IPv6]:PORT; the host is required so that exposing metrics beyond this machine is a decision. */
export function parseMetricsAddress(text: string): MetricsAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim())
  const host = m?.[1] ?? m?.[2]
  const port = Number(m?.[3])
  if (!m || !host || port < 1 || port > 65_535 || (m[1] !== undefined && isIP(m[1]) !== 6)) {
    throw new QisError(`--metrics "${text}" is not HOST:PORT (e.g. 127.0.0.1:9464 or [::1]:9464)`, {code: 'BAD_FLAG'})
  }
  return {host, port}
}

/** The libp2p metrics implementation; it registers on prom-client's default registry. */
export function libp2pMetrics(): ReturnType<typeof prometheusMetrics> {
  return prometheusMetrics({collectDefaultMetrics: true})
}

export interface NodeMetrics {
  /** Feed every node event here (served counts come from events). */
  observe(event: SwarmEvent): void
  url: string
  close(): Promise<void>
}

/**
 * Registers qis's own metrics and serves /metrics and /healthz. Counters that storage keeps
 * cumulatively are advanced by their difference at each scrape, so they never go backwards.
 */
export async function startNodeMetrics(address: MetricsAddress, node: {libp2p: Libp2p; storage: PacketStorage; routingTableSize(): number; replication?: ReplicationStats}): Promise<NodeMetrics> {
  const {libp2p, storage} = node
  const seen = {stored: 0, duplicates: 0, expired: 0, evicted: 0, refused: {} as Record<string, number>}
  const advance = (counter: Counter<string>, key: 'stored' | 'duplicates' | 'expired' | 'evicted', now: number) => {
    if (now > seen[key]) counter.inc(now - seen[key])
    seen[key] = now
  }
  // Every storage-backed counter syncs all of them, so whichever the registry renders first is current.
  const sync = () => {
    const s = storage.stats()
    advance(stored, 'stored', s.stored)
    advance(duplicates, 'duplicates', s.duplicates)
    advance(expired, 'expired', s.expired)
    advance(evicted, 'evicted', s.evicted)
    for (const [reason, n] of Object.entries(s.refused)) {
      const before = seen.refused[reason] ?? 0
      if ((n ?? 0) > before) refused.inc({reason}, (n ?? 0) - before)
      seen.refused[reason] = n ?? 0
    }
  }
  const stored: Counter<string> = new Counter({name: 'qis_packets_stored_total', help: 'Packets accepted and stored since start (not duplicates).', collect: sync})
  const duplicates: Counter<string> = new Counter({name: 'qis_packets_duplicate_total', help: 'Packets offered again that the node already held.', collect: sync})
  const expired: Counter<string> = new Counter({name: 'qis_packets_expired_total', help: 'Packets dropped because their TTL ran out.', collect: sync})
  const evicted: Counter<string> = new Counter({name: 'qis_packets_evicted_total', help: 'Packets evicted to make room on a full node (docs/swarm.md, "Limits").', collect: sync})
  const refused: Counter<string> = new Counter({
    name: 'qis_packets_refused_total',
    help: 'Packets and requests refused, by reason (docs/swarm.md, "Refusal reasons").',
    labelNames: ['reason'],
    collect: sync,
  })
  const servedRequests = new Counter({name: 'qis_fetch_requests_served_total', help: 'Fetch requests (packet lookups by key) answered.'})
  const servedPackets = new Counter({name: 'qis_packets_served_total', help: 'Packets sent in answer to fetch requests.'})
  const truncated = new Counter({name: 'qis_fetch_truncated_total', help: 'Fetch answers cut at the per-reply packet cap.'})
  new Gauge({
    name: 'qis_storage_packets',
    help: 'Live packets held.',
    collect() {
      this.set(storage.stats().packets)
    },
  })
  new Gauge({
    name: 'qis_storage_bytes',
    help: 'Bytes of live packets held.',
    collect() {
      this.set(storage.stats().bytes)
    },
  })
  new Gauge({
    name: 'qis_storage_publishers',
    help: 'Distinct publishers (signing keys) with packets held.',
    collect() {
      this.set(storage.stats().publishers)
    },
  })
  const replication = node.replication
  if (replication) {
    const seenReplication = {stored: 0, sent: 0, failed: 0}
    const replicationCounter = (name: string, help: string, field: keyof typeof seenReplication) =>
      new Counter({
        name,
        help,
        collect() {
          const now = replication[field]
          if (now > seenReplication[field]) this.inc(now - seenReplication[field])
          seenReplication[field] = now
        },
      })
    replicationCounter('qis_packets_replicated_total', 'Packets re-replicated: pushed to a new closest peer of their key that did not hold them yet.', 'stored')
    replicationCounter('qis_replication_sent_total', 'Packets pushed by re-replication (including ones the peer already held).', 'sent')
    replicationCounter('qis_replication_failed_total', 'Re-replication pushes (one key to one peer) that failed and wait for a retry.', 'failed')
  }
  new Gauge({
    name: 'qis_peers',
    help: 'Peers with an open connection.',
    collect() {
      this.set(libp2p.getPeers().length)
    },
  })
  new Gauge({
    name: 'qis_routing_table_peers',
    help: 'Storage peers in the Kademlia routing table.',
    collect() {
      this.set(node.routingTableSize())
    },
  })

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, {allow: 'GET, HEAD'}).end()
      return
    }
    if (path === '/healthz') {
      const ok = libp2p.status === 'started'
      res.writeHead(ok ? 200 : 503, {'content-type': 'text/plain'}).end(ok ? 'ok\n' : `${libp2p.status}\n`)
      return
    }
    if (path === '/metrics') {
      register.metrics().then(
        (text) => res.writeHead(200, {'content-type': register.contentType}).end(text),
        (err) => res.writeHead(500, {'content-type': 'text/plain'}).end(`metrics failed: ${errorMessage(err)}\n`),
      )
      return
    }
    res.writeHead(404, {'content-type': 'text/plain'}).end('not found: try /metrics or /healthz\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(portInUseError(address.port, address.host, '--metrics'))
      else reject(new QisError(`cannot serve metrics on ${address.host}:${address.port}: ${errorMessage(err)}`, {code: 'NODE_START_FAILED', cause: err}))
    })
    server.listen(address.port, address.host, () => resolve())
  })
  const host = isIP(address.host) === 6 ? `[${address.host}]` : address.host
  return {
    url: `http://${host}:${address.port}`,
    observe(event) {
      if (event.event !== 'served') return
      servedRequests.inc()
      servedPackets.inc(event.packets)
      if (event.truncated) truncated.inc()
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
