// How `benchside runs compare` shows a RunComparison: tables with one column per run (differing rows marked ≠, the best
// run's value marked *), or one CSV through contract/csv.ts. --diff-only keeps the rows where the runs differ.
import { toCsv, type CsvCell, type RunComparison } from '../contract/index.ts'
import { formatDuration, printTable } from './output.ts'

/** Only what differs: params, metrics and tags flagged `differs`, artifacts that are not identical. */
export function onlyDifferences(c: RunComparison): RunComparison {
  return {
    ...c,
    params: c.params.filter((p) => p.differs),
    metrics: c.metrics.filter((m) => m.differs),
    tags: c.tags.filter((t) => t.differs),
    artifacts: c.artifacts.filter((a) => !a.identical),
  }
}

/** A number as a person compares them: six significant digits, no trailing zeros. */
export function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)))
}

const DIFFERS = '≠'
const HASH_PREFIX = 12

export function printComparison(c: RunComparison, diffOnly: boolean): void {
  const ids = c.runs.map((r) => r.uuid.slice(0, 8))
  // One character wide whether or not a section has a difference, so every section lines up.
  const mark = (differs: boolean): string => (differs ? DIFFERS : ' ')
  const section = (title: string, count: number, total: number): boolean => {
    const none = total === 0 ? 'none' : diffOnly ? 'no differences' : null
    console.log(count === 0 && none ? `${title}: ${none}` : title)
    return count > 0
  }

  console.log('Runs')
  printTable(
    ['', 'ID', 'NAME', 'KIND', 'STATUS', 'DURATION'],
    c.runs.map((r, i) => [String(i + 1), ids[i]!, r.name, r.kind, r.status, formatDuration(r.durationS)]),
  )

  const shown = diffOnly ? onlyDifferences(c) : c
  if (section(`Params${diffOnly ? ' that differ' : ''}`, shown.params.length, c.params.length)) {
    printTable(
      ['', 'KEY', ...ids],
      shown.params.map((p) => [mark(p.differs), p.key, ...p.values]),
    )
  }
  if (
    section(
      `Metrics${diffOnly ? ' that differ' : ''} (last, min, max, best; ↑ higher is better, ↓ lower; * the best run)`,
      shown.metrics.length,
      c.metrics.length,
    )
  ) {
    const rows: (string | null)[][] = []
    for (const m of shown.metrics) {
      const arrow = m.direction === 'max' ? '↑' : '↓'
      for (const stat of ['last', 'min', 'max', 'best'] as const) {
        const cells = m.stats.map((s, i) => (s === null ? null : `${formatValue(s[stat])}${stat === 'best' && m.bestRun === i ? ' *' : ''}`))
        rows.push(stat === 'last' ? [mark(m.differs), `${m.key} ${arrow}`, stat, ...cells] : ['', '', stat, ...cells])
      }
    }
    printTable(['', 'METRIC', 'STAT', ...ids], rows)
  }
  if (section(`Tags${diffOnly ? ' that differ' : ''}`, shown.tags.length, c.tags.length)) {
    printTable(
      ['', 'TAG', ...ids],
      shown.tags.map((t) => [mark(t.differs), t.tag, ...t.present.map((p) => (p ? 'yes' : 'no'))]),
    )
  }
  if (section(`Artifacts${diffOnly ? ' that differ' : ''} (sha256, first ${HASH_PREFIX} characters)`, shown.artifacts.length, c.artifacts.length)) {
    printTable(
      ['', 'PATH', ...ids, 'SAME'],
      shown.artifacts.map((a) => [
        mark(!a.identical),
        a.path,
        ...a.files.map((f) => (f === null ? null : f.sha256.slice(0, HASH_PREFIX))),
        a.identical ? 'identical' : '',
      ]),
    )
  }
}

/**
 * The comparison as one CSV: section, key, field, direction (metrics), differs, then one column per run (its uuid).
 * Metrics give a row per statistic and an is_best row; artifacts a sha256 and a size row.
 */
export function comparisonCsv(c: RunComparison): string {
  const rows: CsvCell[][] = [['section', 'key', 'field', 'direction', 'differs', ...c.runs.map((r) => r.uuid)]]
  for (const p of c.params) rows.push(['param', p.key, 'value', '', p.differs, ...p.values])
  for (const m of c.metrics) {
    const stat = (name: string, of: (s: NonNullable<(typeof m.stats)[number]>) => number): void => {
      rows.push(['metric', m.key, name, m.direction, m.differs, ...m.stats.map((s) => (s === null ? null : of(s)))])
    }
    stat('last', (s) => s.last)
    stat('min', (s) => s.min)
    stat('max', (s) => s.max)
    stat('best', (s) => s.best)
    stat('points', (s) => s.points)
    stat('last_step', (s) => s.lastStep)
    rows.push(['metric', m.key, 'is_best', m.direction, m.differs, ...m.stats.map((_, i) => m.bestRun === i)])
  }
  for (const t of c.tags) rows.push(['tag', t.tag, 'present', '', t.differs, ...t.present])
  for (const a of c.artifacts) {
    rows.push(['artifact', a.path, 'sha256', '', !a.identical, ...a.files.map((f) => f?.sha256)])
    rows.push(['artifact', a.path, 'size', '', !a.identical, ...a.files.map((f) => f?.size)])
  }
  return toCsv(rows)
}
