import { describe, expect, it } from 'vitest'
import { aurc, riskCoverage } from '../../../../src-main/engine/uncertainty/risk-coverage.ts'

const rows = (...values: number[][]): Float32Array => Float32Array.from(values.flat())

// Top-1 confidence 0.9 (right), 0.7 (wrong), 0.55 (right), 0.95 (wrong).
const PROBS = rows([0.9, 0.1], [0.3, 0.7], [0.55, 0.45], [0.95, 0.05])
const LABELS = Int32Array.from([0, 0, 0, 1])

describe('riskCoverage', () => {
  it('ranks by confidence, most confident first', () => {
    const { coverage, risk, aurc } = riskCoverage(PROBS, LABELS, 2)
    // Order 0.95 (wrong), 0.9 (right), 0.7 (wrong), 0.55 (right): risks 1/1, 1/2, 2/3, 2/4.
    expect(coverage).toEqual([0.25, 0.5, 0.75, 1])
    expect(risk).toEqual([1, 0.5, 2 / 3, 0.5])
    // AURC = (1 + 0.5 + 0.666667 + 0.5)/4 = 0.666667.
    expect(aurc).toBeCloseTo(2 / 3, 12)
  })

  it('ranks by a given uncertainty, least uncertain first', () => {
    // Order = sample order (right, wrong, right, wrong): risks 0, 1/2, 1/3, 2/4; AURC = (0 + 0.5 + 0.333333 + 0.5)/4 = 0.333333.
    const curve = riskCoverage(PROBS, LABELS, 2, { uncertainty: [0.1, 0.2, 0.3, 0.4] })
    expect(curve.risk).toEqual([0, 0.5, 1 / 3, 0.5])
    expect(curve.aurc).toBeCloseTo(1 / 3, 12)
    // Reversed uncertainty: wrong, right, wrong, right → 1, 1/2, 2/3, 2/4.
    expect(aurc(PROBS, LABELS, 2, Float64Array.from([0.4, 0.3, 0.2, 0.1]))).toBeCloseTo(2 / 3, 12)
  })

  it('keeps sample order among equal uncertainties', () => {
    expect(riskCoverage(PROBS, LABELS, 2, { uncertainty: [1, 1, 1, 1] }).risk).toEqual([0, 0.5, 1 / 3, 0.5])
  })

  it('is 0 everywhere when every prediction is right', () => {
    expect(aurc(PROBS, Int32Array.from([0, 1, 0, 0]), 2)).toBe(0)
  })

  it('thins a long curve to 200 points with exact endpoints', () => {
    const samples = 1000
    const probs = new Float32Array(samples * 2)
    const labels = new Int32Array(samples)
    for (let i = 0; i < samples; i++) {
      const p = 0.5 + (0.5 * ((i * 7919) % samples)) / samples
      probs[2 * i] = p
      probs[2 * i + 1] = 1 - p
      labels[i] = i % 3 === 0 ? 1 : 0
    }
    const thin = riskCoverage(probs, labels, 2)
    const full = riskCoverage(probs, labels, 2, { maxPoints: samples })
    expect(thin.coverage).toHaveLength(200)
    expect(full.coverage).toHaveLength(samples)
    expect(thin.coverage[0]).toBe(1 / samples)
    expect(thin.coverage.at(-1)).toBe(1)
    // At full coverage the risk is the overall error rate: labels 1 on i ≡ 0 (mod 3), 334 of 1000, all predicted 0.
    expect(thin.risk.at(-1)).toBe(0.334)
    expect(thin.risk[0]).toBe(full.risk[0])
    // AURC uses every k, whatever the thinning.
    expect(thin.aurc).toBe(full.aurc)
  })

  it('refuses an uncertainty of the wrong length', () => {
    expect(() => riskCoverage(PROBS, LABELS, 2, { uncertainty: [1, 2, 3] })).toThrow(/3 uncertainties for 4 samples/)
  })
})
