import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { Network } from '../../../src-main/engine/network.ts'
import { networkWeightStats, weightStats } from '../../../src-main/engine/weight-stats.ts'
import { lenet5 } from '../../../src-main/engine/zoo.ts'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('weightStats', () => {
  it('gives mean |w|, std, the near-extreme fraction and a histogram', () => {
    const values = [-1, -0.5, 0, 0.5, 0.95, 1, 0.2, -0.2]
    const stats = weightStats('fc1', values, { bins: 4 })
    expect(stats.count).toBe(8)
    expect(stats.meanAbs).toBeCloseTo(4.35 / 8, 12)
    const mean = 0.95 / 8
    expect(stats.std).toBeCloseTo(Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / 8), 12)
    expect(stats.maxAbs).toBe(1)
    // |w| > 0.9: −1, 0.95, 1.
    expect(stats.nearExtremeFraction).toBeCloseTo(3 / 8, 12)
    expect(stats.histogram.edges).toEqual([-1, -0.5, 0, 0.5, 1])
    // [−1, −0.5): −1 | [−0.5, 0): −0.5, −0.2 | [0, 0.5): 0, 0.2 | [0.5, 1]: 0.5, 0.95, 1
    expect(stats.histogram.counts).toEqual([1, 2, 2, 3])
    expect(stats.histogram.outside).toBe(0)
  })

  it('keeps fixed bins when given a limit, counting what lies beyond in the edge bins', () => {
    const stats = weightStats('fc1', [-3, 0.1, 0.2, 2], { bins: 2, limit: 1, nearExtreme: 0.5 })
    expect(stats.histogram.edges).toEqual([-1, 0, 1])
    expect(stats.histogram.counts).toEqual([1, 3])
    expect(stats.histogram.outside).toBe(2)
    expect(stats.nearExtremeFraction).toBeCloseTo(2 / 4, 12)
  })
})

describe('networkWeightStats', () => {
  it('reports the kernel of every dense and conv layer, in graph order', () => {
    const net = new Network(lenet5(true), 2)
    const stats = networkWeightStats(net)
    expect(stats.map((s) => s.point)).toEqual(['conv1', 'conv2', 'fc1', 'fc2', 'logits'])
    expect(stats.map((s) => s.count)).toEqual([5 * 5 * 1 * 6, 5 * 5 * 6 * 16, 400 * 120, 120 * 84, 84 * 10])
    net.layer('logits')!.setWeights([tf.fill([84, 10], -0.25), tf.zeros([10])])
    const logits = networkWeightStats(net, { bins: 5 }).at(-1)!
    expect(logits.meanAbs).toBeCloseTo(0.25, 6)
    expect(logits.std).toBeCloseTo(0, 6)
    expect(logits.nearExtremeFraction).toBe(1)
    expect(logits.histogram.counts.reduce((a, b) => a + b, 0)).toBe(840)
    net.dispose()
  })
})
