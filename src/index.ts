// The qis library: everything the CLI does, usable without oclif.
export * from './config/home.js'
export * from './identity/identity.js'
export * from './util/errors.js'
export * from './util/atomic.js'
export * from './packet/index.js'
export * from './config/config.js'
export * from './weights/index.js'
