import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { beforeAll, describe, expect, it } from 'vitest'
import { ADDED_KERNELS, REPLACED_KERNELS, registerWasmGradients } from '../../../src-main/engine/wasm-gradients.ts'
import { dilateFilter } from '../../../src-main/engine/wasm-gradients/dilated-conv-gradient.ts'

type Fn = (...xs: tf.Tensor[]) => tf.Tensor

interface Input {
  shape: number[]
  values: Float32Array
}

/** Deterministic pseudo-random values (a fixed LCG), so both backends get bit-identical inputs. */
function input(shape: number[], seed: number, positive = false): Input {
  const n = shape.reduce((a, b) => a * b, 1)
  const values = new Float32Array(n)
  let s = seed * 7919 + 17
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648
    const u = s / 2147483648
    values[i] = positive ? 0.5 + u : u * 2 - 1
  }
  return { shape, values }
}

/** Vector–Jacobian product of f at the inputs with a fixed random cotangent, on one backend. */
async function vjp(backend: string, f: Fn, inputs: Input[]): Promise<{ y: Float32Array; grads: Float32Array[] }> {
  await tf.setBackend(backend)
  return tf.tidy(() => {
    const xs = inputs.map((i) => tf.tensor(i.values, i.shape))
    const yShape = f(...xs).shape
    const cotangent = input(yShape, 99)
    const dy = tf.tensor(cotangent.values, cotangent.shape)
    const grads = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), dy)))(xs)
    return { y: f(...xs).dataSync() as Float32Array, grads: grads.map((g) => g.dataSync() as Float32Array) }
  })
}

/** The i-th item, or a failure saying how many there were. */
function at<T>(items: readonly T[], i: number): T {
  const item = items[i]
  if (item === undefined) throw new Error(`Expected an item ${i}; there are ${items.length}.`)
  return item
}

/** Largest deviation relative to the reference's largest magnitude (float32 sums of many terms differ in order). */
function relativeError(actual: Float32Array, expected: Float32Array, floor = 1e-12): number {
  expect(actual.length).toBe(expected.length)
  let diff = 0
  let scale = 0
  for (const [i, value] of actual.entries()) {
    const reference = expected[i]!
    diff = Math.max(diff, Math.abs(value - reference))
    scale = Math.max(scale, Math.abs(reference))
  }
  return diff / Math.max(scale, floor)
}

async function expectWasmMatchesCpu(f: Fn, inputs: Input[], tolerance = 2e-5, reference: Fn = f): Promise<void> {
  const wasm = await vjp('wasm', f, inputs)
  const cpu = await vjp('cpu', reference, inputs)
  expect(relativeError(wasm.y, cpu.y)).toBeLessThan(tolerance)
  expect(wasm.grads.length).toBe(inputs.length)
  wasm.grads.forEach((g, i) => {
    expect(relativeError(g, at(cpu.grads, i)), `gradient of input ${i}`).toBeLessThan(tolerance)
  })
}

beforeAll(async () => {
  registerWasmGradients()
  expect(await tf.setBackend('wasm')).toBe(true)
  expect(await tf.setBackend('cpu')).toBe(true)
})

describe('registerWasmGradients', () => {
  it('registers every kernel it lists for wasm only, and is idempotent', () => {
    expect(registerWasmGradients()).toEqual(registerWasmGradients())
    for (const name of [...ADDED_KERNELS, ...REPLACED_KERNELS]) expect(tf.getKernel(name, 'wasm'), name).toBeDefined()
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')).toBeDefined()
  })
})

type Pad = 'same' | 'valid'
const conv2dCases: { name: string; x: number[]; w: number[]; stride: number; pad: Pad; dilation?: number }[] = [
  { name: 'LeNet 5×5 valid s1 (even)', x: [3, 12, 12, 2], w: [5, 5, 2, 4], stride: 1, pad: 'valid' },
  { name: '5×5 valid s1 (odd)', x: [2, 11, 9, 3], w: [5, 5, 3, 4], stride: 1, pad: 'valid' },
  { name: "5×5 'same' s1 (LeNet first conv)", x: [2, 10, 10, 1], w: [5, 5, 1, 6], stride: 1, pad: 'same' },
  { name: "3×3 'same' s1 (ResNet)", x: [2, 8, 8, 4], w: [3, 3, 4, 5], stride: 1, pad: 'same' },
  { name: "3×3 'same' s2 (even)", x: [2, 8, 8, 3], w: [3, 3, 3, 4], stride: 2, pad: 'same' },
  { name: "3×3 'same' s2 (odd)", x: [3, 9, 7, 3], w: [3, 3, 3, 4], stride: 2, pad: 'same' },
  { name: '3×3 valid s2 (odd, trailing rows unused)', x: [2, 10, 11, 3], w: [3, 3, 3, 4], stride: 2, pad: 'valid' },
  { name: "1×1 'same' s2 shortcut (even)", x: [2, 8, 8, 4], w: [1, 1, 4, 6], stride: 2, pad: 'same' },
  { name: "1×1 'same' s2 shortcut (odd)", x: [2, 9, 9, 4], w: [1, 1, 4, 6], stride: 2, pad: 'same' },
  { name: 'pointwise 1×1 s1', x: [2, 5, 7, 8], w: [1, 1, 8, 3], stride: 1, pad: 'valid' },
  { name: "DS-CNN stem 10×4 'same' s2", x: [2, 25, 10, 1], w: [10, 4, 1, 8], stride: 2, pad: 'same' },
  { name: "3×3 'same' dilation 2 (even)", x: [2, 10, 10, 3], w: [3, 3, 3, 4], stride: 1, pad: 'same', dilation: 2 },
  { name: "3×3 'same' dilation 2 (odd)", x: [2, 9, 11, 2], w: [3, 3, 2, 3], stride: 1, pad: 'same', dilation: 2 },
  { name: "3×3 'same' dilation 2, one input channel", x: [2, 9, 8, 1], w: [3, 3, 1, 4], stride: 1, pad: 'same', dilation: 2 },
  { name: '3×3 valid dilation 2 (odd)', x: [3, 11, 9, 2], w: [3, 3, 2, 3], stride: 1, pad: 'valid', dilation: 2 },
]

describe('conv2d gradients on wasm match cpu', () => {
  for (const c of conv2dCases) {
    it(c.name, async () => {
      const inputs = [input(c.x, 1), input(c.w, 2)]
      const d = c.dilation ?? 1
      const conv: Fn = (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad, 'NHWC', d)
      // tfjs has no dilated conv gradient of its own: the reference is a plain conv with the zero-inserted filter.
      const reference: Fn = d === 1 ? conv : (x, w) => tf.conv2d(x as tf.Tensor4D, dilateFilter(w as tf.Tensor4D, d, d), c.stride, c.pad)
      await expectWasmMatchesCpu(conv, inputs, 2e-5, reference)
    })
  }

  it('fused conv2d with bias and ReLU (the tf.layers path)', async () => {
    const f: Fn = (x, w, b) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 2, pad: 'same', bias: b, activation: 'relu' })
    await expectWasmMatchesCpu(f, [input([2, 9, 8, 3], 3), input([3, 3, 3, 5], 4), input([5], 5)])
  })
})

describe('dilated conv2d through tf.layers (fused conv2d)', () => {
  it('trains: its gradient matches a plain conv with the zero-inserted filter', async () => {
    const f: Fn = (x, w, b) =>
      tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', dilations: 2, bias: b, activation: 'relu' })
    const reference: Fn = (x, w, b) => tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, dilateFilter(w as tf.Tensor4D, 2, 2), 1, 'same'), b))
    await expectWasmMatchesCpu(f, [input([2, 9, 10, 3], 40), input([3, 3, 3, 4], 41), input([4], 42)], 2e-5, reference)
  })

  it('a tf.layers conv2d with dilationRate 2 gets gradients for kernel and bias', async () => {
    await tf.setBackend('wasm')
    const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [9, 9, 2], filters: 3, kernelSize: 3, padding: 'same', dilationRate: 2 })] })
    const { grads } = tf.variableGrads(() => (model.apply(tf.ones([2, 9, 9, 2]), { training: true }) as tf.Tensor).square().mean() as tf.Scalar)
    expect(Object.values(grads).map((g) => g.shape)).toEqual([[3, 3, 2, 3], [3]])
    model.dispose()
  })
})

describe('depthwise conv2d gradients on wasm match cpu', () => {
  const cases: { name: string; x: number[]; w: number[]; stride: number }[] = [
    { name: "3×3 'same' s1 (even)", x: [2, 8, 6, 4], w: [3, 3, 4, 1], stride: 1 },
    { name: "3×3 'same' s1 (odd)", x: [3, 25, 5, 6], w: [3, 3, 6, 1], stride: 1 },
    { name: "3×3 'same' s2 (odd)", x: [2, 9, 7, 3], w: [3, 3, 3, 1], stride: 2 },
    { name: "3×3 'same' s1, channel multiplier 2", x: [2, 7, 8, 3], w: [3, 3, 3, 2], stride: 1 },
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const f: Fn = (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, 'same')
      await expectWasmMatchesCpu(f, [input(c.x, 6), input(c.w, 7)])
    })
  }
})

describe('pooling gradients on wasm match cpu', () => {
  const cases: { name: string; shape: number[]; size: number; stride: number; pad: Pad; shift?: number }[] = [
    { name: '2×2 s2 valid (even)', shape: [3, 8, 8, 4], size: 2, stride: 2, pad: 'valid' },
    { name: '2×2 s2 valid (odd)', shape: [2, 9, 7, 3], size: 2, stride: 2, pad: 'valid' },
    { name: "2×2 s2 'same' (odd)", shape: [2, 9, 9, 3], size: 2, stride: 2, pad: 'same' },
    { name: "3×3 s2 'same' (overlapping windows)", shape: [2, 8, 7, 3], size: 3, stride: 2, pad: 'same' },
    // Stock wasm MaxPoolGrad routes the gradient of an all-negative window to the wrong element.
    { name: '2×2 s2 valid, all-negative input', shape: [2, 6, 6, 3], size: 2, stride: 2, pad: 'valid', shift: -2 },
  ]
  for (const c of cases) {
    it(`max pool ${c.name}`, async () => {
      const shift = c.shift ?? 0
      await expectWasmMatchesCpu((x) => tf.maxPool(tf.add(x, shift) as tf.Tensor4D, c.size, c.stride, c.pad), [input(c.shape, 8)])
    })
    it(`average pool ${c.name}`, async () => {
      await expectWasmMatchesCpu((x) => tf.avgPool(x as tf.Tensor4D, c.size, c.stride, c.pad), [input(c.shape, 9)])
    })
  }

  it('global average pooling (mean over H and W)', async () => {
    await expectWasmMatchesCpu((x) => tf.mean(x, [1, 2]), [input([3, 7, 5, 6], 10)])
  })
})

describe('dense, batch norm and loss gradients on wasm match cpu', () => {
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`matMul transposeA=${ta} transposeB=${tb}`, async () => {
      const a = ta ? [33, 20] : [20, 33]
      const b = tb ? [17, 33] : [33, 17]
      await expectWasmMatchesCpu((x, y) => tf.matMul(x, y, ta, tb), [input(a, 11), input(b, 12)])
    })
  }

  it('fused dense with bias and ReLU', async () => {
    const f: Fn = (x, w, b) => tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b, activation: 'relu' })
    await expectWasmMatchesCpu(f, [input([16, 40], 13), input([40, 24], 14), input([24], 15)])
  })

  it('batched matMul against a shared matrix (forward)', async () => {
    const wasm = await vjp('wasm', (x) => tf.matMul(x, tf.ones([5, 3])), [input([2, 4, 5], 16)])
    const cpu = await vjp('cpu', (x) => tf.matMul(x, tf.ones([5, 3])), [input([2, 4, 5], 16)])
    expect(relativeError(wasm.y, cpu.y)).toBeLessThan(1e-6)
    expect(relativeError(at(wasm.grads, 0), at(cpu.grads, 0))).toBeLessThan(1e-6)
  })

  for (const shape of [
    [32, 24],
    [4, 6, 5, 8],
  ]) {
    it(`training-mode batch norm on rank ${shape.length} (statistics from the batch)`, async () => {
      const channels = shape.at(-1)!
      const axes = shape.slice(0, -1).map((_, i) => i)
      const f: Fn = (x, gamma, beta) => {
        const { mean, variance } = tf.moments(x, axes)
        return tf.batchNorm(x, mean, variance, beta, gamma, 1e-3)
      }
      await expectWasmMatchesCpu(f, [input(shape, 17), input([channels], 18, true), input([channels], 19)], 1e-4)
    })
  }

  it('inference-mode batch norm with fixed statistics (all five inputs)', async () => {
    const f: Fn = (x, m, v, beta, gamma) => tf.batchNorm(x, m, v, beta, gamma, 1e-3)
    await expectWasmMatchesCpu(f, [input([4, 5, 3, 8], 20), input([8], 21), input([8], 22, true), input([8], 23), input([8], 24, true)])
  })

  for (const [name, op] of [
    ['add', tf.add],
    ['sub', tf.sub],
    ['mul', tf.mul],
    ['div', tf.div],
  ] as const) {
    it(`per-channel broadcast ${name} in both operand orders`, async () => {
      await expectWasmMatchesCpu((x, c) => tf.add(op(x, c), op(tf.reshape(c, [1, 1, 1, 6]), x)), [input([4, 9, 7, 6], 25), input([6], 26, true)])
    })
  }

  // tfjs-core's own gradients of these ops do not support broadcasting on any backend, so they are checked forward.
  for (const [name, op] of [
    ['squaredDifference', tf.squaredDifference],
    ['maximum', tf.maximum],
    ['minimum', tf.minimum],
  ] as const) {
    it(`per-channel broadcast ${name} in both operand orders (forward)`, async () => {
      const x = input([4, 9, 7, 6], 25)
      const c = input([1, 1, 1, 6], 26)
      const forward = async (backend: string): Promise<Float32Array> => {
        await tf.setBackend(backend)
        return tf.tidy(() => {
          const [xt, ct] = [tf.tensor(x.values, x.shape), tf.tensor(c.values, c.shape)]
          return tf.concat([op(xt, ct.reshape([6])), op(ct, xt)]).dataSync() as Float32Array
        })
      }
      expect(relativeError(await forward('wasm'), await forward('cpu'))).toBeLessThan(1e-6)
    })
  }

  it('sum and mean over leading axes, with and without keepDims', async () => {
    await expectWasmMatchesCpu((x) => tf.add(tf.sum(x, [0, 1, 2]), tf.mean(x, [0, 1, 2], true).reshape([6])), [input([4, 9, 7, 6], 27)])
    await expectWasmMatchesCpu((x) => tf.mean(x, 0), [input([300, 20], 28)])
  })

  it('ReLU, ReLU6 and softmax cross-entropy', async () => {
    const labels = tf.oneHot(tf.tensor1d([1, 2, 0, 3, 3, 1], 'int32'), 4)
    await expectWasmMatchesCpu((x) => tf.relu(x).add(tf.relu6(tf.mul(x, 8))), [input([5, 70], 29)])
    await expectWasmMatchesCpu((x) => tf.losses.softmaxCrossEntropy(labels, x), [input([6, 4], 30)])
  })
})

describe('end to end', () => {
  /** conv s1 → BN → ReLU → max pool → depthwise s2 → pointwise → BN → ReLU → conv s2 → GAP → dense. */
  function tinyCnn(): tf.LayersModel {
    return tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [12, 10, 2],
          filters: 6,
          kernelSize: 3,
          padding: 'same',
          kernelInitializer: 'glorotUniform',
          biasInitializer: 'randomNormal',
        }),
        tf.layers.batchNormalization(),
        tf.layers.reLU(),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
        tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same' }),
        tf.layers.conv2d({ filters: 8, kernelSize: 1 }),
        tf.layers.batchNormalization(),
        tf.layers.reLU(),
        tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same' }),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 5 }),
      ],
    })
  }

  it("a tiny CNN's full gradient (every trainable variable) matches between wasm and cpu", async () => {
    const x = input([4, 12, 10, 2], 31)
    const labels = [0, 3, 1, 4]
    const gradients = async (backend: string, weights?: Float32Array[]): Promise<{ weights: Float32Array[]; grads: Map<number, Float32Array> }> => {
      await tf.setBackend(backend)
      const model = tinyCnn()
      if (weights) model.setWeights(model.getWeights().map((w, i) => tf.tensor(at(weights, i), w.shape)))
      const own = model.getWeights().map((w) => w.dataSync().slice() as Float32Array)
      const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable)
      const { grads } = tf.variableGrads(() => {
        const logits = model.apply(tf.tensor(x.values, x.shape), { training: true }) as tf.Tensor
        return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 5), logits) as tf.Scalar
      }, trainable)
      const out = new Map(
        trainable.map((v, i) => {
          const grad = grads[v.name]
          if (grad === undefined) throw new Error(`variableGrads returned no gradient for ${v.name}.`)
          return [i, grad.dataSync().slice() as Float32Array]
        }),
      )
      model.dispose()
      return { weights: own, grads: out }
    }
    const cpu = await gradients('cpu')
    const wasm = await gradients('wasm', cpu.weights)
    expect(wasm.grads.size).toBe(14)
    // Biases feeding batch norm have a true gradient of 0 (float noise ~1e-8), so the scale has a floor tied to the
    // largest gradient of the whole network rather than to their own magnitude.
    const largest = Math.max(...[...cpu.grads.values()].map((g) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0)))
    for (const [i, g] of wasm.grads) {
      expect(relativeError(g, cpu.grads.get(i)!, 1e-2 * largest), `variable ${i}`).toBeLessThan(1e-4)
    }
  })

  it('repeated training steps on wasm free every intermediate the kernels allocate', async () => {
    await tf.setBackend('wasm')
    const model = tinyCnn()
    const optimizer = tf.train.adam(1e-3)
    const x = tf.tensor(input([4, 12, 10, 2], 32).values, [4, 12, 10, 2])
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 5)
    const step = (): void => {
      tf.tidy(() => {
        optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar)
      })
    }
    step()
    const before = tf.backend().numDataIds()
    for (let i = 0; i < 3; i++) step()
    expect(tf.backend().numDataIds()).toBe(before)
    model.dispose()
    optimizer.dispose()
    tf.dispose([x, labels])
  })
})
