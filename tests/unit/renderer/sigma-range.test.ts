// The sweep form's σ range: typed values checked in words, and the range a coarse probe suggests.
import { describe, expect, it } from 'vitest'
import type { SweepResult } from '../../../src-main/contract/index.ts'
import { formatSigma, rangeFromProbe, rangeProblem } from '../../../src-renderer/components/robustness/sigma-range.ts'

const decades = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => 10 ** (from + i))

function probe(curves: ((sigma: number) => number)[], clean = 0.9): SweepResult {
  return {
    run: 'r',
    status: 'FINISHED',
    classes: 10,
    strategy: 'grid',
    clean,
    scopes: curves.map((accuracy, i) => ({
      scope: `p${i}`,
      label: `p${i}`,
      curve: [0, ...decades(-3, 10)].map((sigma) => {
        const a = sigma === 0 ? clean : accuracy(sigma)
        return { sigma, accuracy: a, low: a, high: a, repeats: 1 }
      }),
      midpoint: null,
    })),
  }
}

describe('the σ range of the sweep form', () => {
  it('shows σ short and whole', () => {
    expect(formatSigma(1e10)).toBe('1e10')
    expect(formatSigma(1e-2)).toBe('0.01')
    expect(formatSigma(1e-3)).toBe('1e-3')
    expect(formatSigma(100)).toBe('100')
  })

  it('refuses from ≥ to, non-numbers and non-positive values with one plain sentence', () => {
    expect(rangeProblem('100', '1')).toBe('σ from (100) must be below σ to (1).')
    expect(rangeProblem('1', '1')).toBe('σ from (1) must be below σ to (1).')
    expect(rangeProblem('abc', '1')).toBe('σ from must be a number, like 0.01 or 1e-2; got “abc”.')
    expect(rangeProblem('0', '1')).toBe('σ from must be above 0; got 0.')
    expect(rangeProblem('1e-2', '1e13')).toBe('σ to must be at most 1e12; got 1e13.')
    expect(rangeProblem('1e-2', '1e10')).toBeNull()
  })

  it('keeps the fall: from the last flat σ to where accuracy reaches chance', () => {
    // Flat up to 0.1, falling over 1…10, at chance from 100.
    const falls = (sigma: number) => (sigma <= 0.1 ? 0.9 : sigma <= 10 ? 0.5 : 0.1)
    expect(rangeFromProbe(probe([falls]))).toEqual({ from: 0.1, to: 100 })
    // Over every point: the most sensitive sets from, the most robust to.
    const later = (sigma: number) => (sigma <= 10 ? 0.9 : sigma <= 100 ? 0.5 : 0.11)
    expect(rangeFromProbe(probe([falls, later]))).toEqual({ from: 0.1, to: 1000 })
  })

  it('leaves out a point that never reaches chance, and answers null for a model at chance', () => {
    const falls = (sigma: number) => (sigma <= 0.1 ? 0.9 : sigma <= 10 ? 0.5 : 0.1)
    const never = (sigma: number) => (sigma <= 1 ? 0.9 : 0.6)
    expect(rangeFromProbe(probe([falls, never]))).toEqual({ from: 0.1, to: 100 })
    expect(rangeFromProbe(probe([() => 0.1], 0.1))).toBeNull()
  })
})
