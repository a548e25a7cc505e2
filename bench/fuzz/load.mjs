// Loads the compiled library (dist/) for the fuzz targets. Modules that have not landed yet are
// reported as missing rather than failing the run.
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist')

async function optional(rel) {
  try {
    return await import(pathToFileURL(path.join(dist, rel)).href)
  } catch (err) {
    if (err?.code === 'ERR_MODULE_NOT_FOUND') return undefined
    throw err
  }
}

export async function loadLibrary() {
  const packet = await optional('packet/index.js')
  if (!packet) throw new Error(`no compiled library in ${dist}: run npm run build first`)
  return {
    packet,
    ingest: await optional('ingest/index.js'),
    protocol: await optional('swarm/protocol.js'),
    storage: await optional('swarm/storage.js'),
    node: await optional('swarm/node.js'),
  }
}
