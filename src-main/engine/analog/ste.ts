// Gradient choices of the analog model: rounding is straight-through (identity gradient), and index work that only
// decides *which* operands go together (masks, ranks) is a constant for the backward pass.
import * as tf from '@tensorflow/tfjs'

const roundStraightThrough = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const value = args[0] as tf.Tensor
  return { value: tf.round(value), gradFunc: (dy: tf.Tensor) => dy }
})

/** tf.round (half to even) forward, identity backward. */
export function steRound<T extends tf.Tensor>(x: T): T {
  return roundStraightThrough(x) as T
}

/**
 * fn(x), computed untaped: no gradient flows back to x through it. Needed because TopK and comparisons have no
 * gradient in tfjs, and the tape would otherwise fail on them even though masks are piecewise constant.
 */
export function constantOf(x: tf.Tensor, fn: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const value = args[0] as tf.Tensor
    return { value: fn(value), gradFunc: () => tf.zerosLike(value) }
  })
  return op(x)
}
