import * as tf from '@tensorflow/tfjs'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  analogHooks,
  analogLayerIds,
  analogMatMul,
  associative,
  chunkCodesToOutput,
  DEFAULT_ARRAY,
  inputCodes,
  layerInputRows,
  layerKernel2d,
  nominalDevice,
  percentileOf,
  planAnalogLayers,
  simulateChunkCodes,
  weightCodes,
  type AnalogArrayConfig,
  type AnalogDeviceModel,
  type AnalogLayerScales,
} from '../../../src-main/engine/analog.ts'
import { initBackend } from '../../../src-main/engine/backend.ts'
import type { ModelSpec, NodeSpec } from '../../../src-main/engine/graph.ts'
import { Network } from '../../../src-main/engine/network.ts'
import { seededRandom } from '../../../src-main/engine/random.ts'
import { dsCnn, lenet5 } from '../../../src-main/engine/zoo.ts'

beforeAll(async () => {
  await initBackend('cpu')
})

let tensorsBefore = 0
beforeEach(() => {
  tensorsBefore = tf.memory().numTensors
})
afterEach(() => {
  // Only the cached im2col kernels may stay behind.
  expect(tf.memory().numTensors - tensorsBefore).toBeLessThanOrEqual(2)
})

const values = (t: tf.Tensor): number[] => Array.from(t.dataSync())
const maxDifference = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!)

function uniform(shape: number[], low: number, high: number, seed: number): tf.Tensor {
  const random = seededRandom(seed)
  const size = shape.reduce((a, b) => a * b, 1)
  return tf.tensor(
    Float32Array.from({ length: size }, () => low + (high - low) * random()),
    shape,
  )
}

/** Whole numbers in [low, high], as a float tensor. */
function integers(shape: number[], low: number, high: number, seed: number): tf.Tensor2D {
  const random = seededRandom(seed)
  const size = shape.reduce((a, b) => a * b, 1)
  return tf.tensor2d(
    Float32Array.from({ length: size }, () => low + Math.floor((high - low + 1) * random())),
    shape as [number, number],
  )
}

/** A wide, exact array: no noise, gains 1, nothing saturates, a 24-bit ADC and a huge digital range. */
const EXACT: AnalogArrayConfig = { ...DEFAULT_ARRAY, rows: 64, adcBits: 24, digitalClamp: 1e9 }
const ideal = (columns: number, overrides: Partial<AnalogDeviceModel> = {}): AnalogDeviceModel =>
  nominalDevice(columns, { noiseStd: 0, saturation: 1e7, ...overrides })

/** The value the host reconstructs with no analog error: round and clamp both operands, multiply exactly. */
function fakeQuantizedMatMul(x: tf.Tensor2D, w: tf.Tensor2D, scales: AnalogLayerScales, config: AnalogArrayConfig): tf.Tensor2D {
  return tf.tidy(() => {
    const { positive, negative } = inputCodes(x, scales, config)
    const xq = negative ? tf.sub(positive, negative) : positive
    return tf.mul(tf.matMul(xq as tf.Tensor2D, weightCodes(w, scales, config)), scales.inputScale * scales.weightScale) as tf.Tensor2D
  })
}

describe('defaults', () => {
  it('are BrainScaleS-2-like and the nominal device is ideal but for noise', () => {
    expect(DEFAULT_ARRAY).toEqual({ inputBits: 5, weightBits: 6, rows: 128, adcBits: 8, digitalClamp: 2047, signedInputs: 'clip' })
    const device = nominalDevice()
    expect(device.columns).toBe(256)
    expect(device.columnGain.every((g) => g === 1) && device.columnOffset.every((o) => o === 0)).toBe(true)
    expect(device).toMatchObject({ noiseStd: 0.5, saturation: 127, ordering: { order: 'natural', groupRows: 32 } })
    expect(associative(device).ordering).toBeNull()
    expect(nominalDevice(4, { noiseStd: 0 }).noiseStd).toBe(0)
    expect(() => nominalDevice(4, { columnGain: [1, 1] })).toThrow(/columnGain has 2 entries for 4 columns/)
  })
})

describe('codes', () => {
  it('quantise inputs to 0…2^b − 1 and weights to ±(2^b − 1), once, the same way for model and board', () => {
    tf.tidy(() => {
      const scales = { inputScale: 0.1, weightScale: 0.5, gain: 1 }
      const { positive, negative } = inputCodes(tf.tensor2d([[-0.3, 0.04, 0.26, 3.5]]), scales, DEFAULT_ARRAY)
      expect(values(positive)).toEqual([0, 0, 3, 31])
      expect(negative).toBeNull()
      const split = inputCodes(tf.tensor2d([[-0.3, 0.26]]), scales, { ...DEFAULT_ARRAY, signedInputs: 'split' })
      expect(values(split.positive)).toEqual([0, 3])
      expect(values(split.negative!)).toEqual([3, 0])
      expect(
        values(
          weightCodes(
            tf.tensor2d([
              [-100, -1.2],
              [0.8, 40],
            ]),
            scales,
            DEFAULT_ARRAY,
          ),
        ),
      ).toEqual([-63, -2, 2, 63])
    })
  })
})

describe('the ideal array', () => {
  it('gives, per chunk, exactly the integer matMul of the codes, and y ≈ x·W within the quantisation error', () => {
    tf.tidy(() => {
      const xq = integers([5, 150], 0, 31, 1)
      const wq = integers([150, 7], -63, 63, 2)
      const codes = simulateChunkCodes(xq, wq, 1, ideal(7), EXACT, { seed: 1 })
      expect(codes.shape).toEqual([3, 5, 7])
      const expected = [0, 64, 128].map((start) =>
        tf.matMul(xq.slice([0, start], [5, Math.min(64, 150 - start)]), wq.slice([start, 0], [Math.min(64, 150 - start), 7])),
      )
      expect(values(codes)).toEqual(values(tf.stack(expected)))
      // The ordered device with nothing saturating sums to the same integers.
      expect(values(simulateChunkCodes(xq, wq, 1, associative(ideal(7)), EXACT, { seed: 1 }))).toEqual(values(codes))

      const x = uniform([6, 150], 0, 1, 3) as tf.Tensor2D
      const w = uniform([150, 7], -1, 1, 4) as tf.Tensor2D
      const scales = { inputScale: 1 / 31, weightScale: 1 / 63, gain: 1 }
      const y = analogMatMul(x, w, scales, ideal(7), EXACT)
      expect(maxDifference(y, fakeQuantizedMatMul(x, w, scales, EXACT))).toBeLessThan(1e-4)
      // Each product is off by at most |x|·s_w/2 + |w|·s_x/2 + s_x·s_w/4.
      const bound = tf.add(
        tf.add(
          tf.matMul(tf.abs(x), tf.fill([150, 7], scales.weightScale / 2) as tf.Tensor2D),
          tf.matMul(tf.fill([6, 150], scales.inputScale / 2) as tf.Tensor2D, tf.abs(w)),
        ),
        (150 * scales.inputScale * scales.weightScale) / 4,
      )
      expect(tf.all(tf.lessEqual(tf.abs(tf.sub(y, tf.matMul(x, w))), bound)).dataSync()[0]).toBe(1)
      expect(maxDifference(y, tf.matMul(x, w))).toBeGreaterThan(0)
    })
  })
})

describe('integration order and saturation', () => {
  // One chunk of 8 rows, every input code 1, groups of 2 rows, saturation ±40, gain 1.
  // Column 0 mixes signs and magnitudes; column 1 has all positive rows first, then all negative ones.
  const wq = tf.tensor2d([
    [30, 20],
    [25, 20],
    [-5, 20],
    [20, 20],
    [-25, -20],
    [-15, -20],
    [-20, -20],
    [-10, -20],
  ])
  const xq = tf.ones([1, 8]) as tf.Tensor2D
  const config: AnalogArrayConfig = { ...EXACT, rows: 8 }
  const run = (ordering: AnalogDeviceModel['ordering']): number[] =>
    tf.tidy(() => values(simulateChunkCodes(xq, wq, 1, ideal(2, { saturation: 40, ordering }), config, { seed: 1 })))

  it('associative: the chunk sum saturates once, at the end', () => {
    expect(run(null)).toEqual([0, 0])
  })

  it('natural: row blocks in order, clipping after each block', () => {
    // col 0: 55→40, +15→40, −40→0, −30→−30. col 1: 40, 80→40, 0, −40.
    expect(run({ order: 'natural', groupRows: 2 })).toEqual([-30, -40])
  })

  it('sign: within every block the positive operands first, then the negative ones', () => {
    // col 0, blocks of 2: +55→40, 0; +20→40, −5→35; 0, −40→−5; 0, −30→−35. col 1: 40, 0; 40, 0; 0, −40→0; 0, −40.
    expect(run({ order: 'sign', groupRows: 2 })).toEqual([-35, -40])
    // Signs alternating row by row: blocks of 2 saturate on their positive half, natural blocks cancel inside.
    const alternating = tf.tensor2d([[50], [-50], [50], [-50], [50], [-50], [50], [-50]])
    const at = (ordering: AnalogDeviceModel['ordering']) =>
      tf.tidy(() => values(simulateChunkCodes(xq, alternating, 1, ideal(1, { saturation: 40, ordering }), config, { seed: 1 })))
    // Per block: +50→40, −50→−10; +50→40, −50→−10; … ends at −10.
    expect(at({ order: 'sign', groupRows: 2 })).toEqual([-10])
    expect(at({ order: 'natural', groupRows: 2 })).toEqual([0])
    // One block of all 8 rows: +200→40, then −200→−40.
    expect(at({ order: 'sign', groupRows: 8 })).toEqual([-40])
    alternating.dispose()
  })

  it('magnitude: per column by |w| descending (ties in row order), blocks of ranks', () => {
    // col 0 ranks: 30, 25 (row 1), −25 (row 4), 20 (row 3), −20 (row 6), −15, −10, −5:
    // 55→40, −5→35, −35→0, −15→−15. col 1: all equal, so natural order: −40.
    expect(run({ order: 'magnitude', groupRows: 2 })).toEqual([-15, -40])
  })

  it('without saturation every order gives the exact sum', () => {
    for (const order of ['natural', 'sign', 'magnitude', 'random'] as const) {
      const codes = tf.tidy(() => values(simulateChunkCodes(xq, wq, 1, ideal(2, { ordering: { order, groupRows: 3 } }), config, { seed: 4 })))
      expect(codes).toEqual([0, 0])
    }
  })

  it('random: a fixed seed repeats, another seed gives another order', () => {
    tf.tidy(() => {
      const x = integers([4, 64], 0, 31, 7)
      const w = integers([64, 16], -63, 63, 8)
      const device = ideal(16, { saturation: 3000, ordering: { order: 'random', groupRows: 8 } })
      const cfg = { ...EXACT, rows: 64 }
      const a = values(simulateChunkCodes(x, w, 1, device, cfg, { seed: 1 }))
      expect(values(simulateChunkCodes(x, w, 1, device, cfg, { seed: 1 }))).toEqual(a)
      expect(values(simulateChunkCodes(x, w, 1, device, cfg, { seed: 2 }))).not.toEqual(a)
      // …and saturation really bit: the associative result is different again.
      expect(values(simulateChunkCodes(x, w, 1, associative(device), cfg, { seed: 1 }))).not.toEqual(a)
      // A uniform generator works as the source too, and repeats when it does.
      const fromGenerator = (seed: number) => values(simulateChunkCodes(x, w, 1, device, cfg, seededRandom(seed)))
      expect(fromGenerator(5)).toEqual(fromGenerator(5))
    })
  })
})

describe('device non-idealities', () => {
  it('apply gain and offset per column; outputs beyond the array width reuse columns j mod columns', () => {
    tf.tidy(() => {
      const xq = tf.tensor2d([[1, 2]])
      const wq = tf.tensor2d([
        [10, 10, 10, 10, 10],
        [5, 5, 5, 5, 5],
      ]) // every column sums to 20
      const device = ideal(3, { columnGain: [1, 2, 0.5], columnOffset: [0, 3, -2.4] })
      expect(values(simulateChunkCodes(xq, wq, 1, device, EXACT, { seed: 1 }))).toEqual([20, 43, 8, 20, 43])
      // The layer gain multiplies every column.
      expect(values(simulateChunkCodes(xq, wq, 0.5, device, EXACT, { seed: 1 }))).toEqual([10, 23, 3, 10, 23])
    })
  })

  it('add Gaussian noise of the stated std before the ADC rounds (so the codes spread by √(σ² + 1/12))', () => {
    tf.tidy(() => {
      const xq = tf.zeros([2000, 8]) as tf.Tensor2D
      const wq = tf.ones([8, 50]) as tf.Tensor2D
      const device = ideal(50, { noiseStd: 3 })
      const codes = simulateChunkCodes(xq, wq, 1, device, EXACT, { seed: 11 })
      const { mean, variance } = tf.moments(codes)
      expect(Math.abs(mean.dataSync()[0]!)).toBeLessThan(0.05)
      expect(Math.sqrt(variance.dataSync()[0]!)).toBeCloseTo(Math.sqrt(9 + 1 / 12), 1)
      // Repeats of one vector over seeds spread the same way, and a seed repeats its draw.
      const repeats = tf.concat(Array.from({ length: 400 }, (_, seed) => simulateChunkCodes(xq.slice(0, 1), wq, 1, device, EXACT, { seed })))
      expect(Math.sqrt(tf.moments(repeats).variance.dataSync()[0]!)).toBeCloseTo(Math.sqrt(9 + 1 / 12), 0)
      expect(values(simulateChunkCodes(xq.slice(0, 1), wq, 1, device, EXACT, { seed: 3 }))).toEqual(values(repeats.slice(3, 1)))
    })
  })

  it('draws fresh noise on every unseeded call and the same noise for the same seed', () => {
    tf.tidy(() => {
      const x = uniform([3, 20], 0, 1, 2) as tf.Tensor2D
      const w = uniform([20, 4], -1, 1, 3) as tf.Tensor2D
      const scales = { inputScale: 1 / 31, weightScale: 1 / 63, gain: 0.05 }
      const device = nominalDevice(4, { noiseStd: 2 })
      expect(values(analogMatMul(x, w, scales, device, DEFAULT_ARRAY))).not.toEqual(values(analogMatMul(x, w, scales, device, DEFAULT_ARRAY)))
      expect(values(analogMatMul(x, w, scales, device, DEFAULT_ARRAY, 9))).toEqual(values(analogMatMul(x, w, scales, device, DEFAULT_ARRAY, 9)))
    })
  })
})

describe('chunks and the digital sum', () => {
  it('splits 300 inputs into 3 chunks of ≤ 128 rows, sums their codes and clamps the sum', () => {
    tf.tidy(() => {
      const config: AnalogArrayConfig = { ...DEFAULT_ARRAY, adcBits: 10, digitalClamp: 200 }
      const device = ideal(2)
      const xq = tf.ones([1, 300]) as tf.Tensor2D
      const wq = tf.tensor2d(
        Float32Array.from({ length: 600 }, (_, i) => (i % 2 === 0 ? 1 : -0.5 * (i % 4 === 1 ? 0 : 1))),
        [300, 2],
      )
      const codes = simulateChunkCodes(xq, wq, 1, device, config, { seed: 1 })
      expect(codes.shape).toEqual([3, 1, 2])
      // Column 0: 128, 128, 44 rows of 1; column 1: −0.5 on every second row → −32, −32, −11.
      expect(values(codes)).toEqual([128, -32, 128, -32, 44, -11])
      const scales = { inputScale: 0.5, weightScale: 0.25, gain: 2 }
      // Column 0 sums to 300, clamped to 200; column 1 to −75.
      expect(values(chunkCodesToOutput(codes, scales, config))).toEqual([200 * 0.0625, -75 * 0.0625])
    })
  })

  it('clamps each chunk at the ADC range', () => {
    tf.tidy(() => {
      const codes = simulateChunkCodes(
        tf.fill([1, 10], 31) as tf.Tensor2D,
        tf.fill([10, 2], 63).mul(tf.tensor1d([1, -1])) as tf.Tensor2D,
        1,
        ideal(2),
        DEFAULT_ARRAY,
        { seed: 1 },
      )
      expect(values(codes)).toEqual([127, -128])
    })
  })
})

describe("'split' inputs", () => {
  it('run negative inputs as a second pass subtracted digitally', () => {
    tf.tidy(() => {
      const x = uniform([5, 40], -1, 1, 5) as tf.Tensor2D
      const w = uniform([40, 6], -1, 1, 6) as tf.Tensor2D
      const scales = { inputScale: 1 / 31, weightScale: 1 / 63, gain: 1 }
      const split: AnalogArrayConfig = { ...EXACT, signedInputs: 'split' }
      const y = analogMatMul(x, w, scales, ideal(6), split)
      expect(maxDifference(y, fakeQuantizedMatMul(x, w, scales, split))).toBeLessThan(1e-4)
      expect(maxDifference(y, tf.matMul(x, w))).toBeLessThan(0.5)
      // 'clip' drops the negative part.
      const clipped = analogMatMul(x, w, scales, ideal(6), EXACT)
      expect(maxDifference(clipped, fakeQuantizedMatMul(tf.relu(x) as tf.Tensor2D, w, scales, EXACT))).toBeLessThan(1e-4)
      expect(maxDifference(clipped, tf.matMul(x, w))).toBeGreaterThan(1)
    })
  })
})

describe('layers on the array', () => {
  const convNet = (node: Partial<Extract<NodeSpec, { op: 'conv2d' }>>): Network =>
    new Network({
      architecture: 'conv-probe',
      classes: 4,
      nodes: [
        { id: 'input', op: 'input', shape: [9, 9, 3] },
        { id: 'conv', op: 'conv2d', input: 'input', filters: 4, kernel: 3, ...node },
      ],
    })

  it('run conv2d through the hook like tf.conv2d, for same/valid padding, stride 2 and dilation', () => {
    const scales = { inputScale: 1 / 255, weightScale: 0.01, gain: 1 }
    const config: AnalogArrayConfig = { ...EXACT, inputBits: 8, weightBits: 8, rows: 16 }
    for (const node of [
      { padding: 'same' },
      { padding: 'valid' },
      { padding: 'same', stride: 2 },
      { padding: 'valid', stride: 2 },
      { padding: 'same', dilation: 2 },
    ] as const) {
      const net = convNet(node)
      tf.tidy(() => {
        const x = uniform([2, 9, 9, 3], 0, 1, 8)
        const hooks = analogHooks(net, { conv: scales }, ideal(4), config)
        const y = net.forward(x, { hooks })
        const kernel = net.layer('conv')!.trainableWeights[0]!.read() as tf.Tensor4D
        const bias = net.layer('conv')!.trainableWeights[1]!.read()
        const reference = tf.add(tf.conv2d(x as tf.Tensor4D, kernel, node.stride ?? 1, node.padding, 'NHWC', 'dilation' in node ? node.dilation : 1), bias)
        expect(y.shape).toEqual(reference.shape)
        // Exactly the convolution of the quantised input and kernel…
        const quantized = tf.add(
          tf.conv2d(
            tf.mul(tf.clipByValue(tf.round(tf.div(x, scales.inputScale)), 0, 255), scales.inputScale) as tf.Tensor4D,
            tf.mul(tf.clipByValue(tf.round(tf.div(kernel, scales.weightScale)), -255, 255), scales.weightScale) as tf.Tensor4D,
            node.stride ?? 1,
            node.padding,
            'NHWC',
            'dilation' in node ? node.dilation : 1,
          ),
          bias,
        )
        expect(maxDifference(y, quantized)).toBeLessThan(1e-4)
        // …so within the quantisation error of the float one (27 products, steps 1/255 and 0.01).
        expect(maxDifference(y, reference)).toBeLessThan(27 * (0.5 / 255 + 0.005 + 0.01 / 510))
      })
      net.dispose()
    }
  })

  it('turn conv inputs into rows and kernels into matrices the host can send to a board', () => {
    const node: NodeSpec = { id: 'conv', op: 'conv2d', input: 'input', filters: 2, kernel: 2, padding: 'valid' }
    tf.tidy(() => {
      const x = tf.tensor4d(
        Float32Array.from({ length: 2 * 3 * 3 * 2 }, (_, i) => i),
        [2, 3, 3, 2],
      )
      const { rows, outputShape } = layerInputRows(x, node)
      expect(rows.shape).toEqual([8, 8])
      expect(outputShape).toEqual([2, 2, 2, 2])
      // First patch: pixels (0,0), (0,1), (1,0), (1,1), each with both channels, in HWIO order.
      expect(values(rows.slice(0, 1))).toEqual([0, 1, 2, 3, 6, 7, 8, 9])
      expect(layerKernel2d(tf.zeros([2, 2, 2, 2]), node).shape).toEqual([8, 2])
      const dense: NodeSpec = { id: 'fc', op: 'dense', input: 'input', units: 3 }
      expect(layerInputRows(tf.zeros([4, 5]), dense).outputShape).toEqual([4, 3])
    })
  })

  it('list the dense/conv2d layers and refuse depthwise convolutions with a clear error', () => {
    const le = new Network(lenet5(false))
    const ds = new Network(dsCnn([49, 10, 1], 12, 8))
    expect(analogLayerIds(le)).toEqual(['conv1', 'conv2', 'fc1', 'fc2', 'logits'])
    expect(analogLayerIds(ds)).not.toContain('dw1')
    const scales = { inputScale: 1, weightScale: 1, gain: 1 }
    expect(() => analogHooks(ds, { dw1: scales }, nominalDevice(), DEFAULT_ARRAY)).toThrow(/depthwise convolution/)
    expect(() => analogHooks(le, { pool1: scales }, nominalDevice(), DEFAULT_ARRAY)).toThrow(/only dense and conv2d/)
    expect(() => analogHooks(le, { fc9: scales }, nominalDevice(), DEFAULT_ARRAY)).toThrow(/has no layer 'fc9'/)
    le.dispose()
    ds.dispose()
  })
})

describe('gradients', () => {
  const scales = { inputScale: 1 / 31, weightScale: 1 / 63, gain: 1 }

  it('pass straight through the rounding: inside the range they are those of a plain matMul', () => {
    tf.tidy(() => {
      const x = uniform([4, 150], 0.01, 0.9, 1) as tf.Tensor2D
      // A kernel on the weight grid, so the quantised kernel is the kernel itself.
      const w = tf.div(integers([150, 5], -60, 60, 2), 63) as tf.Tensor2D
      for (const device of [
        associative(ideal(5)),
        ideal(5, { ordering: { order: 'magnitude', groupRows: 16 } }),
        ideal(5, { ordering: { order: 'random', groupRows: 16 } }),
      ]) {
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(analogMatMul(a as tf.Tensor2D, b as tf.Tensor2D, scales, device, EXACT, 3)))([x, w])
        const [px, pw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D)))([x, w])
        expect(maxDifference(dx!, px!)).toBeLessThan(1e-5)
        // The kernel's gradient is that of the rounded input (STE on x), the ones-matrix summed over the batch.
        const xRounded = tf.mul(tf.round(tf.div(x, scales.inputScale)), scales.inputScale) as tf.Tensor2D
        expect(maxDifference(dw!, tf.matMul(xRounded, tf.ones([4, 5]) as tf.Tensor2D, true, false))).toBeLessThan(1e-4)
        expect(maxDifference(pw!, tf.matMul(x, tf.ones([4, 5]) as tf.Tensor2D, true, false))).toBeLessThan(1e-4)
      }
    })
  })

  it('reach the input and kernel of a conv layer through the hook like through tf.conv2d', () => {
    const net = new Network({
      architecture: 'conv-grad',
      classes: 2,
      nodes: [
        { id: 'input', op: 'input', shape: [6, 6, 2] },
        { id: 'conv', op: 'conv2d', input: 'input', filters: 3, kernel: 3, stride: 2, padding: 'same' },
      ],
    })
    const convScales = { inputScale: 1 / 31, weightScale: 0.01, gain: 1 }
    const config: AnalogArrayConfig = { ...EXACT, rows: 8, weightBits: 8 }
    tf.tidy(() => {
      const layer = net.layer('conv')!
      // Input and kernel on their grids, so the analog layer computes exactly the float convolution.
      layer.trainableWeights[0]!.write(tf.div(tf.round(tf.mul(layer.trainableWeights[0]!.read(), 100)), 100))
      const x = tf.div(tf.round(tf.mul(uniform([2, 6, 6, 2], 0.05, 0.9, 4), 31)), 31)
      const upstream = uniform([2, 3, 3, 3], -1, 1, 5)
      const hooks = analogHooks(net, { conv: convScales }, ideal(3), config)
      const kernel = layer.trainableWeights[0]!.read()
      const loss = (input: tf.Tensor, k: tf.Tensor, analog: boolean): tf.Scalar =>
        tf.sum(
          tf.mul(
            analog
              ? hooks.compute!.get('conv')!(input, { kernel: k, bias: null }, net.spec.nodes[1]!, true)
              : tf.conv2d(input as tf.Tensor4D, k as tf.Tensor4D, 2, 'same'),
            upstream,
          ),
        )
      const [dx, dk] = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(a, b, true))([x, kernel])
      const [px, pk] = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(a, b, false))([x, kernel])
      expect(maxDifference(dx!, px!)).toBeLessThan(1e-4)
      expect(maxDifference(dk!, pk!)).toBeLessThan(1e-4)
      expect(tf.max(tf.abs(dk!)).dataSync()[0]).toBeGreaterThan(0.1)
    })
    net.dispose()
  })

  it('are zero where the integrator saturates', () => {
    tf.tidy(() => {
      const x = tf.fill([1, 8], 1 / 31) as tf.Tensor2D // input code 1
      const w = tf.div(
        tf.tensor2d([
          [20, 1],
          [20, 1],
          [20, 1],
          [20, 1],
          [-20, 1],
          [-20, 1],
          [-20, 1],
          [-20, 1],
        ]),
        63,
      ) as tf.Tensor2D
      const config = { ...EXACT, rows: 8 }
      const dx = (device: AnalogDeviceModel) => values(tf.grad((a: tf.Tensor) => tf.sum(analogMatMul(a as tf.Tensor2D, w, scales, device, config, 1)))(x))
      const wSum = (row: number) => (row < 4 ? 21 : -19) / 63
      // Associative, unsaturated (sums 0 and 8): both columns pass.
      expect(dx(ideal(2, { saturation: 50, ordering: null }))).toEqual(Array.from({ length: 8 }, (_, i) => expect.closeTo(wSum(i), 5) as unknown as number))
      // Natural blocks of 2 at ±50, column 0: 40, 80→50 (saturated), 10, −30. The clip after block 1 stops the
      // gradient of rows 0–3; rows 4–7 are integrated after it and pass. Column 1 never saturates.
      const ordered = dx(ideal(2, { saturation: 50, ordering: { order: 'natural', groupRows: 2 } }))
      ordered.forEach((g, i) => expect(g).toBeCloseTo((i < 4 ? 1 : -19) / 63, 5))
      // Associative with column 0 summing to +80 (all rows +20) at ±50: column 0 passes nothing.
      const wPositive = tf.div(tf.tensor2d(Array.from({ length: 8 }, () => [10, 1])), 63) as tf.Tensor2D
      const dxSaturated = values(
        tf.grad((a: tf.Tensor) => tf.sum(analogMatMul(a as tf.Tensor2D, wPositive, scales, ideal(2, { saturation: 50, ordering: null }), config, 1)))(x),
      )
      dxSaturated.forEach((g) => expect(g).toBeCloseTo(1 / 63, 5))
    })
  })
})

describe('planning and training', () => {
  const spec: ModelSpec = {
    architecture: 'analog-probe',
    classes: 3,
    nodes: [
      { id: 'input', op: 'input', shape: [6] },
      { id: 'fc1', op: 'dense', input: 'input', units: 16 },
      { id: 'fc1.relu', op: 'relu', input: 'fc1' },
      { id: 'logits', op: 'dense', input: 'fc1.relu', units: 3 },
    ],
  }

  /** Three Gaussian blobs in 6 dimensions, labels 0…2. */
  function blobs(count: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor1D } {
    const random = seededRandom(seed)
    const labels = Array.from({ length: count }, (_, i) => i % 3)
    const x = labels.flatMap((label) => Array.from({ length: 6 }, (_, d) => (d % 3 === label ? 1.5 : -0.5) + 0.6 * (random() + random() + random() - 1.5)))
    return { x: tf.tensor2d(x, [count, 6]), y: tf.tensor1d(labels, 'int32') }
  }

  it('chooses scales that fill the code ranges and put the chosen percentile of chunk sums at the fill fraction', () => {
    const net = new Network(spec, 3)
    const blob = blobs(300, 1)
    // Non-negative inputs ('clip'), so one pass is all that was planned on.
    const x = tf.relu(blob.x) as tf.Tensor2D
    const config = DEFAULT_ARRAY
    const device = nominalDevice(16, { noiseStd: 0 })
    const plans = planAnalogLayers(net, x, ['fc1', 'logits'], device, config, { percentile: 99, fillFraction: 0.5 })
    expect(Object.keys(plans)).toEqual(['fc1', 'logits'])
    tf.tidy(() => {
      const kernel = net.layer('fc1')!.trainableWeights[0]!.read() as tf.Tensor2D
      expect(plans.fc1!.weightScale).toBeCloseTo(tf.max(tf.abs(kernel)).dataSync()[0]! / 63, 6)
      expect(plans.fc1!.inputScale).toBeCloseTo(percentileOf(x, 99) / 31, 6)
      const { positive } = inputCodes(x, plans.fc1!, config)
      const codes = simulateChunkCodes(positive, weightCodes(kernel, plans.fc1!, config), plans.fc1!.gain, associative(device), config, { seed: 1 })
      // The 99th percentile of |chunk sums| sits at half of full scale (127), up to the ADC's rounding.
      const top = percentileOf(tf.abs(codes), 99)
      expect(top).toBeGreaterThanOrEqual(0.5 * 127 - 1)
      expect(top).toBeLessThanOrEqual(0.5 * 127 + 1)
    })
    expect(() => planAnalogLayers(net, x, ['fc1'], device, config, { fillFraction: 9 })).toThrow(/fill fraction/)
    tf.dispose([x, blob.x, blob.y])
    net.dispose()
  })

  it('trains a small network through the analog hooks: the loss goes down', () => {
    const net = new Network(spec, 5)
    const { x, y } = blobs(240, 2)
    const config: AnalogArrayConfig = { ...DEFAULT_ARRAY, signedInputs: 'split' }
    const device = nominalDevice(16, { noiseStd: 0.5 })
    const plans = planAnalogLayers(net, x, ['fc1', 'logits'], device, config)
    const hooks = analogHooks(net, plans, device, config, { seed: 1 })
    const optimizer = tf.train.adam(0.02)
    const lossOf = (): tf.Scalar => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 3), net.forward(x, { training: true, hooks })) as tf.Scalar
    const before = tf.tidy(() => lossOf().dataSync()[0]!)
    for (let step = 0; step < 40; step++) tf.dispose(optimizer.minimize(lossOf, true, net.trainableWeights) ?? [])
    const after = tf.tidy(() => lossOf().dataSync()[0]!)
    expect(after).toBeLessThan(0.6 * before)
    optimizer.dispose()
    tf.dispose([x, y])
    net.dispose()
  })
})
