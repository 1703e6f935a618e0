// The repulsion between ensemble heads: an RBF kernel with the median heuristic on the heads' function values (softmax
// probabilities on repulsion samples) or on their flattened weights, and its pullback to the heads' weights.
import * as tf from '@tensorflow/tfjs'
import type { Heads } from './heads.ts'

/** wgd: function-space Wasserstein gradient descent with a kernel density estimate; svgd: SVGD's repulsive term. */
export type RepulsionForm = 'wgd' | 'svgd'
export type RepulsionSpace = 'function' | 'weight'

/** d²ᵢⱼ = ‖fᵢ − fⱼ‖² for the rows of an M×D matrix. */
export function squaredDistances(f: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => f.expandDims(1).sub(f.expandDims(0)).square().sum(-1))
}

/**
 * The median heuristic h = median(d²ᵢⱼ, i < j) / (2·log(M + 1)) for k = exp(−d²/(2h)): at the median distance
 * k = 1/(M + 1). A zero median (identical particles, whose repulsion is 0 anyway) gives a tiny h instead of 0/0.
 */
export function medianBandwidth(d2: Float32Array | Float64Array | readonly number[], particles: number): number {
  const pairs: number[] = []
  for (let i = 0; i < particles; i++) for (let j = i + 1; j < particles; j++) pairs.push(d2[i * particles + j]!)
  if (pairs.length === 0) throw new Error('The median heuristic needs at least 2 particles.')
  pairs.sort((a, b) => a - b)
  const mid = pairs.length >> 1
  const median = pairs.length % 2 ? pairs[mid]! : (pairs[mid - 1]! + pairs[mid]!) / 2
  return Math.max(median, 1e-12) / (2 * Math.log(particles + 1))
}

/**
 * Per particle, the direction ρᵢ in which repulsion moves it (away from the others), M×D, with
 * k(fᵢ, fⱼ) = exp(−‖fᵢ − fⱼ‖²/(2h)) and h from the median heuristic unless given:
 * - wgd: ρᵢ = −Σⱼ ∇_{fᵢ} k(fᵢ, fⱼ) / Σⱼ k(fᵢ, fⱼ) = −∇_{fᵢ} log Σⱼ k(fᵢ, fⱼ), minus the score of the KDE (j = i included);
 * - svgd: ρᵢ = (1/M) Σⱼ ∇_{fⱼ} k(fⱼ, fᵢ) = −(1/M) ∇_{fᵢ} Σⱼ k(fᵢ, fⱼ), SVGD's repulsive term only: the driving
 *   term stays each particle's own loss gradient (not kernel-averaged), so that without repulsion the heads train
 *   independently.
 * Both come from Σⱼ kᵢⱼ (fᵢ − fⱼ)/h, divided by Σⱼ kᵢⱼ (wgd) or by M (svgd). Values are read, never differentiated.
 */
export function wgdDirection(f: tf.Tensor, form: RepulsionForm, bandwidth?: number): tf.Tensor2D {
  const [particles] = f.shape as [number, ...number[]]
  if (f.rank !== 2 || particles < 2) throw new Error(`Repulsion needs an M×D matrix of at least 2 particles, not ${f.shape.join('×')}.`)
  return tf.tidy(() => {
    const values = f as tf.Tensor2D
    const d2 = squaredDistances(values)
    const h = bandwidth ?? medianBandwidth(d2.dataSync() as Float32Array, particles)
    if (!(h > 0)) throw new Error(`The kernel bandwidth is ${h}; it must be > 0.`)
    const k = d2.div(-2 * h).exp()
    const rowSums = k.sum(1, true)
    // Σⱼ kᵢⱼ (fᵢ − fⱼ) = fᵢ Σⱼ kᵢⱼ − (K f)ᵢ
    const pushed = values.mul(rowSums).sub(tf.matMul(k, values)).div(h)
    return form === 'wgd' ? pushed.div(rowSums) : pushed.div(particles)
  })
}

/** Every head's softmax probabilities on a batch of features R×F, flattened to M×(R·C): the function values. */
export function functionValues(heads: Heads, featureBatch: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => tf.softmax(heads.logits(featureBatch)).reshape([heads.count, -1]) as tf.Tensor2D)
}

/** Every head's weights (each layer's kernel, then bias) flattened to M×P. */
export function flatWeights(heads: Heads): tf.Tensor2D {
  return tf.tidy(
    () =>
      tf.concat(
        heads.variables.map((v) => v.reshape([heads.count, -1])),
        1,
      ) as tf.Tensor2D,
  )
}

export interface RepulsionOptions {
  space: RepulsionSpace
  form: RepulsionForm
  /** The features R×F of the repulsion samples (function space only). */
  features?: tf.Tensor
  /** A fixed h instead of the median heuristic. */
  bandwidth?: number
}

/**
 * The repulsion pulled back to each head's weights: Jᵢᵀρᵢ, as the gradient of Σᵢ ⟨stopGradient(ρᵢ), fᵢ(θᵢ)⟩ (in weight
 * space J is the identity). One tensor per entry of heads.variables; the caller disposes them. A step along +Jᵀρ moves
 * the heads apart, so a trainer subtracts it (times the repulsion weight) from the loss gradient.
 */
export function repulsionGradient(heads: Heads, options: RepulsionOptions): tf.Tensor[] {
  const { space, form, features, bandwidth } = options
  if (space === 'function' && !features) throw new Error('Function-space repulsion needs the features of the repulsion samples.')
  const valuesOf = (): tf.Tensor2D => (space === 'function' ? functionValues(heads, features!) : flatWeights(heads))
  const direction = tf.tidy(() => wgdDirection(valuesOf(), form, bandwidth))
  try {
    const { value, grads } = tf.variableGrads(() => direction.mul(valuesOf()).sum() as tf.Scalar, heads.variables)
    value.dispose()
    return heads.variables.map((v) => grads[v.name]!)
  } finally {
    direction.dispose()
  }
}
