// Dense and conv2d layers as matrix-vector products the array can run: the input as rows (im2col for conv, done by a
// conv2d with a one-hot identity kernel, so stride, padding and dilation match the layer exactly) and the kernel as 2D.
import * as tf from '@tensorflow/tfjs'
import type { NodeSpec } from '../graph.ts'
import type { Network } from '../network.ts'

export type AnalogNode = Extract<NodeSpec, { op: 'dense' | 'conv2d' }>

export function isAnalogNode(node: NodeSpec): node is AnalogNode {
  return node.op === 'dense' || node.op === 'conv2d'
}

export function checkAnalogNode(node: NodeSpec): AnalogNode {
  if (isAnalogNode(node)) return node
  if (node.op === 'depthwiseConv2d')
    throw new Error(`'${node.id}' is a depthwise convolution, which the analog model does not map onto the array; choose dense or conv2d layers.`)
  throw new Error(`'${node.id}' is a ${node.op} node; only dense and conv2d layers can run on the analog array.`)
}

/** The dense/conv2d layer ids of a network that can run on the array. */
export function analogLayerIds(net: Pick<Network, 'spec'>): string[] {
  return net.spec.nodes.filter(isAnalogNode).map((n) => n.id)
}

// One-hot patch kernels by (kernel size, channels); rebuilt if something disposed them.
const identityKernels = new Map<string, tf.Tensor4D>()

function identityKernel(size: number, channels: number): tf.Tensor4D {
  const key = `${size}x${channels}`
  let kernel = identityKernels.get(key)
  if (!kernel || kernel.isDisposed) {
    const width = size * size * channels
    kernel = tf.keep(tf.tidy(() => tf.reshape(tf.eye(width), [size, size, channels, width]) as tf.Tensor4D))
    identityKernels.set(key, kernel)
  }
  return kernel
}

/**
 * A layer's input as rows of the array: dense [..., inputs] → [N, inputs]; conv2d [B, H, W, C] → [B·Ho·Wo, k·k·C] with
 * the (dy, dx, c) order of a flattened HWIO kernel. `outputShape` is the layer output's shape, to reshape back to.
 */
export function layerInputRows(input: tf.Tensor, node: NodeSpec): { rows: tf.Tensor2D; outputShape: number[] } {
  const layer = checkAnalogNode(node)
  if (layer.op === 'dense') {
    const features = input.shape.at(-1)!
    return { rows: tf.reshape(input, [-1, features]) as tf.Tensor2D, outputShape: [...input.shape.slice(0, -1), layer.units] }
  }
  if (input.rank !== 4) throw new Error(`Conv layer '${layer.id}' needs a [batch, height, width, channels] input; it got shape [${input.shape.join(', ')}].`)
  const channels = input.shape[3]!
  return tf.tidy(() => {
    const patches = tf.conv2d(
      input as tf.Tensor4D,
      identityKernel(layer.kernel, channels),
      layer.stride ?? 1,
      layer.padding ?? 'same',
      'NHWC',
      layer.dilation ?? 1,
    )
    const [batch, height, width, depth] = patches.shape
    return { rows: tf.reshape(patches, [batch * height * width, depth]) as tf.Tensor2D, outputShape: [batch, height, width, layer.filters] }
  })
}

/** A dense [inputs, outputs] or conv2d HWIO kernel as the [rows, outputs] matrix the array holds. */
export function layerKernel2d(kernel: tf.Tensor, node: NodeSpec): tf.Tensor2D {
  const layer = checkAnalogNode(node)
  const outputs = kernel.shape.at(-1)!
  if (layer.op === 'dense' && kernel.rank !== 2) throw new Error(`Dense layer '${layer.id}' needs a 2D kernel; it got shape [${kernel.shape.join(', ')}].`)
  return tf.reshape(kernel, [-1, outputs]) as tf.Tensor2D
}
