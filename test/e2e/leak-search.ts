import {readdirSync, readFileSync, lstatSync} from 'node:fs'
import path from 'node:path'

/**
 * Canary search for the leak proof. A canary is looked for as written, case-insensitively, as
 * lowercase/uppercase hex of its UTF-8 bytes, and as base64 at each of the three byte alignments
 * (so a canary inside a longer base64 run is found whatever bytes precede it).
 */
export interface Hit {
  where: string
  canary: string
  form: string
}

function base64Cores(s: string): string[] {
  const bytes = Buffer.from(s, 'utf8')
  const cores: string[] = []
  for (let pad = 0; pad < 3; pad++) {
    const b64 = Buffer.concat([Buffer.alloc(pad, 0), bytes]).toString('base64').replace(/=+$/, '')
    // Drop the characters that mix in the pad bytes or the unknown next byte: what stays is fixed by the canary alone.
    const start = pad === 0 ? 0 : pad === 1 ? 2 : 3
    cores.push(b64.slice(start, b64.length - 2))
  }
  return cores.filter((c) => c.length >= 8)
}

export interface Needle {
  canary: string
  form: string
  text: string
  caseInsensitive: boolean
}

export function needlesFor(canaries: string[]): Needle[] {
  const out: Needle[] = []
  for (const canary of canaries) {
    out.push({canary, form: 'text', text: canary.toLowerCase(), caseInsensitive: true})
    out.push({canary, form: 'hex', text: Buffer.from(canary, 'utf8').toString('hex'), caseInsensitive: true})
    out.push({canary, form: 'utf16le', text: Buffer.from(canary, 'utf16le').toString('latin1').toLowerCase(), caseInsensitive: true})
    for (const core of base64Cores(canary)) out.push({canary, form: 'base64', text: core, caseInsensitive: false})
    const url = encodeURIComponent(canary)
    if (url !== canary) out.push({canary, form: 'url-encoded', text: url.toLowerCase(), caseInsensitive: true})
  }
  return out
}

/** Every needle found in `data` (bytes read as latin1, so any byte sequence is searchable). */
export function searchBytes(where: string, data: Buffer | string, needles: Needle[]): Hit[] {
  const raw = typeof data === 'string' ? Buffer.from(data, 'utf8').toString('latin1') : data.toString('latin1')
  const lower = raw.toLowerCase()
  const hits: Hit[] = []
  for (const n of needles) {
    if ((n.caseInsensitive ? lower : raw).includes(n.text)) hits.push({where, canary: n.canary, form: n.form})
  }
  return hits
}

/** Every regular file under `dir` (symlinks are not followed; a missing dir has no files). */
export function filesUnder(dir: string): string[] {
  let entries
  try {
    entries = readdirSync(dir, {withFileTypes: true})
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const out: string[] = []
  for (const e of entries) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...filesUnder(p))
    else if (lstatSync(p).isFile()) out.push(p)
  }
  return out
}

export function searchFiles(dirs: string[], needles: Needle[]): {files: number; bytes: number; hits: Hit[]} {
  let files = 0
  let bytes = 0
  const hits: Hit[] = []
  for (const dir of dirs) {
    for (const file of filesUnder(dir)) {
      const data = readFileSync(file)
      files++
      bytes += data.length
      hits.push(...searchBytes(file, data, needles))
    }
  }
  return {files, bytes, hits}
}
