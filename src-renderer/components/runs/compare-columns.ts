// The params and metrics of a run comparison as columns of values (one per run), for the parallel coordinates and the
// scatter: which are numbers, how an axis is scaled (log where positive values span two decades or more), and the
// ticks of a log axis, drawn as log₁₀ but labelled with the real values.
import type { RunComparison } from '../../../src-main/contract/index.ts'
import { formatNumber } from '../../lib/format.ts'
import { seriesColors } from '../../lib/palette.ts'
import type { ColumnId, MetricStat } from '../../state/compare-url.ts'

export interface CompareColumn {
  id: ColumnId
  kind: 'param' | 'metric'
  key: string
  /** The key, and for a metric which statistic. */
  label: string
  /** One per run: a number, a text (a param whose values are not all numbers), or null where the run lacks it. */
  values: (number | string | null)[]
  numeric: boolean
  differs: boolean
  /** Which way is better, for metrics. */
  direction: 'max' | 'min' | null
}

const asNumber = (text: string): number | null => {
  if (text.trim() === '') return null
  const n = Number(text)
  return Number.isFinite(n) ? n : null
}

export function compareColumns(comparison: RunComparison, stat: MetricStat = 'last'): CompareColumn[] {
  const params = comparison.params.map((p): CompareColumn => {
    const present = p.values.filter((v): v is string => v !== null)
    const numeric = present.length > 0 && present.every((v) => asNumber(v) !== null)
    return {
      id: `p:${p.key}`,
      kind: 'param',
      key: p.key,
      label: p.key,
      values: numeric ? p.values.map((v) => (v === null ? null : asNumber(v))) : p.values,
      numeric,
      differs: p.differs,
      direction: null,
    }
  })
  const metrics = comparison.metrics.map((m): CompareColumn => ({
    id: `m:${m.key}`,
    kind: 'metric',
    key: m.key,
    label: stat === 'last' ? m.key : `${m.key} (${stat})`,
    values: m.stats.map((s) => s?.[stat] ?? null),
    numeric: true,
    differs: m.differs,
    direction: m.direction,
  }))
  return [...params, ...metrics]
}

/** The colour of the i-th compared run, the same in every table and plot of the comparison. */
export const runColor = (i: number): string => seriesColors[i % seriesColors.length]!

/** Whether positive values span two decades or more (and none is zero or negative): such an axis is drawn as log₁₀. */
export function spansDecades(values: readonly number[]): boolean {
  if (values.length < 2 || values.some((v) => !(v > 0))) return false
  return Math.max(...values) / Math.min(...values) >= 100
}

export type AxisScale = { kind: 'linear'; min: number; max: number } | { kind: 'log'; min: number; max: number } | { kind: 'category'; categories: string[] }

/** How a column is laid on an axis; categories sorted (numbers by value), a missing value is its own '–' category. */
export function axisScale(column: CompareColumn): AxisScale {
  if (!column.numeric) {
    const present = [...new Set(column.values.filter((v): v is string => v !== null).map(String))]
    present.sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
    return { kind: 'category', categories: column.values.includes(null) ? ['–', ...present] : present }
  }
  const numbers = column.values.filter((v): v is number => typeof v === 'number')
  const min = numbers.length ? Math.min(...numbers) : 0
  const max = numbers.length ? Math.max(...numbers) : 1
  return spansDecades(numbers) ? { kind: 'log', min, max } : { kind: 'linear', min, max }
}

/** Where the runs that lack a value sit on a numeric axis: a step below the lowest value (in axis units). */
export function missingSlot(low: number, high: number): number {
  const span = high - low || Math.abs(high) || 1
  return low - span * 0.15
}

/** Ticks of a log₁₀ axis from `min` to `max` (real values): every power of ten between, and the ends when few. */
export function logTicks(min: number, max: number): { vals: number[]; text: string[] } {
  const low = Math.log10(min)
  const high = Math.log10(max)
  const vals: number[] = []
  for (let k = Math.ceil(low - 1e-9); k <= Math.floor(high + 1e-9); k++) vals.push(k)
  if (vals.length < 3) {
    if (!vals.some((v) => Math.abs(v - low) < 0.15)) vals.unshift(low)
    if (!vals.some((v) => Math.abs(v - high) < 0.15)) vals.push(high)
  }
  return { vals, text: vals.map((v) => formatNumber(10 ** v, 3)) }
}

/** A value as drawn on its axis: log₁₀ on a log axis, the category's index, else the value itself. */
export function toAxis(scale: AxisScale, value: number | string | null): number | null {
  if (scale.kind === 'category') {
    const at = scale.categories.indexOf(value === null ? '–' : String(value))
    return at < 0 ? null : at
  }
  if (typeof value !== 'number') return null
  return scale.kind === 'log' ? Math.log10(value) : value
}

/** The inverse of toAxis for numbers: a brushed range on a log axis back to real values. */
export function fromAxis(scale: AxisScale, value: number): number {
  return scale.kind === 'log' ? 10 ** value : value
}

/** Which runs fall inside every brushed axis (a run inside any one range of an axis passes that axis). */
export function insideBrushes(columns: readonly CompareColumn[], brushes: readonly { axis: ColumnId; range: [number, number] }[], runs: number): boolean[] {
  const byAxis = new Map<ColumnId, [number, number][]>()
  for (const b of brushes) byAxis.set(b.axis, [...(byAxis.get(b.axis) ?? []), b.range])
  return Array.from({ length: runs }, (_, i) =>
    [...byAxis].every(([axis, ranges]) => {
      const column = columns.find((c) => c.id === axis)
      if (!column) return true
      const scale = axisScale(column)
      const raw = column.values[i] ?? null
      const value = scale.kind === 'category' ? toAxis(scale, raw) : typeof raw === 'number' ? raw : null
      // Tolerance for the rounding of ranges written into the address.
      return value !== null && ranges.some(([low, high]) => value >= low - 1e-9 * Math.abs(low) && value <= high + 1e-9 * Math.abs(high))
    }),
  )
}
