import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process'

import {repoRoot, runJs, tempDir} from './cli.js'

/** One JSON event line printed by `qis node --json` (see src/commands/node.ts). */
export interface NodeEvent {
  event: string
  [field: string]: unknown
}

/** A running `qis node` process on 127.0.0.1 with its own temp home. */
export interface NodeProcess {
  home: string
  peerId: string
  /** Full multiaddrs including /p2p/<peerId>, ready to pass as --bootstrap. */
  multiaddrs: string[]
  process: ChildProcessWithoutNullStreams
  /** Every JSON event the node printed so far. */
  events: NodeEvent[]
  stderr(): string
  /** Resolves with the first event (past or future) matching `pred`; rejects after timeoutMs. */
  waitForEvent(pred: (e: NodeEvent) => boolean, timeoutMs?: number): Promise<NodeEvent>
  /** SIGTERM (clean shutdown) and wait for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
  exited: Promise<number | null>
}

export interface StartNodeOptions {
  home?: string
  bootstrap?: string[]
  /** Extra CLI flags, e.g. ['--publisher-max-packets', '10']. */
  args?: string[]
  env?: NodeJS.ProcessEnv
  /** How long to wait for the node to print its addresses (default 90 s: a CI machine at load ~26 takes tens of seconds to load libp2p). */
  timeoutMs?: number
  /** Listen port; 0 (default) picks a free one. Pass the old port to restart a node on the same address. */
  port?: number
}

/** Starts one `qis node --json` and resolves once it has printed its multiaddrs. */
export async function startNode(options: StartNodeOptions = {}): Promise<NodeProcess> {
  const home = options.home ?? tempDir('qis-node-')
  const args = [runJs, 'node', '--json', '--home', home, '--listen', `/ip4/127.0.0.1/tcp/${options.port ?? 0}`]
  for (const b of options.bootstrap ?? []) args.push('--bootstrap', b)
  args.push(...(options.args ?? []))
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: {...process.env, NO_COLOR: '1', QIS_BOOTSTRAP: '', ...options.env},
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const events: NodeEvent[] = []
  const waiters: {pred: (e: NodeEvent) => boolean; resolve: (e: NodeEvent) => void}[] = []
  let stderr = ''
  let buffered = ''
  child.stderr.on('data', (d) => (stderr += d))
  child.stdout.on('data', (d) => {
    buffered += d
    let nl: number
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim()
      buffered = buffered.slice(nl + 1)
      if (!line.startsWith('{"event"')) continue
      let event: NodeEvent
      try {
        event = JSON.parse(line) as NodeEvent
      } catch {
        continue
      }
      events.push(event)
      for (const w of [...waiters]) {
        if (w.pred(event)) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve(event)
        }
      }
    }
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))

  const waitForEvent = (pred: (e: NodeEvent) => boolean, timeoutMs = 45_000): Promise<NodeEvent> => {
    const seen = events.find(pred)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const waiter = {
        pred,
        resolve: (e: NodeEvent) => {
          clearTimeout(timer)
          resolve(e)
        },
      }
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1)
        reject(new Error(`node ${home}: no matching event within ${timeoutMs} ms; events: ${JSON.stringify(events.slice(-10))}; stderr: ${stderr.slice(-2000)}`))
      }, timeoutMs)
      waiters.push(waiter)
      void exited.then(() => {
        if (!waiters.includes(waiter)) return
        waiters.splice(waiters.indexOf(waiter), 1)
        clearTimeout(timer)
        reject(new Error(`node ${home} exited before the event; stderr: ${stderr.slice(-2000)}`))
      })
    })
  }

  let started: NodeEvent
  try {
    started = await waitForEvent((e) => e.event === 'started', options.timeoutMs ?? 90_000)
  } catch (err) {
    // A node that never said it started is nobody's to stop: kill it, or it outlives the test and writes into a removed home.
    child.kill('SIGKILL')
    await exited
    throw err
  }
  return {
    home,
    peerId: started.peerId as string,
    multiaddrs: started.multiaddrs as string[],
    process: child,
    events,
    stderr: () => stderr,
    waitForEvent,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      const code = await exited
      clearTimeout(timer)
      return code
    },
  }
}

/** The routing-table size a node last reported (its `routing` events), 0 before any. */
export function routingSize(node: NodeProcess): number {
  const last = node.events.findLast((e) => e.event === 'routing')
  return (last?.size as number | undefined) ?? 0
}

/**
 * Waits until every node's routing table holds every other node: a test that publishes to three
 * replicas right after start must not find a node that still knows only its bootstrap peer.
 * Judged by each node's latest `routing` event, not any past one: a node that once knew everyone
 * and then lost a restarted peer is not full again until it says so.
 */
export async function waitForFullRouting(nodes: NodeProcess[], timeoutMs = 60_000): Promise<void> {
  await Promise.all(nodes.map((n) => n.waitForEvent((e) => e.event === 'routing' && routingSize(n) >= nodes.length - 1, timeoutMs)))
}

/**
 * Starts `count` nodes: the first alone, the rest bootstrapping from the ones started before
 * them. Resolves once every node is up and every routing table holds all the others.
 */
export async function startSwarm(count: number, options: Omit<StartNodeOptions, 'home' | 'bootstrap'> = {}): Promise<NodeProcess[]> {
  const nodes: NodeProcess[] = []
  try {
    nodes.push(await startNode(options))
    // allSettled: when one fails to start, the ones that did must still be stopped below, not orphaned.
    const rest = await Promise.allSettled(
      Array.from({length: count - 1}, () => startNode({...options, bootstrap: nodes.map((n) => n.multiaddrs[0])})),
    )
    for (const r of rest) if (r.status === 'fulfilled') nodes.push(r.value)
    const failed = rest.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
    await waitForFullRouting(nodes)
  } catch (err) {
    await stopAll(nodes)
    throw err
  }
  return nodes
}

export async function stopAll(nodes: NodeProcess[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop().catch(() => null)))
}

/** The TCP port of a node's first multiaddr (to restart it on the same address). */
export function portOf(node: NodeProcess): number {
  const m = /\/tcp\/(\d+)/.exec(node.multiaddrs[0])
  if (!m) throw new Error(`no tcp port in ${node.multiaddrs[0]}`)
  return Number(m[1])
}
