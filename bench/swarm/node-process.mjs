// A `qis node` child process for every bench that runs one (swarm, hostile, value): on 127.0.0.1 with
// a free port, its JSON event lines read, resolved once it has started. Children still running are
// killed when the bench exits, also on Ctrl-C.
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const runJs = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/run.js')

/** Every child a bench started and has not seen exit (add others a bench spawns itself). */
export const children = new Set()
/** Temporary homes (tempHome) to remove when the bench exits, so no run leaves /tmp/qis-* behind. */
const homes = new Set()
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
  for (const h of homes) rmSync(h, {recursive: true, force: true})
})

/** A fresh folder under the system temp folder, removed when the bench exits (also on Ctrl-C or a failure). */
export function tempHome(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  homes.add(dir)
  return dir
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130))

/**
 * Starts `qis node --json` in `home`, joined to `bootstrap`, with `args` more, and the bootstrap,
 * listen and swarm-key settings of this process's environment cleared (then `env` applied).
 * Resolves {child, home, peerId, multiaddr, multiaddrs, joined, stderr, exited, stop} once started;
 * `joined` follows bootstrap:joined, and every other event goes to `onEvent(event, node)`.
 * `run` is another checkout's bin/run.js (a bench's --root, for a before figure). Rejects if the
 * node exits, or has not started within `startTimeoutMs`, first.
 */
export function startQisNode({home, bootstrap = [], args = [], env = {}, name = home, fields = {}, onEvent, run = runJs, startTimeoutMs = 60_000}) {
  const argv = [run, 'node', '--json', '--home', home, '--listen', '/ip4/127.0.0.1/tcp/0', ...args, ...bootstrap.flatMap((b) => ['--bootstrap', b])]
  const child = spawn(process.execPath, argv, {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, QIS_BOOTSTRAP: '', QIS_LISTEN: '', QIS_SWARM_KEY: '', QIS_CONTENT_TYPE: '', NO_COLOR: '1', ...env}})
  children.add(child)
  /** {code, signal} once the process is gone. */
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({code, signal})))
  /** SIGTERM (a clean stop: the node prints its `stopped` event), SIGKILL if still running after `timeoutMs`. */
  const stop = async (timeoutMs = 15_000) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    const r = await exited
    clearTimeout(t)
    return r
  }
  const node = {child, home, name, peerId: '', multiaddr: '', multiaddrs: [], joined: false, stderr: '', exited, stop, ...fields}
  child.stderr.on('data', (d) => (node.stderr += d))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`qis node ${name} did not start within ${startTimeoutMs / 1000} s: ${node.stderr.slice(-500)}`))
    }, startTimeoutMs)
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      let nl
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl)
        out = out.slice(nl + 1)
        if (!line.startsWith('{"event"')) continue
        const e = JSON.parse(line)
        if (e.event === 'started') {
          clearTimeout(timer)
          node.peerId = e.peerId
          node.multiaddrs = e.multiaddrs
          node.multiaddr = e.multiaddrs[0]
          resolve(node)
        } else if (e.event === 'bootstrap:joined') node.joined = true
        else onEvent?.(e, node)
      }
    })
    child.once('exit', (code) => {
      children.delete(child)
      clearTimeout(timer)
      reject(new Error(`qis node ${name} exited with ${code} before starting: ${node.stderr.slice(-500)}`))
    })
  })
}
