import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Policy } from '../../../../src-main/contract/compression.ts'
import { initBackend } from '../../../../src-main/engine/backend.ts'
import { compressibleLayers } from '../../../../src-main/engine/compression/layers.ts'
import { referencePolicy } from '../../../../src-main/engine/compression/policy.ts'
import { channelMaskHooks, keptFeatures, pruneNetwork } from '../../../../src-main/engine/compression/prune.ts'
import type { ModelSpec } from '../../../../src-main/engine/graph.ts'
import { namedWeights } from '../../../../src-main/engine/model-files.ts'
import { Network } from '../../../../src-main/engine/network.ts'
import { dsCnn, lenet5, mlp, resnet8 } from '../../../../src-main/engine/zoo.ts'

beforeAll(async () => {
  await initBackend('cpu')
})

/** BN statistics and biases made to differ per channel, so slicing the wrong channel shows in the outputs. */
function randomizeNonKernels(net: Network, seed = 3): void {
  net.model.weights.forEach((w, i) => {
    const name = w.originalName
    if (/kernel$/.test(name)) return
    const [low, high] = /gamma|moving_variance/.test(name) ? [0.5, 1.5] : [-0.5, 0.5]
    tf.tidy(() => {
      w.write(tf.randomUniform(w.shape as number[], low, high, 'float32', seed * 101 + i))
    })
  })
}

function policyOf(net: Network, keeps: Record<string, number>): Policy {
  const policy = referencePolicy(compressibleLayers(net), net.spec.architecture)
  return { ...policy, layers: policy.layers.map((l) => ({ ...l, keep: keeps[l.layer] ?? 1 })) }
}

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!)
}

function units(spec: ModelSpec, id: string): number {
  const node = spec.nodes.find((n) => n.id === id)!
  if (node.op === 'dense') return node.units
  if (node.op === 'conv2d') return node.filters
  throw new Error(`${id} has no units`)
}

const cases: { name: string; spec: ModelSpec; shape: number[]; keeps: Record<string, number> }[] = [
  { name: 'LeNet-5-BN', spec: lenet5(true), shape: [28, 28, 1], keeps: { conv1: 0.5, conv2: 0.4, fc1: 0.3, fc2: 0.6 } },
  { name: 'an MLP with BN', spec: mlp('tfc', true, [8, 8, 1]), shape: [8, 8, 1], keeps: { fc1: 0.5, fc2: 0.25, fc3: 0.7 } },
  { name: 'an MLP without BN', spec: mlp('tfc', false, [8, 8, 1]), shape: [8, 8, 1], keeps: { fc1: 0.3, fc3: 0.5 } },
  { name: 'DS-CNN (depthwise pass-through)', spec: dsCnn([16, 16, 1], 4, 8), shape: [16, 16, 1], keeps: { conv1: 0.5, pw1: 0.75, pw2: 0.25, pw4: 0.5 } },
  { name: 'ResNet-8 (prunable layers only)', spec: resnet8([16, 16, 1], 5), shape: [16, 16, 1], keeps: { s1a: 0.5, s2a: 0.25, s3a: 0.6 } },
]

describe('structured pruning', () => {
  for (const { name, spec, shape, keeps } of cases) {
    it(`gives the masked original's logits with fewer channels and parameters (${name})`, () => {
      const net = new Network(spec)
      randomizeNonKernels(net)
      const before = namedWeights(net).map(({ name, tensor }) => ({ name, values: Array.from(tensor.dataSync()) }))
      const x = tf.randomNormal([4, ...shape], 0, 1, 'float32', 7)
      const tensors = tf.memory().numTensors
      const { net: pruned, kept } = pruneNetwork(net, policyOf(net, keeps))
      try {
        expect(pruned.spec.architecture).toBe(spec.architecture)
        expect(pruned.spec.nodes.map((n) => n.id)).toEqual(spec.nodes.map((n) => n.id))
        expect([...kept.keys()]).toEqual(Object.keys(keeps))
        for (const [id, channels] of kept) {
          expect(units(pruned.spec, id)).toBe(channels.length)
          expect(channels.length).toBeLessThan(units(spec, id))
          expect(pruned.point(id).outputShape.at(-1)).toBe(channels.length)
        }
        expect(pruned.model.countParams()).toBeLessThan(net.model.countParams())
        const masked = tf.tidy(() => net.forward(x, { hooks: channelMaskHooks(net, kept) }))
        const small = tf.tidy(() => pruned.forward(x))
        expect(small.shape).toEqual(masked.shape)
        expect(maxDifference(small, masked)).toBeLessThan(1e-4)
        // Pruning changes the function: the mask hooks are not a no-op.
        const full = tf.tidy(() => net.forward(x))
        expect(maxDifference(full, masked)).toBeGreaterThan(1e-3)
        tf.dispose([masked, small, full])
        expect(namedWeights(net).map(({ name, tensor }) => ({ name, values: Array.from(tensor.dataSync()) }))).toEqual(before)
      } finally {
        pruned.dispose()
      }
      expect(tf.memory().numTensors).toBe(tensors)
      x.dispose()
      net.dispose()
    })
  }

  it('keeps identical outputs and shapes when every channel is kept', () => {
    const net = new Network(lenet5(true))
    randomizeNonKernels(net)
    const { net: same, kept } = pruneNetwork(net, policyOf(net, {}))
    expect(kept.size).toBe(0)
    expect(same.spec).toEqual(net.spec)
    const x = tf.randomNormal([3, 28, 28, 1], 0, 1, 'float32', 2)
    const a = tf.tidy(() => net.forward(x))
    const b = tf.tidy(() => same.forward(x))
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()))
    tf.dispose([x, a, b])
    same.dispose()
    net.dispose()
  })

  it('keeps the output channels with the largest L1 norm, in their original order', () => {
    const spec: ModelSpec = {
      architecture: 'tiny',
      classes: 2,
      nodes: [
        { id: 'input', op: 'input', shape: [3] },
        { id: 'fc1', op: 'dense', input: 'input', units: 4, useBias: false },
        { id: 'fc1.relu', op: 'relu', input: 'fc1' },
        { id: 'logits', op: 'dense', input: 'fc1.relu', units: 2 },
      ],
    }
    const net = new Network(spec)
    // Column L1 norms 1, 5, 2, 4: keeping half keeps channels 1 and 3.
    const kernel = [
      [1, -3, 1, 2],
      [0, 1, -1, -1],
      [0, -1, 0, 1],
    ]
    const logitsKernel = [
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ]
    tf.tidy(() => {
      net.layer('fc1')!.weights[0]!.write(tf.tensor2d(kernel))
      net.layer('logits')!.weights[0]!.write(tf.tensor2d(logitsKernel))
    })
    const { net: pruned, kept } = pruneNetwork(net, policyOf(net, { fc1: 0.5 }))
    expect(kept.get('fc1')).toEqual([1, 3])
    expect(pruned.weights('fc1').kernel.arraySync()).toEqual(kernel.map((row) => [row[1], row[3]]))
    expect(pruned.weights('logits').kernel.arraySync()).toEqual([logitsKernel[1], logitsKernel[3]])
    pruned.dispose()
    net.dispose()
  })

  it('expands kept channels through an NHWC flatten', () => {
    const net = new Network(lenet5(true))
    const features = keptFeatures(net, new Map([['conv2', [0, 3]]]))
    // pool2 is 5×5×16: position p's channel c is feature 16·p + c.
    expect(features.get('pool2')).toEqual([0, 3])
    expect(features.get('flatten')?.slice(0, 6)).toEqual([0, 3, 16, 19, 32, 35])
    expect(features.get('flatten')).toHaveLength(50)
    expect(features.get('fc1')).toBeNull()
    net.dispose()
  })

  it('refuses a policy that does not fit', () => {
    const net = new Network(resnet8([16, 16, 1], 5))
    expect(() => pruneNetwork(net, policyOf(net, { s1b: 0.5 }))).toThrow(/cannot be pruned/)
    net.dispose()
  })
})
