import {Worker} from 'node:worker_threads'

import type {SemanticCodes} from './pipeline.js'
import type {EmbedderConfig} from '../embed/types.js'

interface Pending {
  resolve: (codes: SemanticCodes[]) => void
  reject: (err: Error) => void
}

class PoolWorker {
  readonly ready: Promise<void>
  private readonly worker: Worker
  private readonly pending = new Map<number, Pending>()
  private nextId = 0

  constructor(config: EmbedderConfig) {
    // Compiled layout: dist/hash/worker.js beside this file.
    this.worker = new Worker(new URL('./worker.js', import.meta.url), {workerData: {config}})
    this.ready = new Promise((resolve, reject) => {
      const onMessage = (msg: {ready?: boolean; error?: string; id?: number; codes?: SemanticCodes[]}) => {
        if (msg.ready === true) return resolve()
        if (msg.ready === false) return reject(new Error(`embedding worker failed to start: ${msg.error}`))
        const p = this.pending.get(msg.id!)
        if (!p) return
        this.pending.delete(msg.id!)
        if (msg.error) p.reject(new Error(msg.error))
        else p.resolve(msg.codes!)
      }
      this.worker.on('message', onMessage)
      this.worker.on('error', (err) => {
        reject(err)
        for (const p of this.pending.values()) p.reject(err)
        this.pending.clear()
      })
    })
  }

  run(texts: string[]): Promise<SemanticCodes[]> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject})
      this.worker.postMessage({id, texts})
    })
  }

  async close(): Promise<void> {
    await this.worker.terminate()
  }
}

/**
 * Worker threads that each hold a model copy. The calling thread works too: batches are pulled
 * from one queue, so a slow worker never holds up the rest, and results land by index, so
 * output order never depends on timing.
 */
export class WorkerPool {
  private readonly workers: PoolWorker[]

  constructor(config: EmbedderConfig, count: number) {
    this.workers = Array.from({length: count}, () => new PoolWorker(config))
  }

  async run(
    texts: string[],
    batchSize: number,
    local: (batch: string[]) => Promise<SemanticCodes[]>,
  ): Promise<SemanticCodes[]> {
    const out = new Array<SemanticCodes>(texts.length)
    let next = 0
    const take = (): [number, string[]] | undefined => {
      if (next >= texts.length) return undefined
      const start = next
      next = Math.min(texts.length, next + batchSize)
      return [start, texts.slice(start, next)]
    }
    const drain = async (exec: (batch: string[]) => Promise<SemanticCodes[]>): Promise<void> => {
      for (let job = take(); job; job = take()) {
        const codes = await exec(job[1])
        for (let i = 0; i < codes.length; i++) out[job[0] + i] = codes[i]
      }
    }
    await Promise.all([
      drain(local),
      ...this.workers.map(async (w) => {
        await w.ready
        await drain((batch) => w.run(batch))
      }),
    ])
    return out
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()))
  }
}
