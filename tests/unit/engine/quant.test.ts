import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src-main/engine/backend.ts'
import type { Dataset } from '../../../src-main/engine/data/dataset.ts'
import { evaluate } from '../../../src-main/engine/evaluate.ts'
import type { ModelSpec } from '../../../src-main/engine/graph.ts'
import { Network } from '../../../src-main/engine/network.ts'
import {
  activationGrid,
  activationRangeMax,
  calibrate,
  constantActivationHook,
  fakeQuantize,
  fakeQuantizeKernel,
  integerForward,
  integerLayer,
  layerOutput,
  learnedQuantize,
  quantHooks,
  weightGrid,
  weightLevels,
  weightQuantOverride,
  type IntegerNode,
  type QuantConfig,
  type WeightNode,
  type WeightQuantSpec,
} from '../../../src-main/engine/quant.ts'
import { seededRandom } from '../../../src-main/engine/random.ts'
import { train } from '../../../src-main/engine/train.ts'

beforeAll(async () => {
  await initBackend('cpu')
})

const values = (t: tf.Tensor): number[] => Array.from(t.dataSync())
const distinct = (t: tf.Tensor): number => new Set(values(t)).size
const dense = (units: number, useBias = true): IntegerNode & WeightNode => ({ id: 'fc', op: 'dense', input: 'input', units, useBias })
const point = { id: 'fc1.relu', label: 'fc1 · ReLU', op: 'relu' as const, outputShape: [6], inputShapes: [[6]], macs: 0, params: 0 }

/** Uniform values in [low, high) from a seeded generator, as a tensor of the given shape. */
function uniform(shape: number[], low: number, high: number, seed: number): tf.Tensor {
  const random = seededRandom(seed)
  const size = shape.reduce((a, b) => a * b, 1)
  return tf.tensor(
    Float32Array.from({ length: size }, () => low + (high - low) * random()),
    shape,
  )
}

/** n evenly spaced values from low to high, computed in float64 (tf.linspace drifts past its end in float32). */
function linear(low: number, high: number, n: number): tf.Tensor {
  return tf.tensor1d(Float32Array.from({ length: n }, (_, i) => low + ((high - low) * i) / (n - 1)))
}

describe('M(b), the activation range in units of the scale', () => {
  it('is 15 at 4 bits, 256 at 8 and 65536 at 16 (2^b − [b < 8])', () => {
    expect(activationRangeMax(4)).toBe(15)
    expect(activationRangeMax(8)).toBe(256)
    expect(activationRangeMax(16)).toBe(65536)
    expect(activationRangeMax(2)).toBe(3)
    expect(activationRangeMax(7)).toBe(127)
    expect(activationRangeMax(9)).toBe(512)
    expect(() => activationRangeMax(1)).toThrow(/from 2 to 16/)
    expect(() => activationRangeMax(17)).toThrow(/from 2 to 16/)
  })
})

describe('the straight-through estimator', () => {
  it('passes the gradient inside [0, M·scale] and stops it outside', () => {
    const grid = activationGrid(4, 0.1)
    const x = tf.tensor1d([-0.5, -0.01, 0, 0.03, 0.77, 1.5, 1.51, 3])
    const upstream = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8])
    const dx = tf.grad((v: tf.Tensor) => fakeQuantize(v, grid).mul(upstream).sum())(x)
    expect(values(dx)).toEqual([0, 0, 3, 4, 5, 6, 0, 0])
    const passed = tf.grad((v: tf.Tensor) => fakeQuantize(v, grid, 'pass').mul(upstream).sum())(x)
    expect(values(passed)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
  })

  it('passes the gradient of a quantized kernel to the float kernel unchanged', () => {
    const kernel = uniform([5, 3], -1, 1, 3)
    const upstream = uniform([5, 3], -2, 2, 4)
    for (const spec of [
      { bits: 3, granularity: 'tensor', symmetric: true },
      { bits: 3, granularity: 'channel', symmetric: false },
    ] satisfies WeightQuantSpec[]) {
      const dk = tf.grad((k: tf.Tensor) => fakeQuantizeKernel(k, spec, 'dense').mul(upstream).sum())(kernel)
      expect(values(dk)).toEqual(values(upstream))
      // …while the forward value really is quantized (3 bits asymmetric: at most 8 levels per channel).
      expect(values(fakeQuantizeKernel(kernel, spec, 'dense'))).not.toEqual(values(kernel))
    }
  })

  it('gives a learned scale the LSQ gradient: rounding residual inside, qmax above, 0 below', () => {
    // 4 bits, 'levels': qmax = 15, step = s·15/15 = s. s = 0.1, range [0, 1.5].
    const x = tf.tensor2d([[-0.2, 0.26, 0.74, 2.0]])
    const s = tf.scalar(0.1)
    const [dx, ds] = tf.grads((v: tf.Tensor, scale: tf.Tensor) => learnedQuantize(v, scale, 4).sum())([x, s])
    if (dx === undefined) throw new Error('tf.grads returned no gradient for x.')
    expect(values(dx)).toEqual([0, 1, 1, 0])
    // ∂y/∂s per element: 0, round(2.6) − 2.6 = 0.4, round(7.4) − 7.4 = −0.4, 15; times 1/√(N·qmax) = 1/√60.
    expect(ds!.dataSync()[0]!).toBeCloseTo((0 + 0.4 - 0.4 + 15) / Math.sqrt(60), 4)
    expect(values(learnedQuantize(x, s, 4))).toEqual(values(fakeQuantize(x, activationGrid(4, 0.1))))
  })
})

describe('constant-scale activation quantization', () => {
  it('clips to [0, M(b)·scale] and rounds to the grid', () => {
    const hook = constantActivationHook(4, 0.1)
    const out = values(hook(tf.tensor1d([-3, -0.04, 0.04, 0.06, 0.73, 1.449, 1.46, 1.6, 100]), point, true))
    const expected = [0, 0, 0, 0.1, 0.7, 1.4, 1.5, 1.5, 1.5]
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6))
    // 8 bits: the top of the range is 256·scale, not 255·scale.
    expect(values(constantActivationHook(8, 0.01)(tf.tensor1d([5, 2.56, 2.55]), point, false))[0]).toBeCloseTo(2.56, 5)
    // The 'step' grid: exactly multiples of the scale up to M·scale.
    const step = values(constantActivationHook(8, 0.01, 'step')(tf.tensor1d([0.004, 0.006, 1.234, 9]), point, false))
    ;[0, 0.01, 1.23, 2.56].forEach((v, i) => expect(step[i]).toBeCloseTo(v, 6))
  })
})

describe('levels per bit width', () => {
  it('b bits give 2^b activation levels (M + 1 on the step grid), 2^b − 1 symmetric and 2^b asymmetric weight levels', () => {
    for (let bits = 2; bits <= 16; bits++) {
      tf.tidy(() => {
        const levels = 2 ** bits
        const range = activationRangeMax(bits) * 0.5
        // A ramp over more than the range, four samples per level.
        const ramp = linear(-0.2 * range, 1.2 * range, 6 * levels)
        expect(distinct(fakeQuantize(ramp, activationGrid(bits, 0.5))), `${bits}-bit activations`).toBe(levels)
        expect(distinct(fakeQuantize(ramp, activationGrid(bits, 0.5, 'step'))), `${bits}-bit step grid`).toBe(activationRangeMax(bits) + 1)
        for (const symmetric of [true, false]) {
          // Symmetric codes only all appear on a kernel reaching ±max; the asymmetric one is lopsided on purpose.
          const kernel = linear(symmetric ? -1.3 : -0.7, 1.3, 6 * levels).reshape([-1, 1])
          const quantized = fakeQuantizeKernel(kernel, { bits, granularity: 'tensor', symmetric }, 'dense')
          expect(distinct(quantized), `${bits}-bit ${symmetric ? '' : 'a'}symmetric weights`).toBe(weightLevels({ bits, symmetric }))
        }
      })
    }
    expect(weightLevels({ bits: 4, symmetric: true })).toBe(15)
    expect(weightLevels({ bits: 4, symmetric: false })).toBe(16)
  })
})

describe('weight grids', () => {
  /** RMS quantization error of each output channel (last axis), relative to the channel's RMS value. */
  function channelErrors(kernel: tf.Tensor, spec: WeightQuantSpec, op: WeightNode['op'] = 'dense'): number[] {
    return tf.tidy(() => {
      const axes = [...Array(kernel.rank - 1).keys()]
      const error = fakeQuantizeKernel(kernel, spec, op).sub(kernel).square().mean(axes).sqrt()
      return values(error.div(kernel.square().mean(axes).sqrt()))
    })
  }

  it('per channel keeps the resolution of small channels next to a large one; per tensor does not', () => {
    // Dense [in, out] and conv HWIO: three small output channels and one 1000× larger.
    for (const [shape, op] of [
      [[64, 4], 'dense'],
      [[3, 3, 8, 4], 'conv2d'],
    ] as const) {
      const kernel = tf.tidy(() => uniform([...shape], -1, 1, 7).mul(tf.tensor1d([0.01, 0.02, 0.01, 10])))
      const perChannel = channelErrors(kernel, { bits: 8, granularity: 'channel', symmetric: true }, op)
      const perTensor = channelErrors(kernel, { bits: 8, granularity: 'tensor', symmetric: true }, op)
      for (const c of [0, 1, 2]) {
        expect(perChannel[c]!, `${op} channel ${c} per channel`).toBeLessThan(0.01)
        expect(perTensor[c]!, `${op} channel ${c} per tensor`).toBeGreaterThan(0.3)
      }
      // The large channel sets the per-tensor range, so it fares the same either way.
      expect(perTensor[3]!).toBeCloseTo(perChannel[3]!, 6)
    }
  })

  it('per channel on a depthwise kernel [h, w, in, 1] means per input channel', () => {
    const kernel = tf.tidy(() => uniform([3, 3, 2, 1], -1, 1, 8).mul(tf.tensor([0.01, 10]).reshape([1, 1, 2, 1])))
    const grid = weightGrid(kernel, { bits: 8, granularity: 'channel', symmetric: true }, 'depthwiseConv2d')
    expect((grid.step as tf.Tensor).shape).toEqual([1, 1, 2, 1])
    const steps = values(grid.step as tf.Tensor)
    expect(steps[1]! / steps[0]!).toBeGreaterThan(100)
  })

  it('symmetric grids mirror around an exact zero; asymmetric grids fit a one-sided kernel twice as finely', () => {
    const kernel = uniform([200, 1], 0.5, 1, 9)
    const sym = { bits: 4, granularity: 'tensor', symmetric: true } as const
    const asym = { ...sym, symmetric: false } as const
    const q = fakeQuantizeKernel(kernel, sym, 'dense')
    expect(values(fakeQuantizeKernel(kernel.neg(), sym, 'dense'))).toEqual(values(q.neg()))
    const withZero = tf.concat([kernel, tf.zeros([1, 1]), kernel.neg().mul(0.3)])
    for (const spec of [sym, asym]) expect(values(fakeQuantizeKernel(withZero, spec, 'dense')).at(200)).toBe(0)
    const maxError = (spec: WeightQuantSpec) => tf.tidy(() => fakeQuantizeKernel(kernel, spec, 'dense').sub(kernel).abs().max().dataSync()[0]!)
    // Range [0, 1]: symmetric step 1/7 (codes −7…7), asymmetric step 1/15 (codes 0…15).
    expect(maxError(sym)).toBeLessThanOrEqual(0.5 / 7 + 1e-6)
    expect(maxError(asym)).toBeLessThanOrEqual(0.5 / 15 + 1e-6)
    expect(maxError(asym)).toBeLessThan(0.6 * maxError(sym))
  })
})

describe('the weight compute override', () => {
  it('computes dense, strided/dilated conv and depthwise nodes like their layers (16 bits), and differs at 3 bits', () => {
    const spec: ModelSpec = {
      architecture: 'override-check',
      classes: 3,
      nodes: [
        { id: 'input', op: 'input', shape: [9, 9, 2] },
        { id: 'conv1', op: 'conv2d', input: 'input', filters: 3, kernel: 3, stride: 2, padding: 'same' },
        { id: 'conv2', op: 'conv2d', input: 'conv1', filters: 4, kernel: 2, padding: 'valid', dilation: 2 },
        { id: 'dw', op: 'depthwiseConv2d', input: 'conv2', kernel: 3, stride: 2, padding: 'same' },
        { id: 'flatten', op: 'flatten', input: 'dw' },
        { id: 'logits', op: 'dense', input: 'flatten', units: 3 },
      ],
    }
    const net = new Network(spec, 3)
    try {
      const x = uniform([2, 9, 9, 2], -1, 1, 11)
      const ids = ['conv1', 'conv2', 'dw', 'logits']
      const clean = net.activations(x)
      const fine = net.activations(x, {
        hooks: { compute: new Map(ids.map((id) => [id, weightQuantOverride({ bits: 16, granularity: 'channel', symmetric: true })])) },
      })
      const coarse = net.activations(x, {
        hooks: { compute: new Map(ids.map((id) => [id, weightQuantOverride({ bits: 3, granularity: 'tensor', symmetric: true })])) },
      })
      for (const id of ids) {
        const scale = tf.tidy(() => clean.get(id)!.abs().max().dataSync()[0]!)
        expect(fine.get(id)!.shape, id).toEqual(clean.get(id)!.shape)
        expect(tf.tidy(() => fine.get(id)!.sub(clean.get(id)!).abs().max().dataSync()[0]!) / scale, id).toBeLessThan(1e-3)
        expect(tf.tidy(() => coarse.get(id)!.sub(clean.get(id)!).abs().max().dataSync()[0]!) / scale, id).toBeGreaterThan(1e-2)
      }
    } finally {
      net.dispose()
    }
  })
})

describe('integer inference', () => {
  /**
   * |integer − fake| per output: the fake path sums K float32 products (error ≤ (K + 2)·2^−24·Σ|x·w|), and the integer
   * path rounds the bias to the accumulator grid Δx·Δw[o] (error ≤ Δx·Δw[o]/2) and rescales once (2^−24 relative).
   */
  function check(node: IntegerNode, kernel: tf.Tensor, bias: tf.Tensor | null, x: tf.Tensor, spec: WeightQuantSpec): void {
    const inputGrid = activationGrid(8, 0.02)
    const xq = fakeQuantize(x, inputGrid)
    const layer = integerLayer(kernel, bias, node, spec, { step: inputGrid.step as number, qmax: inputGrid.qmax })
    const wq = fakeQuantizeKernel(kernel, spec, node.op)
    const fake = layerOutput(xq, wq, bias, node)
    const integer = integerForward(layer, xq)
    expect(integer.shape).toEqual(fake.shape)
    const magnitude = layerOutput(xq.abs(), wq.abs(), bias?.abs() ?? null, node)
    const fanIn = kernel.size / kernel.shape.at(-1)!
    const outputs = layer.outputStep.length
    const f = fake.dataSync()
    const n = integer.dataSync()
    const m = magnitude.dataSync()
    let worstRatio = 0
    f.forEach((value, i) => {
      const tolerance = (fanIn + 4) * 2 ** -24 * m[i]! + (bias ? layer.outputStep[i % outputs]! / 2 : 0)
      worstRatio = Math.max(worstRatio, Math.abs(n[i]! - value) / tolerance)
    })
    expect(worstRatio, `${node.op} ${bias ? 'with' : 'without'} bias, ${JSON.stringify(spec)}`).toBeLessThanOrEqual(1)
  }

  it('of a dense layer equals fake quantization within float rounding (and bias rounding)', () => {
    const kernel = uniform([48, 5], -0.5, 0.7, 12)
    const bias = uniform([5], -0.3, 0.3, 13)
    const x = uniform([6, 48], -0.5, 6, 14)
    for (const spec of [
      { bits: 8, granularity: 'channel', symmetric: true },
      { bits: 6, granularity: 'tensor', symmetric: false },
      { bits: 4, granularity: 'channel', symmetric: false },
    ] satisfies WeightQuantSpec[]) {
      check(dense(5, false), kernel, null, x, spec)
      check(dense(5), kernel, bias, x, spec)
    }
  })

  it('of a conv layer (stride, padding, dilation) equals fake quantization within the same tolerance', () => {
    const kernel = uniform([3, 3, 3, 4], -0.6, 0.4, 15)
    const bias = uniform([4], -0.3, 0.3, 16)
    const x = uniform([2, 8, 10, 3], -0.5, 6, 17)
    const spec = { bits: 8, granularity: 'channel', symmetric: false } as const
    for (const node of [
      { id: 'c', op: 'conv2d', input: 'input', filters: 4, kernel: 3, stride: 2, padding: 'same' },
      { id: 'c', op: 'conv2d', input: 'input', filters: 4, kernel: 3, padding: 'valid', dilation: 2 },
      { id: 'c', op: 'conv2d', input: 'input', filters: 4, kernel: 3 },
    ] satisfies IntegerNode[]) {
      check(node, kernel, bias, x, spec)
    }
  })

  it('refuses a layer whose int32 accumulators could overflow', () => {
    const kernel = uniform([64, 2], -1, 1, 18)
    const grid = activationGrid(16, 0.001)
    expect(() =>
      integerLayer(kernel, null, dense(2, false), { bits: 16, granularity: 'tensor', symmetric: true }, { step: grid.step as number, qmax: grid.qmax }),
    ).toThrow(/int32 accumulators/)
  })
})

/** Three Gaussian clusters in 16 dimensions (4×4×1 samples). */
function clusters(count: number, seed: number): { x: Float32Array; y: Int32Array; count: number } {
  const random = seededRandom(seed)
  const centres = seededRandom(99)
  const means = Array.from({ length: 3 }, () => Array.from({ length: 16 }, () => (centres() < 0.5 ? -1 : 1)))
  const x = new Float32Array(count * 16)
  const y = new Int32Array(count)
  for (let i = 0; i < count; i++) {
    y[i] = i % 3
    for (let j = 0; j < 16; j++) {
      // Box–Muller for a normal spread of 0.8 around the class centre.
      const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
      x[i * 16 + j] = means[i % 3]![j]! + 0.8 * z
    }
  }
  return { x, y, count }
}

function tinyDataset(): Dataset {
  return {
    id: 'clusters',
    name: 'clusters',
    sampleShape: [4, 4, 1],
    classNames: ['a', 'b', 'c'],
    normalization: { scale: 1, mean: 0, std: 1 },
    train: clusters(240, 1),
    validation: null,
    test: clusters(90, 2),
  }
}

const tinyMlp: ModelSpec = {
  architecture: 'tiny-mlp',
  classes: 3,
  nodes: [
    { id: 'input', op: 'input', shape: [4, 4, 1] },
    { id: 'flatten', op: 'flatten', input: 'input' },
    { id: 'fc1', op: 'dense', input: 'flatten', units: 16 },
    { id: 'fc1.relu', op: 'relu', input: 'fc1' },
    { id: 'fc2', op: 'dense', input: 'fc1.relu', units: 16 },
    { id: 'fc2.relu', op: 'relu', input: 'fc2' },
    { id: 'logits', op: 'dense', input: 'fc2.relu', units: 3 },
  ],
}

describe('quantHooks', () => {
  it('quantizes every weight node and every ReLU, with bits per point', () => {
    const net = new Network(tinyMlp)
    try {
      const hooks = quantHooks(net, {
        weights: { bits: 4, bitsByPoint: { logits: 8 }, granularity: 'channel', symmetric: true },
        activations: { bits: 4, bitsByPoint: { 'fc2.relu': 2 }, scaling: { mode: 'constant', scale: 0.25 } },
      })
      expect([...hooks.compute.keys()]).toEqual(['fc1', 'fc2', 'logits'])
      expect([...hooks.after.keys()]).toEqual(['fc1.relu', 'fc2.relu'])
      const x = uniform([20, 4, 4, 1], -2, 2, 21)
      const all = net.activations(x, { hooks })
      // 4 bits → at most 16 levels on [0, 15·0.25]; 2 bits → at most 4 on [0, 3·0.25].
      expect(distinct(all.get('fc1.relu')!)).toBeLessThanOrEqual(16)
      expect(tf.tidy(() => all.get('fc1.relu')!.max().dataSync()[0]!)).toBeLessThanOrEqual(3.75 + 1e-6)
      expect(distinct(all.get('fc2.relu')!)).toBeLessThanOrEqual(4)
      expect(tf.tidy(() => all.get('fc2.relu')!.max().dataSync()[0]!)).toBeLessThanOrEqual(0.75 + 1e-6)
      expect(() => quantHooks(net, { weights: { bits: 4, granularity: 'tensor', symmetric: true, points: ['fc1.relu'] } })).toThrow(/only dense and conv nodes/)
      expect(() => quantHooks(net, { activations: { bits: 4, scaling: { mode: 'constant', scale: 0.1 }, points: ['nope'] } })).toThrow(/not an injection point/)
      expect(() => quantHooks(net, { activations: { bits: 4, scaling: { mode: 'statistics', statistic: 'max' } } })).toThrow(/calibrate/)
    } finally {
      net.dispose()
    }
  })

  it("'statistics' scaling sets M(b)·scale to the calibration max or percentile", async () => {
    const net = new Network(tinyMlp)
    try {
      const batches = [uniform([30, 4, 4, 1], -2, 2, 22), uniform([30, 4, 4, 1], -2, 2, 23)]
      const config: QuantConfig = { activations: { bits: 8, scaling: { mode: 'statistics', statistic: 'max' } } }
      const ranges = await calibrate(net, batches, config)
      const observedMax = Math.max(...batches.map((b) => tf.tidy(() => net.activations(b).get('fc1.relu')!.max().dataSync()[0]!)))
      expect(ranges.get('fc1.relu')).toBeCloseTo(observedMax, 6)
      const hooks = quantHooks(net, config, ranges)
      expect(hooks.scales.get('fc1.relu')! * 256).toBeCloseTo(observedMax, 6)
      const p90 = await calibrate(net, batches, { activations: { bits: 8, scaling: { mode: 'statistics', statistic: 'percentile', percentile: 90 } } })
      expect(p90.get('fc1.relu')!).toBeLessThan(observedMax)
      expect(p90.get('fc1.relu')!).toBeGreaterThan(0)
      // With the max as range nothing clips: the quantized maximum sits within half a step of the float maximum.
      const step = (observedMax / 256) * (256 / 255)
      const quantizedMax = Math.max(...batches.map((b) => tf.tidy(() => net.activations(b, { hooks }).get('fc1.relu')!.max().dataSync()[0]!)))
      expect(Math.abs(quantizedMax - observedMax)).toBeLessThanOrEqual(step / 2 + 1e-6)
    } finally {
      net.dispose()
    }
  })
})

describe('quantization-aware training', () => {
  it('trains a tiny MLP with train() under 4-bit weights and constant-scale 4-bit activations', async () => {
    const net = new Network(tinyMlp, 5)
    const dataset = tinyDataset()
    const hooks = quantHooks(net, {
      weights: { bits: 4, granularity: 'channel', symmetric: true },
      activations: { bits: 4, scaling: { mode: 'constant', scale: 0.2 } },
    })
    try {
      const before = await evaluate(net, dataset, dataset.test, { hooks })
      const reports = await train(net, dataset, {
        epochs: 6,
        batchSize: 30,
        optimizer: 'adam',
        learningRate: 0.01,
        schedule: 'constant',
        seed: 1,
        patience: 0,
        hooks,
      })
      const after = await evaluate(net, dataset, dataset.test, { hooks })
      expect(reports.at(-1)!.trainLoss).toBeLessThan(0.5 * reports[0]!.trainLoss)
      expect(after.loss).toBeLessThan(0.5 * before.loss)
      expect(after.accuracy).toBeGreaterThan(0.9)
    } finally {
      hooks.dispose()
      net.dispose()
    }
  })

  it('train() updates learned activation scales along with the weights', async () => {
    const net = new Network(tinyMlp, 5)
    const dataset = tinyDataset()
    const hooks = quantHooks(net, { activations: { bits: 4, scaling: { mode: 'learned', initialScale: 0.01 } } })
    try {
      const reports = await train(net, dataset, {
        epochs: 6,
        batchSize: 30,
        optimizer: 'adam',
        learningRate: 0.01,
        schedule: 'constant',
        seed: 1,
        patience: 0,
        hooks,
      })
      for (const scale of hooks.variables.values()) expect(scale.dataSync()[0]).toBeGreaterThan(0.02)
      expect(reports.at(-1)!.trainLoss).toBeLessThan(reports[0]!.trainLoss)
    } finally {
      hooks.dispose()
      net.dispose()
    }
  })

  it('learns activation scales when they are trained with the weights', () => {
    const net = new Network(tinyMlp, 5)
    const dataset = tinyDataset()
    // A scale far too small: 4-bit range [0, 0.15] clips most activations.
    const hooks = quantHooks(net, { activations: { bits: 4, scaling: { mode: 'learned', initialScale: 0.01 } } })
    const optimizer = tf.train.adam(0.01)
    try {
      const x = tf.tensor(dataset.train.x, [dataset.train.count, 4, 4, 1])
      const y = tf.oneHot(tf.tensor1d(dataset.train.y, 'int32'), 3)
      const variables = [...net.trainableWeights, ...hooks.variables.values()]
      const losses: number[] = []
      for (let step = 0; step < 40; step++) {
        const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, net.forward(x, { training: true, hooks })) as tf.Scalar, true, variables)!
        losses.push(loss.dataSync()[0]!)
        loss.dispose()
      }
      expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]!)
      for (const [id, scale] of hooks.variables) expect(scale.dataSync()[0]!, id).toBeGreaterThan(0.02)
    } finally {
      optimizer.dispose()
      hooks.dispose()
      net.dispose()
    }
  })
})
