// The run table and run comparison: queryRuns, runColumns and compareRuns, behind the Runs view and
// 'benchside runs list --where / --sort' and 'benchside runs compare'.
import { BenchsideError, metricDirection, parseRunQuery, type MetricStats, type RunComparison } from '../contract/index.ts'
import { durationSeconds } from '../store/run-table.ts'
import type { Store } from '../store/store.ts'
import type { HandlersFor } from './handlers.ts'

type CompareMethod = 'queryRuns' | 'runColumns' | 'compareRuns'

export function compareHandlers(store: Store): HandlersFor<CompareMethod> {
  return {
    queryRuns: (query) => store.runTable.page(query, query.where === undefined ? null : parseRunQuery(query.where)),
    runColumns: ({ includeDeleted }) => store.runTable.columns(includeDeleted),
    compareRuns: ({ runs }) => compareRuns(store, runs),
  }
}

/** Runs side by side; ids are resolved as getRun resolves them (a prefix that fits several runs is a CONFLICT). */
export function compareRuns(store: Store, ids: readonly string[]): RunComparison {
  const uuids = ids.map((id) => store.runs.resolve(id))
  const twice = uuids.findIndex((uuid, i) => uuids.indexOf(uuid) !== i)
  if (twice >= 0) {
    throw new BenchsideError({ code: 'INVALID_ARGS', field: 'runs', message: `Run ${uuids[twice]!.slice(0, 8)} is listed twice; compare each run once.` })
  }
  const column = new Map(uuids.map((uuid, i) => [uuid, i]))
  /** One row per key, one cell per run (in the order asked), filled from rows that name their run. */
  const byKey = <R extends { run: string }, T>(rows: readonly R[], keyOf: (row: R) => string, cellOf: (row: R) => T): Map<string, (T | null)[]> => {
    const table = new Map<string, (T | null)[]>()
    for (const row of rows) {
      const cells = table.get(keyOf(row)) ?? uuids.map(() => null)
      cells[column.get(row.run)!] = cellOf(row)
      table.set(keyOf(row), cells)
    }
    return table
  }

  const now = Date.now()
  const read = store.comparison
  const params = byKey(
    read.params(uuids),
    (p) => p.key,
    (p) => p.value,
  )
  const metrics = byKey(
    read.metricStats(uuids),
    (m) => m.key,
    (m) => m,
  )
  const tags = byKey(
    read.tags(uuids),
    (t) => t.tag,
    () => true,
  )
  const artifacts = byKey(
    read.artifacts(uuids),
    (a) => a.path,
    (a) => ({ sha256: a.sha256, size: a.size }),
  )

  return {
    runs: uuids.map((uuid) => {
      const summary = store.runs.summary(uuid)
      return { ...summary, durationS: durationSeconds(summary.startTime, summary.endTime, now) }
    }),
    params: [...params].map(([key, values]) => ({ key, values, differs: !allEqual(values) })),
    metrics: [...metrics].map(([key, rows]) => {
      const direction = metricDirection(key)
      const stats = rows.map((row): MetricStats | null =>
        row === null
          ? null
          : { last: row.last, min: row.min, max: row.max, best: direction === 'min' ? row.min : row.max, points: row.points, lastStep: row.lastStep },
      )
      return { key, direction, stats, differs: !allEqual(stats.map((s) => s?.last ?? null)), bestRun: bestRun(stats, direction) }
    }),
    tags: [...tags].map(([tag, cells]) => {
      const present = cells.map((cell) => cell === true)
      return { tag, present, differs: !allEqual(present) }
    }),
    artifacts: [...artifacts].map(([path, files]) => ({
      path,
      files,
      identical: files.every((file) => file !== null && file.sha256 === files[0]!.sha256),
    })),
  }
}

/** True when every cell holds the same value; a missing cell (null) differs from any value. */
function allEqual<T>(cells: readonly T[]): boolean {
  return cells.every((cell) => cell === cells[0])
}

/** The run whose best value is best in the metric's direction; null when no run has the metric or two share it. */
function bestRun(stats: readonly (MetricStats | null)[], direction: 'min' | 'max'): number | null {
  let best: number | null = null
  let holders: number[] = []
  stats.forEach((s, i) => {
    if (s === null) return
    if (best === null || (direction === 'min' ? s.best < best : s.best > best)) {
      best = s.best
      holders = [i]
    } else if (s.best === best) holders.push(i)
  })
  return holders.length === 1 ? holders[0]! : null
}
