// Integer inference of a quantized dense or conv2d layer: integer input codes times integer kernel codes summed in
// int32 accumulators (with an int32 bias), then one float rescale per output channel, as integer hardware does it.
import * as tf from '@tensorflow/tfjs'
import type { NodeSpec } from '../graph.ts'
import { codesOf, type Grid } from './grid.ts'
import { weightGrid, type WeightQuantSpec } from './weights.ts'

export type IntegerNode = Extract<NodeSpec, { op: 'dense' | 'conv2d' }>

/** The grid of the layer's input: unsigned codes 0…qmax with step Δx (an activation grid). */
export interface InputGrid {
  step: number
  qmax: number
}

export interface IntegerLayer {
  node: IntegerNode
  kernelShape: number[]
  /** Kernel code minus its channel's zero point, in the kernel's layout (dense [in, out], conv HWIO). */
  kernel: Int32Array
  /** Bias codes per output channel on the accumulator grid Δx·Δw[o] (round to nearest), or null. */
  bias: Int32Array | null
  /** Δx·Δw[o] per output channel: an accumulator times this is the output value. */
  outputStep: Float64Array
  input: InputGrid
}

const INT32_MAX = 2 ** 31 - 1

/** Quantizes a layer's weights for integer inference; throws if an accumulator could overflow int32. */
export function integerLayer(kernel: tf.Tensor, bias: tf.Tensor | null, node: IntegerNode, spec: WeightQuantSpec, input: InputGrid): IntegerLayer {
  const grid = weightGrid(kernel, spec, node.op)
  const [codes, zero, step] = tf.tidy(() => {
    const outputs = kernel.shape.at(-1)!
    const perChannel = (t: tf.Tensor | number): tf.Tensor => tf.broadcastTo(typeof t === 'number' ? tf.scalar(t) : t.reshape([-1]), [outputs])
    return [codesOf(kernel, grid), perChannel(grid.zeroPoint), perChannel(grid.step)]
  })
  const codeValues = codes.dataSync()
  const zeroPoints = zero.dataSync()
  const steps = step.dataSync()
  tf.dispose([codes, zero, step, ...[grid.step, grid.zeroPoint].filter((t): t is tf.Tensor => typeof t !== 'number')])
  const outputs = steps.length
  const centred = new Int32Array(codeValues.length)
  codeValues.forEach((code, i) => (centred[i] = code - zeroPoints[i % outputs]!))
  const outputStep = Float64Array.from(steps, (s) => s * input.step)
  let biasCodes: Int32Array | null = null
  if (bias) {
    const values = bias.dataSync()
    biasCodes = Int32Array.from(values, (b, o) => Math.round(b / outputStep[o]!))
  }
  // Worst case |acc| = fan-in · max input code · max |kernel code| + max |bias code|.
  const fanIn = codeValues.length / outputs
  const worst =
    fanIn * input.qmax * centred.reduce((m, c) => Math.max(m, Math.abs(c)), 0) + (biasCodes ? biasCodes.reduce((m, c) => Math.max(m, Math.abs(c)), 0) : 0)
  if (worst > INT32_MAX) {
    throw new Error(`Layer '${node.id}' can reach ${worst} in its int32 accumulators (limit ${INT32_MAX}); use fewer activation or weight bits.`)
  }
  return { node, kernelShape: kernel.shape, kernel: centred, bias: biasCodes, outputStep, input }
}

/** Input codes of x on the layer's input grid: round(x/Δx) clipped to 0…qmax. */
export function inputCodes(layer: IntegerLayer, x: tf.Tensor): Int32Array {
  const grid: Grid = { step: layer.input.step, zeroPoint: 0, qmin: 0, qmax: layer.input.qmax }
  return tf.tidy(() => codesOf(x, grid).cast('int32')).dataSync() as Int32Array
}

/** The int32 accumulators of the layer for input codes of a given shape ([n, in] dense, [n, h, w, c] conv). */
export function accumulate(layer: IntegerLayer, codes: Int32Array, shape: readonly number[]): { values: Int32Array; shape: number[] } {
  return layer.node.op === 'dense' ? denseAccumulate(layer, codes, shape) : convAccumulate(layer, layer.node, codes, shape)
}

function denseAccumulate(layer: IntegerLayer, codes: Int32Array, shape: readonly number[]): { values: Int32Array; shape: number[] } {
  const [inputs, outputs] = layer.kernelShape as [number, number]
  if (shape.length !== 2 || shape[1] !== inputs)
    throw new Error(`Dense layer '${layer.node.id}' needs input codes of shape [n, ${inputs}], not [${shape.join(', ')}].`)
  const n = shape[0]!
  const values = new Int32Array(n * outputs)
  for (let s = 0; s < n; s++) {
    for (let o = 0; o < outputs; o++) {
      let acc = layer.bias ? layer.bias[o]! : 0
      for (let i = 0; i < inputs; i++) acc = (acc + Math.imul(codes[s * inputs + i]!, layer.kernel[i * outputs + o]!)) | 0
      values[s * outputs + o] = acc
    }
  }
  return { values, shape: [n, outputs] }
}

function convAccumulate(
  layer: IntegerLayer,
  node: Extract<IntegerNode, { op: 'conv2d' }>,
  codes: Int32Array,
  shape: readonly number[],
): { values: Int32Array; shape: number[] } {
  const [kh, kw, channels, filters] = layer.kernelShape as [number, number, number, number]
  if (shape.length !== 4 || shape[3] !== channels)
    throw new Error(`Conv layer '${node.id}' needs input codes of shape [n, h, w, ${channels}], not [${shape.join(', ')}].`)
  const [n, h, w] = shape as [number, number, number, number]
  const stride = node.stride ?? 1
  const dilation = node.dilation ?? 1
  const span = (k: number) => (k - 1) * dilation + 1
  const same = (node.padding ?? 'same') === 'same'
  const outH = same ? Math.ceil(h / stride) : Math.ceil((h - span(kh) + 1) / stride)
  const outW = same ? Math.ceil(w / stride) : Math.ceil((w - span(kw) + 1) / stride)
  // TensorFlow's 'same' puts the odd padding pixel at the bottom/right.
  const top = same ? Math.floor(Math.max((outH - 1) * stride + span(kh) - h, 0) / 2) : 0
  const left = same ? Math.floor(Math.max((outW - 1) * stride + span(kw) - w, 0) / 2) : 0
  const values = new Int32Array(n * outH * outW * filters)
  for (let s = 0; s < n; s++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++)
        for (let f = 0; f < filters; f++) {
          let acc = layer.bias ? layer.bias[f]! : 0
          for (let ky = 0; ky < kh; ky++) {
            const y = oy * stride + ky * dilation - top
            if (y < 0 || y >= h) continue
            for (let kx = 0; kx < kw; kx++) {
              const x = ox * stride + kx * dilation - left
              if (x < 0 || x >= w) continue
              const inBase = ((s * h + y) * w + x) * channels
              const kBase = (ky * kw + kx) * channels * filters + f
              for (let c = 0; c < channels; c++) acc = (acc + Math.imul(codes[inBase + c]!, layer.kernel[kBase + c * filters]!)) | 0
            }
          }
          values[((s * outH + oy) * outW + ox) * filters + f] = acc
        }
  return { values, shape: [n, outH, outW, filters] }
}

/** The layer's output for an input on its grid, computed in integers and rescaled once per output channel. */
export function integerForward(layer: IntegerLayer, x: tf.Tensor): tf.Tensor {
  const { values, shape } = accumulate(layer, inputCodes(layer, x), x.shape)
  const outputs = layer.outputStep.length
  return tf.tensor(
    Float32Array.from(values, (acc, i) => acc * layer.outputStep[i % outputs]!),
    shape,
  )
}
