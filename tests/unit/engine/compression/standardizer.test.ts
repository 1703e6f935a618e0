import { describe, expect, it } from 'vitest'
import { Standardizer } from '../../../../src-main/engine/compression/standardizer.ts'
import { seededRandom } from '../../../../src-main/engine/random.ts'

/** Rows with features of very different scales, and a constant one. */
function rows(count: number, seed: number): number[][] {
  const random = seededRandom(seed)
  return Array.from({ length: count }, (_, i) => [1e6 + 1e5 * random(), random() - 0.5, 7, i])
}

/** Mean and population standard deviation of each column, computed directly. */
function direct(data: readonly number[][]): { mean: number[]; std: number[] } {
  const n = data.length
  const mean = data[0]!.map((_, j) => data.reduce((s, r) => s + r[j]!, 0) / n)
  const std = mean.map((m, j) => Math.sqrt(data.reduce((s, r) => s + (r[j]! - m) ** 2, 0) / n))
  return { mean, std }
}

describe('Standardizer', () => {
  it('matches a direct computation, and maps zero-variance features to 0', () => {
    const data = rows(500, 1)
    const s = new Standardizer(4)
    for (const r of data) s.update(r)
    expect(s.samples).toBe(500)
    const { mean, std } = direct(data)
    for (const r of data.slice(0, 20)) {
      const z = s.transform(r)
      for (const j of [0, 1, 3]) expect(z[j]!).toBeCloseTo((r[j]! - mean[j]!) / std[j]!, 9)
      expect(z[2]).toBe(0)
    }
    const all = data.map((r) => s.transform(r))
    const { mean: zMean, std: zStd } = direct(all)
    for (const j of [0, 1, 3]) {
      expect(zMean[j]!).toBeCloseTo(0, 9)
      expect(zStd[j]!).toBeCloseTo(1, 9)
    }
  })

  it('gives zeros before it has seen two different values', () => {
    const s = new Standardizer(2)
    expect(s.transform([3, 4])).toEqual([0, 0])
    s.update([3, 4])
    expect(s.transform([5, 4])).toEqual([0, 0])
    s.update([5, 4])
    expect(s.transform([5, 4])).toEqual([1, 0])
  })

  it('round-trips through JSON text and carries on identically', () => {
    const data = rows(100, 2)
    const a = new Standardizer(4)
    for (const r of data.slice(0, 60)) a.update(r)
    const b = Standardizer.fromJSON(JSON.parse(JSON.stringify(a.toJSON())) as ReturnType<Standardizer['toJSON']>)
    for (const r of data.slice(60)) {
      a.update(r)
      b.update(r)
    }
    expect(b.transform(data[0]!)).toEqual(a.transform(data[0]!))
    expect(b.toJSON()).toEqual(a.toJSON())
  })

  it('refuses wrong sizes, non-finite values and damaged states', () => {
    expect(() => new Standardizer(0)).toThrow(/whole number of features ≥ 1, got 0/)
    const s = new Standardizer(2)
    expect(() => s.update([1])).toThrow('Expected 2 features, got 1')
    expect(() => s.transform([1, NaN])).toThrow(/Feature 1 is not a finite number/)
    expect(() => Standardizer.fromJSON({ size: 2, count: 1, mean: [0], m2: [0, 0] })).toThrow(/damaged/)
  })
})
