// The data folder and the database are the user's alone: 0700 and 0600, as ssh keeps ~/.ssh (issue 12, item 8).
import Database from 'better-sqlite3'
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Store } from '../../../src-main/store/store.ts'
import { tempHome } from '../../helpers/temp-home.ts'

const modeOf = (path: string): number => statSync(path).mode & 0o777

describe.skipIf(process.platform === 'win32')('data folder permissions', () => {
  let home: ReturnType<typeof tempHome>
  const saved = { BENCHSIDE_HOME: process.env.BENCHSIDE_HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME }
  beforeEach(() => {
    home = tempHome()
    // The default location, inside this test's folder.
    delete process.env.BENCHSIDE_HOME
    process.env.XDG_CONFIG_HOME = join(home.dir, 'config')
  })
  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
    home.remove()
  })

  /** Opens, writes a run (so -wal and -shm exist) and returns the store still open. */
  const openAndWrite = (dataDir: string): Store => {
    const store = new Store({ dataDir })
    store.runs.create({ name: 'r', kind: 'selftest' })
    return store
  }

  it('creates a new data folder 0700 and the database with its -wal and -shm 0600', () => {
    const dataDir = join(home.dir, 'chosen', 'benchside-data')
    const store = openAndWrite(dataDir)
    try {
      expect(modeOf(dataDir)).toBe(0o700)
      expect(modeOf(join(dataDir, 'artifacts'))).toBe(0o700)
      for (const file of ['benchside.sqlite', 'benchside.sqlite-wal', 'benchside.sqlite-shm']) expect(modeOf(join(dataDir, file)), file).toBe(0o600)
    } finally {
      store.close()
    }
  })

  it('tightens the default folder and the database files an earlier version left 0755 / 0644', () => {
    const dataDir = join(home.dir, 'config', 'Benchside')
    mkdirSync(dataDir, { recursive: true, mode: 0o755 })
    chmodSync(dataDir, 0o755)
    // An earlier Benchside's database, 0644, and a -wal file left 0644 (as by a process that did not close cleanly).
    const old = new Database(join(dataDir, 'benchside.sqlite'))
    old.pragma('journal_mode = WAL')
    old.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)')
    old.close()
    chmodSync(join(dataDir, 'benchside.sqlite'), 0o644)
    writeFileSync(join(dataDir, 'benchside.sqlite-wal'), '', { mode: 0o644 })
    expect(modeOf(join(dataDir, 'benchside.sqlite-wal'))).toBe(0o644)

    const store = new Store({ dataDir })
    try {
      expect(modeOf(dataDir)).toBe(0o700)
      expect(modeOf(join(dataDir, 'benchside.sqlite'))).toBe(0o600)
      expect(modeOf(join(dataDir, 'benchside.sqlite-wal'))).toBe(0o600)
      store.runs.create({ name: 'r', kind: 'selftest' })
      expect(modeOf(join(dataDir, 'benchside.sqlite-wal'))).toBe(0o600)
      expect(modeOf(join(dataDir, 'benchside.sqlite-shm'))).toBe(0o600)
    } finally {
      store.close()
    }
  })

  it('leaves the mode of an existing folder chosen with BENCHSIDE_HOME, and still keeps the database 0600', () => {
    const dataDir = join(home.dir, 'shared-project')
    mkdirSync(dataDir, { mode: 0o755 })
    chmodSync(dataDir, 0o755)
    const store = openAndWrite(dataDir)
    try {
      expect(modeOf(dataDir)).toBe(0o755)
      expect(modeOf(join(dataDir, 'artifacts'))).toBe(0o700)
      for (const file of ['benchside.sqlite', 'benchside.sqlite-wal', 'benchside.sqlite-shm']) expect(modeOf(join(dataDir, file)), file).toBe(0o600)
    } finally {
      store.close()
    }
  })
})
