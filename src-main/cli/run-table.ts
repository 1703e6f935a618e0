// `benchside runs list --where / --sort / --columns`: reads the options into a RunQuery and pages through queryRuns
// until --limit runs (queryRuns answers at most a page at a time).
import {
  BenchsideError,
  RunQuery,
  RunSortKey,
  parseRunField,
  runFieldText,
  type BenchsideApi,
  type ColumnValue,
  type RunColumn,
  type RunRow,
} from '../contract/index.ts'
import { checked } from './api.ts'
import { formatValue } from './run-comparison.ts'

/** The sort as the option writes it: a field, then :asc or :desc (desc when left out, as in the contract). */
export const SORT_SYNTAX = 'field[:asc|:desc], e.g. metrics.test_accuracy, params.lr:asc, duration'

/** `--sort metrics.test_accuracy:asc` as the contract's sort; nothing given leaves the contract's default. */
export function sortOption(value: string | undefined): RunQuery['sort'] {
  if (value === undefined) return undefined
  const suffix = /:(asc|desc)$/i.exec(value.trim())
  const direction = (suffix?.[1]?.toLowerCase() ?? 'desc') as 'asc' | 'desc'
  const field = parseRunField(suffix ? value.trim().slice(0, suffix.index) : value, 'sort')
  const by = field.kind === 'param' || field.kind === 'metric' ? { kind: field.kind, key: field.key } : field.kind === 'tags' ? 'tags' : field.name
  const sortable = RunSortKey.safeParse(by)
  if (!sortable.success) {
    throw new BenchsideError({
      code: 'INVALID_ARGS',
      field: 'sort',
      message: `Invalid argument 'sort': runs cannot be sorted by ${runFieldText(field)}; sort by params.<key>, metrics.<key>, created, started, name, kind, status or duration.`,
    })
  }
  return checked(RunQuery.shape.sort, { by: sortable.data, direction }, 'sort')
}

/** `params.lr,metrics.test_accuracy` as columns; commas inside backquoted keys stay in the key. */
export function columnsOption(value: string | undefined): RunColumn[] {
  if (value === undefined) return []
  const parts = value.match(/(?:[^,`]|`(?:[^`\\]|\\.)*`)+/g) ?? []
  return parts
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const field = parseRunField(part, 'columns')
      if (field.kind !== 'param' && field.kind !== 'metric') {
        throw new BenchsideError({
          code: 'INVALID_ARGS',
          field: 'columns',
          message: `Invalid argument 'columns': '${part}' is not a param or metric; columns are params.<key> or metrics.<key>.`,
        })
      }
      return { kind: field.kind, key: field.key }
    })
}

/** How many runs one queryRuns call may answer, read from the contract. */
const PAGE = RunQuery.shape.limit.removeDefault().maxValue ?? 1000

/** Up to `limit` rows of the query, a page at a time, and how many runs match in all. */
export async function queryAll(api: BenchsideApi, query: RunQuery, limit: number): Promise<{ rows: RunRow[]; total: number }> {
  const rows: RunRow[] = []
  let total = 0
  do {
    const page = await api.queryRuns({ ...query, offset: rows.length, limit: Math.min(PAGE, limit - rows.length) })
    rows.push(...page.rows)
    total = page.total
    if (page.rows.length === 0) break
  } while (rows.length < limit && rows.length < total)
  return { rows, total }
}

/** A column cell in the table: params as written, metrics to six digits, '-' for none (printTable's null). */
export function cellText(value: ColumnValue): string | null {
  return value === null ? null : typeof value === 'number' ? formatValue(value) : value
}
