// Shared display of a study: one colour per group (table swatch, curve and bar agree), σ in compact notation, labels.
import { groupLabel, type StudyResult } from '../../../src-main/contract/index.ts'
import { palette, seriesColors } from '../../lib/palette.ts'

/**
 * One colour per group label, float always light grey, the others in the grid's order — taken from every variant,
 * pending ones included, so a group keeps its colour while the study fills in.
 */
export function studyColors(study: StudyResult): Map<string, string> {
  const colors = new Map<string, string>()
  for (const v of study.variants) {
    const label = groupLabel(v)
    if (!colors.has(label))
      colors.set(label, v.method === 'float' ? palette.text : seriesColors[[...colors.keys()].filter((l) => l !== 'float').length % seriesColors.length]!)
  }
  return colors
}

export function sigmaText(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–'
  return value >= 1000 || value < 0.01 ? value.toExponential(2) : Number(value.toPrecision(3)).toString()
}
