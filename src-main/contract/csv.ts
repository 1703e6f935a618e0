// CSV as RFC 4180 writes it: every host (UI exports, CLI `--csv`) builds its tables with this one writer.
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
