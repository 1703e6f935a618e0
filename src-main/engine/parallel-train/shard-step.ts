// One shard's forward and backward pass, and the fused optimizer applied to wasm-heap views of the weights: the parts
// of a training step that the single-process wasm path and each data-parallel worker share.
import * as tf from '@tensorflow/tfjs'
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import type { Hooks, Network } from '../network.ts'
import type { FusedOptimizer, GradientParts } from './fused-optimizer.ts'

export interface ShardResult {
  /** Gradient of (Σ shard losses) / batch rows, per variable in `variables` order; null for a variable not reached. */
  gradients: (tf.Tensor | null)[]
  /** Σ of the shard's per-sample losses, and its correct predictions. */
  lossSum: number
  correct: number
}

/**
 * Gradients of this shard's share of the batch's mean loss: Σ over its rows / all rows of the batch, so the shares of
 * all shards sum to the gradient of the whole batch whatever the split. The caller disposes the gradients.
 */
export function shardGradients(
  net: Network,
  x: tf.Tensor,
  y: tf.Tensor1D,
  classes: number,
  batchRows: number,
  hooks: Hooks | undefined,
  variables: readonly tf.Variable[],
): ShardResult {
  let correct: tf.Tensor | null = null
  let lossSum: tf.Tensor | null = null
  const { value, grads } = tf.variableGrads(() => {
    const logits = net.forward(x, { training: true, hooks })
    correct = tf.keep(tf.sum(tf.equal(tf.argMax(logits, -1), y)))
    lossSum = tf.keep(tf.losses.softmaxCrossEntropy(tf.oneHot(y, classes), logits, undefined, undefined, tf.Reduction.SUM))
    return tf.div(lossSum, batchRows) as tf.Scalar
  }, variables as tf.Variable[])
  const result = { gradients: variables.map((v) => grads[v.name] ?? null), lossSum: lossSum!.dataSync()[0]!, correct: correct!.dataSync()[0]! }
  tf.dispose([value, correct!, lossSum!])
  return result
}

/** The live wasm-heap view of a tensor's data. Take views after the last allocation: a growing heap detaches them. */
export function heapView(tensor: tf.TensorInfo): Float32Array {
  return (tf.backend() as BackendWasm).typedArrayFromHeap(tensor) as Float32Array
}

/**
 * Applies the optimizer; `parts(i)` gives variable i's gradient. The new weights go to fresh tensors that the variables
 * are assigned, never over the old data: wasm caches XNNPACK operators (with packed weights) by tensor, so weights
 * changed in place would leave matMul and conv2d computing with the old ones.
 */
export function applyUpdate(optimizer: FusedOptimizer, variables: readonly tf.Variable[], parts: (i: number) => GradientParts, learningRate: number): void {
  const backend = tf.backend() as BackendWasm
  const fresh = variables.map((v) => tf.engine().makeTensorFromTensorInfo(backend.makeOutput(v.shape, 'float32')))
  optimizer.step(
    variables.map((v, i) => ({ name: v.name, weights: heapView(v), gradient: parts(i), out: heapView(fresh[i]!) })),
    learningRate,
  )
  variables.forEach((v, i) => v.assign(fresh[i]!))
  tf.dispose(fresh)
}
