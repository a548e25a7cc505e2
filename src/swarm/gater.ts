import type {ConnectionGater, MultiaddrConnection} from '@libp2p/interface'

/**
 * A connection gater that refuses an inbound connection while its remote IP already has `maxPerIp`
 * connections in the upgrade. A connection stops counting when its upgrade ends either way.
 */
export function pendingPerIpGater(maxPerIp: number, onRefuse?: (ip: string) => void): ConnectionGater {
  const pending = new Map<string, number>()
  const counted = new WeakSet<MultiaddrConnection>()
  const release = (ip: string, conn: MultiaddrConnection) => {
    if (!counted.has(conn)) return
    counted.delete(conn)
    const n = (pending.get(ip) ?? 1) - 1
    if (n <= 0) pending.delete(ip)
    else pending.set(ip, n)
  }
  const ipOf = (conn: MultiaddrConnection): string | undefined => {
    try {
      return conn.remoteAddr.getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')?.value
    } catch {
      return undefined
    }
  }
  return {
    denyInboundConnection(conn) {
      const ip = ipOf(conn)
      if (ip === undefined) return false
      const n = pending.get(ip) ?? 0
      if (n >= maxPerIp) {
        onRefuse?.(ip)
        return true
      }
      pending.set(ip, n + 1)
      counted.add(conn)
      conn.addEventListener('close', () => release(ip, conn), {once: true})
      return false
    },
    denyInboundUpgradedConnection(_peer, conn) {
      const ip = ipOf(conn)
      if (ip !== undefined) release(ip, conn)
      return false
    },
  }
}
