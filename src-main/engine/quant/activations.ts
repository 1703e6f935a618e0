// Unsigned activation fake quantization after ReLU: range [0, M(b)·scale] with a constant scale, a scale from
// calibration statistics, or a learned scale (LSQ gradient); out-of-range values clip and get no gradient.
import * as tf from '@tensorflow/tfjs'
import type { Hooks, Network, PointHook } from '../network.ts'
import { activationRangeMax, fakeQuantize, type Grid } from './grid.ts'

/**
 * 'levels': 2^b codes spread evenly over [0, M·scale], step M·scale/(2^b − 1) (= scale when M = 2^b − 1).
 * 'step': step exactly `scale`, codes 0…M, so M + 1 codes (257 at 8 bits: one more than 8 bits hold).
 */
export type ActivationGridKind = 'levels' | 'step'

/** Highest code and the step in units of the scale, for b bits on a grid kind. */
export function activationCodes(bits: number, kind: ActivationGridKind = 'levels'): { qmax: number; stepPerScale: number } {
  const rangeMax = activationRangeMax(bits)
  return kind === 'step' ? { qmax: rangeMax, stepPerScale: 1 } : { qmax: 2 ** bits - 1, stepPerScale: rangeMax / (2 ** bits - 1) }
}

/** The unsigned grid of b bits for a scale: codes 0…qmax, range [0, M(b)·scale]. */
export function activationGrid(bits: number, scale: number, kind: ActivationGridKind = 'levels'): Grid {
  if (!(scale > 0)) throw new Error(`The activation scale is ${scale}; it must be a positive number.`)
  const { qmax, stepPerScale } = activationCodes(bits, kind)
  return { step: scale * stepPerScale, zeroPoint: 0, qmin: 0, qmax }
}

/** A hook quantizing to the constant grid, in training and at inference alike. */
export function constantActivationHook(bits: number, scale: number, kind: ActivationGridKind = 'levels'): PointHook {
  const grid = activationGrid(bits, scale, kind)
  return (value) => fakeQuantize(value, grid, 'zero')
}

// Keeps a learned scale positive without a constraint step in the optimizer.
const MIN_SCALE = 1e-8

/**
 * Quantization with a trainable scale s (LSQ, Esser et al. 2020): x gets the STE gradient inside [0, M·s] and 0
 * outside; s gets Σ dy·∂y/∂s with ∂y/∂step = round(x/step) − x/step inside, qmax above, 0 below, times the LSQ
 * gradient scale 1/√(N·qmax), N = elements of one sample.
 */
export function learnedQuantize(x: tf.Tensor, scale: tf.Tensor, bits: number, kind: ActivationGridKind = 'levels'): tf.Tensor {
  const { qmax, stepPerScale } = activationCodes(bits, kind)
  const perSample = x.shape.slice(1).reduce((a, b) => a * b, 1)
  const gradientScale = 1 / Math.sqrt(perSample * qmax)
  const quantize = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [value, s, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc]
    const step = tf.mul(tf.maximum(s, MIN_SCALE), stepPerScale)
    const v = tf.div(value, step)
    const codes = tf.clipByValue(tf.round(v), 0, qmax)
    const inside = tf.logicalAnd(tf.greaterEqual(v, 0), tf.lessEqual(v, qmax))
    const slope = tf.where(inside, tf.sub(codes, v), tf.where(tf.greater(v, qmax), tf.fill(v.shape, qmax), tf.zerosLike(v)))
    save([inside.cast('float32'), tf.mul(slope, stepPerScale * gradientScale)])
    return {
      value: tf.mul(codes, step),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, saved[0]!), tf.sum(tf.mul(dy, saved[1]!)).reshape(s.shape)],
    }
  })
  return quantize(x, scale)
}

/** A hook quantizing with a trainable scale variable (the caller trains and disposes it). */
export function learnedActivationHook(bits: number, scale: tf.Variable, kind: ActivationGridKind = 'levels'): PointHook {
  activationRangeMax(bits)
  return (value) => learnedQuantize(value, scale, bits, kind)
}

/** Which statistic of calibration activations sets the range max M·scale: the running max, or a percentile. */
export type RangeStatistic = { statistic: 'max' } | { statistic: 'percentile'; percentile: number }

/** The p-th percentile (0…100) of values, by nearest rank on a sorted copy. */
export function percentile(values: Float32Array, p: number): number {
  if (!(p > 0 && p <= 100)) throw new Error(`The calibration percentile is ${p}; use a number above 0 and at most 100.`)
  const sorted = Float32Array.from(values).sort()
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!
}

/**
 * Observed range per point over calibration batches: the max over all batches, or the mean of per-batch
 * percentiles (a percentile over all data would need every activation in memory). `hooks` (e.g. weight
 * quantization) take part in the forward pass; the activations themselves are observed in float.
 */
export async function calibrateRanges(
  net: Pick<Network, 'activations'>,
  batches: Iterable<tf.Tensor>,
  points: readonly string[],
  statistic: RangeStatistic,
  hooks?: Hooks,
): Promise<Map<string, number>> {
  const sums = new Map(points.map((id) => [id, statistic.statistic === 'max' ? -Infinity : 0]))
  let count = 0
  for (const x of batches) {
    const values = tf.tidy(() => {
      const all = net.activations(x, { hooks })
      return points.map((id) => {
        const value = all.get(id)
        if (!value) throw new Error(`Calibration asks for point '${id}', which the network does not have.`)
        return statistic.statistic === 'max' ? value.max() : value.reshape([-1])
      })
    })
    for (const [i, id] of points.entries()) {
      const data = (await values[i]!.data()) as Float32Array
      const observed = statistic.statistic === 'max' ? data[0]! : percentile(data, statistic.percentile)
      sums.set(id, statistic.statistic === 'max' ? Math.max(sums.get(id)!, observed) : sums.get(id)! + observed)
    }
    tf.dispose(values)
    count++
  }
  if (count === 0) throw new Error('Calibration needs at least one batch of samples.')
  return new Map([...sums].map(([id, value]) => [id, statistic.statistic === 'max' ? value : value / count]))
}
