import { describe, expect, it } from 'vitest'
import { aupr, auroc, fprAtTpr, rocCurve } from '../../../../src-main/engine/uncertainty/ood.ts'

// In-distribution and OOD scores with ties inside and across the groups.
const IN_TIED = [0.1, 0.4, 0.4, 0.7]
const OOD_TIED = [0.4, 0.7, 0.9]

/** U/(n_ood·n_in) by counting every pair: a win 1, a tie ½. */
function mannWhitney(inScores: number[], oodScores: number[]): number {
  let u = 0
  for (const o of oodScores) for (const s of inScores) u += o > s ? 1 : o === s ? 0.5 : 0
  return u / (inScores.length * oodScores.length)
}

describe('auroc', () => {
  it('is 1 for perfect separation and 0 when inverted', () => {
    expect(auroc([0.1, 0.2, 0.3], [0.5, 0.6])).toBe(1)
    expect(auroc([0.5, 0.6], [0.1, 0.2, 0.3])).toBe(0)
  })

  it('is 0.5 when every score is the same', () => {
    expect(auroc([0.5, 0.5, 0.5], [0.5, 0.5])).toBe(0.5)
  })

  it('counts ties as ½, as the Mann–Whitney U does', () => {
    // OOD 0.4 beats 0.1, ties two 0.4s, loses to 0.7: 1 + ½ + ½ = 2. OOD 0.7: 3 wins + a tie = 3.5. OOD 0.9: 4 wins.
    // U = 9.5 (or by mid-ranks: OOD ranks 3 + 5.5 + 7 = 15.5, minus 3·4/2 = 9.5); AUROC = 9.5/12 = 0.791667.
    expect(auroc(IN_TIED, OOD_TIED)).toBeCloseTo(9.5 / 12, 12)
    expect(mannWhitney(IN_TIED, OOD_TIED)).toBeCloseTo(9.5 / 12, 12)
  })

  it('matches the pair count on scores with many ties', () => {
    const inScores = Array.from({ length: 60 }, (_, i) => (i * 37) % 11)
    const oodScores = Array.from({ length: 45 }, (_, i) => ((i * 13) % 9) + 2)
    expect(auroc(inScores, oodScores)).toBeCloseTo(mannWhitney(inScores, oodScores), 12)
    expect(auroc(Float32Array.from(inScores), Float64Array.from(oodScores))).toBeCloseTo(mannWhitney(inScores, oodScores), 12)
  })

  it('refuses empty or non-finite scores', () => {
    expect(() => auroc([], [1])).toThrow(/in-distribution scores are empty/)
    expect(() => auroc([1], [Number.NaN])).toThrow(/OOD scores hold NaN at index 0/)
  })
})

describe('aupr', () => {
  it('is the step-wise average precision with tied blocks', () => {
    // Thresholds 0.9: TP 1 FP 0 (R 1/3, P 1); 0.7: TP 2 FP 1 (R 2/3, P 2/3); 0.4: TP 3 FP 3 (R 1, P 1/2); 0.1: R stays 1.
    // AP = ⅓·1 + ⅓·⅔ + ⅓·½ = 0.333333 + 0.222222 + 0.166667 = 0.722222.
    expect(aupr(IN_TIED, OOD_TIED)).toBeCloseTo(13 / 18, 12)
  })

  it('is 1 for perfect separation and the OOD share when every score ties', () => {
    expect(aupr([0.1, 0.2, 0.3], [0.5, 0.6])).toBe(1)
    // One block: R 0 → 1 at P = 2/5.
    expect(aupr([0.5, 0.5, 0.5], [0.5, 0.5])).toBeCloseTo(0.4, 12)
  })

  it('is the precision at each hit when scores are distinct', () => {
    // Descending: OOD, in, OOD, in → hits at ranks 1 and 3: AP = ½·(1/1) + ½·(2/3) = 0.833333.
    expect(aupr([0.8, 0.6], [0.9, 0.7])).toBeCloseTo(5 / 6, 12)
  })
})

describe('fprAtTpr', () => {
  it('takes the first threshold reaching 95% TPR', () => {
    // TPR reaches 1 ≥ 0.95 only at threshold 0.4, where FP = 3 of 4 (0.7, 0.4, 0.4).
    expect(fprAtTpr(IN_TIED, OOD_TIED)).toBe(0.75)
  })

  it('accepts exactly 19 of 20 positives as 95%', () => {
    const oodScores = Array.from({ length: 20 }, (_, i) => i + 1) // 1 … 20
    const inScores = [0.5, 1.5, 2.5, 25]
    // Flagging s ≥ 2 catches OOD 2…20 (19/20 = 0.95) and in-distribution 25 and 2.5: FPR 2/4. (20/20 would need s ≥ 1: 3/4.)
    expect(fprAtTpr(inScores, oodScores)).toBe(0.5)
    expect(fprAtTpr(inScores, oodScores, 1)).toBe(0.75)
  })

  it('flags a tied block whole', () => {
    // Threshold 0.9 gives TPR ½; the next, 0.5, takes the OOD 0.5 with both in-distribution 0.5s: FPR 1, not ½.
    expect(fprAtTpr([0.5, 0.5], [0.5, 0.9])).toBe(1)
  })

  it('is 0 for perfect separation', () => {
    expect(fprAtTpr([0.1, 0.2, 0.3], [0.5, 0.6])).toBe(0)
  })

  it('refuses a target outside (0, 1]', () => {
    expect(() => fprAtTpr([1], [2], 0)).toThrow(/TPR target is 0/)
  })
})

describe('rocCurve', () => {
  it('steps through each distinct score from (0, 0) to (1, 1)', () => {
    // 0.9: (0, 1/3); 0.7: (1/4, 2/3); 0.4: (3/4, 1); 0.1: (1, 1).
    expect(rocCurve(IN_TIED, OOD_TIED)).toEqual({ fpr: [0, 0, 0.25, 0.75, 1], tpr: [0, 1 / 3, 2 / 3, 1, 1] })
  })

  it('thins to at most 200 points keeping the exact endpoints', () => {
    const inScores = Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10)
    const oodScores = Array.from({ length: 1000 }, (_, i) => Math.cos(i) * 10 + 3)
    const { fpr, tpr } = rocCurve(inScores, oodScores)
    expect(fpr).toHaveLength(200)
    expect([fpr[0], tpr[0], fpr.at(-1), tpr.at(-1)]).toEqual([0, 0, 1, 1])
    for (let k = 1; k < fpr.length; k++) {
      expect(fpr[k]!).toBeGreaterThanOrEqual(fpr[k - 1]!)
      expect(tpr[k]!).toBeGreaterThanOrEqual(tpr[k - 1]!)
    }
    // The unthinned curve's trapezoid area is the AUROC.
    const full = rocCurve(inScores, oodScores, 5000)
    let area = 0
    for (let k = 1; k < full.fpr.length; k++) area += ((full.fpr[k]! - full.fpr[k - 1]!) * (full.tpr[k]! + full.tpr[k - 1]!)) / 2
    expect(full.fpr).toHaveLength(2001)
    expect(area).toBeCloseTo(auroc(inScores, oodScores), 12)
  })
})
