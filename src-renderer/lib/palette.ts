// The plots' colours in one place. Plotly writes colours into SVG attributes, where CSS custom properties do not
// reach, so these repeat the values of styles.css's :root (keep the two in step).
export const palette = {
  bg: '#0f1419',
  text: '#c9d1d9',
  bright: '#e6edf3',
  muted: '#8b949e',
  grid: '#30363d',
  accent: '#58a6ff',
  primary: '#1f6feb',
  good: '#3fb950',
  bad: '#f85149',
  warn: '#d29922',
  orange: '#f0883e',
  /** The low end of the confusion matrix's scale: a dark blue between the background and the primary. */
  deep: '#132b45',
} as const

/** Series colours in order: for groups, runs or variants that need telling apart (every plot's default colourway). */
export const seriesColors: readonly string[] = [palette.orange, palette.accent, palette.good, '#d2a8ff', '#ff7b72', '#e3b341', '#39c5cf', '#db61a2', '#a5d6ff']

/** A #rrggbb colour with an alpha, for interval bands. */
export function translucent(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16)
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`
}
