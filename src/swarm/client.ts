import '../util/polyfill.js'

// The swarm client: a short-lived DHT client that publishes and fetches packets. One module per
// job under client/: joining (open), closest peers (closest), publishing (publish, with one peer's
// store stream in store-stream), fetching (fetch, with one peer's paging and truncation bounds in
// fetch-peer). This module is what callers import.
export {DEFAULT_REPLICAS} from './defaults.js'
export {type OpenClientOptions, type SwarmClient, openSwarmClient} from './client/open.js'
export {type FetchOptions, type FetchResult, type FetchedPacket, fetchPackets} from './client/fetch.js'
export {type PublishItem, type PublishOptions, type PublishResult, publishPackets} from './client/publish.js'
