import {type Hook, toConfiguredId} from '@oclif/core'

/**
 * Mistyped commands. @oclif/plugin-not-found asks "Did you mean ...?" at a terminal but, without a
 * TTY (scripts, CI, pipes), prints only "not a qis command" and no suggestion. At a terminal we hand
 * over to the plugin (its confirm prompt can run the suggestion); elsewhere we name the nearest
 * command ourselves and never prompt.
 */
const hook: Hook<'command_not_found'> = async function (opts) {
  if (process.stdin.isTTY && process.stdout.isTTY) {
    const {default: plugin} = await import('@oclif/plugin-not-found')
    return plugin.call(this, opts)
  }
  const hidden = new Set(opts.config.commands.filter((c) => c.hidden).map((c) => c.id))
  // Topics too, so `qis inspec` points at `qis inspect` rather than at nothing.
  const ids = [...opts.config.commandIDs, ...opts.config.commands.flatMap((c) => c.aliases), ...opts.config.topics.map((t) => t.name)].filter(
    (id) => !hidden.has(id),
  )
  const typed = toConfiguredId(opts.id, opts.config)
  const suggestion = nearest(opts.id, ids)
  const topic = opts.config.findTopic(opts.id.split(':')[0]) ? ` ${opts.id.split(':')[0]}` : ''
  const help = `Run ${opts.config.bin} help${topic} for a list of available commands.`
  this.warn(`${typed} is not a ${opts.config.bin} command.`)
  this.error(suggestion ? `Did you mean "${opts.config.bin} ${toConfiguredId(suggestion, opts.config)}"? ${help}` : help, {exit: 127})
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

export function editDistance(a: string, b: string): number {
  let prev = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = row
  }
  return prev[b.length]
}
