import { describe, expect, it } from 'vitest'
import { reward, type RewardInput } from '../../../../src-main/engine/compression/rewards.ts'

const base: RewardInput = { accuracy: 0.9, referenceAccuracy: 0.95, latencyRatio: 0.5, target: 0.25, macs: 1e6 }

describe('reward', () => {
  it('r6: acc + β·|latencyRatio/target − 1|, β = −5 by default', () => {
    expect(reward('r6', base)).toBeCloseTo(0.9 - 5 * 1, 12) // 0.5/0.25 − 1 = 1
    expect(reward('r6', { ...base, latencyRatio: 0.2 })).toBeCloseTo(0.9 - 5 * 0.2, 12) // |0.8 − 1| = 0.2
    expect(reward('r6', { ...base, latencyRatio: 0.25 })).toBeCloseTo(0.9, 12)
    expect(reward('r6', { ...base, latencyRatio: 0.3, beta: -2 })).toBeCloseTo(0.9 - 2 * 0.2, 12)
  })

  it('target-power: acc at or under the target, acc·(ratio/target)^β over it, β = −0.05 by default', () => {
    expect(reward('target-power', { ...base, latencyRatio: 0.2 })).toBe(0.9)
    expect(reward('target-power', { ...base, latencyRatio: 0.25 })).toBe(0.9)
    expect(reward('target-power', base)).toBeCloseTo(0.9 * 2 ** -0.05, 12) // 0.8397…
    expect(reward('target-power', { ...base, latencyRatio: 1, beta: -1 })).toBeCloseTo(0.9 / 4, 12)
  })

  it('log-cost: −log(latencyRatio)·acc/referenceAccuracy', () => {
    expect(reward('log-cost', base)).toBeCloseTo((Math.LN2 * 0.9) / 0.95, 12) // 0.6567
    expect(reward('log-cost', { ...base, latencyRatio: 1 })).toBeCloseTo(0, 12)
    expect(reward('log-cost', { ...base, latencyRatio: 2, accuracy: 0.95 })).toBeCloseTo(-Math.LN2, 12)
  })

  it('amc: −error·log(absolute MACs), rising as error and MACs fall', () => {
    expect(reward('amc', base)).toBeCloseTo(-0.1 * 6 * Math.LN10, 12) // −1.3816
    expect(reward('amc', { ...base, accuracy: 0.8, macs: 1e3 })).toBeCloseTo(-0.2 * 3 * Math.LN10, 12)
    expect(reward('amc', { ...base, macs: 5e5 })).toBeGreaterThan(reward('amc', base))
    expect(reward('amc', { ...base, accuracy: 0.95 })).toBeGreaterThan(reward('amc', base))
  })

  it('refuses bad input', () => {
    expect(() => reward('r6', { ...base, accuracy: NaN })).toThrow(/accuracy must be in \[0, 1\], got NaN/)
    expect(() => reward('r6', { ...base, accuracy: 1.2 })).toThrow(/accuracy must be in \[0, 1\]/)
    expect(() => reward('r6', { ...base, latencyRatio: -0.5 })).toThrow(/latencyRatio must be a positive number, got -0.5/)
    expect(() => reward('log-cost', { ...base, latencyRatio: 0 })).toThrow(/latencyRatio must be a positive number/)
    expect(() => reward('target-power', { ...base, target: 0 })).toThrow(/target must be a positive number, got 0/)
    expect(() => reward('r6', { ...base, target: -1 })).toThrow(/target must be a positive number/)
    expect(() => reward('log-cost', { ...base, referenceAccuracy: 0 })).toThrow(/referenceAccuracy must be in \(0, 1\]/)
    expect(() => reward('amc', { ...base, macs: 0 })).toThrow(/macs must be a positive number/)
    expect(() => reward('r6', { ...base, beta: NaN })).toThrow(/beta must be a finite number/)
  })
})
