// Per-layer mixed precision as compute overrides: a policy layer's input and kernel are fake-quantized at its own bit
// widths (1 bit included, as binary weights and a one-threshold input), with straight-through gradients for retraining.
import * as tf from '@tensorflow/tfjs'
import type { LayerPolicy, Policy } from '../../contract/compression.ts'
import type { ComputeOverride, Hooks, Network } from '../network.ts'
import { fakeQuantize, MAX_BITS, type Grid } from '../quant/grid.ts'
import { fakeQuantizeKernel, layerOutput, reduceAxes, type WeightNode } from '../quant/weights.ts'
import { isPolicyOp } from './layers.ts'

export interface InputRange {
  min: number
  max: number
}

// A range of zero width still needs a positive step.
const TINY = 1e-12

function checkBits(bits: number, what: string, layer: string): void {
  if (bits !== 32 && !(Number.isInteger(bits) && bits >= 1 && bits <= MAX_BITS))
    throw new Error(`Layer '${layer}' asks for ${bits} ${what} bits; use a whole number from 1 to ${MAX_BITS}, or 32 for float.`)
}

/** The range of each named layer's input on a batch (in float, without hooks). */
export function calibrateInputRanges(net: Network, x: tf.Tensor, layers: readonly string[]): Map<string, InputRange> {
  const inputs = layers.map((id) => {
    const node = net.spec.nodes.find((n) => n.id === id)
    if (!node || !isPolicyOp(node)) throw new Error(`'${id}' is not a dense or conv layer of ${net.spec.architecture}.`)
    return node.input
  })
  const values = tf.tidy(() => {
    const all = net.activations(x)
    return tf.stack(inputs.flatMap((id) => [all.get(id)!.min(), all.get(id)!.max()])).dataSync()
  })
  return new Map(layers.map((id, i) => [id, { min: values[2 * i]!, max: values[2 * i + 1]! }]))
}

/** ±m by sign (0 counts as +), gradient passed inside [−m, m]. */
function signQuantize(x: tf.Tensor, m: number): tf.Tensor {
  const quantize = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [value, save] = args as [tf.Tensor, tf.GradSaveFunc]
    save([tf.lessEqual(tf.abs(value), m).cast('float32')])
    return {
      value: tf.where(tf.greaterEqual(value, 0), tf.fill(value.shape, m), tf.fill(value.shape, -m)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]!),
    }
  })
  return quantize(x)
}

/**
 * An input at b bits: unsigned codes 0…2^b − 1 over [0, max] when the range has no negatives (1 bit: one threshold
 * at max/2), else symmetric codes over [−m, m], m = max(|min|, |max|) (1 bit: sign·m).
 */
export function quantizeInput(x: tf.Tensor, bits: number, range: InputRange): tf.Tensor {
  if (range.min >= 0) {
    const qmax = 2 ** bits - 1
    return fakeQuantize(x, { step: Math.max(range.max, TINY) / qmax, zeroPoint: 0, qmin: 0, qmax })
  }
  const m = Math.max(Math.abs(range.min), Math.abs(range.max), TINY)
  if (bits === 1) return signQuantize(x, m)
  const qmax = 2 ** (bits - 1) - 1
  const grid: Grid = { step: m / qmax, zeroPoint: 0, qmin: -qmax, qmax }
  return fakeQuantize(x, grid)
}

/** Binary weights: sign(w)·mean|w| per output channel (0 counts as +); the gradient passes straight through. */
export function binaryKernel(kernel: tf.Tensor, op: WeightNode['op']): tf.Tensor {
  const binarize = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const value = args[0] as tf.Tensor
    const alpha = tf.broadcastTo(tf.mean(tf.abs(value), reduceAxes(op, value.rank, 'channel'), true), value.shape)
    return { value: tf.where(tf.greaterEqual(value, 0), alpha, tf.neg(alpha)), gradFunc: (dy: tf.Tensor) => dy }
  })
  return binarize(kernel)
}

/** A kernel at b bits: per-output-channel symmetric grid, or binary weights at 1 bit. */
export function quantizeKernel(kernel: tf.Tensor, bits: number, op: WeightNode['op']): tf.Tensor {
  return bits === 1 ? binaryKernel(kernel, op) : fakeQuantizeKernel(kernel, { bits, granularity: 'channel', symmetric: true }, op)
}

function precisionOverride(entry: LayerPolicy, range: InputRange | undefined): ComputeOverride {
  return (input, { kernel, bias }, node) => {
    if (!isPolicyOp(node)) throw new Error(`Mixed precision is attached to '${node.id}', a ${node.op} node; it needs a dense or conv node.`)
    const x = entry.activationBits < 32 ? quantizeInput(input, entry.activationBits, range!) : input
    const w = entry.weightBits < 32 ? quantizeKernel(kernel, entry.weightBits, node.op) : kernel
    return layerOutput(x, w, bias, node)
  }
}

/**
 * A compute override for every listed layer with weight or activation bits below 32 (up to 16 bits accepted here, for
 * sensitivity probes); `ranges` must hold the input range of every layer whose activations are quantized.
 */
export function precisionHooks(net: Pick<Network, 'spec'>, policy: Pick<Policy, 'layers'>, ranges: ReadonlyMap<string, InputRange>): Hooks {
  const compute = new Map<string, ComputeOverride>()
  for (const entry of policy.layers) {
    const node = net.spec.nodes.find((n) => n.id === entry.layer)
    if (!node || !isPolicyOp(node)) throw new Error(`'${entry.layer}' is not a dense or conv layer of ${net.spec.architecture}.`)
    checkBits(entry.weightBits, 'weight', entry.layer)
    checkBits(entry.activationBits, 'activation', entry.layer)
    if (entry.weightBits === 32 && entry.activationBits === 32) continue
    const range = ranges.get(entry.layer)
    if (entry.activationBits < 32 && !range) throw new Error(`Layer '${entry.layer}' has no calibrated input range; calibrate it before quantizing its input.`)
    compute.set(entry.layer, precisionOverride(entry, range))
  }
  return { compute }
}
