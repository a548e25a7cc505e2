// The picture: share of the central gain against N per scenario (with bootstrap intervals), Brier
// of each arm against N, and a reliability diagram of no-peers against qis. Plain SVG, no dependency.
const W = 1080
const H = 380
const COLORS = {overlap: '#1f77b4', disjoint: '#d62728', 'no-peers': '#7f7f7f', local: '#9467bd', qis: '#1f77b4', central: '#2ca02c', domain: '#ff7f0e', 'same-question': '#8c564b', 'qis-past-keys': '#17becf'}
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;')

function panel(x0, y0, w, h, {title, xTicks, xLabel, yMin, yMax, yLabel, xOf}) {
  const parts = [`<text x="${x0 + w / 2}" y="${y0 - 12}" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`]
  parts.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#333"/>`)
  const yOf = (v) => y0 + h - ((v - yMin) / (yMax - yMin)) * h
  for (let i = 0; i <= 4; i++) {
    const v = yMin + ((yMax - yMin) * i) / 4
    parts.push(`<line x1="${x0}" x2="${x0 + w}" y1="${yOf(v)}" y2="${yOf(v)}" stroke="#ddd"/><text x="${x0 - 6}" y="${yOf(v) + 4}" text-anchor="end" font-size="11">${v.toFixed((yMax - yMin) / 4 < 0.05 ? 3 : 2)}</text>`)
  }
  for (const t of xTicks) parts.push(`<text x="${xOf(t)}" y="${y0 + h + 16}" text-anchor="middle" font-size="11">${t}</text>`)
  parts.push(`<text x="${x0 + w / 2}" y="${y0 + h + 34}" text-anchor="middle" font-size="12">${esc(xLabel)}</text>`)
  parts.push(`<text transform="translate(${x0 - 42},${y0 + h / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`)
  return {parts, yOf}
}

const line = (pts, color, dash = '') => (pts.length ? `<polyline fill="none" stroke="${color}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ''} points="${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>` + pts.map(([x, y]) => `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${color}"/>`).join('') : '')

export function drawPicture(runs, curves) {
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" viewBox="0 0 ${W} ${H}"><rect width="${W}" height="${H}" fill="white"/>`]
  const ns = [...new Set(runs.map((r) => r.n))].sort((x, y) => x - y)
  const scenarios = [...new Set(runs.map((r) => r.scenario))]
  const pw = 270
  const ph = 240
  const y0 = 50
  const xAt = (x0) => (n) => x0 + 20 + (ns.length <= 1 ? (pw - 40) / 2 : ((Math.log2(n) - Math.log2(ns[0])) / (Math.log2(ns[ns.length - 1]) - Math.log2(ns[0]))) * (pw - 40))

  // 1. Share of the central gain.
  const shares = runs.flatMap((r) => [r.shareOfCentralGain, ...(r.shareInterval ?? [])]).filter((v) => v !== null && Number.isFinite(v))
  // The axis stops at [-1, 2]: a share's interval is very wide when central gains little, and would flatten the rest.
  const sMin = Math.max(-1, Math.min(0, ...shares))
  const sMax = Math.min(2, Math.max(1, ...shares))
  const cl = (v) => Math.min(sMax, Math.max(sMin, v))
  const xs1 = xAt(70)
  const p1 = panel(70, y0, pw, ph, {title: 'qis share of central gain, 95% CI', xTicks: ns, xLabel: 'deployments N', yMin: sMin, yMax: sMax, yLabel: 'share', xOf: xs1})
  out.push(...p1.parts)
  scenarios.forEach((s, si) => {
    const rs = runs.filter((r) => r.scenario === s && r.shareOfCentralGain !== null)
    const dx = (si - (scenarios.length - 1) / 2) * 6
    for (const r of rs) if (r.shareInterval) out.push(`<line x1="${xs1(r.n) + dx}" x2="${xs1(r.n) + dx}" y1="${p1.yOf(cl(r.shareInterval[0]))}" y2="${p1.yOf(cl(r.shareInterval[1]))}" stroke="${COLORS[s]}" stroke-width="1.5"/>`)
    out.push(line(rs.map((r) => [xs1(r.n) + dx, p1.yOf(cl(r.shareOfCentralGain))]), COLORS[s]))
    out.push(`<text x="${80}" y="${y0 + 16 + si * 15}" font-size="11" fill="${COLORS[s]}">${s}</text>`)
  })
  for (const [v, label] of [[0.7, '70% goal (overlap)'], [0.4, '40% goal (disjoint)']]) {
    if (v < sMin || v > sMax) continue
    out.push(`<line x1="70" x2="${70 + pw}" y1="${p1.yOf(v)}" y2="${p1.yOf(v)}" stroke="#999" stroke-dasharray="4 3"/><text x="${70 + pw - 4}" y="${p1.yOf(v) - 3}" text-anchor="end" font-size="10" fill="#666">${label}</text>`)
  }

  // 2. Each arm's Brier gain over no-peers against N (the model mix changes with N; the gain does not carry it).
  // qis-past-keys (the pulled file alone, before live lookup) where the run measured it: the before/after in one picture.
  const arms = ['local', 'qis', 'qis-past-keys', 'central', 'domain', 'same-question'].filter((k) => runs.every((r) => r.arms[k]))
  const gainOf = (r, k) => r.arms['no-peers'].brier - r.arms[k].brier
  const gains = runs.flatMap((r) => arms.map((k) => gainOf(r, k))).filter(Number.isFinite)
  const gMin = Math.min(0, Math.floor(Math.min(...gains) * 100) / 100)
  const gMax = Math.max(0.01, Math.ceil(Math.max(...gains) * 100) / 100)
  const xs2 = xAt(430)
  const p2 = panel(430, y0, pw, ph, {title: 'Brier gain vs no-peers (dashed: disjoint)', xTicks: ns, xLabel: 'deployments N', yMin: gMin, yMax: gMax, yLabel: 'gain (higher is better)', xOf: xs2})
  out.push(...p2.parts)
  out.push(`<line x1="430" x2="${430 + pw}" y1="${p2.yOf(0)}" y2="${p2.yOf(0)}" stroke="#666"/>`)
  scenarios.forEach((s, si) => {
    for (const k of arms) out.push(line(runs.filter((r) => r.scenario === s).map((r) => [xs2(r.n), p2.yOf(gainOf(r, k))]), COLORS[k], si ? '5 4' : ''))
  })
  arms.forEach((k, i) => out.push(`<text x="${430 + pw + 6}" y="${y0 + 12 + i * 14}" font-size="10" fill="${COLORS[k]}">${k}</text>`))

  // 3. Reliability diagram at the largest overlap run (else the largest run).
  const hasBins = (r) => Boolean(curves[`${r.scenario}-${r.n}`] ?? r.reliability)
  const pick = runs.filter((r) => r.scenario === 'overlap' && hasBins(r)).sort((x, y) => y.n - x.n)[0] ?? runs.filter(hasBins).pop()
  if (pick && (curves[`${pick.scenario}-${pick.n}`] ?? pick.reliability)) {
    const c = curves[`${pick.scenario}-${pick.n}`] ?? pick.reliability
    const x0 = 850
    const xs3 = (v) => x0 + v * pw * 0.8
    const p3 = panel(x0, y0, pw * 0.8, ph, {title: `Reliability, ${pick.scenario} N=${pick.n}`, xTicks: [0, 0.5, 1], xLabel: 'predicted probability of a correct answer', yMin: 0, yMax: 1, yLabel: 'observed rate', xOf: xs3})
    out.push(...p3.parts)
    out.push(`<line x1="${xs3(0)}" y1="${p3.yOf(0)}" x2="${xs3(1)}" y2="${p3.yOf(1)}" stroke="#bbb" stroke-dasharray="3 3"/>`)
    for (const [name, color] of [['noPeers', COLORS['no-peers']], ['qis', COLORS.qis]]) {
      const bins = c[name].filter((b) => b.n >= 5)
      out.push(line(bins.map((b) => [xs3(b.meanP), p3.yOf(b.rate)]), color))
      for (const b of bins) out.push(`<circle cx="${xs3(b.meanP).toFixed(1)}" cy="${p3.yOf(b.rate).toFixed(1)}" r="${Math.min(9, 2 + Math.sqrt(b.n) / 4).toFixed(1)}" fill="${color}" fill-opacity="0.25"/>`)
    }
    out.push(`<text x="${x0 + 8}" y="${y0 + 16}" font-size="11" fill="${COLORS['no-peers']}">no-peers (own running accuracy)</text><text x="${x0 + 8}" y="${y0 + 30}" font-size="11" fill="${COLORS.qis}">qis</text>`)
  }
  out.push(`<text x="10" y="${H - 8}" font-size="10" fill="#666">bench/value: real qis distill, publish to qis nodes on 127.0.0.1, pull-weights, library adjuster; bins with fewer than 5 answers left out</text>`)
  out.push('</svg>\n')
  return out.join('\n')
}

// As a command: the picture from result files (final or partial), runs merged in file order.
//   node bench/value/plot.mjs OUT.svg RESULT.json [...]
if (import.meta.url === `file://${process.argv[1]}`) {
  const {readFileSync, writeFileSync, renameSync} = await import('node:fs')
  const [out, ...files] = process.argv.slice(2)
  const runs = files.flatMap((f) => JSON.parse(readFileSync(f, 'utf8')).runs ?? [])
  writeFileSync(`${out}.tmp`, drawPicture(runs, {}))
  renameSync(`${out}.tmp`, out)
  console.log(`${out}: ${runs.length} runs`)
}
