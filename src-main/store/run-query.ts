// SQL from a run query's tree (contract/run-query.ts), over `runs r JOIN experiments e`. Every key and every value is
// a bound parameter: the only text that reaches the SQL comes from this file (operators are looked up in a fixed table).
// Each comparison is true or false, never NULL, so `not` means what it says: a run without the key fails
// `params.x = 1` and passes `not params.x = 1`.
import type { QueryComparison, QueryNode, QueryOperator, RunAttribute } from '../contract/run-query.ts'

export interface SqlFragment {
  sql: string
  args: unknown[]
}

const SQL_OPERATOR: Record<Exclude<QueryOperator, '~'>, string> = { '=': '=', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' }

/** The metric's last finite value for run r (highest step, then latest point), as metric_last keeps it (migration 8). */
export const LAST_METRIC_SQL = `(SELECT l.value FROM metric_last l WHERE l.run_uuid = r.uuid AND l.key = ?)`

/** A param's text for run r, or NULL. */
export const PARAM_SQL = `(SELECT p.value FROM params p WHERE p.run_uuid = r.uuid AND p.key = ?)`

/** A param text as a number when it is a JSON number ('0.5', '-1e-3', '8'), else NULL: 'abc' is not 0. */
export const numericText = (column: string): string =>
  `(CASE WHEN json_valid(${column}) AND json_type(${column}) IN ('integer', 'real') THEN CAST(${column} AS REAL) END)`

/**
 * A param as a sort key: numbers as numbers, other text as text. SQLite orders every number before any text, so
 * text values count as above all numbers.
 */
export const PARAM_SORT_SQL = `(SELECT coalesce(${numericText('p.value')}, p.value) FROM params p WHERE p.run_uuid = r.uuid AND p.key = ?)`

/** Seconds from start to end, or to `now` (the one bound argument) while the run has not ended; NULL before it starts. */
export const DURATION_SQL = `((coalesce(r.end_time, ?) - r.start_time) / 1000.0)`

const ATTRIBUTE_SQL: Record<Exclude<RunAttribute, 'duration'>, string> = {
  name: 'r.name',
  kind: 'r.kind',
  status: 'r.status',
  experiment: 'e.name',
  created: 'r.created_at',
  started: 'r.start_time',
}

/** The WHERE condition of a query tree; `now` stands in for the end of runs still going (duration). */
export function compileRunQuery(node: QueryNode, now: number): SqlFragment {
  const args: unknown[] = []
  const walk = (n: QueryNode): string => {
    switch (n.type) {
      case 'and':
      case 'or':
        return `(${n.operands.map(walk).join(n.type === 'and' ? ' AND ' : ' OR ')})`
      case 'not':
        return `(NOT ${walk(n.operand)})`
      case 'comparison':
        return comparison(n, args, now)
    }
  }
  return { sql: walk(node), args }
}

/** `subject op ?` with the value bound; `~` is a case-insensitive "contains". Never NULL (a missing value is false). */
function compare(subject: string, op: QueryOperator, value: unknown, args: unknown[]): string {
  if (op === '~') {
    args.push(String(value).toLowerCase())
    return `coalesce(instr(lower(${subject}), ?) > 0, 0)`
  }
  args.push(value)
  return `coalesce(${subject} ${SQL_OPERATOR[op]} ?, 0)`
}

/** A time attribute against the span a literal names, [from, to). */
function compareSpan(subject: string, op: Exclude<QueryOperator, '~'>, from: number, to: number, args: unknown[]): string {
  switch (op) {
    case '=':
    case '!=':
      args.push(from, to)
      return `${op === '!=' ? 'NOT ' : ''}coalesce(${subject} >= ? AND ${subject} < ?, 0)`
    case '<':
    case '>=':
      args.push(from)
      return `coalesce(${subject} ${SQL_OPERATOR[op]} ?, 0)`
    case '<=':
      args.push(to)
      return `coalesce(${subject} < ?, 0)`
    case '>':
      args.push(to)
      return `coalesce(${subject} >= ?, 0)`
  }
}

function comparison(c: QueryComparison, args: unknown[], now: number): string {
  const { field, op, value } = c
  switch (field.kind) {
    case 'param': {
      args.push(field.key)
      // A number literal compares numerically with params that hold a number; `~` looks for the text as typed.
      const condition =
        value.type === 'number' && op !== '~' ? compare(numericText('p.value'), op, value.value, args) : compare('p.value', op, literalText(c), args)
      return `EXISTS (SELECT 1 FROM params p WHERE p.run_uuid = r.uuid AND p.key = ? AND ${condition})`
    }
    case 'metric': {
      args.push(field.key)
      return compare(LAST_METRIC_SQL, op, value.type === 'number' ? value.value : null, args)
    }
    case 'tags': {
      if (op === '~') {
        args.push(literalText(c).toLowerCase())
        return `EXISTS (SELECT 1 FROM tags t WHERE t.run_uuid = r.uuid AND instr(lower(t.tag), ?) > 0)`
      }
      args.push(literalText(c))
      return `${op === '!=' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM tags t WHERE t.run_uuid = r.uuid AND t.tag = ?)`
    }
    case 'attribute': {
      if (field.name === 'duration') {
        args.push(now)
        return compare(DURATION_SQL, op, value.type === 'number' ? value.value : null, args)
      }
      const subject = ATTRIBUTE_SQL[field.name]
      if (value.type === 'time' && op !== '~') return compareSpan(subject, op, value.from, value.to, args)
      return compare(subject, op, literalText(c), args)
    }
  }
}

function literalText(c: QueryComparison): string {
  const v = c.value
  return v.type === 'text' ? v.value : v.type === 'number' ? v.text : String(v.from)
}
