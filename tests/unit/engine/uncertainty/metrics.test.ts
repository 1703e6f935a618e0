import { describe, expect, it } from 'vitest'
import {
  accuracy,
  brier,
  disagreement,
  meanPairwiseKl,
  nll,
  predictiveEntropy,
  predictiveMean,
  uncertaintyDecomposition,
} from '../../../../src-main/engine/uncertainty/metrics.ts'

const rows = (...values: number[][]): Float32Array => Float32Array.from(values.flat())
const LN2 = Math.log(2)

// 4 samples × 2 classes: argmax 0, 1, 0, 1 against labels 0, 1, 1, 0.
const PROBS = rows([0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8])
const LABELS = Int32Array.from([0, 1, 1, 0])

describe('predictiveMean', () => {
  it('averages the members elementwise', () => {
    const mean = predictiveMean([rows([0.2, 0.8], [1, 0]), rows([0.6, 0.4], [0, 1])], 2)
    // (0.2 + 0.6)/2 = 0.4, (0.8 + 0.4)/2 = 0.6; (1 + 0)/2 = 0.5 twice.
    expect(Array.from(mean)).toEqual([0.4, 0.6, 0.5, 0.5].map(Math.fround))
  })

  it('returns a single member unchanged', () => {
    expect(Array.from(predictiveMean([PROBS], 2))).toEqual(Array.from(PROBS))
  })
})

describe('accuracy', () => {
  it('counts argmax hits', () => {
    // Hits on samples 0 and 1 only: 2/4.
    expect(accuracy(PROBS, LABELS, 2)).toBe(0.5)
  })

  it('breaks a tie toward the lowest class', () => {
    expect(accuracy(rows([0.5, 0.5]), Int32Array.from([0]), 2)).toBe(1)
    expect(accuracy(rows([0.5, 0.5]), Int32Array.from([1]), 2)).toBe(0)
  })
})

describe('nll', () => {
  it('is the mean −ln p_y in nats', () => {
    // p_y = 0.9, 0.7, 0.4, 0.2: (0.105361 + 0.356675 + 0.916291 + 1.609438)/4 = 0.746941.
    expect(nll(PROBS, LABELS, 2)).toBeCloseTo(0.746941, 6)
  })

  it('clamps a zero probability at 1e-12', () => {
    // −ln(1e-12) = 12·ln 10 = 27.631021.
    expect(nll(rows([1, 0]), Int32Array.from([1]), 2)).toBeCloseTo(27.631021, 5)
  })
})

describe('brier', () => {
  it('sums the squared errors over classes and averages over samples', () => {
    // (0.1² + 0.1²) + (0.3² + 0.3²) + (0.6² + 0.6²) + (0.8² + 0.8²) = 0.02 + 0.18 + 0.72 + 1.28 = 2.2; /4 = 0.55.
    expect(brier(PROBS, LABELS, 2)).toBeCloseTo(0.55, 6)
  })

  it('is not divided by the number of classes', () => {
    // Confidently wrong over 3 classes: (1 − 0)² + 0² + (0 − 1)² = 2, not 2/3.
    expect(brier(rows([1, 0, 0]), Int32Array.from([2]), 3)).toBe(2)
    expect(brier(rows([0, 0, 1]), Int32Array.from([2]), 3)).toBe(0)
  })
})

describe('predictiveEntropy', () => {
  it('is ln C for a flat row and 0 for a one-hot row', () => {
    const h = predictiveEntropy(rows([0.25, 0.25, 0.25, 0.25], [0, 1, 0, 0]), 4)
    expect(h[0]).toBeCloseTo(Math.log(4), 12) // 4·(−¼·ln ¼) = ln 4 = 1.386294
    expect(h[1]).toBe(0) // 0·ln 0 = 0
  })
})

describe('uncertaintyDecomposition', () => {
  it('puts a flat, unanimous ensemble in aleatoric only', () => {
    const flat = rows([0.5, 0.5])
    const { total, aleatoric, epistemic } = uncertaintyDecomposition([flat, flat, flat], 2)
    // H[p̄] = H[(½, ½)] = ln 2 = 0.693147; every member has the same entropy, so MI = 0.
    expect(total[0]).toBeCloseTo(LN2, 12)
    expect(aleatoric[0]).toBeCloseTo(LN2, 12)
    expect(epistemic[0]).toBe(0)
  })

  it('puts confident members of different classes in epistemic only', () => {
    const { total, aleatoric, epistemic } = uncertaintyDecomposition([rows([1, 0]), rows([0, 1])], 2)
    // p̄ = (½, ½): H = ln 2; each member is one-hot: H = 0; MI = ln 2.
    expect(total[0]).toBeCloseTo(LN2, 12)
    expect(aleatoric[0]).toBe(0)
    expect(epistemic[0]).toBeCloseTo(LN2, 12)
  })

  it('splits a mixed case', () => {
    const { total, aleatoric, epistemic } = uncertaintyDecomposition([rows([0.9, 0.1], [0.9, 0.1]), rows([0.1, 0.9], [0.9, 0.1])], 2)
    // Sample 0: H[(½, ½)] = 0.693147; H(0.9) = −(0.9 ln 0.9 + 0.1 ln 0.1) = 0.094825 + 0.230259 = 0.325083; MI = 0.368064.
    expect(total[0]).toBeCloseTo(0.693147, 6)
    expect(aleatoric[0]).toBeCloseTo(0.325083, 6)
    expect(epistemic[0]).toBeCloseTo(0.368064, 6)
    // Sample 1: both members (0.9, 0.1): total = aleatoric = 0.325083, MI = 0.
    expect(total[1]).toBeCloseTo(0.325083, 6)
    expect(epistemic[1]).toBeCloseTo(0, 12)
  })

  it('never reports a negative mutual information', () => {
    // Three equal members of this row: computed H[p̄] − mean H[p_m] = −1.1e-16 by rounding, before the clamp.
    const member = rows([0.6128864288330078, 0.2862263023853302, 0.10088726878166199])
    const { epistemic } = uncertaintyDecomposition([member, member, member], 3)
    expect(epistemic[0]).toBe(0)
  })
})

describe('disagreement', () => {
  it('averages the fraction of members off the ensemble argmax', () => {
    const members = [rows([0.3, 0.7], [0.4, 0.6]), rows([0.9, 0.1], [0.2, 0.8]), rows([0.8, 0.2], [0.3, 0.7])]
    // Sample 0: p̄ = (0.667, 0.333) → class 0; member argmaxes 1, 0, 0 → 1/3. Sample 1: all say 1 → 0. Mean = 1/6.
    expect(disagreement(members, 2)).toBeCloseTo(1 / 6, 12)
  })

  it('is 0 for one member', () => {
    expect(disagreement([PROBS], 2)).toBe(0)
  })
})

describe('meanPairwiseKl', () => {
  it('averages KL over ordered pairs', () => {
    // KL(p‖q), p = (0.5, 0.5), q = (0.9, 0.1): 0.5 ln(0.5/0.9) + 0.5 ln(0.5/0.1) = −0.293893 + 0.804719 = 0.510826.
    // KL(q‖p) = 0.9 ln 1.8 + 0.1 ln 0.2 = 0.529008 − 0.160944 = 0.368064. Mean of the 2 ordered pairs = 0.439445.
    expect(meanPairwiseKl([rows([0.5, 0.5]), rows([0.9, 0.1])], 2)).toBeCloseTo(0.439445, 6)
  })

  it('clamps zero probabilities at 1e-12', () => {
    // KL((1, 0) ‖ (0, 1)) = 1·(ln 1 − ln 1e-12) + 0 = 27.631021, and the same the other way round.
    expect(meanPairwiseKl([rows([1, 0]), rows([0, 1])], 2)).toBeCloseTo(27.631021, 5)
  })

  it('is 0 for identical members and for one member', () => {
    expect(meanPairwiseKl([PROBS, PROBS, PROBS], 2)).toBeCloseTo(0, 12)
    expect(meanPairwiseKl([PROBS], 2)).toBe(0)
  })

  it('matches the pair-by-pair definition on a random ensemble', () => {
    const members = randomEnsemble(4, 5, 3, 7)
    let sum = 0
    for (let i = 0; i < 5; i++) {
      for (let m = 0; m < 4; m++) {
        for (let k = 0; k < 4; k++) {
          if (m === k) continue
          for (let c = 0; c < 3; c++) {
            const p = members[m]![i * 3 + c]!
            const q = members[k]![i * 3 + c]!
            sum += p * (Math.log(Math.max(p, 1e-12)) - Math.log(Math.max(q, 1e-12)))
          }
        }
      }
    }
    expect(meanPairwiseKl(members, 3)).toBeCloseTo(sum / (4 * 3) / 5, 10)
  })
})

/** Softmax rows from a small deterministic generator. */
function randomEnsemble(count: number, samples: number, classes: number, seed: number): Float32Array[] {
  let state = seed
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648
    return state / 2147483648
  }
  return Array.from({ length: count }, () => {
    const out = new Float32Array(samples * classes)
    for (let i = 0; i < samples; i++) {
      const logits = Array.from({ length: classes }, () => 4 * next())
      const z = logits.reduce((s, l) => s + Math.exp(l), 0)
      for (let c = 0; c < classes; c++) out[i * classes + c] = Math.exp(logits[c]!) / z
    }
    return out
  })
}
