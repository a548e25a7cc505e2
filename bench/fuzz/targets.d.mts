// Types for targets.mjs, so the in-suite fuzz tests (TypeScript) can import it.
export interface FuzzTarget {
  description: string
  setup?(): Promise<void>
  teardown?(): Promise<void>
  /** Handles one input drawn from `r`; returns the kind of input. Throws FuzzFailure on a finding. */
  run(r: Rng): string | Promise<string>
}

export interface Rng {
  next(): number
  int(n: number): number
  range(lo: number, hi: number): number
  pick<T>(xs: readonly T[]): T
  chance(p: number): boolean
  bytes(n: number): Uint8Array
}

export class FuzzFailure extends Error {
  readonly kind: 'crash' | 'oracle'
}

export interface FuzzLibrary {
  packet: typeof import('../../src/packet/index.js')
  ingest?: typeof import('../../src/ingest/index.js')
  protocol?: typeof import('../../src/swarm/protocol.js')
  storage?: typeof import('../../src/swarm/storage.js')
  node?: typeof import('../../src/swarm/node.js')
}

export function inputRng(seed: number, index: number): Rng
export function createTargets(lib: FuzzLibrary, options?: {now?: number; tmpDir?: string}): Record<string, FuzzTarget>
