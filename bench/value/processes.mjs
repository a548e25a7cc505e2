// Real qis processes: storage nodes (`qis node`, started as every bench starts one) on 127.0.0.1 and one-shot commands (publish, pull-weights, distill).
import {spawn} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {startQisNode} from '../swarm/node-process.mjs'

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const runJs = path.join(root, 'bin', 'run.js')
// As for the nodes (startQisNode): this shell's swarm settings must not reach the bench's swarm.
const childEnv = () => ({...process.env, NO_COLOR: '1', QIS_BOOTSTRAP: '', QIS_CONTENT_TYPE: '', QIS_SWARM_KEY: '', QIS_LISTEN: ''})

/** Every one-shot command this bench started and has not seen exit: stopped on exit or Ctrl-C, by pid (the nodes: node-process.mjs). */
const live = new Set()
const stopLive = () => {
  for (const child of live) child.kill('SIGTERM')
}
process.once('exit', stopLive)
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    stopLive()
    process.exit(130)
  })
}

/** Processes that exited 13 (Node's "unsettled top-level await") and were run again: counted, never hidden. */
export const retried = {exit13: 0}

/**
 * Runs `qis ARGS --json` to the end; resolves with the parsed result, rejects with the error
 * envelope or stderr on failure. A run that exits 13 with no output (seen now and then from
 * pull-weights: the event loop emptied under a pending await) is run once more and counted.
 */
export async function qis(args, options = {}) {
  try {
    return await qisOnce(args, options)
  } catch (err) {
    if (err.exitCode !== 13) throw err
    retried.exit13++
    return qisOnce(args, options)
  }
}

function qisOnce(args, {timeoutMs = 600_000} = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runJs, ...args, '--json'], {cwd: root, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe']})
    live.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      live.delete(child)
      clearTimeout(timer)
      let parsed
      try {
        parsed = JSON.parse(stdout)
      } catch {
        parsed = undefined
      }
      if (code === 0 && parsed !== undefined) return resolve(parsed)
      const err = new Error(`qis ${args.join(' ')} exited ${code}: ${parsed?.error ? JSON.stringify(parsed.error) : (stderr || stdout).slice(-1500)}`)
      err.exitCode = code
      err.code = parsed?.error?.code
      err.result = parsed
      reject(err)
    })
  })
}

/** Starts one `qis node --json` on 127.0.0.1 (the benches' one way, bench/swarm/node-process.mjs) and resolves once it printed its addresses. */
export async function startNode(home, bootstrap = []) {
  const peers = new Set()
  const onEvent = (e) => {
    if (e.event === 'peer:connect') peers.add(e.peer)
    if (e.event === 'peer:disconnect') peers.delete(e.peer)
  }
  const node = await startQisNode({home, bootstrap, run: runJs, onEvent})
  return {home, peerId: node.peerId, multiaddrs: node.multiaddrs, peers, stop: () => node.stop()}
}

/** `count` nodes: the first alone, the rest joining through it. */
export async function startSwarm(homes) {
  const first = await startNode(homes[0])
  const rest = await Promise.all(homes.slice(1).map((h) => startNode(h, [first.multiaddrs[0]])))
  // A publisher learns the swarm through the first node: wait (up to 30 s) until it knows every other
  // node, or a publish right away finds fewer peers than replicas.
  const deadline = Date.now() + 30_000
  while (rest.some((n) => !first.peers.has(n.peerId)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
  return [first, ...rest]
}

/** Runs jobs with at most `limit` at once (2 cores: more processes only queue on the CPU). */
export async function pool(items, limit, job) {
  const results = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({length: Math.min(limit, items.length)}, async () => {
      while (next < items.length) {
        const i = next++
        results[i] = await job(items[i], i)
      }
    }),
  )
  return results
}
