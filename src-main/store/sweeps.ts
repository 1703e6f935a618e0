// Sweep cells: (run, scope, σ, repeat) → correct of count. Written as they are measured; a resumed sweep reads them back.
import type { Database } from 'better-sqlite3'

export interface SweepCell {
  /** An injection point id for walking noise, 'global', or a set's name. */
  scope: string
  sigma: number
  repeat: number
  correct: number
  count: number
}

export class SweepsRepository {
  constructor(private readonly db: Database) {}

  addCells(runUuid: string, cells: readonly SweepCell[]): void {
    const insert = this.db.prepare(`INSERT OR REPLACE INTO sweep_cells (run_uuid, scope, sigma, repeat, correct, count, time) VALUES (?, ?, ?, ?, ?, ?, ?)`)
    const now = Date.now()
    this.db.transaction(() => cells.forEach((c) => insert.run(runUuid, c.scope, c.sigma, c.repeat, c.correct, c.count, now)))()
  }

  cells(runUuid: string): SweepCell[] {
    return this.db
      .prepare(`SELECT scope, sigma, repeat, correct, count FROM sweep_cells WHERE run_uuid = ? ORDER BY scope, sigma, repeat`)
      .all(runUuid) as SweepCell[]
  }
}
