import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/command.js'
import {keyValue, lines} from '../../cli/render.js'
import {type InspectResult, type InspectedPacket, inspectSource} from '../../packet/inspect.js'
import {QisError} from '../../util/errors.js'
import {formatDuration} from '../../util/format.js'

export default class InspectPacket extends BaseCommand<typeof InspectPacket> {
  static summary = 'Decode and verify outcome packets for a person to read.'
  static description = `SOURCE is a packet store (.qisp), a file holding one packet, a packet as hex or base64 text, or - for stdin.
Shows every field, size, packet id, query fingerprint, scheme, signer peer ID, whether the signature is valid and when the packet expires.
Bad packets in a store are named by index; the good ones are still shown. Exit code 2 when any packet or the store is bad (the result is still printed, with an "error" beside it under --json).`

  static examples = [
    '<%= config.bin %> inspect packet fixtures/packets/reference.qisp',
    '<%= config.bin %> inspect packet ~/.qis/packets/run.qisp --index 10 --limit 5',
    'cat packet.hex | <%= config.bin %> inspect packet -',
    '<%= config.bin %> inspect packet fixtures/packets/reference.qisp --json',
  ]

  static args = {
    source: Args.string({description: 'packet store, packet file, hex/base64 packet, or - for stdin', required: true, ignoreStdin: true}),
  }

  static flags = {
    index: Flags.integer({description: 'First packet index to show.', min: 0}),
    limit: Flags.integer({description: 'Show at most this many packets.', min: 1}),
  }

  async run(): Promise<InspectResult> {
    const {source} = this.args
    const result = await inspectSource(source, {index: this.flags.index, limit: this.flags.limit, stdin: this.io.stdin})
    if (!this.jsonEnabled()) this.log(renderInspect(result))
    if (result.invalid > 0 || result.storeErrors.length > 0) {
      const bad = result.packets.filter((p) => !p.valid).map((p) => p.index)
      const parts = []
      if (result.invalid > 0) parts.push(`${result.invalid} bad packet(s)${bad.length > 0 ? ` at index ${bad.join(', ')}` : ''}`)
      parts.push(...result.storeErrors.map((e) => `store damaged ${e}`))
      this.failAfterOutput(new QisError(`${source}: ${parts.join('; ')}`, {code: 'BAD_PACKET'}))
    }
    return result
  }
}

export function renderInspect(result: InspectResult, now = Date.now() / 1000): string {
  const shown = result.packets.length
  const split = result.summaries > 0 ? ` (${result.total - result.summaries} record packet(s), ${result.summaries} domain summar${result.summaries === 1 ? 'y' : 'ies'})` : ''
  const what = result.kind === 'store' ? `store with ${result.total} packet(s)${split}` : 'single packet'
  return lines(
    `${result.source}: ${what}${shown < result.total ? `, showing ${shown}` : ''}`,
    ...result.packets.map((p) => `\n${describe(p, now)}`),
    ...result.storeErrors.map((e) => `\nstore error ${e}`),
  )
}

function describe(p: InspectedPacket, now: number): string {
  const status = p.valid ? (p.expired ? 'valid, expired' : 'valid') : 'INVALID'
  const head = `packet #${p.index}  ${status}  ${p.size} bytes${p.kind === 'domain-summary' ? '  domain summary' : ''}`
  if (!p.packet) return `${head}\n${keyValue(p.errors.map((e) => ['error', e]))}`
  const k = p.packet
  const expiresIn = p.expiresAt ? Date.parse(p.expiresAt) / 1000 - now : 0
  const rows: [string, string][] = [
    ['domain_tag', k.domain_tag],
    ['query_semantic_hash', p.kind === 'domain-summary' ? `${k.query_semantic_hash} (none: a summary names no query)` : k.query_semantic_hash],
    ['outcome_signal', `${k.outcome_signal.toFixed(3)}${k.outcome_epsilon === null ? '' : ` (randomised response, epsilon ${k.outcome_epsilon})`}`],
    ['confidence', k.confidence_at_inference.toFixed(3)],
    ['model_variant', k.model_variant],
    ['correction', k.correction_applied ? `applied${k.correction_type ? ` (${k.correction_type})` : ''}` : 'none'],
    ['timestamp', `${k.timestamp} (${new Date(k.timestamp * 1000).toISOString()})`],
    ['ttl', `${k.ttl_hours} h`],
    ['expiry', p.expiresAt ? `${expiresIn > 0 ? `valid for ${formatDuration(expiresIn)}` : `expired ${formatDuration(expiresIn)} ago`} (${p.expiresAt})` : '-'],
    ['count', p.kind === 'domain-summary' ? `${k.count} (records of this domain and model this summary stands for; outcome and confidence are their means)` : String(k.count)],
    ['scheme', k.scheme],
    ['routing_keys', k.routing_keys.length > 0 ? k.routing_keys.join(' ') : '(none)'],
    ['packet id', p.id ?? '-'],
    ['query fingerprint', p.queryFingerprint ?? '-'],
    ['signer', p.signer ?? k.public_key],
    ['signature', p.signatureValid ? 'valid (ed25519)' : 'INVALID'],
    ['version', String(k.version)],
  ]
  for (const e of p.errors) rows.push(['error', e])
  return `${head}\n${keyValue(rows)}`
}
