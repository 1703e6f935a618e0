// Shared display of a study: one colour per group (table swatch, curve and bar agree), σ in compact notation, labels.
import { groupLabel, type StudyResult } from '../../../src-main/contract/index.ts'

const FLOAT_COLOR = '#c9d1d9'
const PALETTE = ['#f0883e', '#58a6ff', '#3fb950', '#d2a8ff', '#ff7b72', '#e3b341', '#39c5cf', '#db61a2', '#a5d6ff']

/**
 * One colour per group label, float always light grey, the others in the grid's order — taken from every variant,
 * pending ones included, so a group keeps its colour while the study fills in.
 */
export function studyColors(study: StudyResult): Map<string, string> {
  const colors = new Map<string, string>()
  for (const v of study.variants) {
    const label = groupLabel(v)
    if (!colors.has(label)) colors.set(label, v.method === 'float' ? FLOAT_COLOR : PALETTE[[...colors.keys()].filter((l) => l !== 'float').length % PALETTE.length]!)
  }
  return colors
}

/** The colour with an alpha, for interval bands. */
export function translucent(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16)
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`
}

export function sigmaText(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–'
  return value >= 1000 || value < 0.01 ? value.toExponential(2) : Number(value.toPrecision(3)).toString()
}
