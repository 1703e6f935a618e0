import { describe, expect, it } from 'vitest'
import { summarize } from '../../../../src-main/engine/uncertainty/summary.ts'

const rows = (...values: number[][]): Float32Array => Float32Array.from(values.flat())

// Two identical members: confidence 0.9 (right), 0.7 (wrong), 0.55 (right), 0.95 (wrong).
const MEMBER = rows([0.9, 0.1], [0.3, 0.7], [0.55, 0.45], [0.95, 0.05])
const LABELS = Int32Array.from([0, 0, 0, 1])
// On OOD data the members are confident in opposite classes: p̄ = (½, ½), H = ln 2, MI = 0.368064.
const OOD = [rows([0.9, 0.1], [0.1, 0.9]), rows([0.1, 0.9], [0.9, 0.1])]

describe('summarize', () => {
  it('reports every in-distribution metric', () => {
    const s = summarize({ members: [MEMBER, MEMBER], labels: LABELS, classes: 2, bins: 5 })
    expect(s.accuracy).toBe(0.5)
    // p_y = 0.9, 0.3, 0.55, 0.05: (0.105361 + 1.203973 + 0.597837 + 2.995732)/4 = 1.225726.
    expect(s.nll).toBeCloseTo(1.225726, 5)
    // 2·(0.1² + 0.7² + 0.45² + 0.95²)/4 = 2·(0.01 + 0.49 + 0.2025 + 0.9025)/4 = 0.8025.
    expect(s.brier).toBeCloseTo(0.8025, 6)
    // As in calibration.test.ts: ECE 0.5, MCE 0.7 at 5 bins; adaptive (4 groups at 5 bins, one sample each) 0.55.
    expect(s.ece).toBeCloseTo(0.5, 6)
    expect(s.mce).toBeCloseTo(0.7, 6)
    expect(s.adaptiveEce).toBeCloseTo(0.55, 6)
    // Mean of H(0.9), H(0.7), H(0.55), H(0.95) = (0.325083 + 0.610864 + 0.688139 + 0.198515)/4 = 0.455650.
    expect(s.meanEntropy).toBeCloseTo(0.45565, 5)
    expect(s.meanAleatoric).toBeCloseTo(0.45565, 5)
    expect(s.meanEpistemic).toBeCloseTo(0, 12)
    expect(s.disagreement).toBe(0)
    expect(s.meanPairwiseKl).toBeCloseTo(0, 12)
    // As in risk-coverage.test.ts: risks 1, 1/2, 2/3, 1/2 → 2/3.
    expect(s.aurc).toBeCloseTo(2 / 3, 6)
    expect(s).not.toHaveProperty('aurocEntropy')
  })

  it('adds the OOD metrics when OOD members are given', () => {
    const s = summarize({ members: [MEMBER, MEMBER], labels: LABELS, classes: 2, oodMembers: OOD })
    // OOD entropy ln 2 = 0.693147 tops every in-distribution entropy (max 0.688139); OOD MI 0.368 > in-distribution MI 0.
    expect(s).toMatchObject({ aurocEntropy: 1, aurocMi: 1, auprEntropy: 1, auprMi: 1, fpr95Entropy: 0, fpr95Mi: 0 })
  })

  it('scores a mixed OOD set', () => {
    // OOD sample 1 has both members at (0.9, 0.1), like in-distribution sample 0: H = 0.325083, MI 0.
    const ood = [rows([0.9, 0.1], [0.9, 0.1]), rows([0.1, 0.9], [0.9, 0.1])]
    const s = summarize({ members: [MEMBER, MEMBER], labels: LABELS, classes: 2, oodMembers: ood })
    // Entropy: OOD ln 2 beats 4; OOD 0.325083 beats 0.198515 and ties 0.325083: (4 + 1 + ½)/8 = 0.6875.
    expect(s.aurocEntropy).toBeCloseTo(5.5 / 8, 12)
    // MI: OOD 0.368 beats 4; OOD 0 ties 4: (4 + 2)/8.
    expect(s.aurocMi).toBeCloseTo(6 / 8, 12)
    // 95% TPR needs both OOD samples. Entropy: s ≥ 0.325083 flags in-distribution 0.688, 0.611, 0.325 → 3/4.
    // MI: s ≥ 0 flags all four → 1.
    expect(s.fpr95Entropy).toBe(0.75)
    expect(s.fpr95Mi).toBe(1)
  })

  it('refuses bad OOD members before any work', () => {
    expect(() => summarize({ members: [MEMBER], labels: LABELS, classes: 2, oodMembers: [] })).toThrow(/OOD ensemble has no members/)
  })
})
