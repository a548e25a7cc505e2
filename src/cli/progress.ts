import type {Writable} from 'node:stream'

import {formatDuration} from '../util/format.js'

/**
 * The one progress display: a bar with an ETA when the size of the work is known (e.g. the input's
 * bytes), else a spinner. Only for a person at a terminal: off under --json, --quiet, or when
 * stderr is not a terminal (a pipe or a log gets no animation). Written to stderr, so stdout keeps
 * only the result.
 */
export interface Progress {
  /** `done` of `total` (any unit, e.g. bytes), and a short status such as "1,200 records, 300/s". */
  update(p: {done?: number; total?: number; text: string}): void
  /** Replaces the display with a final line. */
  stop(message: string): void
  fail(message?: string): void
}

const NONE: Progress = {update() {}, stop() {}, fail() {}}
const STEPS = 1000

export async function startProgress(stream: Writable & {isTTY?: boolean}, options: {enabled: boolean; waiting: string; title: string}): Promise<Progress> {
  if (!options.enabled || !stream.isTTY) return NONE
  const clack = await import('@clack/prompts')
  let bar: ReturnType<typeof clack.progress> | undefined
  let spin: ReturnType<typeof clack.spinner> | undefined = clack.spinner({output: stream})
  // Until the first figures arrive (a model can take seconds to load), say what is happening.
  spin.start(options.waiting)
  let shown = 0
  let barStart: {at: number; done: number} | undefined
  return {
    update({done, total, text}) {
      if (total !== undefined && total > 0 && done !== undefined) {
        if (!bar) {
          spin?.clear()
          spin = undefined
          bar = clack.progress({max: STEPS, style: 'heavy', output: stream})
          bar.start(options.title)
        }
        const now = performance.now()
        // The rate since the bar appeared: set-up time (model loading) says nothing about the rest.
        barStart ??= {at: now, done}
        const step = Math.min(STEPS, Math.round((done / total) * STEPS))
        const rate = (done - barStart.done) / ((now - barStart.at) / 1000)
        const eta = rate > 0 && now - barStart.at > 1000 ? (total - done) / rate : undefined
        bar.advance(step - shown, eta === undefined ? text : `${text}, ETA ${formatDuration(eta)}`)
        shown = step
        return
      }
      if (!spin) {
        spin = clack.spinner({output: stream})
        spin.start(options.title)
      }
      spin.message(`${options.title}: ${text}`)
    },
    stop(message) {
      bar?.stop(message)
      spin?.stop(message)
    },
    fail(message = 'Stopped') {
      bar?.error(message)
      spin?.error(message)
    },
  }
}
