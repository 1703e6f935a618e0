// Shared display of uncertainty runs: the metrics table's columns and CSV, a run's method in words, numbers as the room
// shows them, the in-distribution / OOD colours, and where σ = 0 goes on a log axis.
import { toCsv, type RunRow, type UncertaintySummary } from '../../../src-main/contract/index.ts'
import { formatNumber } from '../../lib/format.ts'
import { palette } from '../../lib/palette.ts'
import { percent } from '../../lib/quantity.ts'
import { ENSEMBLE_KIND, EVALUATE_KIND, metricOf, paramOf } from '../../state/uncertainty.svelte.ts'

/** In-distribution and out-of-distribution samples, the same in every plot. */
export const IN_COLOR = palette.accent
export const OOD_COLOR = palette.orange

export interface MetricColumn {
  key: keyof UncertaintySummary
  label: string
  title: string
  /** Which way is better; null where neither is (the mean epistemic uncertainty describes, it does not score). */
  better: 'max' | 'min' | null
  /** Shares (accuracy) as percentages; everything else as a number. */
  percent?: boolean
}

/** The metrics table's columns, in order (docs/uncertainty.md defines each). */
export const METRIC_COLUMNS: readonly MetricColumn[] = [
  { key: 'accuracy', label: 'Accuracy', title: 'share of test samples whose most probable class is the label', better: 'max', percent: true },
  { key: 'nll', label: 'NLL', title: 'negative log-likelihood of the label, in nats (lower is better)', better: 'min' },
  { key: 'brier', label: 'Brier', title: 'multi-class Brier score in [0, 2] (lower is better)', better: 'min' },
  { key: 'ece', label: 'ECE', title: 'expected calibration error over equal-width confidence bins (lower is better)', better: 'min' },
  { key: 'mce', label: 'MCE', title: 'maximum calibration error over the non-empty bins (lower is better)', better: 'min' },
  { key: 'adaptiveEce', label: 'Adaptive ECE', title: 'ECE over equal-mass bins (lower is better)', better: 'min' },
  { key: 'meanEpistemic', label: 'Mean epistemic', title: 'mean mutual information between prediction and member, in nats', better: null },
  { key: 'aurc', label: 'AURC', title: 'area under the risk–coverage curve (lower is better)', better: 'min' },
  { key: 'aurocEntropy', label: 'AUROC entropy', title: 'OOD detection by predictive entropy: area under the ROC curve', better: 'max' },
  { key: 'aurocMi', label: 'AUROC MI', title: 'OOD detection by mutual information: area under the ROC curve', better: 'max' },
  { key: 'auprEntropy', label: 'AUPR entropy', title: 'OOD detection by predictive entropy: average precision, OOD positive', better: 'max' },
  { key: 'auprMi', label: 'AUPR MI', title: 'OOD detection by mutual information: average precision, OOD positive', better: 'max' },
  {
    key: 'fpr95Entropy',
    label: 'FPR@95 entropy',
    title: 'false-positive rate where 95% of OOD samples are caught by entropy (lower is better)',
    better: 'min',
  },
  {
    key: 'fpr95Mi',
    label: 'FPR@95 MI',
    title: 'false-positive rate where 95% of OOD samples are caught by mutual information (lower is better)',
    better: 'min',
  },
]

export function metricText(column: MetricColumn, value: number | null | undefined): string {
  return column.percent ? percent(value) : formatNumber(value)
}

/**
 * A run's method in a few words: the ensemble and how it was trained, or what an evaluation evaluated. `nameOf` gives
 * an ensemble run's (or the model's) name from its uuid.
 */
export function methodText(row: RunRow, nameOf: (uuid: string) => string): string {
  const param = (key: Parameters<typeof paramOf>[1]) => paramOf(row, key)
  if (row.kind === ENSEMBLE_KIND) {
    const heads = param('heads') ?? '?'
    if (param('method') === 'deep') return `deep ensemble ×${heads}`
    const repulsion = param('repulsion')
    if (repulsion === 'none') return `last-layer ensemble ×${heads}, no repulsion`
    return `last-layer ×${heads}, ${repulsion} repulsion (${param('form')}, ${param('samples')} samples, weight ${param('repulsionWeight')})`
  }
  if (row.kind === EVALUATE_KIND) {
    const ensemble = param('ensemble')
    // Params are stored as text: a null OOD set reads 'null'.
    const ood = param('oodDataset') === 'null' ? null : param('oodDataset')
    const noise = param('noise') === null ? '' : ', under noise'
    const analog = param('analog') === null ? '' : ', analog body'
    return `evaluation of ${ensemble ? nameOf(ensemble) : '?'} (OOD ${ood ?? 'none'}${noise}${analog})`
  }
  const rounds = param('rounds') ?? '?'
  return `${param('acquire') ?? '?'} acquisition, ${rounds} round${rounds === '1' ? '' : 's'}`
}

/** The metrics table as CSV: one row per run, the raw numbers (empty where a run has no such metric). */
export function metricsCsv(rows: readonly RunRow[], nameOf: (uuid: string) => string): string {
  return toCsv([
    ['run', 'name', 'kind', 'method', ...METRIC_COLUMNS.map((c) => c.key)],
    ...rows.map((row) => [row.uuid, row.name, row.kind, methodText(row, nameOf), ...METRIC_COLUMNS.map((c) => metricOf(row, c.key))]),
  ])
}

export function sigmaText(value: number): string {
  return value === 0 ? '0' : value >= 1000 || value < 0.01 ? value.toExponential(1) : Number(value.toPrecision(3)).toString()
}

/**
 * A log σ axis that also shows σ = 0: zero is drawn one decade left of the smallest σ, past a break in the axis, with
 * ticks at each σ measured (at decades when there are many) and "0" at the break.
 */
export function sigmaAxis(sigmas: readonly number[]): { zeroAt: number; breakAt: number; tickvals: number[]; ticktext: string[] } {
  const positive = sigmas.filter((s) => s > 0).sort((a, b) => a - b)
  const smallest = positive[0] ?? 1
  const zeroAt = smallest / 10
  const breakAt = smallest / Math.sqrt(10)
  let ticks = positive
  if (positive.length > 8) {
    const low = Math.floor(Math.log10(smallest))
    const high = Math.ceil(Math.log10(positive.at(-1)!))
    ticks = Array.from({ length: high - low + 1 }, (_, i) => 10 ** (low + i)).filter((t) => t > breakAt)
  }
  return { zeroAt, breakAt, tickvals: [zeroAt, ...ticks], ticktext: ['0', ...ticks.map(sigmaText)] }
}
