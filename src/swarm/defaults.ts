/** Distinct storage peers each packet is sent to. Here, not in client.ts, so callers need not load libp2p to know it. */
export const DEFAULT_REPLICAS = 3
