// A `qis node` child process for the swarm benches (churn, sybil, first-look): on 127.0.0.1 with
// a free port, its JSON event lines read, resolved once it has started. Children still running are
// killed when the bench exits, also on Ctrl-C.
import {spawn} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const runJs = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/run.js')

/** Every child a bench started and has not seen exit (add others a bench spawns itself). */
export const children = new Set()
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130))

/**
 * Starts `qis node --json` in `home`, joined to `bootstrap`, with `args` more, and the bootstrap,
 * listen and swarm-key settings of this process's environment cleared (then `env` applied).
 * Resolves {child, home, multiaddr, joined, stderr} once started; `joined` follows
 * bootstrap:joined, and every other event goes to `onEvent(event, node)`.
 */
export function startQisNode({home, bootstrap = [], args = [], env = {}, name = home, fields = {}, onEvent}) {
  const argv = [runJs, 'node', '--json', '--home', home, '--listen', '/ip4/127.0.0.1/tcp/0', ...args, ...bootstrap.flatMap((b) => ['--bootstrap', b])]
  const child = spawn(process.execPath, argv, {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, QIS_BOOTSTRAP: '', QIS_LISTEN: '', QIS_SWARM_KEY: '', ...env}})
  children.add(child)
  const node = {child, home, name, multiaddr: '', joined: false, stderr: '', ...fields}
  child.stderr.on('data', (d) => (node.stderr += d))
  return new Promise((resolve, reject) => {
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
          node.multiaddr = e.multiaddrs[0]
          resolve(node)
        } else if (e.event === 'bootstrap:joined') node.joined = true
        else onEvent?.(e, node)
      }
    })
    child.once('exit', (code) => {
      children.delete(child)
      reject(new Error(`qis node ${name} exited with ${code} before starting: ${node.stderr.slice(-500)}`))
    })
  })
}
