import Database from 'better-sqlite3'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defaultDataDir } from '../../../src-main/store/data-dir.ts'
import { migrate, migrations } from '../../../src-main/store/migrations.ts'
import { Store } from '../../../src-main/store/store.ts'
import { tempHome } from '../../helpers/temp-home.ts'

const TABLES = ['artifacts', 'experiments', 'metrics', 'notes', 'params', 'runs', 'tags']

function schemaOf(db: Database.Database): { type: string; name: string; sql: string | null }[] {
  return db.prepare(`SELECT type, name, sql FROM sqlite_master ORDER BY type, name`).all() as {
    type: string
    name: string
    sql: string | null
  }[]
}

describe('Store and migrations', () => {
  let home: ReturnType<typeof tempHome>
  const opened: Store[] = []
  const open = () => {
    const store = new Store({ dataDir: home.dir })
    opened.push(store)
    return store
  }
  beforeEach(() => {
    home = tempHome()
  })
  afterEach(() => {
    for (const store of opened.splice(0)) store.close()
    home.remove()
  })

  it('creates the SQLite file and the artifacts folder in the data folder', () => {
    const store = open()
    expect(existsSync(join(home.dir, 'benchside.sqlite'))).toBe(true)
    expect(existsSync(join(home.dir, 'artifacts'))).toBe(true)
    expect(store.artifactsDir).toBe(join(home.dir, 'artifacts'))
    expect(store.dataDir).toBe(home.dir)
  })

  it('creates a missing data folder', () => {
    const dataDir = join(home.dir, 'not', 'yet', 'there')
    const store = new Store({ dataDir })
    opened.push(store)
    expect(existsSync(join(dataDir, 'benchside.sqlite'))).toBe(true)
  })

  it('runs in WAL mode with foreign keys on, also as seen by a second connection', () => {
    const store = open()
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1)
    store.runs.create({ name: 'r', kind: 'k' })
    expect(existsSync(join(home.dir, 'benchside.sqlite-wal'))).toBe(true)
    const other = new Database(join(home.dir, 'benchside.sqlite'), { readonly: true })
    try {
      expect(other.pragma('journal_mode', { simple: true })).toBe('wal')
      expect(other.prepare(`SELECT count(*) AS n FROM runs`).get()).toEqual({ n: 1 })
    } finally {
      other.close()
    }
  })

  it('passes integrity_check after a store full of writes', () => {
    const store = open()
    for (let i = 0; i < 50; i++) {
      const run = store.runs.create({ name: `r${i}`, kind: 'k' }).uuid
      store.runs.logParam(run, 'i', String(i))
      store.runs.logMetrics(
        run,
        Array.from({ length: 20 }, (_, step) => ({ key: 'loss', value: 1 / (step + 1), step, time: step })),
      )
      store.runs.addTag(run, `t${i % 3}`)
      store.runs.addNote(run, `note ${i}`)
      if (i % 5 === 0) store.runs.setDeleted(run, true)
    }
    expect(store.integrityCheck()).toBe('ok')
  })

  it('sets user_version to the number of migrations and creates every table', () => {
    const store = open()
    expect(migrations.length).toBeGreaterThan(0)
    expect(store.db.pragma('user_version', { simple: true })).toBe(migrations.length)
    const tables = schemaOf(store.db)
      .filter((o) => o.type === 'table')
      .map((o) => o.name)
    expect(tables).toEqual(expect.arrayContaining(TABLES))
  })

  it('is idempotent: opening the same folder again keeps the schema, the version and the data', () => {
    const first = open()
    const run = first.runs.create({ name: 'survivor', kind: 'k' }).uuid
    first.runs.logParam(run, 'lr', '0.1')
    const schema = schemaOf(first.db)
    first.close()

    const second = open()
    expect(second.db.pragma('user_version', { simple: true })).toBe(migrations.length)
    expect(schemaOf(second.db)).toEqual(schema)
    expect(second.runs.detail(run)).toMatchObject({ name: 'survivor', params: { lr: '0.1' } })
    expect(second.runs.list()).toHaveLength(1)
    second.close()

    const third = open()
    expect(schemaOf(third.db)).toEqual(schema)
    expect(third.integrityCheck()).toBe('ok')
  })

  it('migrate() on an up-to-date database changes nothing and returns the version', () => {
    const store = open()
    const schema = schemaOf(store.db)
    expect(migrate(store.db)).toBe(migrations.length)
    expect(migrate(store.db)).toBe(migrations.length)
    expect(schemaOf(store.db)).toEqual(schema)
  })

  it('refuses a database from a newer Benchside with a clear error, leaving it untouched', () => {
    const file = join(home.dir, 'benchside.sqlite')
    const future = migrations.length + 3
    open().close()
    const raw = new Database(file)
    raw.pragma(`user_version = ${future}`)
    raw.close()

    expect(() => open()).toThrow(new RegExp(`schema version ${future}, newer than this Benchside understands \\(${migrations.length}\\).*Update Benchside`))

    const check = new Database(file, { readonly: true })
    try {
      expect(check.pragma('user_version', { simple: true })).toBe(future)
    } finally {
      check.close()
    }
  })

  it('rolls a failing migration back whole: no half schema, user_version unchanged', () => {
    // A stray table with a name migration 1 creates makes it fail part-way.
    const raw = new Database(join(home.dir, 'benchside.sqlite'))
    raw.exec(`CREATE TABLE experiments (x INTEGER)`)
    raw.close()

    expect(() => open()).toThrow(/experiments already exists/)

    const check = new Database(join(home.dir, 'benchside.sqlite'), { readonly: true })
    try {
      expect(check.pragma('user_version', { simple: true })).toBe(0)
      expect(schemaOf(check).map((o) => o.name)).toEqual(['experiments'])
    } finally {
      check.close()
    }
  })

  it('refuses rows that break the schema instead of storing them', () => {
    const store = open()
    const run = store.runs.create({ name: 'r', kind: 'k' }).uuid
    expect(() => store.db.prepare(`UPDATE runs SET status = 'EXPLODED' WHERE uuid = ?`).run(run)).toThrow(/CHECK constraint/)
    expect(() => store.runs.addNote('not-a-run', 'orphan note')).toThrow(/FOREIGN KEY/)
    expect(store.runs.summary(run).status).toBe('SCHEDULED')
  })

  it('deleting a run row cascades to its params, metrics, tags, notes and artifacts', () => {
    const store = open()
    const run = store.runs.create({ name: 'r', kind: 'k' }).uuid
    store.runs.logParam(run, 'a', '1')
    store.runs.logMetrics(run, [{ key: 'm', value: 1, step: 0, time: 0 }])
    store.runs.addTag(run, 't')
    store.runs.addNote(run, 'n')
    store.runs.writeArtifact(run, 'f.txt', 'f')
    store.db.prepare(`DELETE FROM runs WHERE uuid = ?`).run(run)
    for (const table of ['params', 'metrics', 'tags', 'notes', 'artifacts']) {
      expect(store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get(), table).toEqual({ n: 0 })
    }
  })

  /** A database as Benchside left it at schema version `version`: the first migrations applied by hand. */
  const databaseAt = (version: number): Database.Database => {
    const raw = new Database(join(home.dir, 'benchside.sqlite'))
    raw.transaction(() => {
      for (const migration of migrations.slice(0, version)) raw.exec(migration)
      raw.pragma(`user_version = ${version}`)
    })()
    raw.exec(`INSERT INTO experiments (id, name, created_at) VALUES (1, 'Default', 0)`)
    for (const run of ['run-a', 'run-b']) {
      raw.prepare(`INSERT INTO runs (uuid, experiment_id, name, kind, status, created_at) VALUES (?, 1, ?, 'train', 'FINISHED', 0)`).run(run, run)
    }
    return raw
  }

  it('migration 8 fills metric_last from the metrics a version 7 database holds, then keeps it as points arrive', () => {
    // A database as Benchside left it at schema version 7, with points in any order, a tie and non-finite values.
    const raw = databaseAt(7)
    const point = raw.prepare(`INSERT INTO metrics (run_uuid, key, value, step, time) VALUES (?, ?, ?, ?, 0)`)
    point.run('run-a', 'acc', 0.9, 2)
    point.run('run-a', 'acc', 0.1, 0)
    point.run('run-a', 'loss', 0.5, 4)
    point.run('run-a', 'loss', 0.4, 4)
    point.run('run-b', 'acc', 0.6, 1)
    point.run('run-b', 'acc', Infinity, 7)
    point.run('run-b', 'inf_only', -Infinity, 0)
    raw.prepare(`INSERT INTO params (run_uuid, key, value) VALUES ('run-a', 'lr', '0.1')`).run()
    // Migration 8 alone (opening a Store would apply the later ones too).
    raw.transaction(() => {
      raw.exec(migrations[7]!)
      raw.pragma('user_version = 8')
    })()
    const last = () => raw.prepare(`SELECT run_uuid AS run, key, step, value FROM metric_last ORDER BY run_uuid, key`).all()
    expect(last()).toEqual([
      { run: 'run-a', key: 'acc', step: 2, value: 0.9 },
      { run: 'run-a', key: 'loss', step: 4, value: 0.4 },
      { run: 'run-b', key: 'acc', step: 1, value: 0.6 },
    ])
    point.run('run-b', 'acc', 0.65, 1)
    expect(last()).toContainEqual({ run: 'run-b', key: 'acc', step: 1, value: 0.65 })
    raw.close()

    const store = open()
    expect(store.runTable.columns(false)).toEqual({ params: ['lr'], metrics: ['acc', 'loss'] })
    expect(store.integrityCheck()).toBe('ok')
  })

  it('migration 9 keeps the first of repeated points, recomputes their last value, then stores NaN and ignores repeats', () => {
    // A version 8 database with the repeats a resumed study left (4 of 9 did) and a tie metric_last took the latest of.
    const raw = databaseAt(8)
    const point = raw.prepare(`INSERT INTO metrics (run_uuid, key, value, step, time) VALUES (?, ?, ?, ?, 0)`)
    point.run('run-a', 'acc', 0.1, 0)
    point.run('run-a', 'acc', 0.9, 2)
    point.run('run-a', 'loss', 0.5, 4)
    point.run('run-a', 'loss', 0.4, 4)
    point.run('run-a', 'loss', 0.3, 4)
    point.run('run-a', 'loss', 0.8, 1)
    point.run('run-b', 'clean_accuracy:float-r0', 0.81, 0)
    point.run('run-b', 'clean_accuracy:float-r0', 0.81, 0)
    point.run('run-b', 'acc', Infinity, 3)
    point.run('run-b', 'acc', 0.7, 3)
    const rowsBefore = raw.prepare(`SELECT rowid, run_uuid, key, step, value FROM metrics ORDER BY rowid`).all() as { rowid: number; key: string }[]
    expect(raw.prepare(`SELECT value FROM metric_last WHERE run_uuid = 'run-a' AND key = 'loss'`).pluck().get()).toBe(0.3)
    raw.close()

    const store = open()
    expect(store.db.pragma('user_version', { simple: true })).toBe(migrations.length)
    const rows = () =>
      store.db.prepare(`SELECT run_uuid AS run, key, step, value, is_nan AS nan FROM metrics ORDER BY run_uuid, key, step`).all() as {
        run: string
        key: string
        step: number
        value: number
        nan: number
      }[]
    expect(rows()).toEqual([
      { run: 'run-a', key: 'acc', step: 0, value: 0.1, nan: 0 },
      { run: 'run-a', key: 'acc', step: 2, value: 0.9, nan: 0 },
      { run: 'run-a', key: 'loss', step: 1, value: 0.8, nan: 0 },
      { run: 'run-a', key: 'loss', step: 4, value: 0.5, nan: 0 },
      { run: 'run-b', key: 'acc', step: 3, value: Infinity, nan: 0 },
      { run: 'run-b', key: 'clean_accuracy:float-r0', step: 0, value: 0.81, nan: 0 },
    ])
    // The kept rows are the first ones: their rowids are unchanged.
    const kept = store.db.prepare(`SELECT rowid FROM metrics ORDER BY rowid`).pluck().all()
    expect(kept).toEqual([rowsBefore[0], rowsBefore[1], rowsBefore[2], rowsBefore[5], rowsBefore[6], rowsBefore[8]].map((r) => r!.rowid))
    const last = () => store.db.prepare(`SELECT run_uuid AS run, key, step, value FROM metric_last ORDER BY run_uuid, key`).all()
    // run-b acc has no finite point left (the repeat at step 3 was the finite one); loss takes its first point at step 4.
    expect(last()).toEqual([
      { run: 'run-a', key: 'acc', step: 2, value: 0.9 },
      { run: 'run-a', key: 'loss', step: 4, value: 0.5 },
      { run: 'run-b', key: 'clean_accuracy:float-r0', step: 0, value: 0.81 },
    ])

    // From now on a repeated (run, key, step) cannot be stored: logMetrics ignores it, a raw insert is refused.
    store.runs.logMetrics('run-a', [{ key: 'loss', value: 0.1, step: 4, time: 1 }])
    expect(rows().filter((r) => r.run === 'run-a' && r.key === 'loss')).toHaveLength(2)
    expect(() => store.db.prepare(`INSERT INTO metrics (run_uuid, key, value, step, time) VALUES ('run-a', 'loss', 0.2, 4, 0)`).run()).toThrow(/UNIQUE/)
    // NaN is stored as value 0 with is_nan set, read back as NaN, and never taken as the last finite value (a 0).
    store.runs.logMetrics('run-a', [
      { key: 'loss', value: NaN, step: 5, time: 1 },
      { key: 'loss', value: -Infinity, step: 6, time: 1 },
    ])
    expect(rows().filter((r) => r.run === 'run-a' && r.key === 'loss' && r.step >= 5)).toEqual([
      { run: 'run-a', key: 'loss', step: 5, value: 0, nan: 1 },
      { run: 'run-a', key: 'loss', step: 6, value: -Infinity, nan: 0 },
    ])
    expect(last()).toContainEqual({ run: 'run-a', key: 'loss', step: 4, value: 0.5 })
    expect(
      store.runs
        .detail('run-a')
        .metrics.filter((m) => m.key === 'loss')
        .map((m) => [m.step, m.value]),
    ).toEqual([
      [1, 0.8],
      [4, 0.5],
      [5, 'NaN'],
      [6, '-Infinity'],
    ])
    store.runs.logMetrics('run-a', [{ key: 'loss', value: 0.05, step: 7, time: 1 }])
    expect(last()).toContainEqual({ run: 'run-a', key: 'loss', step: 7, value: 0.05 })
    expect(store.db.prepare(`SELECT sql FROM sqlite_master WHERE name = 'metrics_by_run'`).pluck().get()).toMatch(/UNIQUE INDEX/)
    expect(store.integrityCheck()).toBe('ok')
  })

  it('close() can be called twice', () => {
    const store = open()
    store.close()
    expect(() => store.close()).not.toThrow()
    expect(store.db.open).toBe(false)
  })
})

describe('defaultDataDir', () => {
  it('uses BENCHSIDE_HOME above everything else, on every platform', () => {
    const env = { BENCHSIDE_HOME: '/data/bench', XDG_CONFIG_HOME: '/xdg', APPDATA: 'C:\\Users\\me\\AppData\\Roaming' }
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      expect(defaultDataDir(env, platform)).toBe('/data/bench')
    }
  })

  it('uses XDG_CONFIG_HOME on Linux, else ~/.config', () => {
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/home/me/cfg' }, 'linux')).toBe(join('/home/me/cfg', 'Benchside'))
    expect(defaultDataDir({}, 'linux')).toBe(join(homedir(), '.config', 'Benchside'))
    expect(defaultDataDir({}, 'freebsd')).toBe(join(homedir(), '.config', 'Benchside'))
  })

  it('uses ~/Library/Application Support on macOS, ignoring XDG_CONFIG_HOME', () => {
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/xdg' }, 'darwin')).toBe(join(homedir(), 'Library', 'Application Support', 'Benchside'))
  })

  it('uses APPDATA on Windows, else ~/AppData/Roaming, ignoring XDG_CONFIG_HOME', () => {
    expect(defaultDataDir({ APPDATA: '/appdata/Roaming' }, 'win32')).toBe(join('/appdata/Roaming', 'Benchside'))
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/xdg' }, 'win32')).toBe(join(homedir(), 'AppData', 'Roaming', 'Benchside'))
  })

  it('reads process.env by default', () => {
    const saved = process.env.BENCHSIDE_HOME
    process.env.BENCHSIDE_HOME = '/from/process/env'
    try {
      expect(defaultDataDir()).toBe('/from/process/env')
    } finally {
      if (saved === undefined) delete process.env.BENCHSIDE_HOME
      else process.env.BENCHSIDE_HOME = saved
    }
  })

  // Bug: the XDG Base Directory spec says an empty XDG_CONFIG_HOME is treated as unset; `??` keeps '' and the
  // result is the relative path 'Benchside', so the history would land in whatever the working directory is.
  it('treats an empty XDG_CONFIG_HOME as unset, never returning a relative folder', () => {
    expect(defaultDataDir({ XDG_CONFIG_HOME: '' }, 'linux')).toBe(join(homedir(), '.config', 'Benchside'))
  })
})
