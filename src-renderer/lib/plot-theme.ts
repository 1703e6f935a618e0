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
