// What a comparison of runs reads: their params, tags and artifacts, and per metric statistics computed in SQL
// (GROUP BY run and key), so a 10,000-step training sends five numbers per metric, not every point.
import type { Database } from 'better-sqlite3'

/**
 * A finite metric value. NaN (stored as 0 with is_nan set, migration 9) and ±Infinity are left out of the statistics as
 * if never logged, as metric_last leaves them out of the last value (migrations 8 and 9).
 */
const FINITE_METRIC = (alias: string): string => `${alias}.is_nan = 0 AND ${alias}.value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308`

export interface MetricStatsRow {
  run: string
  key: string
  last: number
  min: number
  max: number
  points: number
  lastStep: number
}

/** `?, ?, …` for a list of runs; the uuids themselves are bound. */
const placeholders = (runs: readonly string[]): string => runs.map(() => '?').join(', ')

export class RunComparisonReader {
  constructor(private readonly db: Database) {}

  params(runs: readonly string[]): { run: string; key: string; value: string }[] {
    return this.db.prepare(`SELECT run_uuid AS run, key, value FROM params WHERE run_uuid IN (${placeholders(runs)}) ORDER BY key`).all(...runs) as {
      run: string
      key: string
      value: string
    }[]
  }

  /**
   * Per run and metric key: the last value (highest step, then latest point: metric_last), min, max, how many points
   * and the last step. Non-finite values (NaN, ±Infinity) are left out, as if never logged: JSON cannot carry them, and one diverged
   * step would otherwise turn min or max into a value no reply can hold. A metric with only non-finite points has no row.
   */
  metricStats(runs: readonly string[]): MetricStatsRow[] {
    return this.db
      .prepare(
        `SELECT m.run_uuid AS run, m.key, min(m.value) AS min, max(m.value) AS max, count(*) AS points, max(m.step) AS lastStep,
           (SELECT l.value FROM metric_last l WHERE l.run_uuid = m.run_uuid AND l.key = m.key) AS last
         FROM metrics m WHERE m.run_uuid IN (${placeholders(runs)}) AND ${FINITE_METRIC('m')}
         GROUP BY m.run_uuid, m.key ORDER BY m.key`,
      )
      .all(...runs) as MetricStatsRow[]
  }

  tags(runs: readonly string[]): { run: string; tag: string }[] {
    return this.db.prepare(`SELECT run_uuid AS run, tag FROM tags WHERE run_uuid IN (${placeholders(runs)}) ORDER BY tag`).all(...runs) as {
      run: string
      tag: string
    }[]
  }

  artifacts(runs: readonly string[]): { run: string; path: string; sha256: string; size: number }[] {
    return this.db
      .prepare(`SELECT run_uuid AS run, path, sha256, size FROM artifacts WHERE run_uuid IN (${placeholders(runs)}) ORDER BY path`)
      .all(...runs) as { run: string; path: string; sha256: string; size: number }[]
  }
}
