// Scores of probabilistic predictions of a 1/0 outcome.
const EPS = 1e-3
const clip = (p) => Math.min(1 - EPS, Math.max(EPS, p))

export function brier(ps, ys) {
  let s = 0
  for (let i = 0; i < ps.length; i++) s += (ps[i] - ys[i]) ** 2
  return s / ps.length
}

/** Natural-log loss, probabilities clipped to [0.001, 0.999] so one confident miss cannot make it infinite. */
export function logLoss(ps, ys) {
  let s = 0
  for (let i = 0; i < ps.length; i++) {
    const p = clip(ps[i])
    s -= ys[i] ? Math.log(p) : Math.log(1 - p)
  }
  return s / ps.length
}

/** Area under the ROC curve by ranks (ties get their mean rank); 0.5 when one class is missing. */
export function auroc(ps, ys) {
  const idx = ps.map((p, i) => i).sort((a, b) => ps[a] - ps[b])
  const ranks = new Array(ps.length)
  for (let i = 0; i < idx.length; ) {
    let j = i
    while (j + 1 < idx.length && ps[idx[j + 1]] === ps[idx[i]]) j++
    const r = (i + j) / 2 + 1
    for (let k = i; k <= j; k++) ranks[idx[k]] = r
    i = j + 1
  }
  let pos = 0
  let rankSum = 0
  for (let i = 0; i < ys.length; i++) if (ys[i]) {
    pos++
    rankSum += ranks[i]
  }
  const neg = ys.length - pos
  if (pos === 0 || neg === 0) return 0.5
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg)
}

/** Reliability bins: `bins` equal-width bins of predicted probability, with mean prediction and observed rate. */
export function reliability(ps, ys, bins = 10) {
  const out = Array.from({length: bins}, (_, b) => ({lo: b / bins, hi: (b + 1) / bins, n: 0, meanP: 0, rate: 0}))
  for (let i = 0; i < ps.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(ps[i] * bins)))
    out[b].n++
    out[b].meanP += ps[i]
    out[b].rate += ys[i]
  }
  for (const b of out) if (b.n) {
    b.meanP /= b.n
    b.rate /= b.n
  }
  return out
}

/** Expected calibration error over 10 equal-width bins. */
export function ece(ps, ys, bins = 10) {
  let s = 0
  for (const b of reliability(ps, ys, bins)) s += b.n * Math.abs(b.meanP - b.rate)
  return s / ps.length
}

export function scores(ps, ys) {
  return {brier: brier(ps, ys), logLoss: logLoss(ps, ys), auroc: auroc(ps, ys), ece: ece(ps, ys)}
}

/**
 * (Brier no-peers - Brier arm) / (Brier no-peers - Brier central); null when central gains nothing
 * or loses: a ratio of two losses would read as a share of a gain that does not exist.
 */
export function shareOfGain(noPeers, arm, central) {
  const gain = noPeers - central
  if (!(gain > 1e-9)) return null
  return (noPeers - arm) / gain
}

/**
 * Paired bootstrap interval of the share of the central gain: resample future answers with
 * replacement, recompute all three Brier scores on the same sample.
 */
export function bootstrapShare(pNone, pArm, pCentral, ys, {samples = 1000, random}) {
  const n = ys.length
  const values = []
  for (let s = 0; s < samples; s++) {
    let a = 0
    let b = 0
    let c = 0
    for (let i = 0; i < n; i++) {
      const k = Math.floor(random() * n)
      a += (pNone[k] - ys[k]) ** 2
      b += (pArm[k] - ys[k]) ** 2
      c += (pCentral[k] - ys[k]) ** 2
    }
    const v = shareOfGain(a / n, b / n, c / n)
    if (v !== null) values.push(v)
  }
  if (values.length < samples / 2) return null
  values.sort((x, y) => x - y)
  return [values[Math.floor(0.025 * values.length)], values[Math.min(values.length - 1, Math.floor(0.975 * values.length))]]
}

/** Paired bootstrap interval of a Brier difference (arm minus baseline): below 0 means the arm is better. */
export function bootstrapDiff(pBase, pArm, ys, {samples = 1000, random}) {
  const n = ys.length
  const values = []
  for (let s = 0; s < samples; s++) {
    let d = 0
    for (let i = 0; i < n; i++) {
      const k = Math.floor(random() * n)
      d += (pArm[k] - ys[k]) ** 2 - (pBase[k] - ys[k]) ** 2
    }
    values.push(d / n)
  }
  values.sort((x, y) => x - y)
  return [values[Math.floor(0.025 * samples)], values[Math.floor(0.975 * samples)]]
}
