import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../../src-main/engine/backend.ts'
import type { ModelSpec } from '../../../../src-main/engine/graph.ts'
import { Network } from '../../../../src-main/engine/network.ts'
import { bodyOf, features, Heads, initialHeads } from '../../../../src-main/engine/uncertainty/heads.ts'
import { dsCnn, lenet5, mlp } from '../../../../src-main/engine/zoo.ts'

beforeAll(async () => {
  await initBackend('cpu')
})

const SHAPE = [8, 8, 1]

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!)
}

function withNet<T>(spec: ModelSpec, run: (net: Network) => T): T {
  const net = new Network(spec, 3)
  try {
    return run(net)
  } finally {
    net.dispose()
  }
}

describe('bodyOf', () => {
  it('splits off the classifier, or the last dense block and the classifier', () => {
    withNet(mlp('tfc', false, SHAPE, 5), (net) => {
      expect(bodyOf(net)).toEqual({
        featurePoint: 'fc3.relu',
        headDepth: 1,
        dense: ['logits'],
        batchNorm: null,
        featureSize: 64,
        hiddenUnits: null,
        classes: 5,
      })
      expect(bodyOf(net, 2)).toMatchObject({ featurePoint: 'fc2.relu', dense: ['fc3', 'logits'], batchNorm: null, featureSize: 64, hiddenUnits: 64 })
    })
    withNet(mlp('tfc', true, SHAPE, 5), (net) =>
      expect(bodyOf(net, 2)).toMatchObject({ featurePoint: 'fc2.relu', dense: ['fc3', 'logits'], batchNorm: 'fc3.bn' }),
    )
    withNet(lenet5(false, [28, 28, 1], 10), (net) => expect(bodyOf(net, 2)).toMatchObject({ featurePoint: 'fc1.relu', featureSize: 120, hiddenUnits: 84 }))
  })

  it('gives a pooled body a 1-layer head only', () => {
    withNet(dsCnn([12, 10, 1], 4, 8), (net) => {
      expect(bodyOf(net)).toMatchObject({ featurePoint: 'gap', featureSize: 8 })
      expect(() => bodyOf(net, 2)).toThrow(/needs a dense → \(BN →\) ReLU block before the classifier.*'gap' \(globalAvgPool\)/)
    })
  })

  it('refuses a model without a dense classifier', () => {
    const spec: ModelSpec = {
      architecture: 'conv-only',
      classes: 3,
      nodes: [
        { id: 'input', op: 'input', shape: SHAPE },
        { id: 'conv1', op: 'conv2d', input: 'input', filters: 3, kernel: 3 },
        { id: 'gap', op: 'globalAvgPool', input: 'conv1' },
      ],
    }
    withNet(spec, (net) =>
      expect(() => bodyOf(net)).toThrow(/conv-only ends in 'gap' \(globalAvgPool\), not in a dense classifier.*a body without a classifier/),
    )
  })
})

describe('heads', () => {
  it('reproduce the network exactly when pretrained without perturbation (1 layer)', () => {
    withNet(mlp('tfc', false, SHAPE, 5), (net) => {
      const body = bodyOf(net)
      const heads = initialHeads(net, body, { heads: 2, seed: 1, init: 'pretrained', perturbation: 0 })
      const x = tf.randomNormal([6, ...SHAPE], 0, 1, 'float32', 2)
      const [expected, logits] = tf.tidy(() => [net.forward(x), heads.logits(features(net, x, body.featurePoint))])
      expect(logits.shape).toEqual([2, 6, 5])
      for (let m = 0; m < 2; m++) expect(tf.tidy(() => maxDifference(logits.gather([m]).squeeze([0]), expected))).toBeLessThan(1e-5)
      tf.dispose([x, expected, logits])
      heads.dispose()
    })
  })

  it('fold the block’s batch norm (moving statistics) into a 2-layer head', () => {
    withNet(mlp('tfc', true, SHAPE, 5), (net) => {
      const bn = net.layer('fc3.bn')!
      const stats = [0, 1, 2, 3].map((k) => tf.randomUniform([64], 0.5, 1.5, 'float32', 10 + k))
      bn.setWeights([stats[0]!, stats[1]!.sub(1), stats[2]!.sub(1), stats[3]!])
      const body = bodyOf(net, 2)
      const heads = initialHeads(net, body, { heads: 1, seed: 1, init: 'pretrained', perturbation: 0 })
      const x = tf.randomNormal([6, ...SHAPE], 0, 1, 'float32', 2)
      const difference = tf.tidy(() => maxDifference(heads.logits(features(net, x, body.featurePoint)).squeeze([0]), net.forward(x)))
      expect(difference).toBeLessThan(1e-4)
      tf.dispose([x, ...stats])
      heads.dispose()
    })
  })

  it('start fresh as seeded He-normal kernels and zero biases; head m depends only on (seed, m)', () => {
    withNet(mlp('tfc', false, SHAPE, 5), (net) => {
      const body = bodyOf(net, 2)
      const three = initialHeads(net, body, { heads: 3, seed: 7 })
      const two = initialHeads(net, body, { heads: 2, seed: 7 })
      const other = initialHeads(net, body, { heads: 3, seed: 8 })
      three.variables.forEach((v, i) => {
        expect(maxDifference(v.slice(0, 2), two.variables[i]!)).toBe(0)
        if (v.rank === 3) expect(maxDifference(v, other.variables[i]!)).toBeGreaterThan(0.1)
      })
      const [kernel, bias] = [three.layers[0]!.kernel, three.layers[0]!.bias]
      const std = tf.tidy(() => Math.sqrt(kernel.square().mean().dataSync()[0]!))
      expect(std).toBeGreaterThan(0.9 * Math.sqrt(2 / 64))
      expect(std).toBeLessThan(1.1 * Math.sqrt(2 / 64))
      expect(tf.tidy(() => bias.abs().max().dataSync()[0]!)).toBe(0)
      ;[three, two, other].forEach((h) => h.dispose())
    })
  })

  it('perturb pretrained weights by σ = perturbation × the kernel RMS', () => {
    withNet(mlp('tfc', false, SHAPE, 5), (net) => {
      const heads = initialHeads(net, bodyOf(net), { heads: 4, seed: 1, init: 'pretrained', perturbation: 0.1 })
      const { kernel } = net.weights('logits')
      const rms = tf.tidy(() => Math.sqrt(kernel.square().mean().dataSync()[0]!))
      const noise = tf.tidy(() => Math.sqrt(heads.layers[0]!.kernel.sub(kernel).square().mean().dataSync()[0]!))
      expect(noise / rms).toBeGreaterThan(0.08)
      expect(noise / rms).toBeLessThan(0.12)
      heads.dispose()
    })
  })

  it('select copies of chosen heads and survive a JSON round trip exactly', () => {
    withNet(mlp('tfc', false, SHAPE, 5), (net) => {
      const heads = initialHeads(net, bodyOf(net, 2), { heads: 3, seed: 2 })
      const picked = heads.select([2, 0])
      expect(picked.count).toBe(2)
      expect(maxDifference(picked.layers[1]!.kernel.slice(0, 1), heads.layers[1]!.kernel.slice(2, 1))).toBe(0)
      const restored = Heads.fromJSON(JSON.parse(JSON.stringify(heads.toJSON())))
      expect([restored.count, restored.depth, restored.classes, restored.featureSize, restored.featurePoint, restored.seed]).toEqual([
        3,
        2,
        5,
        64,
        'fc2.relu',
        2,
      ])
      restored.variables.forEach((v, i) => expect(maxDifference(v, heads.variables[i]!)).toBe(0))
      expect(() => Heads.fromJSON({ format: 'benchside-heads' })).toThrow(/not saved heads/)
      const damaged = heads.toJSON()
      damaged.layers[0]!.bias.f32 = damaged.layers[0]!.bias.f32.slice(8)
      expect(() => Heads.fromJSON(damaged)).toThrow(/bytes/)
      expect(() => heads.select([3])).toThrow(/no head 3/)
      ;[heads, picked, restored].forEach((h) => h.dispose())
    })
  })

  it('leave no tensors behind', () => {
    withNet(mlp('tfc', true, SHAPE, 5), (net) => {
      const before = tf.memory().numTensors
      const body = bodyOf(net, 2)
      const heads = initialHeads(net, body, { heads: 3, seed: 1, init: 'pretrained' })
      const copy = Heads.fromJSON(heads.toJSON())
      const picked = copy.select([1])
      const x = tf.zeros([2, ...SHAPE])
      const f = features(net, x, body.featurePoint)
      const logits = heads.logits(f)
      tf.dispose([x, f, logits])
      ;[heads, copy, picked].forEach((h) => h.dispose())
      expect(tf.memory().numTensors).toBe(before)
    })
  })
})
