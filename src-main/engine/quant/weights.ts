// Weight fake quantization as a ComputeOverride: the kernel is snapped to a per-tensor or per-output-channel grid
// (symmetric or asymmetric) and the layer is recomputed from it; the STE passes gradients to the float kernel.
import * as tf from '@tensorflow/tfjs'
import type { NodeSpec } from '../graph.ts'
import type { ComputeOverride } from '../network.ts'
import { checkBits, codesOf, fromCodes, type Grid } from './grid.ts'

export type WeightNode = Extract<NodeSpec, { op: 'dense' | 'conv2d' | 'depthwiseConv2d' }>
export type Granularity = 'tensor' | 'channel'

export interface WeightQuantSpec {
  bits: number
  granularity: Granularity
  /** Symmetric: codes −(2^(b−1) − 1)…2^(b−1) − 1, zero point 0. Asymmetric: codes 0…2^b − 1 with a zero point. */
  symmetric: boolean
}

export function isWeightNode(node: NodeSpec): node is WeightNode {
  return node.op === 'dense' || node.op === 'conv2d' || node.op === 'depthwiseConv2d'
}

/**
 * Axes a per-channel range is taken over: every axis but the output channel, which is the last axis of a dense
 * [in, out] or conv HWIO kernel; a depthwise kernel [h, w, in, multiplier] has its channels on the last two axes.
 */
export function reduceAxes(op: WeightNode['op'], rank: number, granularity: Granularity): number[] {
  const all = [...Array(rank).keys()]
  if (granularity === 'tensor') return all
  return op === 'depthwiseConv2d' ? all.slice(0, rank - 2) : all.slice(0, rank - 1)
}

/** Number of codes a weight grid has: 2^b − 1 symmetric (zero is a code and ± are mirrored), 2^b asymmetric. */
export function weightLevels(spec: Pick<WeightQuantSpec, 'bits' | 'symmetric'>): number {
  return spec.symmetric ? 2 ** spec.bits - 1 : 2 ** spec.bits
}

/** The grid a kernel is quantized on; step and zero point have the kernel's rank with reduced axes of size 1. */
export function weightGrid(kernel: tf.Tensor, spec: WeightQuantSpec, op: WeightNode['op']): Grid {
  checkBits(spec.bits, 'Weight quantization')
  return tf.tidy(() => {
    const axes = reduceAxes(op, kernel.rank, spec.granularity)
    // A channel of zeros has no range: any step represents it exactly, so 1 avoids a division by zero.
    const safe = (step: tf.Tensor): tf.Tensor => tf.where(tf.greater(step, 0), step, tf.onesLike(step))
    if (spec.symmetric) {
      const qmax = 2 ** (spec.bits - 1) - 1
      const step = safe(tf.div(tf.max(tf.abs(kernel), axes, true), qmax))
      return { step, zeroPoint: 0, qmin: -qmax, qmax }
    }
    const qmax = 2 ** spec.bits - 1
    // The range always includes 0 so that a zero weight (pruned, padding) stays exactly zero.
    const low = tf.minimum(tf.min(kernel, axes, true), 0)
    const high = tf.maximum(tf.max(kernel, axes, true), 0)
    const step = safe(tf.div(tf.sub(high, low), qmax))
    return { step, zeroPoint: tf.round(tf.div(tf.neg(low), step)), qmin: 0, qmax }
  }) as Grid
}

/**
 * The kernel as the quantized layer sees it. The grid follows the kernel but counts as a constant in the backward
 * pass, and a weight clipped by the rounded zero point (by at most step/2) still receives its gradient.
 */
export function fakeQuantizeKernel(kernel: tf.Tensor, spec: WeightQuantSpec, op: WeightNode['op']): tf.Tensor {
  const quantize = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const value = args[0] as tf.Tensor
    const grid = weightGrid(value, spec, op)
    return { value: fromCodes(codesOf(value, grid), grid), gradFunc: (dy: tf.Tensor) => dy }
  })
  return quantize(kernel)
}

/** A dense, conv or depthwise node's output from an input and (possibly quantized) weights, as the tf.layers layer computes it. */
export function layerOutput(input: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | null, node: WeightNode): tf.Tensor {
  return tf.tidy(() => {
    let out: tf.Tensor
    if (node.op === 'dense') {
      // tf.layers.dense acts on the last axis of any rank.
      const flat = input.reshape([-1, input.shape.at(-1)!])
      out = tf.matMul(flat as tf.Tensor2D, kernel as tf.Tensor2D).reshape([...input.shape.slice(0, -1), kernel.shape[1]!])
    } else if (node.op === 'conv2d') {
      const stride = node.stride ?? 1
      const dilation = node.dilation ?? 1
      out = tf.conv2d(input as tf.Tensor4D, kernel as tf.Tensor4D, stride, node.padding ?? 'same', 'NHWC', dilation)
    } else {
      out = tf.depthwiseConv2d(input as tf.Tensor4D, kernel as tf.Tensor4D, node.stride ?? 1, node.padding ?? 'same')
    }
    return bias ? tf.add(out, bias) : out
  })
}

/** A ComputeOverride that runs a weight node with its kernel fake-quantized; the bias stays float (see docs). */
export function weightQuantOverride(spec: WeightQuantSpec): ComputeOverride {
  checkBits(spec.bits, 'Weight quantization')
  return (input, { kernel, bias }, node) => {
    if (!isWeightNode(node)) throw new Error(`Weight quantization is attached to '${node.id}', a ${node.op} node; it needs a dense or conv node.`)
    return layerOutput(input, fakeQuantizeKernel(kernel, spec, node.op), bias, node)
  }
}
