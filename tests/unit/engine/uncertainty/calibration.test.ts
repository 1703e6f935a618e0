import { describe, expect, it } from 'vitest'
import { adaptiveEce, ece, mce, reliabilityDiagram } from '../../../../src-main/engine/uncertainty/calibration.ts'

const rows = (...values: number[][]): Float32Array => Float32Array.from(values.flat())

// Top-1 confidence 0.9 (right), 0.7 (wrong), 0.55 (right), 0.95 (wrong).
const PROBS = rows([0.9, 0.1], [0.3, 0.7], [0.55, 0.45], [0.95, 0.05])
const LABELS = Int32Array.from([0, 0, 0, 1])

describe('reliabilityDiagram', () => {
  it('bins top-1 confidence into (i/B, (i+1)/B]', () => {
    const bins = reliabilityDiagram(PROBS, LABELS, 2, 5)
    expect(bins.map((b) => [b.lower, b.upper, b.count])).toEqual([
      [0, 0.2, 0],
      [0.2, 0.4, 0],
      [0.4, 0.6, 1],
      [0.6, 0.8, 1],
      [0.8, 1, 2],
    ])
    expect(bins[0]!.meanConfidence).toBeNull()
    expect(bins[1]!.accuracy).toBeNull()
    expect(bins[2]!.meanConfidence).toBeCloseTo(0.55, 6)
    expect(bins[2]!.accuracy).toBe(1)
    expect(bins[3]!.meanConfidence).toBeCloseTo(0.7, 6)
    expect(bins[3]!.accuracy).toBe(0)
    // (0.9 + 0.95)/2 = 0.925, one of two right.
    expect(bins[4]!.meanConfidence).toBeCloseTo(0.925, 6)
    expect(bins[4]!.accuracy).toBe(0.5)
  })

  it('puts a confidence on an edge in the lower bin, 0 in the first and 1 in the last', () => {
    // Rows need not sum to 1, which lets confidences 0.4 and 0 appear with 2 classes.
    const probs = rows([0.6, 0.4], [0.6000001, 0.3999999], [0.4, 0.3], [0, 0], [1, 0])
    const counts = reliabilityDiagram(probs, Int32Array.from([0, 0, 0, 0, 0]), 2, 5).map((b) => b.count)
    // 0.6f → (0.4, 0.6]; just above 0.6 → (0.6, 0.8]; 0.4f → (0.2, 0.4]; 0 → bin 0; 1 → (0.8, 1].
    expect(counts).toEqual([1, 1, 1, 1, 1])
  })

  it('uses 15 bins by default', () => {
    expect(reliabilityDiagram(PROBS, LABELS, 2)).toHaveLength(15)
  })
})

describe('ece and mce', () => {
  it('weights each bin gap by its share of samples', () => {
    // Gaps: bin 2 |1 − 0.55| = 0.45, bin 3 |0 − 0.7| = 0.7, bin 4 |0.5 − 0.925| = 0.425.
    // ECE = ¼·0.45 + ¼·0.7 + ½·0.425 = 0.1125 + 0.175 + 0.2125 = 0.5.
    expect(ece(PROBS, LABELS, 2, 5)).toBeCloseTo(0.5, 6)
    // MCE = max(0.45, 0.7, 0.425) = 0.7.
    expect(mce(PROBS, LABELS, 2, 5)).toBeCloseTo(0.7, 6)
  })

  it('gives one gap for one bin', () => {
    // Mean confidence (0.9 + 0.7 + 0.55 + 0.95)/4 = 0.775, accuracy 0.5: |0.5 − 0.775| = 0.275.
    expect(ece(PROBS, LABELS, 2, 1)).toBeCloseTo(0.275, 6)
    expect(mce(PROBS, LABELS, 2, 1)).toBeCloseTo(0.275, 6)
  })

  it('separates every sample at the default 15 bins', () => {
    // 0.55 ∈ (8/15, 9/15], 0.7 ∈ (10/15, 11/15], 0.9 ∈ (13/15, 14/15], 0.95 ∈ (14/15, 1]: (0.45 + 0.7 + 0.1 + 0.95)/4 = 0.55.
    expect(ece(PROBS, LABELS, 2)).toBeCloseTo(0.55, 6)
    expect(mce(PROBS, LABELS, 2)).toBeCloseTo(0.95, 6)
  })

  it('is 0 when confidence matches accuracy in every bin', () => {
    // Two samples at 0.5 confidence, one right and one wrong.
    expect(ece(rows([0.5, 0.5], [0.5, 0.5]), Int32Array.from([0, 1]), 2, 10)).toBe(0)
  })

  it('refuses a bin count below 1', () => {
    expect(() => ece(PROBS, LABELS, 2, 0)).toThrow(/number of bins is 0/)
  })
})

describe('adaptiveEce', () => {
  it('groups equal numbers of samples in confidence order', () => {
    // Sorted: 0.55 (right), 0.7 (wrong), 0.9 (right), 0.95 (wrong). B = 3: positions ⌊g·4/3⌋ = 0, 1, 2, 4 → sizes 1, 1, 2.
    // (|1 − 0.55| + |0 − 0.7| + 2·|0.5 − 0.925|)/4 = (0.45 + 0.7 + 0.85)/4 = 0.5.
    expect(adaptiveEce(PROBS, LABELS, 2, 3)).toBeCloseTo(0.5, 6)
  })

  it('skips empty groups when there are more bins than samples', () => {
    // B = 8 > N = 4: every sample alone: (0.45 + 0.7 + 0.1 + 0.95)/4 = 0.55.
    expect(adaptiveEce(PROBS, LABELS, 2, 8)).toBeCloseTo(0.55, 6)
  })

  it('equals ECE for one bin', () => {
    expect(adaptiveEce(PROBS, LABELS, 2, 1)).toBeCloseTo(0.275, 6)
  })
})
