// The swarm library: storage node, batched lookup, client (publish/fetch), publish journal and planning.
// Importing this loads libp2p; the CLI imports the modules it needs lazily instead.
export * from './protocol.js'
export * from './storage.js'
export * from './node.js'
export * from './lookup.js'
export * from './client.js'
export * from './journal.js'
export * from './publish.js'
