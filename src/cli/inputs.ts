import {promises as fs} from 'node:fs'

import {QisError} from '../util/errors.js'

/**
 * Each input is a readable file (or - for stdin), checked before any work so a typo is a usage
 * error naming the file (INPUT_NOT_FOUND, BAD_INPUT for a folder). Returns each file's size.
 */
export async function checkInputs(files: string[], what: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>()
  for (const file of files) {
    if (file === '-') continue
    const st = await fs.stat(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new QisError(`${what} ${file} does not exist`, {code: 'INPUT_NOT_FOUND'})
      throw new QisError(`cannot read ${what} ${file}`, {code: 'BAD_INPUT', cause: err})
    })
    if (!st.isFile()) throw new QisError(`${what} ${file} is not a file`, {code: 'BAD_INPUT', hint: st.isDirectory() ? 'Name the files in the folder (e.g. logs/*.jsonl).' : undefined})
    await fs.access(file, fs.constants.R_OK).catch((err: unknown) => {
      throw new QisError(`cannot read ${what} ${file}: permission denied`, {code: 'PERMISSION_DENIED', cause: err})
    })
    sizes.set(file, st.size)
  }
  return sizes
}
