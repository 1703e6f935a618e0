import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Policy } from '../../../../src-main/contract/compression.ts'
import { initBackend } from '../../../../src-main/engine/backend.ts'
import { compressibleLayers } from '../../../../src-main/engine/compression/layers.ts'
import { referencePolicy, uniformPolicy } from '../../../../src-main/engine/compression/policy.ts'
import { binaryKernel, calibrateInputRanges, precisionHooks, quantizeInput, quantizeKernel } from '../../../../src-main/engine/compression/precision.ts'
import { Network } from '../../../../src-main/engine/network.ts'
import { lenet5 } from '../../../../src-main/engine/zoo.ts'

let net: Network
let x: tf.Tensor
let ids: string[]

beforeAll(async () => {
  await initBackend('cpu')
  net = new Network(lenet5(true))
  x = tf.randomNormal([8, 28, 28, 1], 0, 1, 'float32', 11)
  ids = compressibleLayers(net).map((l) => l.id)
})

afterAll(() => {
  x.dispose()
  net.dispose()
})

const values = (t: tf.Tensor): number[] => Array.from(t.dataSync())

function uniform(bits: number): Policy {
  return uniformPolicy(compressibleLayers(net), { keep: 1, weightBits: bits, activationBits: bits }, 'lenet5-bn')
}

/** Largest logit change relative to the largest clean logit. */
function relativeChange(policy: Policy): number {
  const ranges = calibrateInputRanges(net, x, ids)
  const hooks = precisionHooks(net, policy, ranges)
  return tf.tidy(() => {
    const clean = net.forward(x)
    const quantized = net.forward(x, { hooks })
    return quantized.sub(clean).abs().max().div(clean.abs().max()).dataSync()[0]!
  })
}

describe('input ranges', () => {
  it("are each policy layer's input range on the batch", () => {
    const ranges = calibrateInputRanges(net, x, ids)
    expect(ranges.get('conv1')).toEqual({ min: x.min().dataSync()[0], max: x.max().dataSync()[0] })
    // Inputs after a ReLU (and pooling, flatten) have no negatives.
    for (const id of ['conv2', 'fc1', 'fc2']) expect(ranges.get(id)!.min).toBeGreaterThanOrEqual(0)
    expect(() => calibrateInputRanges(net, x, ['pool1'])).toThrow(/not a dense or conv layer/)
  })
})

describe('per-layer mixed precision', () => {
  it('leaves 32/32 layers alone', () => {
    const hooks = precisionHooks(net, referencePolicy(compressibleLayers(net), 'lenet5-bn'), new Map())
    expect(hooks.compute?.size).toBe(0)
    const mixed = precisionHooks(net, { layers: [{ layer: 'conv2', keep: 1, weightBits: 4, activationBits: 32 }] }, new Map())
    expect([...mixed.compute!.keys()]).toEqual(['conv2'])
  })

  it('changes the logits a little at 8 bits and more at 2 bits', () => {
    const eight = relativeChange(uniform(8))
    const two = relativeChange(uniform(2))
    expect(eight).toBeGreaterThan(0)
    expect(eight).toBeLessThan(0.05)
    expect(two).toBeGreaterThan(3 * eight)
  })

  it('asks for input ranges of quantized inputs, and refuses bits it cannot do', () => {
    expect(() => precisionHooks(net, uniform(4), new Map())).toThrow(/no calibrated input range/)
    expect(() => precisionHooks(net, { layers: [{ layer: 'conv1', keep: 1, weightBits: 17, activationBits: 32 }] }, new Map())).toThrow(/17 weight bits/)
    expect(() => precisionHooks(net, { layers: [{ layer: 'pool1', keep: 1, weightBits: 4, activationBits: 32 }] }, new Map())).toThrow(/not a dense or conv/)
  })

  it('lets gradients through to every kernel (straight-through)', () => {
    const hooks = precisionHooks(net, uniform(2), calibrateInputRanges(net, x, ids))
    const kernels = ['conv1', 'conv2', 'fc1', 'fc2', 'logits'].map((id) => net.layer(id)!.trainableWeights[0]!.read() as tf.Variable)
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => net.forward(x, { hooks, training: true }).square().mean() as tf.Scalar), kernels)
    for (const kernel of kernels) {
      const grad = grads[kernel.name]!
      expect(tf.tidy(() => grad.abs().max().dataSync()[0]!)).toBeGreaterThan(0)
    }
    tf.dispose([value, ...Object.values(grads)])
  })
})

describe('1-bit quantization', () => {
  it('gives binary kernels: two values ±mean|w| per output channel', () => {
    const kernel = tf.randomNormal([5, 5, 6, 16], 0, 1, 'float32', 4)
    const binary = quantizeKernel(kernel, 1, 'conv2d')
    const columns = binary.reshape([-1, 16]).transpose().arraySync() as number[][]
    const alphas = kernel.abs().mean([0, 1, 2]).arraySync() as number[]
    columns.forEach((column, c) => {
      expect(new Set(column).size).toBe(2)
      for (const v of column) expect(Math.abs(Math.abs(v) - alphas[c]!)).toBeLessThan(1e-6)
    })
    // Signs follow the weights; a zero weight counts as positive.
    const dense = binaryKernel(
      tf.tensor2d([
        [0, -2],
        [4, 1],
      ]),
      'dense',
    )
    expect(values(dense)).toEqual([2, -1.5, 2, 1.5])
    tf.dispose([kernel, binary, dense])
  })

  it('thresholds unsigned inputs at max/2 and gives signed inputs ±m', () => {
    const unsigned = quantizeInput(tf.tensor1d([0, 0.4, 0.6, 1, 2]), 1, { min: 0, max: 1 })
    expect(values(unsigned)).toEqual([0, 0, 1, 1, 1])
    const signed = quantizeInput(tf.tensor1d([-2, -0.1, 0, 0.3]), 1, { min: -1, max: 0.5 })
    expect(values(signed)).toEqual([-1, -1, 1, 1])
    // 2 signed bits: codes −1, 0, 1 on [−m, m].
    const two = quantizeInput(tf.tensor1d([-0.8, -0.2, 0.3, 0.6]), 2, { min: -1, max: 0.5 })
    expect(values(two)).toEqual([-1, 0, 0, 1])
    const dx = tf.grad((v: tf.Tensor) => quantizeInput(v, 1, { min: -1, max: 0.5 }).sum())(tf.tensor1d([-2, -0.5, 0.5, 3]))
    expect(values(dx)).toEqual([0, 1, 1, 0])
  })
})
