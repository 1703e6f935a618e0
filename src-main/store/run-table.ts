// The run table: one page of runs, filtered, sorted and counted in SQL, with chosen param and metric columns, and the
// keys runs have for the column pickers. Stays fast at 10,000 runs × 100 metric rows (bench/run-table.ts).
import type { Database } from 'better-sqlite3'
import type { ColumnValue, ParsedRunQuery, QueryNode, RunPage, RunRow, RunSortKey } from '../contract/index.ts'
import { DURATION_SQL, LAST_METRIC_SQL, PARAM_SORT_SQL, PARAM_SQL, compileRunQuery, type SqlFragment } from './run-query.ts'
import { RUNS_FROM, SUMMARY_COLUMNS, runFilterWhere, toSummary, type RunRow as SummaryRow } from './runs.ts'

/** Seconds a run took: to its end, or to `now` while it has none; null before it starts. The SQL twin is DURATION_SQL. */
export function durationSeconds(startTime: number | null, endTime: number | null, now: number): number | null {
  return startTime === null ? null : ((endTime ?? now) - startTime) / 1000
}

const ATTRIBUTE_SORT: Record<Exclude<Extract<RunSortKey, string>, 'duration'>, string> = {
  created: 'r.created_at',
  started: 'r.start_time',
  name: 'r.name COLLATE NOCASE',
  kind: 'r.kind',
  status: 'r.status',
}

/**
 * The statements behind a page: the ids of the page's runs (filter, sort, offset, limit) and the count of every match.
 * Built apart from running them so the tests can check their query plans.
 */
export function pageStatements(query: ParsedRunQuery, where: QueryNode | null, now: number): { ids: SqlFragment; count: SqlFragment } {
  const filter = runFilterWhere(query)
  const clauses = [...filter.where]
  const args = [...filter.args]
  if (where) {
    const compiled = compileRunQuery(where, now)
    clauses.push(compiled.sql)
    args.push(...compiled.args)
  }
  const from = `${RUNS_FROM} ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''}`
  const order = orderBy(query.sort, now)
  return {
    ids: { sql: `SELECT r.rowid AS id ${from} ORDER BY ${order.sql} LIMIT ? OFFSET ?`, args: [...args, ...order.args, query.limit, query.offset] },
    count: { sql: `SELECT count(*) ${from}`, args },
  }
}

/** ORDER BY for a sort: the key (runs without it last, either way), then newest first and by rowid, so pages are stable. */
function orderBy(sort: ParsedRunQuery['sort'], now: number): SqlFragment {
  const direction = sort.direction === 'asc' ? 'ASC' : 'DESC'
  const by = sort.by
  if (by === 'created') return { sql: `r.created_at ${direction}, r.rowid ${direction}`, args: [] }
  const tiebreak = 'r.created_at DESC, r.rowid DESC'
  if (by === 'duration') return { sql: `${DURATION_SQL} ${direction} NULLS LAST, ${tiebreak}`, args: [now] }
  if (typeof by === 'string') return { sql: `${ATTRIBUTE_SORT[by]} ${direction} NULLS LAST, ${tiebreak}`, args: [] }
  return { sql: `${by.kind === 'param' ? PARAM_SORT_SQL : LAST_METRIC_SQL} ${direction} NULLS LAST, ${tiebreak}`, args: [by.key] }
}

/**
 * The distinct keys of params or metrics, as a loose index scan (params_by_key, metric_last_by_key): each step seeks
 * the next key above the last one instead of reading every row. A key counts when some live run has it, unless
 * deleted runs are included. Metrics are read from metric_last, so a metric with only non-finite points is not listed.
 */
export function distinctKeysSql(table: 'params' | 'metric_last', includeDeleted: boolean): string {
  const live = includeDeleted ? '' : `AND EXISTS (SELECT 1 FROM ${table} x JOIN runs r ON r.uuid = x.run_uuid WHERE x.key = k.key AND r.deleted_at IS NULL)`
  return `WITH RECURSIVE k(key) AS (
      SELECT min(key) FROM ${table}
      UNION ALL SELECT (SELECT min(key) FROM ${table} WHERE key > k.key) FROM k WHERE k.key IS NOT NULL)
    SELECT key FROM k WHERE key IS NOT NULL ${live} ORDER BY key`
}

export class RunTable {
  constructor(private readonly db: Database) {}

  /**
   * One page: ids first, then the rows and their columns for those ids only, so the column subqueries run once per
   * row shown rather than once per matching run. `where` is the parsed query tree; `now` ends runs still going.
   */
  page(query: ParsedRunQuery, where: QueryNode | null, now = Date.now()): RunPage {
    const statements = pageStatements(query, where, now)
    const ids = this.db
      .prepare(statements.ids.sql)
      .pluck()
      .all(...statements.ids.args) as number[]
    // A first page shorter than the limit is every match: no need to count them again.
    const total =
      query.offset === 0 && ids.length < query.limit
        ? ids.length
        : (this.db
            .prepare(statements.count.sql)
            .pluck()
            .get(...statements.count.args) as number)
    return { rows: this.rows(ids, query.columns, now), total, offset: query.offset }
  }

  /** The page's runs in the order of `ids`, with their column values. */
  private rows(ids: number[], columns: ParsedRunQuery['columns'], now: number): RunRow[] {
    if (ids.length === 0) return []
    const columnSql = columns.map((c, i) => `, ${c.kind === 'param' ? PARAM_SQL : LAST_METRIC_SQL} AS c${i}`).join('')
    const rows = this.db
      .prepare(`SELECT ${SUMMARY_COLUMNS}${columnSql}, r.rowid AS id ${RUNS_FROM} WHERE r.rowid IN (SELECT value FROM json_each(?))`)
      .all(...columns.map((c) => c.key), JSON.stringify(ids)) as (SummaryRow & { id: number } & Record<string, ColumnValue>)[]
    const byId = new Map(rows.map((row) => [row.id, row]))
    return ids.flatMap((id) => {
      const row = byId.get(id)
      if (!row) return []
      return [{ ...toSummary(row), durationS: durationSeconds(row.start_time, row.end_time, now), values: columns.map((_, i) => row[`c${i}`] ?? null) }]
    })
  }

  /** Param and metric keys of live runs (or of all runs), sorted. */
  columns(includeDeleted: boolean): { params: string[]; metrics: string[] } {
    const keys = (table: 'params' | 'metric_last') => this.db.prepare(distinctKeysSql(table, includeDeleted)).pluck().all() as string[]
    return { params: keys('params'), metrics: keys('metric_last') }
  }
}
