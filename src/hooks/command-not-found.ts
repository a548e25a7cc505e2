import {type Hook, toConfiguredId} from '@oclif/core'

import {editDistance} from '../cli/failure.js'
import {QisError} from '../util/errors.js'

export {editDistance} from '../cli/failure.js'

/**
 * Mistyped commands. @oclif/plugin-not-found asks "Did you mean ...?" at a terminal but, without a
 * TTY (scripts, CI, pipes), prints only "not a qis command" and no suggestion. At a terminal we hand
 * over to the plugin (its confirm prompt can run the suggestion); elsewhere we name the nearest
 * command ourselves and never prompt. Either way a refusal is the kit's UNKNOWN_COMMAND error
 * (envelope under --json, exit 2).
 */
const hook: Hook<'command_not_found'> = async function (opts) {
  const typed = toConfiguredId(opts.id, opts.config)
  const topic = opts.config.findTopic(opts.id.split(':')[0]) ? ` ${opts.id.split(':')[0]}` : ''
  const help = `Run ${opts.config.bin} help${topic} for a list of available commands.`
  const wantsJson = (opts.argv ?? []).includes('--json')
  if (process.stdin.isTTY && process.stdout.isTTY && !wantsJson) {
    const {default: plugin} = await import('@oclif/plugin-not-found')
    try {
      return await plugin.call(this, opts)
    } catch (err) {
      if ((err as {oclif?: {exit?: number}}).oclif?.exit === 127) throw new QisError(`${typed} is not a ${opts.config.bin} command`, {code: 'UNKNOWN_COMMAND', hint: help})
      throw err
    }
  }
  const hidden = new Set(opts.config.commands.filter((c) => c.hidden).map((c) => c.id))
  // Topics too, so `qis inspec` points at `qis inspect` rather than at nothing.
  const ids = [...opts.config.commandIDs, ...opts.config.commands.flatMap((c) => c.aliases), ...opts.config.topics.map((t) => t.name)].filter(
    (id) => !hidden.has(id),
  )
  const suggestion = nearest(opts.id, ids)
  throw new QisError(`${typed} is not a ${opts.config.bin} command`, {
    code: 'UNKNOWN_COMMAND',
    hint: suggestion ? `Did you mean "${opts.config.bin} ${toConfiguredId(suggestion, opts.config)}"? ${help}` : help,
  })
}

export default hook

/** The closest id by edit distance, if it is close enough to be a plausible typo (a third of its length). */
export function nearest(typed: string, ids: string[]): string | undefined {
  let best: {id: string; d: number} | undefined
  for (const id of ids) {
    const d = editDistance(typed, id)
    if (best === undefined || d < best.d) best = {id, d}
  }
  if (best === undefined) return undefined
  return best.d <= Math.max(2, Math.floor(best.id.length / 3)) ? best.id : undefined
}
