/**
 * How a node is reached from outside its own network: which of its addresses it tells peers,
 * relaying (circuit-relay-v2) for nodes behind NATs, hole punching (DCUtR), AutoNAT and UPnP.
 * Everything here is js-libp2p's own modules; this file only decides which to load and how.
 * See docs/operating.md ("Reachability").
 */
import type {circuitRelayTransport} from '@libp2p/circuit-relay-v2'
import {identifyPush} from '@libp2p/identify'
import {type PeerInfo, peerRoutingSymbol} from '@libp2p/interface'
import {isPrivateIp} from '@libp2p/utils'
import {type Multiaddr, multiaddr} from '@multiformats/multiaddr'
import {BlockList, isIP} from 'node:net'
import {networkInterfaces} from 'node:os'

import {QisError, errorMessage} from '../util/errors.js'

export interface ReachabilityOptions {
  /**
   * Addresses to advertise instead of what the node listens on: the public address of a
   * port-forwarded router, or a DNS name (/dns4/qis.example.org/tcp/4001).
   */
  announce?: string[]
  /**
   * Whether private and loopback addresses may be advertised. `true`: all of them (a swarm inside
   * one LAN). A list of CIDRs: only those ranges count as part of the swarm's network. `'auto'`
   * (default): on exactly when every listen address is loopback, since such a node can be reached
   * from this machine only and is a loopback swarm by construction.
   */
  lan?: boolean | 'auto' | string[]
  /** Serve as a circuit-relay-v2 relay for nodes that cannot be dialled directly. */
  relay?: boolean
  /**
   * Reserve a slot on a relay and advertise the relayed address. `'auto'` (default): when the node
   * stores packets and has no address others could dial (nothing announced, no public interface
   * address, not a LAN swarm).
   */
  reserveRelay?: boolean | 'auto'
  /** Ask the router for a port mapping over UPnP (off by default: it changes the router's configuration). */
  upnp?: boolean
}

/** Per relayed connection; libp2p's own defaults (2 min, 128 KiB) only cover hole-punch signalling, too little for a store batch. */
export const RELAY_LIMITS = {durationMs: 10 * 60_000, dataBytes: 64n << 20n, maxReservations: 128}

export type ResolvedLan = {mode: 'all'} | {mode: 'none'} | {mode: 'ranges'; ranges: string[]; list: BlockList}

/** Whether an address may be told to peers under a LAN setting. */
export interface AddressPolicy {
  lan: ResolvedLan
  shareable(ma: Multiaddr | string): boolean
}

const LOOPBACK = /^\/(ip4\/127\.|ip6\/::1\/)/

export function resolveLan(lan: ReachabilityOptions['lan'], listen: string[]): ResolvedLan {
  if (lan === true) return {mode: 'all'}
  if (lan === false) return {mode: 'none'}
  if (Array.isArray(lan)) {
    const list = new BlockList()
    for (const cidr of lan) {
      const [ip, bits, extra] = cidr.split('/')
      const family = isIP(ip ?? '')
      const prefix = Number(bits)
      if (family === 0 || extra !== undefined || !/^\d+$/.test(bits ?? '') || prefix > (family === 4 ? 32 : 128)) {
        throw new QisError(`lan range "${cidr}" is not a CIDR like 10.0.0.0/8 or fd00::/8`, {code: 'BAD_FLAG'})
      }
      list.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6')
    }
    return {mode: 'ranges', ranges: [...lan], list}
  }
  return listen.length > 0 && listen.every((a) => LOOPBACK.test(a)) ? {mode: 'all'} : {mode: 'none'}
}

/** The first IP in a multiaddr, or undefined for DNS names and the like. */
function firstIp(ma: Multiaddr): {ip: string; family: 4 | 6} | undefined {
  for (const c of ma.getComponents()) {
    if (c.name === 'ip4' && c.value) return {ip: c.value, family: 4}
    if (c.name === 'ip6' && c.value) return {ip: c.value, family: 6}
    if (c.name === 'dns' || c.name === 'dns4' || c.name === 'dns6' || c.name === 'dnsaddr') return undefined
  }
  return undefined
}

export function addressPolicy(lan: ResolvedLan): AddressPolicy {
  return {
    lan,
    shareable(input) {
      let ma: Multiaddr
      try {
        ma = typeof input === 'string' ? multiaddr(input) : input
      } catch {
        return false
      }
      // A relayed address is as reachable as its relay.
      const ip = firstIp(ma)
      if (!ip) return true
      if (ip.ip === '0.0.0.0' || ip.ip === '::') return false
      if (lan.mode === 'all') return true
      if (lan.mode === 'ranges' && lan.list.check(ip.ip, ip.family === 4 ? 'ipv4' : 'ipv6')) return true
      return isPrivateIp(ip.ip) !== true
    },
  }
}

/** A node is dialable directly if it announces something, listens on a public IP, or listens on a wildcard with a public interface. */
export function hasPublicAddress(listen: string[], announce: string[], policy: AddressPolicy, interfaces = networkInterfaces()): boolean {
  if (announce.length > 0) return true
  const local = Object.values(interfaces)
    .flat()
    .filter((i) => i !== undefined)
  for (const a of listen) {
    let ma: Multiaddr
    try {
      ma = multiaddr(a)
    } catch {
      continue
    }
    const ip = firstIp(ma)
    if (!ip) continue
    if (ip.ip === '0.0.0.0' || ip.ip === '::') {
      if (local.some((i) => (i.family === 'IPv4') === (ip.family === 4) && policy.shareable(`/ip${ip.family}/${i.address}/tcp/1`))) return true
    } else if (policy.shareable(ma)) return true
  }
  return false
}

export interface ReachabilityParts {
  policy: AddressPolicy
  /** Listen addresses to add (`/p2p-circuit` when reserving a relay slot). */
  listen: string[]
  announce: string[]
  announceFilter: (addrs: Multiaddr[]) => Multiaddr[]
  /** For kad-dht: which peers' addresses are passed on in DHT answers and admitted to the routing table. */
  peerInfoMapper: (peer: PeerInfo) => PeerInfo
  transports: ReturnType<typeof circuitRelayTransport>[]
  services: Record<string, (components: any) => unknown>
  /** What was decided, for the node's start-up lines. */
  summary: {lan: string; relay: boolean; reserveRelay: boolean; upnp: boolean; autonat: boolean}
}

/**
 * The libp2p pieces for one node. A storage node gets all of them; a client (publish, pull)
 * advertises nothing, so it only needs to dial relayed addresses and take part in hole punching.
 */
export async function reachabilityParts(options: ReachabilityOptions, context: {listen: string[]; storage: boolean}): Promise<ReachabilityParts> {
  const lan = resolveLan(options.lan ?? 'auto', context.listen)
  const policy = addressPolicy(lan)
  const announce = options.announce ?? []
  for (const a of announce) {
    let ma: Multiaddr
    try {
      ma = multiaddr(a)
    } catch (err) {
      throw new QisError(`announce address "${a}" is not a valid multiaddr: ${errorMessage(err)}`, {code: 'BAD_MULTIADDR'})
    }
    if (!policy.shareable(ma)) {
      throw new QisError(`announce address "${a}" is private or loopback, and this node is not configured for a LAN swarm`, {
        code: 'ADDRESS_NOT_PUBLIC',
        hint: 'Announce the public address peers dial, or pass --lan (config "lan": true, or a list of CIDRs) for a swarm inside one network.',
      })
    }
  }
  const reserveRelay =
    context.storage && !options.relay && (options.reserveRelay === true || (options.reserveRelay !== false && lan.mode !== 'all' && !hasPublicAddress(context.listen, announce, policy)))
  const services: Record<string, (components: any) => unknown> = {
    // Tells connected peers at once when our addresses change (a relay slot granted, a UPnP mapping),
    // so their routing tables admit us with the new address.
    identifyPush: identifyPush(),
  }
  // A storage node of a LAN (or loopback) swarm is dialled directly by every peer: relaying, hole
  // punching and reachability checks would only cost start-up time. Modules load only where used.
  const traversal = lan.mode !== 'all' || options.relay === true || options.reserveRelay === true || !context.storage
  const relayModule = traversal ? await import('@libp2p/circuit-relay-v2') : undefined
  if (traversal) services.dcutr = (await import('@libp2p/dcutr')).dcutr()
  if (context.storage && lan.mode !== 'all') services.autoNAT = (await import('@libp2p/autonat-v2')).autoNATv2()
  if (options.relay && relayModule) {
    services.relay = relayModule.circuitRelayServer({
      reservations: {
        maxReservations: RELAY_LIMITS.maxReservations,
        defaultDurationLimit: RELAY_LIMITS.durationMs,
        defaultDataLimit: RELAY_LIMITS.dataBytes,
      },
    })
  }
  if (options.upnp) services.upnp = (await import('@libp2p/upnp-nat')).uPnPNAT()
  return {
    policy,
    listen: reserveRelay ? ['/p2p-circuit'] : [],
    announce,
    announceFilter: (addrs) => addrs.filter((a) => policy.shareable(a)),
    peerInfoMapper: (peer) => ({...peer, multiaddrs: peer.multiaddrs.filter((a) => policy.shareable(a))}),
    transports: relayModule ? [relayModule.circuitRelayTransport()] : [],
    services,
    summary: {
      lan: lan.mode === 'ranges' ? lan.ranges.join(',') : lan.mode,
      relay: options.relay === true,
      reserveRelay,
      upnp: options.upnp === true,
      autonat: services.autoNAT !== undefined,
    },
  }
}

/** The node's flags that override config `network` (undefined = not given). */
export interface ReachabilityFlags {
  announce?: string[]
  lan?: boolean
  lanRange?: string[]
  relay?: boolean
  reserveRelay?: boolean
  upnp?: boolean
}

/** Config `network` with the flags applied; a value of the wrong type in config.json is a BAD_CONFIG naming the key. */
export function reachabilityFrom(config: object, flags: ReachabilityFlags): ReachabilityOptions {
  const network = config as Partial<Record<string, unknown>>
  const bad = (key: string, want: string) => new QisError(`config network.${key} must be ${want}`, {code: 'BAD_CONFIG'})
  const strings = (key: string, v: unknown): string[] => {
    if (v === undefined) return []
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(key, 'a list of strings')
    return v as string[]
  }
  const bool = (key: string, v: unknown, auto = false): boolean | 'auto' | undefined => {
    if (v === undefined || typeof v === 'boolean' || (auto && v === 'auto')) return v as boolean | 'auto' | undefined
    throw bad(key, auto ? 'true, false or "auto"' : 'true or false')
  }
  let lan: ReachabilityOptions['lan']
  if (flags.lanRange && flags.lanRange.length > 0) lan = flags.lanRange
  else if (flags.lan !== undefined) lan = flags.lan
  else lan = Array.isArray(network.lan) ? strings('lan', network.lan) : bool('lan', network.lan, true)
  return {
    announce: flags.announce ?? strings('announce', network.announce),
    lan,
    relay: flags.relay ?? (bool('relay', network.relay) as boolean | undefined),
    reserveRelay: flags.reserveRelay ?? bool('reserveRelay', network.reserveRelay, true),
    upnp: flags.upnp ?? (bool('upnp', network.upnp) as boolean | undefined),
  }
}

/**
 * Relay discovery walks the DHT (libp2p's random walk) until it finds a relay, in a loop with no
 * pause: with an empty routing table every walk returns at once and the loop starves the event
 * loop, so the node never finishes starting. This paces walks over an empty table to one a second.
 */
export function paceEmptyWalks<F extends (components: any) => object>(factory: F): F {
  return ((components: any) => {
    const dht = factory(components) as Record<symbol, unknown> & {routingTable?: {size: number}}
    const routing = dht[peerRoutingSymbol] as {getClosestPeers(key: Uint8Array, options?: {signal?: AbortSignal}): AsyncIterable<unknown>} | undefined
    if (routing) {
      const original = routing.getClosestPeers.bind(routing)
      routing.getClosestPeers = async function* (key, options = {}) {
        if ((dht.routingTable?.size ?? 0) === 0) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 1000)
            options.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), {once: true})
          })
          if ((dht.routingTable?.size ?? 0) === 0) return
        }
        yield* original(key, options)
      }
    }
    return dht
  }) as F
}

/** One line naming the port and the fix, instead of the listener's stack trace. */
export function portInUseError(port: number | string, host: string, flag: string): QisError {
  return new QisError(`port ${port} on ${host} is already in use`, {
    code: 'PORT_IN_USE',
    hint: `Stop the process that holds it (another qis node?) or choose another port with ${flag}.`,
  })
}

/** The libp2p start failure for a taken listen port ("EADDRINUSE: address already in use HOST:PORT"), as one line. */
export function listenFailure(err: unknown): QisError | undefined {
  const m = /EADDRINUSE[^\n]*?address already in use (\S+):(\d+)/.exec(errorMessage(err))
  return m ? portInUseError(m[2], m[1], '--listen') : undefined
}
