// Structured L1-norm channel pruning: a smaller ModelSpec with the largest-norm output channels of each pruned layer,
// and a new Network whose weights are the original's sliced along every axis those channels reach.
import * as tf from '@tensorflow/tfjs'
import type { Policy } from '../../contract/compression.ts'
import type { ModelSpec, NodeSpec } from '../graph.ts'
import { Network, type Hooks, type PointHook } from '../network.ts'
import { consumersOf, isPolicyOp, keptCount } from './layers.ts'
import { checkPolicy } from './policy.ts'

export { keptCount }

/** The `count` output channels of a dense/conv layer with the largest L1 norm of their kernel slice, in index order. */
export function largestL1Channels(net: Network, id: string, count: number): number[] {
  const kernel = net.weights(id).kernel
  const norms = tf.tidy(() => tf.sum(tf.abs(kernel), [...Array(kernel.rank - 1).keys()]).dataSync())
  const order = [...norms.keys()].sort((a, b) => norms[b]! - norms[a]! || a - b)
  return order.slice(0, count).sort((a, b) => a - b)
}

/** For every layer the policy prunes (keep < 1), the output channels kept. The policy must fit the network. */
export function keptChannels(net: Network, policy: Policy, channelMultiple = 1): Map<string, number[]> {
  const kept = new Map<string, number[]>()
  for (const entry of policy.layers) {
    if (entry.keep >= 1) continue
    const node = net.spec.nodes.find((n) => n.id === entry.layer)
    if (!node || !isPolicyOp(node)) throw new Error(`'${entry.layer}' is not a dense or conv layer of ${net.spec.architecture}.`)
    const channels = node.op === 'dense' ? node.units : node.filters
    kept.set(entry.layer, largestL1Channels(net, entry.layer, keptCount(channels, entry.keep, channelMultiple)))
  }
  return kept
}

/**
 * Indices kept on every node's last axis (null: all of them), from the kept output channels of pruned layers:
 * pass-through ops keep their input's, flatten repeats them per position (NHWC: feature (i·W + j)·C + c).
 */
export function keptFeatures(net: Network, kept: ReadonlyMap<string, number[]>): Map<string, number[] | null> {
  const features = new Map<string, number[] | null>()
  for (const node of net.spec.nodes) {
    if (node.op === 'input' || node.op === 'add') features.set(node.id, null)
    else if (isPolicyOp(node)) features.set(node.id, kept.get(node.id) ?? null)
    else if (node.op === 'flatten') features.set(node.id, flattened(features.get(node.input) ?? null, net.point(node.id).inputShapes[0]!))
    else features.set(node.id, features.get(node.input) ?? null)
  }
  return features
}

function flattened(channels: number[] | null, inputShape: number[]): number[] | null {
  if (!channels) return null
  const depth = inputShape.at(-1)!
  const positions = inputShape.slice(0, -1).reduce((a, b) => a * b, 1)
  return Array.from({ length: positions }, (_, p) => channels.map((c) => p * depth + c)).flat()
}

/** The spec with each pruned layer's units/filters set to the number of channels it keeps. */
export function prunedSpec(spec: ModelSpec, counts: ReadonlyMap<string, number>): ModelSpec {
  const nodes = spec.nodes.map((node): NodeSpec => {
    const count = counts.get(node.id)
    if (count === undefined) return node
    if (node.op === 'dense') return { ...node, units: count }
    if (node.op === 'conv2d') return { ...node, filters: count }
    throw new Error(`'${node.id}' is a ${node.op} node; only dense and conv layers are pruned.`)
  })
  return { ...spec, nodes }
}

/** A weight with its output-channel axis (last for 1-D weights and dense/conv kernels) and input axis sliced. */
function sliceWeight(value: tf.Tensor, node: NodeSpec, input: number[] | null, output: number[] | null): tf.Tensor {
  let sliced = value
  const gather = (indices: number[] | null, axis: number) => {
    if (indices) sliced = tf.gather(sliced, tf.tensor1d(indices, 'int32'), axis)
  }
  if (value.rank === 1) gather(output, 0)
  else if (node.op === 'dense') {
    gather(input, 0)
    gather(output, 1)
  } else if (node.op === 'conv2d') {
    // HWIO; a depthwise kernel [h, w, in, 1] has its channels on the input axis only.
    gather(input, 2)
    gather(output, 3)
  } else if (node.op === 'depthwiseConv2d') gather(input, 2)
  // Always a fresh tensor: wasm's gather keeps its internal 4-D shape in the backend's data map, and the fused matmul
  // reads that shape, so a gathered bias used as is fails there ('only supports rank-1 bias'). A clone has the right one.
  return sliced.clone()
}

/** A new, smaller network with the policy's pruning applied; the original is left unchanged. Quantization is not applied. */
export function pruneNetwork(
  net: Network,
  policy: Policy,
  options: { channelMultiple?: number; seed?: number } = {},
): { net: Network; kept: Map<string, number[]> } {
  checkPolicy(net, policy)
  const kept = keptChannels(net, policy, options.channelMultiple ?? 1)
  const features = keptFeatures(net, kept)
  const spec = prunedSpec(net.spec, new Map([...kept].map(([id, channels]) => [id, channels.length])))
  const pruned = new Network(spec, options.seed ?? 1)
  try {
    for (const node of net.spec.nodes) {
      if (node.op === 'input') continue
      const source = net.layer(node.id)!.weights
      const target = pruned.layer(node.id)!.weights
      const input = node.op === 'add' ? null : (features.get(node.input) ?? null)
      // BN and depthwise weights are per input channel, which is their output channel.
      const output = isPolicyOp(node) ? (kept.get(node.id) ?? null) : input
      source.forEach((weight, i) =>
        tf.tidy(() => {
          target[i]!.write(sliceWeight(weight.read(), node, input, output))
        }),
      )
    }
  } catch (error) {
    pruned.dispose()
    throw error
  }
  return { net: pruned, kept }
}

/**
 * Hooks zeroing the removed channels where they enter the next dense/conv layer, so the original network with these
 * hooks computes what the pruned one does (in inference mode: BN then uses its moving statistics per channel).
 */
export function channelMaskHooks(net: Network, kept: ReadonlyMap<string, number[]>): Hooks {
  const features = keptFeatures(net, kept)
  const consumers = consumersOf(net.spec)
  const after = new Map<string, PointHook>()
  for (const node of net.spec.nodes) {
    const indices = features.get(node.id)
    if (!indices || !consumers.get(node.id)!.some(isPolicyOp)) continue
    const size = net.point(node.id).outputShape.at(-1)!
    const mask = new Float32Array(size)
    for (const i of indices) mask[i] = 1
    after.set(node.id, (value) => tf.mul(value, tf.tensor1d(mask)))
  }
  return { after }
}
