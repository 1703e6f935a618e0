import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Dataset } from '../../../src-main/engine/data/dataset.ts'
import type { ModelSpec } from '../../../src-main/engine/graph.ts'
import {
  accuracyCurve,
  accuracyVariance,
  adaptiveMidpoint,
  denseMidpoint,
  estimateMidpoint,
  logGrid,
  normalQuantile,
  decided,
  type CellCounts,
  type CellEvaluator,
} from '../../../src-main/engine/midpoint.ts'
import { Network } from '../../../src-main/engine/network.ts'
import { seededRandom } from '../../../src-main/engine/random.ts'
import { searchMidpoints } from '../../../src-main/engine/walking-noise.ts'

/** Φ via erfc (Numerical Recipes' erfcc, |error| < 1.2e-7), written independently of the code under test. */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2
  const t = 1 / (1 + z / 2)
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  return x >= 0 ? 1 - r / 2 : r / 2
}

describe('logGrid and the normal quantile', () => {
  it('spaces 49 points evenly in log σ from 1e-2 to 1e10 by default', () => {
    const grid = logGrid()
    expect(grid).toHaveLength(49)
    expect(grid[0]).toBeCloseTo(1e-2, 12)
    expect(grid[48]! / 1e10).toBeCloseTo(1, 10)
    expect(Math.log10(grid[1]!) - Math.log10(grid[0]!)).toBeCloseTo(0.25, 10)
  })
  it('inverts Φ', () => {
    for (const p of [0.001, 0.025, 0.3, 0.5, 0.975, 0.999]) expect(phi(normalQuantile(p))).toBeCloseTo(p, 6)
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5)
  })
})

describe('accuracy variance', () => {
  it('is binomial over the test set with one repeat, and over test set × repeats when repeats disagree as much as pure noise', () => {
    const p = (500 + 0.5) / (1000 + 1)
    expect(accuracyVariance(500, 1000, 1, 1000, 0)).toBeCloseTo((p * (1 - p)) / 1000, 12)
    // Between-repeat variance p(1−p)/n: every sample has the same chance, so R repeats are nR independent trials.
    const q = (2500 + 0.5) / (5000 + 1)
    expect(accuracyVariance(2500, 5000, 5, 1000, (q * (1 - q)) / 1000)).toBeCloseTo((q * (1 - q)) / 5000, 12)
    // Identical repeats: the noise decides nothing, only the test set does.
    expect(accuracyVariance(2500, 5000, 5, 1000, 0)).toBeCloseTo((q * (1 - q)) / 1000, 12)
  })
  it('groups cells by σ into a sorted curve', () => {
    const cells: CellCounts[] = [
      { sigma: 1, repeat: 0, correct: 60, count: 100 },
      { sigma: 0, repeat: 0, correct: 90, count: 100 },
      { sigma: 1, repeat: 1, correct: 70, count: 100 },
    ]
    const curve = accuracyCurve(cells)
    expect(curve.map((p) => p.sigma)).toEqual([0, 1])
    expect(curve[1]!.accuracy).toBeCloseTo(0.65, 12)
    expect(curve[1]!.betweenRepeatVariance).toBeCloseTo(0.005, 12)
  })
})

/** A synthetic monotone accuracy curve: chance + (clean − chance)·(1 − Φ((log σ − μ)/w)), sampled binomially (seeded). */
function syntheticEvaluator(mu: number, width: number, clean: number, classes: number, n: number, seed: number): CellEvaluator {
  const chance = 1 / classes
  return async (requests) =>
    requests.map(({ sigma, repeat }) => {
      const p = sigma === 0 ? clean : chance + (clean - chance) * (1 - phi((Math.log10(sigma) - mu) / width))
      const random = seededRandom(Math.round(seed * 1e6 + Math.log10(sigma + 1e-300) * 1e4) ^ (repeat * 7919))
      let correct = 0
      for (let i = 0; i < n; i++) if (random() < p) correct++
      return { sigma, repeat, correct, count: n }
    })
}

/** The same curve measured the way the sweep engine does it: batches of samples, stopping when a rule decides the cell. */
function sequentialEvaluator(mu: number, width: number, clean: number, classes: number, n: number, batch: number, seed: number): CellEvaluator {
  const chance = 1 / classes
  return async (requests, rule) =>
    requests.map(({ sigma, repeat }) => {
      const p = sigma === 0 ? clean : chance + (clean - chance) * (1 - phi((Math.log10(sigma) - mu) / width))
      const random = seededRandom(Math.round(seed * 1e6 + Math.log10(sigma + 1e-300) * 1e4) ^ (repeat * 7919))
      let correct = 0
      let count = 0
      while (count < n) {
        for (let i = 0; i < batch && count < n; i++, count++) if (random() < p) correct++
        if (rule && sigma !== 0 && decided(correct, count, rule)) break
      }
      return { sigma, repeat, correct, count }
    })
}

describe('adaptive search with sequential testing', () => {
  for (const [mu, width] of [
    [1.37, 0.4],
    [-0.8, 0.15],
    [6.2, 1.0],
  ] as const) {
    it(`spends fewer samples for the same midpoint, and its interval still holds the truth (μ = ${mu}, width ${width})`, async () => {
      const options = { classes: 10, toleranceDecades: 0.05, maxCells: 200 }
      const evaluate = sequentialEvaluator(mu, width, 0.9, 10, 10_000, 1000, 3)
      const sequential = await adaptiveMidpoint(evaluate, options)
      const plain = await adaptiveMidpoint(evaluate, { ...options, sequential: false })
      const samples = (r: { cells: CellCounts[] }) => r.cells.reduce((s, c) => s + (c.sigma === 0 ? 0 : c.count), 0)
      expect(sequential.stopped).toBe('tolerance')
      expect(sequential.estimate.ciDecades).toBeLessThanOrEqual(0.05)
      expect(Math.log10(sequential.estimate.ci[0]!)).toBeLessThanOrEqual(mu)
      expect(Math.log10(sequential.estimate.ci[1]!)).toBeGreaterThanOrEqual(mu)
      expect(Math.abs(Math.log10(sequential.estimate.sigma!) - Math.log10(plain.estimate.sigma!))).toBeLessThan(0.05)
      // The bracket's ends were measured over the whole split: early-stopped cells only located the crossing.
      for (const sigma of sequential.estimate.bracket!) expect(sequential.cells.some((c) => c.sigma === sigma && c.count === 10_000)).toBe(true)
      expect(samples(sequential)).toBeLessThan(0.7 * samples(plain))
      // Cells far from the threshold stopped after the first batch.
      expect(sequential.cells.filter((c) => c.count === 1000).length).toBeGreaterThanOrEqual(8)
    })
  }

  it("takes a σ's accuracy from its full cells once it has any", () => {
    const curve = accuracyCurve([
      { sigma: 0, repeat: 0, correct: 900, count: 1000 },
      { sigma: 1, repeat: 0, correct: 50, count: 100 },
      { sigma: 1, repeat: 1, correct: 700, count: 1000 },
      { sigma: 1, repeat: 2, correct: 720, count: 1000 },
    ])
    expect(curve[1]).toMatchObject({ sigma: 1, repeats: 2, count: 1000, accuracy: 0.71 })
  })

  it('decides only when the accuracy clears the threshold by z standard errors', () => {
    const rule = { threshold: 0.5, z: 3 }
    expect(decided(900, 1000, rule)).toBe(true)
    expect(decided(120, 1000, rule)).toBe(true)
    // 0.54 over 1000 samples: se ≈ 0.0158, 0.04 / se ≈ 2.5 < 3.
    expect(decided(540, 1000, rule)).toBe(false)
    expect(decided(5400, 10_000, rule)).toBe(true)
    expect(decided(0, 0, rule)).toBe(false)
  })
})

describe('adaptive search', () => {
  for (const [mu, width] of [
    [1.37, 0.4],
    [-0.8, 0.15],
    [6.2, 1.0],
  ] as const) {
    it(`finds the same midpoint as the dense grid (μ = ${mu}, width ${width} decades)`, async () => {
      const evaluate = syntheticEvaluator(mu, width, 0.9, 10, 10_000, 3)
      const adaptive = await adaptiveMidpoint(evaluate, { classes: 10, toleranceDecades: 0.05, maxCells: 200 })
      const dense = await denseMidpoint(evaluate, { classes: 10 })
      expect(adaptive.stopped).toBe('tolerance')
      expect(adaptive.estimate.status).toBe('found')
      expect(adaptive.estimate.ciDecades).toBeLessThanOrEqual(0.05)
      expect(adaptive.estimate.bracketDecades).toBeLessThanOrEqual(0.05 + 1e-9)
      const a = Math.log10(adaptive.estimate.sigma!)
      const d = Math.log10(dense.estimate.sigma!)
      expect(Math.abs(a - d)).toBeLessThan(0.05)
      // The true midpoint is 10^μ; the adaptive interval holds it.
      expect(Math.log10(adaptive.estimate.ci[0]!)).toBeLessThanOrEqual(mu)
      expect(Math.log10(adaptive.estimate.ci[1]!)).toBeGreaterThanOrEqual(mu)
      // And it needs far fewer cells than the 49 × 5 dense grid.
      expect(adaptive.cells.length).toBeLessThan(dense.cells.length / 3)
    })
  }
  it('stops at the budget', async () => {
    const result = await adaptiveMidpoint(syntheticEvaluator(2, 0.5, 0.9, 10, 10_000, 4), { classes: 10, toleranceDecades: 0.001, maxCells: 40 })
    expect(result.stopped).toBe('budget')
    expect(result.cells.length).toBeLessThanOrEqual(40)
    expect(result.estimate.status).toBe('found')
  })
  it('reports a midpoint outside the range instead of inventing one', async () => {
    const below = await adaptiveMidpoint(syntheticEvaluator(-4, 0.3, 0.9, 10, 2000, 5), { classes: 10 })
    expect(below.estimate.status).toBe('below-range')
    expect(below.estimate.sigma).toBeNull()
    const above = await adaptiveMidpoint(syntheticEvaluator(14, 0.3, 0.9, 10, 2000, 6), { classes: 10 })
    expect(above.estimate.status).toBe('above-range')
    expect(above.stopped).toBe('out-of-range')
  })
})

// The acceptance test: a linear two-class classifier whose logits are the two inputs, additive noise on the logits.
describe('closed form: additive noise on the logits of a linear two-class classifier', () => {
  const n = 4000
  const margins: number[] = []
  let dataset: Dataset
  let net: Network

  beforeAll(async () => {
    await tf.setBackend('cpu')
    const random = seededRandom(11)
    const x = new Float32Array(2 * n)
    const y = new Int32Array(n)
    for (let i = 0; i < n; i++) {
      // Margins from 0.05 to 3, and one sample in ten on the wrong side.
      const magnitude = 0.05 + 2.95 * random()
      const margin = i % 10 === 3 ? -magnitude : magnitude
      const label = i % 2
      margins.push(margin)
      y[i] = label
      // logit[label] − logit[other] = margin; the common offset must not matter.
      const offset = random() * 2 - 1
      x[2 * i + label] = offset + margin / 2
      x[2 * i + 1 - label] = offset - margin / 2
    }
    const split = { x, y, count: n }
    dataset = {
      id: 'linear',
      name: 'linear',
      sampleShape: [2],
      classNames: ['a', 'b'],
      normalization: { scale: 1, mean: 0, std: 1 },
      train: split,
      validation: null,
      test: split,
    }
    const spec: ModelSpec = {
      architecture: 'linear-2',
      classes: 2,
      nodes: [
        { id: 'input', op: 'input', shape: [2] },
        { id: 'logits', op: 'dense', input: 'input', units: 2 },
      ],
    }
    net = new Network(spec)
    // Identity kernel, zero bias: the logits are the inputs.
    net.layer('logits')!.setWeights([
      tf.tensor2d([
        [1, 0],
        [0, 1],
      ]),
      tf.zeros([2]),
    ])
  })

  // P(correct) = P(margin + σ(z_label − z_other) > 0) = Φ(margin / (σ√2)); negative margins give P < 1/2.
  const closedForm = (sigma: number): number => margins.reduce((s, m) => s + phi(m / (sigma * Math.SQRT2)), 0) / n
  const closedFormMidpoint = (threshold: number): number => {
    let [lo, hi] = [-3, 3]
    for (let i = 0; i < 100; i++) {
      const mid = (lo + hi) / 2
      if (closedForm(10 ** mid) > threshold) lo = mid
      else hi = mid
    }
    return (lo + hi) / 2
  }

  it('measures the closed-form curve and midpoint within the reported intervals', async () => {
    const sigmas = logGrid(1e-2, 1e2, 25)
    const repeats = 10
    const [dense] = await searchMidpoints(net, dataset, dataset.test, [{ kind: 'point', point: 'logits' }], {
      noise: { kind: 'additive' },
      seed: 5,
      strategy: 'dense',
      sigmas,
      repeats,
    })
    const clean = margins.filter((m) => m > 0).length / n
    expect(dense!.estimate.clean).toBe(clean)
    // Pointwise check at a Bonferroni-corrected level over the 25 σ.
    const z = normalQuantile(1 - 0.05 / 2 / sigmas.length)
    const curve = accuracyCurve(dense!.cells).filter((p) => p.sigma > 0)
    const deviations = curve.map((p) => Math.abs(p.accuracy - closedForm(p.sigma)) / Math.sqrt(p.variance))
    expect(Math.max(...deviations)).toBeLessThan(z)
    // The check is sharp: the band is narrow where the curve is steep.
    expect(Math.max(...curve.map((p) => z * Math.sqrt(p.variance)))).toBeLessThan(0.025)

    const truth = closedFormMidpoint(dense!.estimate.threshold)
    const adaptive = (
      await searchMidpoints(net, dataset, dataset.test, [{ kind: 'point', point: 'logits' }], {
        noise: { kind: 'additive' },
        seed: 5,
        adaptive: { repeats, toleranceDecades: 0.05 },
      })
    )[0]!
    for (const result of [dense!, adaptive]) {
      expect(result.estimate.status).toBe('found')
      expect(Math.log10(result.estimate.ci[0]!)).toBeLessThanOrEqual(truth)
      expect(Math.log10(result.estimate.ci[1]!)).toBeGreaterThanOrEqual(truth)
      // Narrow enough to catch a noise scale off by √2 (0.15 decades).
      expect(result.estimate.ciDecades).toBeLessThan(0.1)
    }
    expect(Math.abs(Math.log10(adaptive.estimate.sigma!) - truth)).toBeLessThan(0.05)
    expect(adaptive.stopped).toBe('tolerance')
  })

  it('estimates from stored cells alone, as a resumed job would', () => {
    const cells: CellCounts[] = [
      { sigma: 0, repeat: 0, correct: 900, count: 1000 },
      { sigma: 1, repeat: 0, correct: 800, count: 1000 },
      { sigma: 10, repeat: 0, correct: 600, count: 1000 },
    ]
    const estimate = estimateMidpoint(cells, { classes: 2 })
    expect(estimate.threshold).toBeCloseTo(0.7, 12)
    // Halfway between 0.8 and 0.6 on log σ: σ = 10^0.5.
    expect(estimate.sigma).toBeCloseTo(10 ** 0.5, 10)
    expect(estimate.bracket).toEqual([1, 10])
  })
})
