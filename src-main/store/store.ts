// Opens the SQLite history (WAL, migrated) and hands out the repositories. The only room that writes SQL.
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { migrate } from './migrations.ts'
import { RunsRepository } from './runs.ts'
import { LatencyTable } from './latency-table.ts'
import { DatasetsRepository } from './datasets.ts'
import { BoardsRepository } from './boards.ts'
import { SweepsRepository } from './sweeps.ts'
import { AnalogDevicesRepository } from './analog-devices.ts'
import { ChangesRepository } from './changes.ts'
import { ResultsRepository } from './results.ts'

export interface StoreOptions {
  dataDir: string
  /** Path to an Electron-ABI better_sqlite3.node; plain Node uses the one npm built. */
  nativeBinding?: string
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

  constructor(options: StoreOptions) {
    this.dataDir = options.dataDir
    this.artifactsDir = join(options.dataDir, 'artifacts')
    mkdirSync(this.artifactsDir, { recursive: true })
    const file = join(options.dataDir, 'benchside.sqlite')
    this.db = new Database(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {})
    this.db.pragma('journal_mode = WAL')
    // NORMAL keeps WAL commits durable against a process crash; only a power cut can lose the last commits.
    this.db.pragma('synchronous = NORMAL')
    this.db.pragma('foreign_keys = ON')
    this.db.pragma('busy_timeout = 5000')
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
  }

  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string
  }

  close(): void {
    if (this.db.open) this.db.close()
  }
}
