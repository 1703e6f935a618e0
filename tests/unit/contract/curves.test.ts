// The maths of the run comparison's curves, against values worked out by hand: TensorBoard's debiased EMA, Student's
// t quantiles (against the printed tables) and a group's mean with its 95% t interval per step.
import { describe, expect, it } from 'vitest'
import { groupBands, smoothEma, studentTCdf, studentTQuantile } from '../../../src-main/contract/index.ts'

describe('smoothEma', () => {
  it('divides the running average by 1 − wⁿ, so the first value is kept and the rest follow', () => {
    // w = 0.5: last = 0.5, 1.25, 2.125; debias 0.5, 0.75, 0.875 → 1, 5/3, 17/7.
    const smoothed = smoothEma([1, 2, 3], 0.5)
    expect(smoothed[0]).toBeCloseTo(1, 12)
    expect(smoothed[1]).toBeCloseTo(5 / 3, 12)
    expect(smoothed[2]).toBeCloseTo(17 / 7, 12)
  })

  it('smooths an alternating series as TensorBoard does', () => {
    // w = 0.6: last = 0, 0.4, 0.24, 0.544; debias 0.4, 0.64, 0.784, 0.8704.
    const smoothed = smoothEma([0, 1, 0, 1], 0.6)
    expect(smoothed[0]).toBeCloseTo(0, 12)
    expect(smoothed[1]).toBeCloseTo(0.625, 12)
    expect(smoothed[2]).toBeCloseTo(0.24 / 0.784, 12)
    expect(smoothed[3]).toBeCloseTo(0.625, 12)
  })

  it('lets non-finite values through without counting them', () => {
    // 10 → 4 / 0.4 = 10; NaN stays; 20 → (4·0.6 + 0.4·20) / (1 − 0.36) = 10.4 / 0.64 = 16.25.
    const smoothed = smoothEma([10, Number.NaN, 20], 0.6)
    expect(smoothed[0]).toBeCloseTo(10, 12)
    expect(smoothed[1]).toBeNaN()
    expect(smoothed[2]).toBeCloseTo(16.25, 12)
  })

  it('leaves the values alone at weight 0, and a constant series at any weight', () => {
    expect(smoothEma([3, 1, 4, 1, 5], 0)).toEqual([3, 1, 4, 1, 5])
    expect(smoothEma([2, 2, 2], 0.9)).toEqual([2, 2, 2])
    expect(smoothEma([], 0.5)).toEqual([])
  })
})

describe("Student's t", () => {
  it('gives the two-sided 95% quantiles of the printed tables', () => {
    const table: [number, number][] = [
      [1, 12.7062047],
      [2, 4.30265273],
      [3, 3.18244631],
      [4, 2.77644511],
      [9, 2.26215716],
      [30, 2.04227246],
    ]
    for (const [df, t] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 6)
    // One-sided 95% at 5 degrees of freedom, and the normal limit.
    expect(studentTQuantile(0.95, 5)).toBeCloseTo(2.01504837, 6)
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.95996398, 5)
  })

  it('is symmetric, and its CDF inverts the quantile', () => {
    expect(studentTQuantile(0.5, 3)).toBe(0)
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.77644511, 6)
    // df = 1 is the Cauchy distribution: P(T ≤ 1) = 3/4.
    expect(studentTCdf(1, 1)).toBeCloseTo(0.75, 12)
    expect(studentTCdf(studentTQuantile(0.9, 7), 7)).toBeCloseTo(0.9, 10)
    expect(studentTQuantile(0, 3)).toBeNaN()
    expect(studentTQuantile(0.9, 0)).toBeNaN()
  })
})

describe('groupBands', () => {
  const a = [
    { step: 0, y: 1, x: 10 },
    { step: 1, y: 2, x: 11 },
    { step: 2, y: 3, x: 12 },
  ]
  const b = [
    { step: 0, y: 3, x: 20 },
    { step: 1, y: 4, x: 21 },
  ]
  const c = [{ step: 0, y: 5, x: 30 }]

  it('gives the mean and the 95% t interval per step, aligned by step', () => {
    const [s0, s1, s2] = groupBands([a, b, c])
    // Step 0: 1, 3, 5 → mean 3, s = 2, half = t(0.975, 2)·2/√3 = 4.30265273 · 1.15470054 = 4.96827...
    expect(s0!.step).toBe(0)
    expect(s0!.n).toBe(3)
    expect(s0!.mean).toBeCloseTo(3, 12)
    expect(s0!.low).toBeCloseTo(3 - 4.968275, 5)
    expect(s0!.high).toBeCloseTo(3 + 4.968275, 5)
    expect(s0!.x).toBeCloseTo(20, 12)
    // Step 1: 2, 4 → mean 3, s = √2, half = t(0.975, 1)·√2/√2 = 12.7062047.
    expect(s1!.n).toBe(2)
    expect(s1!.mean).toBeCloseTo(3, 12)
    expect(s1!.low).toBeCloseTo(3 - 12.7062047, 6)
    expect(s1!.high).toBeCloseTo(3 + 12.7062047, 6)
    expect(s1!.x).toBeCloseTo(16, 12)
    // Step 2: one run → its value, no interval.
    expect(s2).toEqual({ step: 2, x: 12, mean: 3, low: null, high: null, n: 1 })
  })

  it('counts a step logged twice once, with its last value, and leaves non-finite values out', () => {
    const twice = [
      { step: 0, y: 100 },
      { step: 0, y: 2 },
      { step: 1, y: Number.NaN },
    ]
    const other = [
      { step: 0, y: 4 },
      { step: 1, y: 7 },
    ]
    const [s0, s1] = groupBands([twice, other])
    expect(s0!.n).toBe(2)
    expect(s0!.mean).toBeCloseTo(3, 12)
    // s = √2 → half = 12.7062047 again; x falls back to the step.
    expect(s0!.high! - s0!.mean).toBeCloseTo(12.7062047, 6)
    expect(s0!.x).toBe(0)
    expect(s1).toEqual({ step: 1, x: 1, mean: 7, low: null, high: null, n: 1 })
  })

  it('takes another confidence level', () => {
    // 90%: t(0.95, 2) = 2.91998558; step 0 as above → half = 2.91998558 · 2/√3.
    const [s0] = groupBands([a, b, c], 0.9)
    expect(s0!.high! - s0!.mean).toBeCloseTo((2.91998558 * 2) / Math.sqrt(3), 6)
  })
})
