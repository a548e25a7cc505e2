// Seeded randomness and byte mutators shared by the fuzz bench and the in-suite fuzz tests.
// Deterministic for a seed, so a failure report (target, seed, index) reproduces exactly.

/** mulberry32: small, fast, good enough to drive mutations (not for keys). */
export function rng(seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (n) => Math.floor(next() * n),
    range: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
    bytes(n) {
      const out = new Uint8Array(n)
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256)
      return out
    },
  }
}

// Bytes that sit on boundaries of CBOR major types and lengths (uint8/16/32/64 follow-ups,
// indefinite length, break, simple values, tags) and of integers generally.
const INTERESTING = [0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x3f, 0x40, 0x5f, 0x60, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xd8, 0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfa, 0xfb, 0xff]

const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Named mutations. Each takes (bytes, r, corpus) and returns new bytes (the input is not changed). */
export const MUTATIONS = {
  bitflip(b, r) {
    const out = b.slice()
    if (out.length === 0) return out
    const flips = r.range(1, 8)
    for (let i = 0; i < flips; i++) out[r.int(out.length)] ^= 1 << r.int(8)
    return out
  },
  interesting(b, r) {
    const out = b.slice()
    if (out.length === 0) return out
    out[r.int(out.length)] = r.pick(INTERESTING)
    return out
  },
  randomByte(b, r) {
    const out = b.slice()
    if (out.length === 0) return out
    out[r.int(out.length)] = r.int(256)
    return out
  },
  truncate(b, r) {
    return b.slice(0, r.int(b.length + 1))
  },
  dropHead(b, r) {
    return b.slice(r.int(b.length + 1))
  },
  extend(b, r) {
    return concat(b, r.bytes(r.range(1, 64)))
  },
  insert(b, r) {
    const at = r.int(b.length + 1)
    return concat(b.subarray(0, at), r.bytes(r.range(1, 16)), b.subarray(at))
  },
  erase(b, r) {
    if (b.length === 0) return b.slice()
    const at = r.int(b.length)
    return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + r.range(1, 16))))
  },
  duplicateChunk(b, r) {
    if (b.length === 0) return b.slice()
    const at = r.int(b.length)
    const len = r.range(1, Math.min(64, b.length - at))
    return concat(b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len))
  },
  splice(b, r, corpus) {
    const other = r.pick(corpus)
    return concat(b.subarray(0, r.int(b.length + 1)), other.subarray(r.int(other.length + 1)))
  },
}

const NAMES = Object.keys(MUTATIONS)

/** Applies 1..`max` random mutations; returns the bytes and the names applied. */
export function mutate(bytes, r, corpus, max = 3) {
  // A plain Uint8Array copy: Buffer#slice returns a view, and mutating one would damage the corpus.
  let out = new Uint8Array(bytes)
  const applied = []
  const n = r.range(1, max)
  for (let i = 0; i < n; i++) {
    const name = r.pick(NAMES)
    out = MUTATIONS[name](out, r, corpus)
    applied.push(name)
  }
  return {bytes: out, applied}
}

/**
 * A random CBOR item, written by hand so it can also produce what encoders refuse to: non-minimal
 * lengths, indefinite lengths, undefined, NaN, tags, deep nesting.
 */
export function cborGarbage(r, depth = 0, budget = {items: 48}) {
  // The budget bounds the whole tree (nested arrays would otherwise multiply out).
  const kind = depth > 6 || --budget.items <= 0 ? r.int(4) : r.int(9)
  const head = (major, n) => {
    if (n < 24 && r.chance(0.9)) return Uint8Array.of((major << 5) | n)
    if (n < 256) return Uint8Array.of((major << 5) | 24, n)
    if (n < 65536) return Uint8Array.of((major << 5) | 25, n >> 8, n & 0xff)
    return Uint8Array.of((major << 5) | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)
  }
  switch (kind) {
    case 0:
      return head(r.int(2), r.chance(0.5) ? r.int(24) : r.int(100000))
    case 1: {
      const n = r.int(40)
      return concat(head(2, n), r.bytes(n))
    }
    case 2: {
      const n = r.int(30)
      const s = new Uint8Array(n).map(() => r.chance(0.8) ? 97 + r.int(26) : r.int(256))
      return concat(head(3, n), s)
    }
    case 3:
      return Uint8Array.of(r.pick([0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfa, 0xfb, 0xff, 0x1f]), ...r.bytes(r.pick([0, 2, 4, 8])))
    case 4:
    case 5: {
      const n = r.chance(0.7) ? r.int(16) : r.int(300)
      const items = []
      for (let i = 0; i < Math.min(n, 20); i++) items.push(cborGarbage(r, depth + 1, budget))
      return concat(head(4, n), ...items)
    }
    case 6: {
      const n = r.int(6)
      const items = []
      for (let i = 0; i < n * 2; i++) items.push(cborGarbage(r, depth + 1, budget))
      return concat(head(5, n), ...items)
    }
    case 7:
      return concat(Uint8Array.of(0x9f), cborGarbage(r, depth + 1, budget), cborGarbage(r, depth + 1, budget), r.chance(0.7) ? Uint8Array.of(0xff) : new Uint8Array(0))
    default:
      return concat(head(6, r.int(300)), cborGarbage(r, depth + 1, budget))
  }
}
