import {promises as fs} from 'node:fs'
import path from 'node:path'

import type {Home} from '../config/home.js'
import {decodePacket} from '../packet/codec.js'
import {STORE_EXTENSION, readStoreFile} from '../packet/store.js'

/**
 * Domains of the packets this node has already distilled, most common first, so the wizard can
 * offer them as domain focus. Reads at most `maxPackets` packets: a hint, not an inventory.
 */
export async function knownDomains(home: Home, maxPackets = 20_000): Promise<{domain: string; packets: number}[]> {
  let files: string[]
  try {
    files = (await fs.readdir(home.packetsDir)).filter((f) => f.endsWith(STORE_EXTENSION)).sort()
  } catch {
    return []
  }
  const counts = new Map<string, number>()
  let read = 0
  for (const file of files) {
    for await (const entry of readStoreFile(path.join(home.packetsDir, file))) {
      if (entry.kind !== 'packet') continue
      const decoded = decodePacket(entry.bytes, {allowExpired: true})
      if (decoded.packet) counts.set(decoded.packet.domain_tag, (counts.get(decoded.packet.domain_tag) ?? 0) + 1)
      if (++read >= maxPackets) break
    }
    if (read >= maxPackets) break
  }
  return [...counts].map(([domain, packets]) => ({domain, packets})).sort((a, b) => b.packets - a.packets || a.domain.localeCompare(b.domain))
}
