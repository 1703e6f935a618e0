import { describe, expect, it } from 'vitest'
import { acquisitionScores } from '../../../../src-main/jobs/kinds/active-learning.ts'

// Two members, two classes, three pool samples:
//   0: both members sure of class 0        → low entropy, no disagreement
//   1: both members at 50/50               → high entropy, but no disagreement (aleatoric)
//   2: members sure of opposite classes    → high entropy and high mutual information (epistemic)
const members = [Float32Array.from([0.99, 0.01, 0.5, 0.5, 0.99, 0.01]), Float32Array.from([0.99, 0.01, 0.5, 0.5, 0.01, 0.99])]
const order = (scores: Float64Array) => [...scores.keys()].sort((a, b) => scores[b]! - scores[a]!)

describe('acquisition functions', () => {
  it('BALD ranks the sample the members disagree on first, and the agreed 50/50 sample below it', () => {
    const scores = acquisitionScores('bald', members, 2, () => 0)
    expect(order(scores)[0]).toBe(2)
    expect(scores[1]).toBeCloseTo(0, 6)
  })

  it('entropy and margin rank both uncertain samples above the certain one', () => {
    for (const kind of ['entropy', 'margin'] as const) {
      const scores = acquisitionScores(kind, members, 2, () => 0)
      expect(order(scores)[2]).toBe(0)
    }
    // Margin: 1 − (p₁ − p₂) on the mean: sample 1 and 2 both average to 50/50.
    const margin = acquisitionScores('margin', members, 2, () => 0)
    expect(margin[1]).toBeCloseTo(1, 6)
    expect(margin[0]).toBeCloseTo(1 - 0.98, 6)
  })

  it('random draws from the given generator', () => {
    let i = 0
    const draws = [0.3, 0.9, 0.1]
    expect([...acquisitionScores('random', members, 2, () => draws[i++]!)]).toEqual(draws)
  })
})
