// The dark plotly look every plot shares (Plot.svelte applies it): transparent paper, the palette's text and series
// colours, grid lines on every axis unless a plot says otherwise.
import { palette, seriesColors } from './palette.ts'

const AXIS = /^[xy]axis\d*$/

export function plotLayout(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const layout: Record<string, unknown> = {
    margin: { l: 48, r: 12, t: 28, b: 40 },
    paper_bgcolor: 'transparent',
    plot_bgcolor: 'transparent',
    font: { color: palette.text, size: 11 },
    colorway: seriesColors,
    xaxis: {},
    yaxis: {},
    ...extra,
  }
  for (const key of Object.keys(layout)) {
    const axis = layout[key]
    if (AXIS.test(key) && typeof axis === 'object' && axis !== null) layout[key] = { gridcolor: palette.grid, zerolinecolor: palette.grid, ...axis }
  }
  return layout
}

export const plotConfig = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ['lasso2d', 'select2d'] }

/** A tick value in full, short: 0.02, 0.5, 20, 5000, 2e+5 (never the bare leading digit plotly puts between decades). */
function tickText(value: number): string {
  const rounded = Number(value.toPrecision(1))
  return rounded >= 1e5 || rounded < 1e-3 ? rounded.toExponential(0) : String(rounded)
}

/** A log axis labelled once per decade only (1, 10, 100, …): for axes that span several decades, like a roofline's. */
export function decadeAxis(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'log', dtick: 1, ...extra }
}

/**
 * A log axis whose every label reads as a value. Plotly's own log ticks label the minor ticks between decades with a
 * bare "2" and "5" (so the top of an axis could read "2"); here, from the values the axis shows: over three decades or
 * more, one label per decade; over fewer, 1, 2 and 5 per decade written in full (every digit when that gives fewer
 * than three). `extra` (title, range, …) is merged over it.
 */
export function logAxis(values: readonly (number | null | undefined)[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const positive = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0)
  if (positive.length === 0) return { type: 'log', ...extra }
  const lo = Math.min(...positive)
  const hi = Math.max(...positive)
  const span = Math.log10(hi / lo)
  if (span >= 3) return decadeAxis(extra)
  // Candidates a little beyond the data: plotly's autorange pads the axis, and a tick there still shows.
  const pad = Math.pow(10, Math.max(span, 0.3) * 0.1)
  const ticks = (digits: number[]) => {
    const values: number[] = []
    for (let decade = Math.floor(Math.log10(lo / pad)); decade <= Math.ceil(Math.log10(hi * pad)); decade++)
      for (const digit of digits) {
        const value = Number((digit * Math.pow(10, decade)).toPrecision(1))
        if (value >= lo / pad && value <= hi * pad) values.push(value)
      }
    return values
  }
  let tickvals = ticks([1, 2, 5])
  if (tickvals.length < 3) tickvals = ticks([1, 2, 3, 4, 5, 6, 7, 8, 9])
  // Too narrow for two of those ticks: plotly's own ticks inside one decade are written in full.
  if (tickvals.length < 2) return { type: 'log', ...extra }
  return { type: 'log', tickmode: 'array', tickvals, ticktext: tickvals.map(tickText), ...extra }
}
