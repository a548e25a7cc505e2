import {EventEmitter} from 'node:events'
import {Writable} from 'node:stream'
import {describe, expect, it} from 'vitest'

import {interruptSignal} from '../../src/cli/interrupt.js'
import {startProgress} from '../../src/cli/progress.js'

function sink(isTTY: boolean): Writable & {isTTY: boolean; text: () => string} {
  let text = ''
  const w = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString()
      cb()
    },
  })
  return Object.assign(w, {isTTY, columns: 100, text: () => text})
}

describe('startProgress', () => {
  it('draws nothing when not at a terminal, or when turned off (--json, --quiet)', async () => {
    for (const [tty, enabled] of [[false, true], [true, false]] as const) {
      const out = sink(tty)
      const p = await startProgress(out, {enabled, waiting: 'Loading', title: 'Working'})
      p.update({done: 5, total: 10, text: '5 records'})
      p.stop('done')
      expect(out.text()).toBe('')
    }
  })

  it('at a terminal: a bar with the status, then the final line', async () => {
    const out = sink(true)
    // Frames are drawn on a timer: give each state a few.
    const frames = () => new Promise((r) => setTimeout(r, 300))
    const p = await startProgress(out, {enabled: true, waiting: 'Loading the model', title: 'Distilling'})
    await frames()
    p.update({done: 50, total: 100, text: '1,000 records, 500/s'})
    await frames()
    p.stop('2,000 records in 4s')
    const text = out.text()
    expect(text).toContain('Loading the model')
    expect(text).toContain('1,000 records, 500/s')
    expect(text).toContain('2,000 records in 4s')
  })
})

describe('interruptSignal', () => {
  it('the first signal aborts; a second one calls onRepeat (distill: exit at once)', () => {
    const proc = new EventEmitter() as unknown as NodeJS.Process
    let repeats = 0
    const {signal, dispose} = interruptSignal('stopped', proc, () => repeats++)
    ;(proc as unknown as EventEmitter).emit('SIGTERM')
    expect(signal.aborted).toBe(true)
    expect(repeats).toBe(0)
    ;(proc as unknown as EventEmitter).emit('SIGINT')
    expect(repeats).toBe(1)
    dispose()
    expect((proc as unknown as EventEmitter).listenerCount('SIGINT')).toBe(0)
  })

  it('without onRepeat, its handlers go after the first signal, so a second one gets the default behaviour', () => {
    const proc = new EventEmitter() as unknown as NodeJS.Process
    interruptSignal('stopped', proc)
    ;(proc as unknown as EventEmitter).emit('SIGINT')
    expect((proc as unknown as EventEmitter).listenerCount('SIGINT')).toBe(0)
  })
})
