import {promises as fs} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {QisError, errorMessage} from '../util/errors.js'

/** Where a qis node keeps its config, identity, packet stores, journal and weights. */
export interface Home {
  root: string
  configFile: string
  identityFile: string
  packetsDir: string
  weightsFile: string
  journalDir: string
  nodeDir: string
  /** Set when the home folder was readable by others: tightened to 0700 by openHome, or not (`error`). */
  permissions?: {from: number; to: number; error?: string}
}

export function resolveHomeDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = flag ?? env.QIS_HOME ?? path.join(os.homedir(), '.qis')
  return path.resolve(dir)
}

export function homeLayout(root: string): Home {
  return {
    root,
    configFile: path.join(root, 'config.json'),
    identityFile: path.join(root, 'identity.key'),
    packetsDir: path.join(root, 'packets'),
    weightsFile: path.join(root, 'weights.json'),
    journalDir: path.join(root, 'journal'),
    nodeDir: path.join(root, 'node'),
  }
}

/**
 * The home at `root`, checked but not created: a home comes into being when something is first
 * written into it (ensureDir by each writer), so a command that fails, or only reads, leaves no
 * folder behind (a typo in --home stays a typo). A path that exists must be a writable folder.
 */
export async function openHome(root: string): Promise<Home> {
  const home = homeLayout(root)
  const st = await fs.stat(home.root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw new QisError(`cannot use home ${home.root}: ${errorMessage(err)}`, {code: 'HOME_UNUSABLE', cause: err})
  })
  if (st === undefined) return home
  if (!st.isDirectory()) throw new QisError(`home ${home.root} is a file, not a folder`, {code: 'HOME_UNUSABLE', hint: 'Pass --home (or set QIS_HOME) to a folder; qis creates it if it does not exist.'})
  try {
    await fs.access(home.root, fs.constants.W_OK)
    // mkdir's mode applies only to a folder it creates: an existing home made 0755 by hand (or by
    // an older qis) is tightened, and the caller says so (issue 21 item 13).
    if ((st.mode & 0o077) !== 0) {
      const from = st.mode & 0o777
      try {
        await fs.chmod(home.root, 0o700)
        home.permissions = {from, to: 0o700}
      } catch (err) {
        home.permissions = {from, to: from, error: errorMessage(err)}
      }
    }
  } catch (err) {
    throw new QisError(`cannot use home ${home.root}: ${errorMessage(err)}`, {code: 'HOME_UNUSABLE', cause: err})
  }
  return home
}

/** Creates a folder of the home (and the home itself) on first write; 0700, for the home holds the node's private key. */
export async function ensureDir(dir: string): Promise<void> {
  await fs.mkdir(dir, {recursive: true, mode: 0o700})
}
