// Small display helpers shared by the views.
export function formatTime(ms: number | null): string {
  if (ms === null) return '–'
  const d = new Date(ms)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '–'
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`
}

export function runDuration(run: { startTime: number | null; endTime: number | null }): number | null {
  if (run.startTime === null) return null
  return ((run.endTime ?? Date.now()) - run.startTime) / 1000
}

/** A number in at most `digits` significant digits (4), in exponent form when very small or very large. */
export function formatNumber(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–'
  if (value === 0) return '0'
  const abs = Math.abs(value)
  if (abs < 1e-3 || abs >= 1e6) return value.toExponential(digits - 1).replace(/\.?0+e/, 'e')
  return String(Number(value.toPrecision(digits)))
}
