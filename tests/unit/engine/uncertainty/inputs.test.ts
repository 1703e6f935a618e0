import { describe, expect, it } from 'vitest'
import { ece } from '../../../../src-main/engine/uncertainty/calibration.ts'
import { argmaxRow, thinIndices } from '../../../../src-main/engine/uncertainty/inputs.ts'
import { accuracy, disagreement, nll, predictiveMean } from '../../../../src-main/engine/uncertainty/metrics.ts'

const PROBS = Float32Array.from([0.9, 0.1, 0.3, 0.7])
const LABELS = Int32Array.from([0, 1])

describe('bad input', () => {
  it('refuses fewer than 2 classes or a fractional count', () => {
    expect(() => accuracy(PROBS, LABELS, 1)).toThrow('The number of classes is 1; it must be a whole number of at least 2.')
    expect(() => accuracy(PROBS, LABELS, 2.5)).toThrow(/classes is 2.5/)
  })

  it('refuses empty input', () => {
    expect(() => nll(new Float32Array(0), new Int32Array(0), 2)).toThrow('The probabilities are empty; give at least one sample.')
    expect(() => predictiveMean([], 2)).toThrow('The ensemble has no members; give at least one.')
  })

  it('refuses rows that do not fit the class count', () => {
    expect(() => accuracy(PROBS, LABELS, 3)).toThrow(/hold 4 values, which is not a whole number of rows of 3 classes/)
  })

  it('refuses labels of the wrong length or outside the classes', () => {
    expect(() => accuracy(PROBS, Int32Array.from([0]), 2)).toThrow('There are 1 labels for 2 samples; give exactly one label per sample.')
    expect(() => ece(PROBS, Int32Array.from([0, 2]), 2)).toThrow('Label 1 is 2; a label must be a class index from 0 to 1.')
    expect(() => ece(PROBS, Int32Array.from([-1, 0]), 2)).toThrow(/Label 0 is -1/)
  })

  it('refuses members of different sizes', () => {
    expect(() => disagreement([PROBS, Float32Array.from([0.5, 0.5])], 2)).toThrow(
      "The ensemble's member 1 holds 2 values but member 0 holds 4; all members must have the same size.",
    )
  })

  it('refuses probabilities that are not finite or are negative', () => {
    expect(() => nll(Float32Array.from([0.5, Number.NaN]), Int32Array.from([0]), 2)).toThrow(
      'The probabilities hold NaN at index 1; every probability must be a finite number of at least 0.',
    )
    expect(() => predictiveMean([PROBS, Float32Array.from([1, 0, Infinity, 0])], 2)).toThrow(/member 1 hold Infinity at index 2/)
    expect(() => nll(Float32Array.from([-0.1, 1.1]), Int32Array.from([0]), 2)).toThrow(/hold -0.1/)
  })
})

describe('argmaxRow', () => {
  it('finds the largest value in a row, the lowest index on a tie', () => {
    const values = [0.1, 0.7, 0.2, 0.4, 0.4, 0.2]
    expect(argmaxRow(values, 0, 3)).toBe(1)
    expect(argmaxRow(values, 3, 3)).toBe(0)
  })
})

describe('thinIndices', () => {
  it('keeps every index up to the limit', () => {
    expect(thinIndices(3, 200)).toEqual([0, 1, 2])
  })

  it('spreads the kept indices evenly and keeps both ends', () => {
    // round(i·9/3) for i = 0…3.
    expect(thinIndices(10, 4)).toEqual([0, 3, 6, 9])
    const kept = thinIndices(10_001, 200)
    expect(kept).toHaveLength(200)
    expect(kept[0]).toBe(0)
    expect(kept.at(-1)).toBe(10_000)
    expect(new Set(kept).size).toBe(200)
  })

  it('refuses fewer than 2 points', () => {
    expect(() => thinIndices(10, 1)).toThrow('The number of curve points is 1; it must be a whole number of at least 2.')
  })
})
