// The one CSV writer: RFC 4180 quoting, so a label with a comma, a quote or a line break survives a spreadsheet.
import { describe, expect, it } from 'vitest'
import { csvCell, studyCsv, toCsv } from '../../../src-main/contract/index.ts'

/** Cells of RFC 4180 text: quoted cells may hold commas, doubled quotes and line breaks. */
function readCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"'
      i++
    } else if (c === '"') {
      quoted = !quoted
    } else if (!quoted && c === ',') {
      row.push(cell)
      cell = ''
    } else if (!quoted && c === '\n') {
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
    } else {
      cell += c
    }
  }
  return rows
}

describe('toCsv', () => {
  it('leaves plain cells alone and writes empty cells for null and undefined', () => {
    expect(toCsv([['a', 1, 0.5, true, null, undefined]])).toBe('a,1,0.5,true,,\n')
  })

  it('quotes cells with commas, quotes and line breaks, doubling the quotes inside', () => {
    expect(csvCell('fc1, the first')).toBe('"fc1, the first"')
    expect(csvCell('the "wide" layer')).toBe('"the ""wide"" layer"')
    expect(csvCell('two\nlines')).toBe('"two\nlines"')
    expect(csvCell('cr\rhere')).toBe('"cr\rhere"')
    // JSON.stringify would have written "the \"wide\" layer", which a spreadsheet reads as a different text.
    expect(csvCell('the "wide" layer')).not.toBe(JSON.stringify('the "wide" layer'))
  })

  it('reads back: a small RFC 4180 reader gets every cell as it was', () => {
    const rows = [
      ['label', 'value'],
      ['a "b", c', '1'],
      ['two\nlines', ''],
      ['plain', '2'],
    ]
    expect(readCsv(toCsv(rows))).toEqual(rows)
  })

  it('writes the study table the CLI and the UI export, quoting group labels that hold commas', () => {
    const group = {
      key: 'qat4-c0.1',
      label: 'QAT 4-bit, scale 0.1',
      method: 'qat' as const,
      bits: 4,
      scale: 0.1,
      sigma: null,
      trainings: 2,
      cleanAccuracy: 0.8,
      midpoint: 1.5,
      midpointCi: [1, 2] as [number, number],
      curve: [],
      layerMidpoints: {},
      versusFloat: null,
    }
    const [head, row] = studyCsv({ groups: [group] })
      .trimEnd()
      .split('\n')
    expect(head).toBe('method,label,bits,scale,sigma,trainings,clean_accuracy,global_midpoint,ci_low,ci_high,vs_float_paired,vs_float_ci_low,vs_float_ci_high')
    expect(row).toBe('qat,"QAT 4-bit, scale 0.1",4,0.1,,2,0.8,1.5,1,2,,,')
  })
})
