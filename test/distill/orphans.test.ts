import {mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {removeOrphanedTempStores} from '../../src/packet/store.js'
import {tempDir} from '../helpers/cli.js'

describe('orphaned temp stores', () => {
  const dir = tempDir('qis-orphans-')
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('removes temp stores of dead writers and stale ones, and nothing else', async () => {
    const d = path.join(dir, 'a')
    mkdirSync(d)
    const names = {
      dead: '.run.qisp.4000001.0badc0de.tmp',
      deadRejects: '.run.rejects.jsonl.4000001.00ff00ff.tmp',
      liveFresh: '.run.qisp.4000002.12345678.tmp',
      liveStale: '.old.qisp.4000002.87654321.tmp',
      mine: `.run.qisp.${process.pid}.abcdef01.tmp`,
      config: '.config.json.4000001.abcdef01.tmp', // another writer's temp file: not a store
      store: 'run.qisp',
    }
    for (const n of Object.values(names)) writeFileSync(path.join(d, n), 'x')
    const now = Date.now()
    const weekAgo = (now - 8 * 24 * 3600 * 1000) / 1000
    utimesSync(path.join(d, names.liveStale), weekAgo, weekAgo)
    const removed = await removeOrphanedTempStores(d, {now, alive: (pid) => pid === 4000002})
    expect(removed.sort()).toEqual([names.dead, names.deadRejects, names.liveStale].sort())
    expect(readdirSync(d).sort()).toEqual([names.config, names.liveFresh, names.mine, names.store].sort())
  })

  it('treats a missing folder as nothing to clean', async () => {
    expect(await removeOrphanedTempStores(path.join(dir, 'nope'))).toEqual([])
  })
})
