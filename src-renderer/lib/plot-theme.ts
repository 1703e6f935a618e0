// The dark plotly look shared by the plots of the Models & Data room (matches styles.css).
export const plotColors = { text: '#c9d1d9', muted: '#8b949e', grid: '#30363d', train: '#58a6ff', validation: '#f0883e', test: '#3fb950' }

export function plotLayout(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    margin: { l: 48, r: 12, t: 28, b: 40 },
    paper_bgcolor: 'transparent',
    plot_bgcolor: 'transparent',
    font: { color: plotColors.text, size: 11 },
    ...extra,
  }
}

export const plotConfig = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ['lasso2d', 'select2d'] }
