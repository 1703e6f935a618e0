// The fused optimizer against tf.train.adam / tf.train.momentum, and the fused (synchronisable) batch norm's gradients
// and moving statistics on wasm against tf.layers' batch norm on cpu.
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../../src-main/engine/backend.ts'
import type { ModelSpec } from '../../../../src-main/engine/graph.ts'
import { Network } from '../../../../src-main/engine/network.ts'
import { FusedOptimizer, type OptimizerKind } from '../../../../src-main/engine/parallel-train/fused-optimizer.ts'
import { setLearningRate } from '../../../../src-main/engine/train.ts'
import { LOCAL_GATHER, syncBatchNormOverrides } from '../../../../src-main/engine/parallel-train/sync-batch-norm.ts'

/** Deterministic values in [−1, 1) from a fixed LCG, identical on every backend. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n)
  let s = seed * 7919 + 17
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648
    out[i] = (s / 2147483648) * 2 - 1
  }
  return out
}

function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length)
  let diff = 0
  let scale = 0
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!))
    scale = Math.max(scale, Math.abs(expected[i]!))
  }
  return diff / Math.max(scale, 1e-12)
}

beforeAll(async () => {
  // Import and register the wasm backend (with Benchside's kernels); tests switch between it and cpu.
  await initBackend('wasm')
})

describe('FusedOptimizer', () => {
  for (const kind of ['adam', 'sgd'] as const satisfies readonly OptimizerKind[]) {
    it(`matches tf.train.${kind === 'adam' ? 'adam' : 'momentum'} over 25 steps with a changing learning rate`, async () => {
      await tf.setBackend('cpu')
      const shapes = [[37], [5, 11], [3, 3, 2, 4]]
      const reference = shapes.map((shape, i) =>
        tf.variable(
          tf.tensor(
            values(
              shape.reduce((a, b) => a * b),
              i + 1,
            ),
            shape,
          ),
          true,
          `${kind}${i}`,
        ),
      )
      const weights = reference.map((v) => v.dataSync().slice() as Float32Array)
      const optimizer = kind === 'adam' ? tf.train.adam(0.01) : tf.train.momentum(0.01, 0.9)
      const fused = new FusedOptimizer(kind, tf.backend().epsilon())
      for (let step = 0; step < 25; step++) {
        const learningRate = 0.01 * (1 - step / 30)
        setLearningRate(optimizer, learningRate)
        // Two halves summed, as two workers' gradient shares are; one gradient has a zero and a tiny entry.
        const halves = shapes.map((shape, i) =>
          [0, 1].map((h) =>
            values(
              shape.reduce((a, b) => a * b),
              100 * step + 10 * i + h,
            ),
          ),
        )
        halves[0]![0]![0] = 0
        halves[0]![1]![0] = 0
        halves[0]![0]![1] = 1e-9
        const summed = halves.map(([a, b]) => Float32Array.from(a!, (x, j) => Math.fround(x + b![j]!)))
        optimizer.applyGradients(reference.map((v, i) => ({ name: v.name, tensor: tf.tensor(summed[i]!, shapes[i]) })))
        fused.step(
          weights.map((w, i) => ({ name: `w${i}`, weights: w, gradient: halves[i]! })),
          learningRate,
        )
      }
      for (const [i, v] of reference.entries()) expect(maxRelativeError(weights[i]!, v.dataSync())).toBeLessThan(1e-6)
      // And they moved: the comparison is not between two unchanged copies.
      expect(maxRelativeError(weights[0]!, values(37, 1))).toBeGreaterThan(1e-3)
      optimizer.dispose()
      tf.dispose(reference)
    })
  }
})

const bnSpec: ModelSpec = {
  architecture: 'bn-test',
  classes: 3,
  nodes: [
    { id: 'input', op: 'input', shape: [6, 6, 2] },
    { id: 'conv1', op: 'conv2d', input: 'input', filters: 4, kernel: 3, padding: 'same', useBias: false },
    { id: 'conv1.bn', op: 'batchNorm', input: 'conv1' },
    { id: 'conv1.relu', op: 'relu', input: 'conv1.bn' },
    { id: 'flatten', op: 'flatten', input: 'conv1.relu' },
    { id: 'fc1', op: 'dense', input: 'flatten', units: 7, useBias: false },
    { id: 'fc1.bn', op: 'batchNorm', input: 'fc1' },
    { id: 'fc1.relu', op: 'relu', input: 'fc1.bn' },
    { id: 'logits', op: 'dense', input: 'fc1.relu', units: 3 },
  ],
}

/** Gradients of every weight and the moving statistics after one training forward pass on `backend`. */
async function bnStep(backend: 'cpu' | 'wasm', fused: boolean): Promise<{ grads: Float32Array[]; weights: Float32Array[] }> {
  await tf.setBackend(backend)
  const net = new Network(bnSpec, 4)
  // γ and β away from 1 and 0, so the test sees them in every term.
  for (const id of ['conv1.bn', 'fc1.bn']) {
    const layer = net.layer(id)!
    const [gamma, _beta, mean, variance] = layer.getWeights()
    const c = gamma!.shape[0]!
    layer.setWeights([tf.tensor(values(c, 5).map((v) => 1 + 0.5 * v)), tf.tensor(values(c, 6)), mean!, variance!.add(0.5)])
  }
  const x = tf.tensor(values(5 * 6 * 6 * 2, 7), [5, 6, 6, 2])
  const target = tf.tensor(values(5 * 3, 8), [5, 3])
  const hooks = fused ? { compute: syncBatchNormOverrides(net, LOCAL_GATHER) } : undefined
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(net.forward(x, { training: true, hooks }), target)), net.trainableWeights)
  const result = {
    grads: net.trainableWeights.map((v) => grads[v.name]!.dataSync() as Float32Array),
    weights: net.model.getWeights().map((w) => w.dataSync() as Float32Array),
  }
  tf.dispose([x, target, ...Object.values(grads)])
  net.dispose()
  return result
}

describe('fused batch norm', () => {
  it('gives the gradients and moving statistics of tf.layers batch norm (wasm against cpu)', async () => {
    const reference = await bnStep('cpu', false)
    const fused = await bnStep('wasm', true)
    expect(fused.grads.length).toBe(reference.grads.length)
    for (const [i, g] of fused.grads.entries()) expect(maxRelativeError(g, reference.grads[i]!)).toBeLessThan(2e-5)
    // Every weight including the moving mean and variance, which the training pass updated.
    for (const [i, w] of fused.weights.entries()) expect(maxRelativeError(w, reference.weights[i]!)).toBeLessThan(2e-5)
  })

  it('leaves inference to the layer (moving statistics, no update)', async () => {
    await tf.setBackend('wasm')
    const net = new Network(bnSpec, 4)
    const x = tf.tensor(values(2 * 6 * 6 * 2, 9), [2, 6, 6, 2])
    const plain = net.forward(x).dataSync()
    const before = net.model.getWeights().map((w) => w.dataSync().slice())
    const hooked = net.forward(x, { hooks: { compute: syncBatchNormOverrides(net, LOCAL_GATHER) } }).dataSync()
    expect(Array.from(hooked)).toEqual(Array.from(plain))
    net.model.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(Array.from(before[i]!)))
    x.dispose()
    net.dispose()
  })
})
