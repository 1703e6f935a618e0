// Opens the SQLite history (WAL, migrated) and hands out the repositories. The only room that writes SQL.
import Database from 'better-sqlite3'
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { isDefaultDataDir } from './data-dir.ts'
import { migrate } from './migrations.ts'
import { RunsRepository } from './runs.ts'
import { LatencyTable } from './latency-table.ts'
import { DatasetsRepository } from './datasets.ts'
import { BoardsRepository } from './boards.ts'
import { SweepsRepository } from './sweeps.ts'
import { AnalogDevicesRepository } from './analog-devices.ts'
import { ChangesRepository } from './changes.ts'
import { ResultsRepository } from './results.ts'
import { RunTable } from './run-table.ts'
import { RunComparisonReader } from './run-comparison.ts'
import { ClustersRepository } from './clusters.ts'

export interface StoreOptions {
  dataDir: string
  /** Path to an Electron-ABI better_sqlite3.node; plain Node uses the one npm built. */
  nativeBinding?: string
  /** How long a write waits for another process's write lock before it fails with SQLITE_BUSY. */
  busyTimeoutMs?: number
}

/** Other processes (CLI, web mode, jobs' parents) write the same file; a write waits this long for their lock. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000

/**
 * The data folder and the database are the user's alone (0700 / 0600), as ssh keeps ~/.ssh: runs, models, board
 * addresses and key paths are nobody else's business. A folder Benchside creates is made so; an existing one is
 * tightened only at the default location, which is Benchside's own (an earlier version made it 0755). A folder chosen
 * with BENCHSIDE_HOME keeps the mode its owner gave it (benchside doctor warns when others can write it).
 */
function preparePrivateFolder(dataDir: string): void {
  const existed = existsSync(dataDir)
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  if (process.platform === 'win32') return
  if (!existed || isDefaultDataDir(dataDir)) tighten(dataDir, 0o700)
}

/** The database and its WAL files: created 0600 (SQLite gives -wal and -shm the database's mode), older ones tightened. */
function privateDatabaseFiles(file: string): void {
  if (process.platform === 'win32') return
  for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) tighten(path, 0o600)
}

/** chmod, or nothing when the file is another user's (e.g. made by `sudo benchside`): that must not stop the start. */
function tighten(path: string, mode: number): void {
  try {
    chmodSync(path, mode)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error
  }
}

export class Store {
  readonly db: Database.Database
  readonly dataDir: string
  readonly artifactsDir: string
  readonly runs: RunsRepository
  readonly latency: LatencyTable
  readonly datasets: DatasetsRepository
  readonly boards: BoardsRepository
  readonly sweeps: SweepsRepository
  readonly analogDevices: AnalogDevicesRepository
  readonly changes: ChangesRepository
  readonly results: ResultsRepository
  readonly runTable: RunTable
  readonly comparison: RunComparisonReader
  readonly clusters: ClustersRepository

  constructor(options: StoreOptions) {
    this.dataDir = options.dataDir
    this.artifactsDir = join(options.dataDir, 'artifacts')
    preparePrivateFolder(options.dataDir)
    mkdirSync(this.artifactsDir, { recursive: true, mode: 0o700 })
    const file = join(options.dataDir, 'benchside.sqlite')
    // Created 0600 before SQLite opens it, so it is never readable by others, not even for a moment.
    closeSync(openSync(file, 'a', 0o600))
    privateDatabaseFiles(file)
    this.db = new Database(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {})
    this.db.pragma('journal_mode = WAL')
    // NORMAL keeps WAL commits durable against a process crash; only a power cut can lose the last commits.
    this.db.pragma('synchronous = NORMAL')
    this.db.pragma('foreign_keys = ON')
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.round(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`)
    // Statement journals and sorting b-trees in memory, not temp files: the metric_last trigger (migration 8) gives every
    // metric insert a statement journal, and creating it as a file made logging a point 5× slower.
    this.db.pragma('temp_store = MEMORY')
    try {
      migrate(this.db)
    } catch (error) {
      this.db.close()
      throw error
    }
    this.runs = new RunsRepository(this.db, this.artifactsDir)
    this.latency = new LatencyTable(this.db)
    this.datasets = new DatasetsRepository(this.db)
    this.boards = new BoardsRepository(this.db)
    this.sweeps = new SweepsRepository(this.db)
    this.analogDevices = new AnalogDevicesRepository(this.db)
    this.changes = new ChangesRepository(this.db)
    this.results = new ResultsRepository(this.runs)
    this.runTable = new RunTable(this.db)
    this.comparison = new RunComparisonReader(this.db)
    this.clusters = new ClustersRepository(this.db)
  }

  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}
