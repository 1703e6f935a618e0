// The run comparison's whole state as the query of its address (#/runs/compare?runs=…), so a reload or a copied link
// shows the same comparison: which runs, which tables show differences only and their key filters, the metric
// statistic, the parallel-coordinates axes and brushed ranges, the scatter's axes, and how the curves are drawn.
// Defaults are left out of the address. Pure: parse and write, nothing else.

export const COMPARE_TABLES = ['params', 'metrics', 'tags', 'artifacts'] as const
export type CompareTable = (typeof COMPARE_TABLES)[number]

export const METRIC_STATS = ['last', 'min', 'max', 'best'] as const
export type MetricStat = (typeof METRIC_STATS)[number]

/** A param or metric of the comparison as an axis: `p:<key>` or `m:<key>`. */
export type ColumnId = `p:${string}` | `m:${string}`

export interface Brush {
  axis: ColumnId
  /** In the axis's own values (real values on a log axis), low before high. */
  range: [number, number]
}

export interface CompareState {
  runs: string[]
  /** Tables that show only the rows where the runs differ. */
  diff: CompareTable[]
  /** A key filter per table (substring, any case). */
  find: Record<CompareTable, string>
  stat: MetricStat
  /** The parallel-coordinates axes in order; null: the default (params that differ, then the metrics). */
  axes: ColumnId[] | null
  /** What the lines are coloured by; null: the first metric axis. */
  color: ColumnId | null
  brushes: Brush[]
  scatterX: ColumnId | null
  scatterY: ColumnId | null
  x: 'step' | 'time'
  logY: boolean
  /** EMA weight, 0 (off) to 0.99. */
  smooth: number
  /** Curves grouped by this param (mean and 95% band per group); null: one line per run. */
  group: string | null
}

export function defaultCompareState(runs: string[] = []): CompareState {
  return {
    runs,
    diff: [],
    find: { params: '', metrics: '', tags: '', artifacts: '' },
    stat: 'last',
    axes: null,
    color: null,
    brushes: [],
    scatterX: null,
    scatterY: null,
    x: 'step',
    logY: false,
    smooth: 0,
    group: null,
  }
}

export function isColumnId(value: string): value is ColumnId {
  return /^[pm]:./.test(value)
}

const column = (value: string | null): ColumnId | null => (value !== null && isColumnId(value) ? value : null)

export function parseCompare(query: URLSearchParams): CompareState {
  const state = defaultCompareState(
    (query.get('runs') ?? '')
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean),
  )
  state.runs = [...new Set(state.runs)]
  const diff = (query.get('diff') ?? '').split(',')
  state.diff = COMPARE_TABLES.filter((t) => diff.includes(t))
  for (const table of COMPARE_TABLES) state.find[table] = query.get(`find.${table}`) ?? ''
  const stat = query.get('stat')
  if (stat && (METRIC_STATS as readonly string[]).includes(stat)) state.stat = stat as MetricStat
  if (query.has('axis')) state.axes = [...new Set(query.getAll('axis').filter(isColumnId))]
  state.color = column(query.get('color'))
  for (const entry of query.getAll('brush')) {
    // low,high,axis: the axis last, since a key may hold commas.
    const [low, high, ...rest] = entry.split(',')
    const axis = rest.join(',')
    const range = [Number(low), Number(high)]
    if (isColumnId(axis) && range.every(Number.isFinite)) state.brushes.push({ axis, range: [Math.min(...range), Math.max(...range)] })
  }
  state.scatterX = column(query.get('sx'))
  state.scatterY = column(query.get('sy'))
  if (query.get('x') === 'time') state.x = 'time'
  state.logY = query.get('log') === '1'
  const smooth = Number(query.get('smooth') ?? 0)
  state.smooth = Number.isFinite(smooth) ? Math.min(Math.max(smooth, 0), 0.99) : 0
  state.group = query.get('group') || null
  return state
}

export function compareQuery(state: CompareState): URLSearchParams {
  const query = new URLSearchParams()
  query.set('runs', state.runs.join(','))
  if (state.diff.length) query.set('diff', COMPARE_TABLES.filter((t) => state.diff.includes(t)).join(','))
  for (const table of COMPARE_TABLES) if (state.find[table]) query.set(`find.${table}`, state.find[table])
  if (state.stat !== 'last') query.set('stat', state.stat)
  if (state.axes) for (const axis of state.axes) query.append('axis', axis)
  if (state.color) query.set('color', state.color)
  for (const b of state.brushes) query.append('brush', `${b.range[0]},${b.range[1]},${b.axis}`)
  if (state.scatterX) query.set('sx', state.scatterX)
  if (state.scatterY) query.set('sy', state.scatterY)
  if (state.x !== 'step') query.set('x', state.x)
  if (state.logY) query.set('log', '1')
  if (state.smooth > 0) query.set('smooth', String(state.smooth))
  if (state.group) query.set('group', state.group)
  return query
}
