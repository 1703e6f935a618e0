// How the CLI prints: aligned tables for people, JSON for scripts, one-line errors that say what to do.
import { BenchsideError } from '../contract/index.ts'

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

export function printTable(headers: string[], rows: (string | number | null)[][]): void {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null ? '-' : String(cell))))]
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)))
  for (const row of cells) {
    process.stdout.write(row.map((cell, i) => (i === row.length - 1 ? cell : (cell ?? '').padEnd(widths[i]!))).join('  ') + '\n')
  }
}

export function formatTime(ms: number | null): string {
  if (ms === null) return '-'
  const d = new Date(ms)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--'
  if (seconds < 60) return `${Math.round(seconds)}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`
}

/**
 * Ends the process with a sentence, not a stack trace: exit 2 for bad input (a value that does not fit, or an id, name
 * or file that does not exist: an unknown architecture, dataset or run), 1 for everything else.
 */
export function exitWithError(error: unknown): never {
  if (error instanceof BenchsideError) {
    process.stderr.write(`benchside: ${error.message}\n`)
    process.exit(error.code === 'INVALID_ARGS' || error.code === 'NOT_FOUND' ? 2 : 1)
  }
  process.stderr.write(`benchside: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
}
