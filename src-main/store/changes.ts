// The change feed's queries: what changed since a cursor, in any process that shares the database. Run records are
// logged by triggers (migration 7); metrics and sweep cells are followed by rowid, which only grows.
import type { Database } from 'better-sqlite3'

/** Where a reader of the feed stands: the last change-log entry, metric and sweep cell it has seen. */
export interface FeedCursor {
  changes: number
  metrics: number
  cells: number
}

/** One run that changed: its record (status, tags, params, notes, artifacts), new metrics after a rowid, new cells. */
export interface RunChange {
  runUuid: string
  /** New metrics have rowids above this (null: no new metrics). */
  metricsSince: number | null
  cellsSince: number | null
}

/** Change-log rows kept for readers that fall behind; older ones are pruned. */
const CHANGE_LOG_KEEP = 100_000

export class ChangesRepository {
  constructor(private readonly db: Database) {}

  /** The present: a new reader starts here. */
  cursor(): FeedCursor {
    const max = (table: string, column: string) => (this.db.prepare(`SELECT coalesce(max(${column}), 0) AS n FROM ${table}`).get() as { n: number }).n
    return { changes: max('run_changes', 'seq'), metrics: max('metrics', 'rowid'), cells: max('sweep_cells', 'rowid') }
  }

  /** Every run that changed after `from`, and the cursor to read from next time. */
  since(from: FeedCursor): { cursor: FeedCursor; runs: RunChange[] } {
    const cursor = this.cursor()
    if (cursor.changes === from.changes && cursor.metrics === from.metrics && cursor.cells === from.cells) return { cursor, runs: [] }
    const byRun = new Map<string, RunChange>()
    const entry = (runUuid: string): RunChange => {
      let change = byRun.get(runUuid)
      if (!change) byRun.set(runUuid, (change = { runUuid, metricsSince: null, cellsSince: null }))
      return change
    }
    const logged = this.db.prepare(`SELECT DISTINCT run_uuid FROM run_changes WHERE seq > ? AND seq <= ?`).all(from.changes, cursor.changes) as {
      run_uuid: string
    }[]
    for (const row of logged) entry(row.run_uuid)
    const grown = (table: string, after: number, upTo: number) =>
      this.db.prepare(`SELECT run_uuid FROM ${table} WHERE rowid > ? AND rowid <= ? GROUP BY run_uuid`).all(after, upTo) as { run_uuid: string }[]
    for (const row of grown('metrics', from.metrics, cursor.metrics)) entry(row.run_uuid).metricsSince = from.metrics
    for (const row of grown('sweep_cells', from.cells, cursor.cells)) entry(row.run_uuid).cellsSince = from.cells
    return { cursor, runs: [...byRun.values()] }
  }

  prune(): void {
    this.db.prepare(`DELETE FROM run_changes WHERE seq <= (SELECT max(seq) FROM run_changes) - ?`).run(CHANGE_LOG_KEEP)
  }
}
