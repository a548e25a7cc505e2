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
 * Open (and on first use create) a home. Directories are 0700: the home holds the node's
 * private key and local packet stores, which other users on the machine have no business reading.
 */
export async function openHome(root: string): Promise<Home> {
  const home = homeLayout(root)
  try {
    await fs.mkdir(home.root, {recursive: true, mode: 0o700})
    const st = await fs.stat(home.root)
    if (!st.isDirectory()) throw new QisError(`QIS home ${home.root} is not a directory`)
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
    if (err instanceof QisError) throw err
    throw new QisError(`cannot use QIS home ${home.root}: ${errorMessage(err)}`, {code: 'HOME_UNUSABLE', cause: err})
  }
  return home
}

export async function ensureDir(dir: string): Promise<void> {
  await fs.mkdir(dir, {recursive: true, mode: 0o700})
}
