import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SensitivityCurves } from '../../../../src-main/contract/compression.ts'
import { initBackend } from '../../../../src-main/engine/backend.ts'
import { compressibleLayers } from '../../../../src-main/engine/compression/layers.ts'
import { klDivergence, sensitivityCurves } from '../../../../src-main/engine/compression/sensitivity.ts'
import { Network } from '../../../../src-main/engine/network.ts'
import { lenet5, resnet8 } from '../../../../src-main/engine/zoo.ts'

let net: Network
let x: tf.Tensor

beforeAll(async () => {
  await initBackend('cpu')
  net = new Network(lenet5(true))
  x = tf.randomNormal([32, 28, 28, 1], 0, 1, 'float32', 9)
})

afterAll(() => {
  x.dispose()
  net.dispose()
})

const scalar = (t: tf.Scalar): number => {
  const [value] = t.dataSync()
  t.dispose()
  return value!
}

/** Values listed from the least to the most compressed never fall by more than the noise allowed. */
function expectGrowing(kls: number[]): void {
  const tolerance = 0.1 * Math.max(...kls) + 1e-6
  kls.slice(1).forEach((kl, i) => expect(kl).toBeGreaterThanOrEqual(kls[i]! - tolerance))
  expect(kls.at(-1)!).toBeGreaterThan(kls[0]!)
}

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length

describe('KL divergence', () => {
  it('matches hand-computed distributions', () => {
    // Row 1: p = (½, ½), q = (0.9, 0.1): ½·ln(0.5/0.9) + ½·ln(0.5/0.1) = ½·ln(25/9). Row 2: p = q, 0.
    const p = tf.log(
      tf.tensor2d([
        [0.5, 0.5],
        [0.2, 0.8],
      ]),
    )
    const q = tf.log(
      tf.tensor2d([
        [0.9, 0.1],
        [0.2, 0.8],
      ]),
    )
    expect(scalar(klDivergence(p, q))).toBeCloseTo(Math.log(25 / 9) / 4, 6)
    expect(scalar(klDivergence(p, p))).toBe(0)
    // Logits shifted by a constant are the same distribution.
    expect(Math.abs(scalar(klDivergence(p, p.add(3))))).toBeLessThan(1e-6)
    tf.dispose([p, q])
  })
})

describe('sensitivity curves', () => {
  let curves: SensitivityCurves[]
  const progress: number[] = []

  beforeAll(async () => {
    const tensors = tf.memory().numTensors
    curves = await sensitivityCurves(net, x, compressibleLayers(net), {
      onProgress: (fraction) => progress.push(fraction),
    })
    expect(tf.memory().numTensors).toBe(tensors)
  })

  it('cover every layer and report progress', () => {
    expect(curves.map((c) => c.layer)).toEqual(['conv1', 'conv2', 'fc1', 'fc2'])
    expect(progress).toEqual([0.25, 0.5, 0.75, 1])
    for (const curve of curves) {
      expect(curve.keep.map((p) => p.keep)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1])
      expect(curve.weightBits.map((p) => p.bits)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
      expect(curve.activationBits.map((p) => p.bits)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    }
  })

  it('are 0 with nothing compressed and grow as keep or bits fall', () => {
    for (const curve of curves) {
      const kl = (keep: number) => curve.keep.find((p) => p.keep === keep)!.kl
      expect(kl(1)).toBe(0)
      expect(curve.keep.slice(0, -1).every((p) => p.kl > 0)).toBe(true)
      // A random network's keep curve is bumpy (a confidently wrong half-pruned net can be further off than a nearly
      // silent one), so the trend is compared: heavy pruning against light pruning.
      expect(mean([0.1, 0.2, 0.3].map(kl))).toBeGreaterThan(mean([0.7, 0.8, 0.9].map(kl)))
      expectGrowing(curve.activationBits.map((p) => p.kl).reverse())
      // From 2 bits up: 1-bit weights are binary with a mean|w| scale, often closer than the max-scaled ternary 2-bit grid.
      expectGrowing(
        curve.weightBits
          .slice(1)
          .map((p) => p.kl)
          .reverse(),
      )
      expect(curve.weightBits[0]!.kl).toBeGreaterThan(100 * curve.weightBits.at(-1)!.kl)
      // 10 bits are nearly float.
      expect(curve.weightBits.at(-1)!.kl).toBeLessThan(1e-4)
      expect(curve.activationBits.at(-1)!.kl).toBeLessThan(1e-4)
    }
  })

  it('give layers that cannot be pruned the single point keep 1', async () => {
    const resnet = new Network(resnet8([12, 12, 1], 3))
    const small = tf.randomNormal([4, 12, 12, 1], 0, 1, 'float32', 1)
    const layers = compressibleLayers(resnet).filter((l) => l.id === 's1a' || l.id === 's1b')
    const [a, b] = await sensitivityCurves(resnet, small, layers, { keeps: [0.5, 1], bits: [4] })
    expect(a!.keep.map((p) => p.keep)).toEqual([0.5, 1])
    expect(a!.keep[0]!.kl).toBeGreaterThan(0)
    expect(b!.keep).toEqual([{ keep: 1, kl: 0 }])
    expect(b!.weightBits[0]!.kl).toBeGreaterThan(0)
    small.dispose()
    resnet.dispose()
  })

  it('stop when the signal aborts', async () => {
    const controller = new AbortController()
    const tensors = tf.memory().numTensors
    const run = sensitivityCurves(net, x, compressibleLayers(net), {
      keeps: [0.5],
      bits: [4],
      signal: controller.signal,
      onProgress: () => controller.abort(),
    })
    await expect(run).rejects.toThrow(/abort/i)
    expect(tf.memory().numTensors).toBe(tensors)
  })
})
