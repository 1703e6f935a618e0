import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import type { InjectionPoint } from '../../../src-main/engine/network.ts'
import {
  counterNormals,
  noiseHook,
  pointSigmas,
  rampShare,
  scopeHooks,
  seededNormals,
  trainingHooks,
  trainingHooksForEpoch,
  trainingNoiseHook,
  type NoiseModel,
} from '../../../src-main/engine/noise.ts'
import { fillNormals, hashKey } from '../../../src-main/engine/normal-random.ts'

const ROWS = 400
const WIDTH = 250
const point = (id = 'fc1', width = WIDTH): InjectionPoint => ({ id, label: id, op: 'dense', outputShape: [width], inputShapes: [[width]], macs: 0, params: 0 })

function moments(values: Float32Array | Int32Array | Uint8Array): { mean: number; std: number } {
  let sum = 0
  for (const v of values) sum += v
  const mean = sum / values.length
  let squares = 0
  for (const v of values) squares += (v - mean) ** 2
  return { mean, std: Math.sqrt(squares / values.length) }
}

/** The noise a hook adds to a constant value c: noisy − c, as numbers. */
function injected(model: NoiseModel, sigma: number, c: number, p = point()): Float32Array {
  return tf.tidy(() => {
    const x = tf.fill([ROWS, p.outputShape[0]!], c)
    return noiseHook(model, sigma, { source: seededNormals(1, 0, 0) })(x, p, false)
      .sub(x)
      .dataSync() as Float32Array
  })
}

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('seeded normals', () => {
  it('are standard normal and the same for the same key', () => {
    const a = fillNormals(new Float32Array(200_000), hashKey([1, 'fc1', 0]))
    const { mean, std } = moments(a)
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(a.length))
    expect(std).toBeCloseTo(1, 2)
    let tail = 0
    for (const v of a) if (Math.abs(v) > 2) tail++
    // P(|z| > 2) = 0.0455
    expect(tail / a.length).toBeGreaterThan(0.0455 - 0.002)
    expect(tail / a.length).toBeLessThan(0.0455 + 0.002)
    expect(fillNormals(new Float32Array(1000), hashKey([1, 'fc1', 0]))).toEqual(a.slice(0, 1000))
    const other = fillNormals(new Float32Array(1000), hashKey([1, 'fc1', 1]))
    expect(other).not.toEqual(a.slice(0, 1000))
  })
})

describe('noise operators', () => {
  const n = ROWS * WIDTH
  const tolerance = (sigma: number): number => (4 * sigma) / Math.sqrt(n)

  it('additive: x + N(0, σ)', () => {
    const { mean, std } = moments(injected({ kind: 'additive' }, 0.3, 2))
    expect(Math.abs(mean)).toBeLessThan(tolerance(0.3))
    expect(std).toBeCloseTo(0.3, 2)
  })

  it('multiplicative: x · N(1, σ)', () => {
    const { mean, std } = moments(injected({ kind: 'multiplicative' }, 0.2, 3).map((d) => d / 3))
    expect(Math.abs(mean)).toBeLessThan(tolerance(0.2))
    expect(std).toBeCloseTo(0.2, 2)
    // Zero stays zero under purely multiplicative noise.
    expect(moments(injected({ kind: 'multiplicative' }, 0.2, 0)).std).toBe(0)
  })

  it('combined: σ_add = A·r, σ_mul = A·(1 − r), and the order matters', () => {
    // A = 2, r = 0.5: σ_add = σ_mul = 1. On x = 0, mul-then-add leaves σ_add·z; add-then-mul gives σ_add·z·(1 + σ_mul·z').
    const mulThenAdd = moments(injected({ kind: 'combined', ratio: 0.5, order: 'mul-then-add' }, 2, 0))
    const addThenMul = moments(injected({ kind: 'combined', ratio: 0.5, order: 'add-then-mul' }, 2, 0))
    expect(mulThenAdd.std).toBeCloseTo(1, 1)
    expect(addThenMul.std).toBeCloseTo(Math.SQRT2, 1)
    // On x = 3 with A = 0.4, r = 0.25: σ_add = 0.1, σ_mul = 0.3, variance 3²·0.3² + 0.1².
    const c = moments(injected({ kind: 'combined', ratio: 0.25 }, 0.4, 3))
    expect(c.std).toBeCloseTo(Math.sqrt(9 * 0.09 + 0.01), 2)
    expect(pointSigmas({ kind: 'combined', ratio: 0.25 }, point(), 0.4)).toEqual({ add: 0.1, mul: 0.30000000000000004 })
  })

  it('normalises σ by √N or N of the elements per sample, and divides by √r for r executions', () => {
    expect(moments(injected({ kind: 'additive', normalize: 'sqrt' }, 5, 1)).std).toBeCloseTo(5 / Math.sqrt(WIDTH), 2)
    expect(moments(injected({ kind: 'additive', normalize: 'linear' }, 50, 1)).std).toBeCloseTo(50 / WIDTH, 2)
    expect(moments(injected({ kind: 'additive', executions: { fc1: 4 } }, 0.6, 1)).std).toBeCloseTo(0.3, 2)
    // Executions are per point: another point keeps the full σ.
    expect(moments(injected({ kind: 'additive', executions: { fc1: 4 } }, 0.6, 1, point('fc2'))).std).toBeCloseTo(0.6, 2)
  })

  it('costs nothing at σ = 0: the hook returns the same tensor object', () => {
    const x = tf.ones([4, WIDTH])
    for (const kind of ['additive', 'multiplicative', 'combined'] as const) {
      expect(noiseHook({ kind }, 0)(x, point(), false)).toBe(x)
    }
    expect(noiseHook({ kind: 'additive' }, 1, { scale: 0 })(x, point(), false)).toBe(x)
    expect(trainingNoiseHook({ kind: 'additive' }, 0)(x, point(), true)).toBe(x)
    expect(scopeHooks({ points: [point()] }, { kind: 'global' }, { kind: 'additive' }, 0).after!.size).toBe(0)
    x.dispose()
  })
})

describe('where noise is active', () => {
  it('inference noise acts only when not training, training noise only when training', () => {
    const x = tf.ones([4, WIDTH])
    const inference = noiseHook({ kind: 'additive' }, 0.5)
    expect(inference(x, point(), true)).toBe(x)
    expect(inference(x, point(), false)).not.toBe(x)
    const training = trainingNoiseHook({ kind: 'additive' }, 0.5)
    expect(training(x, point(), false)).toBe(x)
    const noisy = training(x, point(), true)
    expect(noisy).not.toBe(x)
    expect(moments(noisy.sub(x).dataSync() as Float32Array).std).toBeGreaterThan(0.3)
    const always = noiseHook({ kind: 'additive' }, 0.5, { when: 'always' })
    expect(always(x, point(), true)).not.toBe(x)
    expect(always(x, point(), false)).not.toBe(x)
  })

  it('scopes: one point, every point but the input, or a set with σ scales', () => {
    const points = [{ ...point('input'), op: 'input' as const }, point('fc1'), point('fc2')]
    const model: NoiseModel = { kind: 'additive' }
    expect([...scopeHooks({ points }, { kind: 'point', point: 'fc2' }, model, 1).after!.keys()]).toEqual(['fc2'])
    expect([...scopeHooks({ points }, { kind: 'global' }, model, 1).after!.keys()]).toEqual(['fc1', 'fc2'])
    const set = scopeHooks({ points }, { kind: 'set', name: 'late', scales: { fc1: 0, fc2: 3 } }, model, 0.1, { source: seededNormals(2, 0, 0) })
    expect([...set.after!.keys()]).toEqual(['fc2'])
    const noise = tf.tidy(() => {
      const x = tf.zeros([ROWS, WIDTH])
      return set.after!.get('fc2')!(x, point('fc2'), false).dataSync() as Float32Array
    })
    expect(moments(noise).std).toBeCloseTo(0.3, 2)
    expect(() => scopeHooks({ points }, { kind: 'point', point: 'conv9' }, model, 1)).toThrow(/conv9.*not an injection point/)
  })
})

describe('training noise', () => {
  const points = [{ ...point('input'), op: 'input' as const }, point('fc1')]

  it('draws a level per sample: σ_i = σ_train + θ·|N(0,1)|', () => {
    const hook = trainingNoiseHook({ kind: 'additive' }, 0.1, 0.5, counterNormals(3))
    const perSample = tf.tidy(() => {
      const x = tf.zeros([2000, 400])
      return tf
        .moments(hook(x, point('fc1', 400), true), 1)
        .variance.sqrt()
        .dataSync() as Float32Array
    })
    // Each row's spread estimates its σ_i (±5% with 400 values).
    expect(Math.min(...perSample)).toBeGreaterThan(0.1 * 0.8)
    const { mean, std } = moments(perSample)
    expect(mean).toBeCloseTo(0.1 + 0.5 * Math.sqrt(2 / Math.PI), 1)
    expect(Math.abs(mean - (0.1 + 0.5 * Math.sqrt(2 / Math.PI)))).toBeLessThan(0.02)
    expect(std).toBeGreaterThan(0.5 * Math.sqrt(1 - 2 / Math.PI) * 0.85)
    expect(std).toBeLessThan(0.5 * Math.sqrt(1 - 2 / Math.PI) * 1.15)
  })

  it('ramps σ (and θ) linearly from 0 over the first N epochs', () => {
    const noise = { model: { kind: 'additive' as const }, scope: { kind: 'global' as const }, sigma: 0.8, rampEpochs: 4 }
    expect([0, 1, 2, 4, 9].map((e) => rampShare(noise, e))).toEqual([0, 0.25, 0.5, 1, 1])
    expect(rampShare({ rampEpochs: 0 }, 0)).toBe(1)
    const forEpoch = trainingHooksForEpoch({ points }, noise)
    expect(forEpoch(0).after!.size).toBe(0)
    const spread = (epoch: number): number =>
      tf.tidy(() => moments(forEpoch(epoch).after!.get('fc1')!(tf.zeros([ROWS, WIDTH]), point(), true).dataSync() as Float32Array).std)
    expect(spread(2)).toBeCloseTo(0.4, 2)
    expect(spread(6)).toBeCloseTo(0.8, 2)
    expect(trainingHooks({ points }, noise).after!.size).toBe(1)
  })
})
