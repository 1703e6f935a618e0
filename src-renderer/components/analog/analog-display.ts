// Display helpers of the analog room: number formats, the four accuracy variants and their colours, CSV of a HIL run.
import { toCsv, type HilResult } from '../../../src-main/contract/index.ts'
import { palette } from '../../lib/palette.ts'

export const pct = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(1)}%`)

/** Three significant digits, without trailing zeros (as the CLI prints them). */
export const num = (v: number, digits = 3): string => (Number.isFinite(v) ? Number(v.toPrecision(digits)).toString() : '–')

/** "4 min ago" from a time stamp. */
export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, (now - ms) / 1000)
  if (s < 60) return 'just now'
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`
  return `${Math.round(s / 86_400)} d ago`
}

export type Variant = keyof HilResult['accuracy']

/** The accuracy variants in the order of the bars, with the words and colours used everywhere in the room. */
export const VARIANTS: { key: Variant; label: string; color: string }[] = [
  { key: 'float', label: 'float', color: palette.muted },
  { key: 'associative', label: 'associative sim', color: palette.accent },
  { key: 'ordered', label: 'ordered sim', color: palette.orange },
  { key: 'measured', label: 'measured', color: palette.good },
]

/** Accuracies per variant (and per epoch for fine-tuning), one row each. */
export function accuracyCsv(r: HilResult): string {
  const head = ['run', 'kind', 'device', 'calibrated', 'samples', 'epoch', 'loss', 'variant', 'accuracy']
  const rows = r.epochs.length
    ? r.epochs.flatMap((e) => VARIANTS.map((v) => [r.run, r.kind, r.deviceId, String(r.calibrated), r.samples, e.epoch, e.loss, v.key, e.accuracy[v.key]]))
    : VARIANTS.map((v) => [r.run, r.kind, r.deviceId, String(r.calibrated), r.samples, null, null, v.key, r.accuracy[v.key]])
  return toCsv([head, ...rows])
}

/** The per-layer comparison of simulated against measured outputs. */
export function layersCsv(r: HilResult): string {
  const head = [
    'layer',
    'label',
    'outputs',
    'measured_mean',
    'measured_std',
    'ordered_rms',
    'ordered_correlation',
    'associative_rms',
    'associative_correlation',
  ]
  return toCsv([
    head,
    ...r.perLayer.map((l) => [
      l.layer,
      l.label,
      l.outputs,
      l.measured.mean,
      l.measured.std,
      l.ordered.rms,
      l.ordered.correlation,
      l.associative.rms,
      l.associative.correlation,
    ]),
  ])
}

/** A y = x reference line across the range of the points (x measured, y simulated). */
export function identityLine(values: number[]): Record<string, unknown> {
  const lo = Math.min(...values)
  const hi = Math.max(...values)
  return { type: 'scatter', mode: 'lines', name: 'y = x', x: [lo, hi], y: [lo, hi], line: { color: palette.muted, dash: 'dash', width: 1 }, hoverinfo: 'skip' }
}

/**
 * Whether ordering made no difference: the ordered and associative simulations agree on every layer (to the last
 * digit shown) and in accuracy. Ordering only matters when an operand group saturates before its chunk is summed.
 */
export function orderingMadeNoDifference(result: HilResult): boolean {
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b))
  return (
    result.perLayer.length > 0 &&
    result.perLayer.every((l) => same(l.ordered.rms, l.associative.rms) && same(l.ordered.correlation, l.associative.correlation)) &&
    result.accuracy.ordered === result.accuracy.associative
  )
}
