import {describe, expect, it} from 'vitest'

import {addressPolicy, hasPublicAddress, reachabilityFrom, reachabilityParts, resolveLan} from '../../src/swarm/reachability.js'

const P = '/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp'
const relayed = (relay: string) => `${relay}${P}/p2p-circuit${P}`

describe('which addresses a node tells peers', () => {
  it('public mode: private, loopback, link-local and wildcard addresses are withheld; public, DNS and relayed-through-public are told', () => {
    const policy = addressPolicy(resolveLan(false, ['/ip4/0.0.0.0/tcp/4001']))
    for (const a of ['/ip4/127.0.0.1/tcp/4001', '/ip4/10.1.2.3/tcp/4001', '/ip4/192.168.1.5/tcp/4001', '/ip4/172.20.0.1/tcp/4001', '/ip4/169.254.3.3/tcp/1', '/ip4/0.0.0.0/tcp/1', '/ip6/::1/tcp/1', '/ip6/fd00::5/tcp/1', relayed('/ip4/10.0.0.1/tcp/4001')]) {
      expect(policy.shareable(a), a).toBe(false)
    }
    for (const a of ['/ip4/8.8.4.4/tcp/4001', '/dns4/qis.example.org/tcp/4001', '/ip6/2a00:1450::1/tcp/4001', relayed('/ip4/8.8.4.4/tcp/4001')]) {
      expect(policy.shareable(a), a).toBe(true)
    }
    expect(policy.shareable('not a multiaddr')).toBe(false)
  })

  it('LAN mode tells private addresses; ranges tell only theirs; auto is LAN exactly for loopback-only listeners', () => {
    expect(addressPolicy(resolveLan(true, [])).shareable('/ip4/10.1.2.3/tcp/1')).toBe(true)
    const ranges = addressPolicy(resolveLan(['10.20.0.0/16', 'fd00::/8'], []))
    expect(ranges.shareable('/ip4/10.20.9.9/tcp/1')).toBe(true)
    expect(ranges.shareable('/ip6/fd00::9/tcp/1')).toBe(true)
    expect(ranges.shareable('/ip4/10.21.0.1/tcp/1')).toBe(false)
    expect(ranges.shareable('/ip4/127.0.0.1/tcp/1')).toBe(false)
    expect(resolveLan('auto', ['/ip4/127.0.0.1/tcp/0'])).toEqual({mode: 'all'})
    expect(resolveLan('auto', ['/ip4/127.0.0.1/tcp/0', '/ip6/::1/tcp/0'])).toEqual({mode: 'all'})
    expect(resolveLan('auto', ['/ip4/0.0.0.0/tcp/4001'])).toEqual({mode: 'none'})
    expect(resolveLan('auto', ['/ip4/127.0.0.1/tcp/0', '/ip4/10.0.0.2/tcp/0'])).toEqual({mode: 'none'})
    expect(() => resolveLan(['10.0.0.0'], [])).toThrow(/not a CIDR/)
    expect(() => resolveLan(['10.0.0.0/33'], [])).toThrow(/not a CIDR/)
  })

  it('refuses to announce a private address outside a LAN swarm, naming it and the fix', async () => {
    try {
      await reachabilityParts({announce: ['/ip4/192.168.1.5/tcp/4001'], lan: false}, {listen: ['/ip4/0.0.0.0/tcp/4001'], storage: true})
      expect.unreachable()
    } catch (err) {
      expect(err).toMatchObject({code: 'ADDRESS_NOT_PUBLIC', hint: expect.stringContaining('--lan')})
      expect((err as Error).message).toContain('/ip4/192.168.1.5/tcp/4001')
    }
    await expect(reachabilityParts({announce: ['/ip4/1.2.3'], lan: false}, {listen: [], storage: true})).rejects.toThrow(/not a valid multiaddr/)
  })

  it('reserves a relay slot only for a storage node nobody can dial', async () => {
    const parts = (o: Parameters<typeof reachabilityParts>[0], listen: string[], storage = true) => reachabilityParts(o, {listen, storage})
    // Which interfaces the host has decides for a wildcard listener; these tests run anywhere.
    const natted = {eth0: [{address: '10.0.0.2', family: 'IPv4' as const, internal: false, netmask: '255.255.255.0', mac: '', cidr: null}]}
    const pub = addressPolicy(resolveLan(false, []))
    expect(hasPublicAddress(['/ip4/0.0.0.0/tcp/4001'], [], pub, natted)).toBe(false)
    expect(hasPublicAddress(['/ip4/0.0.0.0/tcp/4001'], [], pub, {eth0: [{...natted.eth0[0], address: '8.8.4.4'}]})).toBe(true)
    expect(hasPublicAddress(['/ip4/10.0.0.2/tcp/4001'], ['/dns4/x.example.org/tcp/4001'], pub, natted)).toBe(true)
    expect((await parts({lan: false}, ['/ip4/10.0.0.2/tcp/4001'])).listen).toEqual(['/p2p-circuit'])
    expect((await parts({lan: false}, ['/ip4/10.0.0.2/tcp/4001'], false)).listen).toEqual([])
    expect((await parts({lan: false, relay: true}, ['/ip4/10.0.0.2/tcp/4001'])).listen).toEqual([])
    expect((await parts({lan: false, reserveRelay: false}, ['/ip4/10.0.0.2/tcp/4001'])).listen).toEqual([])
    expect((await parts({}, ['/ip4/127.0.0.1/tcp/0'])).listen).toEqual([])
    expect((await parts({lan: false, announce: ['/ip4/8.8.4.4/tcp/4001']}, ['/ip4/10.0.0.2/tcp/4001'])).listen).toEqual([])
    expect(Object.keys((await parts({relay: true}, ['/ip4/8.8.4.4/tcp/4001'])).services).sort()).toEqual(['autoNAT', 'dcutr', 'identifyPush', 'relay'])
    expect(Object.keys((await parts({}, [], false)).services).sort()).toEqual(['dcutr', 'identifyPush'])
    expect((await parts({}, [], false)).transports).toHaveLength(1)
    // A loopback (LAN) storage node needs none of it; --relay in a LAN swarm brings the relay pieces.
    const lanNode = await parts({}, ['/ip4/127.0.0.1/tcp/0'])
    expect(Object.keys(lanNode.services)).toEqual(['identifyPush'])
    expect(lanNode.transports).toHaveLength(0)
    expect(Object.keys((await parts({lan: true, relay: true}, ['/ip4/10.0.0.2/tcp/4001'])).services).sort()).toEqual(['dcutr', 'identifyPush', 'relay'])
    expect((await parts({upnp: true}, ['/ip4/0.0.0.0/tcp/4001'])).services).toHaveProperty('upnp')
    expect((await parts({}, ['/ip4/0.0.0.0/tcp/4001'])).services).not.toHaveProperty('upnp')
  })

  it('takes config network values, flags winning, and names a config value of the wrong type', () => {
    expect(reachabilityFrom({announce: ['/ip4/8.8.4.4/tcp/1'], lan: ['10.0.0.0/8'], relay: true}, {})).toMatchObject({announce: ['/ip4/8.8.4.4/tcp/1'], lan: ['10.0.0.0/8'], relay: true})
    expect(reachabilityFrom({lan: true, relay: true}, {lan: false, relay: false})).toMatchObject({lan: false, relay: false})
    expect(reachabilityFrom({lan: true}, {lanRange: ['10.1.0.0/16']}).lan).toEqual(['10.1.0.0/16'])
    expect(() => reachabilityFrom({announce: '/ip4/8.8.4.4/tcp/1'}, {})).toThrow(/network.announce must be a list of strings/)
    expect(() => reachabilityFrom({relay: 'yes'}, {})).toThrow(/network.relay must be true or false/)
    expect(() => reachabilityFrom({reserveRelay: 'sometimes'}, {})).toThrow(/network.reserveRelay/)
  })
})
