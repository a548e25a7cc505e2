// Where the shared benchmark data lives: $QIS_SHARED_DATA, else the first shared/data found beside
// the repository or one of its parents (a worktree sits deeper than the main checkout).
import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export function sharedData(...parts) {
  if (process.env.QIS_SHARED_DATA) return path.join(process.env.QIS_SHARED_DATA, ...parts)
  for (let dir = repo; ; dir = path.dirname(dir)) {
    const candidate = path.join(path.dirname(dir), 'shared', 'data')
    if (existsSync(candidate)) return path.join(candidate, ...parts)
    if (path.dirname(dir) === dir) return path.join(repo, '..', 'shared', 'data', ...parts)
  }
}
