// CSV as RFC 4180 writes it: every host (UI exports, CLI `--csv`, the latency table) writes and reads CSV with this module.
import { BenchsideError } from './define.ts'

/** A cell as callers have it; null and undefined are empty cells. */
export type CsvCell = string | number | boolean | null | undefined

/** One cell, quoted when it holds a comma, a double quote, or a line break (quotes inside doubled). */
export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return ''
  const text = String(value)
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** Rows (the header first) as CSV text, lines ending in \n, the last one too. */
export function toCsv(rows: readonly (readonly CsvCell[])[]): string {
  return rows.map((row) => row.map(csvCell).join(',')).join('\n') + '\n'
}

/** RFC 4180 rows: quoted fields may hold commas, quotes ("") and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  let i = 0
  const endRow = () => {
    row.push(field)
    rows.push(row)
    row = []
    field = ''
  }
  while (i < text.length) {
    const c = text[i]!
    const next = text[i + 1]
    // Two characters are consumed by an escaped quote ("") and by CRLF, one by everything else.
    let step = 1
    if (quoted) {
      if (c === '"' && next === '"') {
        field += '"'
        step = 2
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"' && field === '') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\r' && next === '\n') {
      endRow()
      step = 2
    } else if (c === '\n') endRow()
    else field += c
    i += step
  }
  if (quoted) throw new BenchsideError({ code: 'INVALID_ARGS', message: 'The CSV ends inside a quoted field; the file is cut off or a quote is not closed.' })
  if (field !== '' || row.length > 0) endRow()
  return rows
}
