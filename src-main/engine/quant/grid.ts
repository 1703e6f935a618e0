// Integer grids and the straight-through estimator (STE): the forward pass snaps a value to a grid code and back,
// the backward pass lets the gradient through unchanged inside the grid's range and (optionally) stops it outside.
import * as tf from '@tensorflow/tfjs'

/** Codes qmin…qmax; x → code clip(round(x/step) + zeroPoint, qmin, qmax) → value (code − zeroPoint)·step. */
export interface Grid {
  /** A number, or a tensor that broadcasts over the value (per-channel steps keep the reduced axes as size 1). */
  step: tf.Tensor | number
  zeroPoint: tf.Tensor | number
  qmin: number
  qmax: number
}

/** What the STE does with the gradient of an element that was clipped: stop it ('zero') or pass it ('pass'). */
export type OutsideGradient = 'zero' | 'pass'

export const MIN_BITS = 2
export const MAX_BITS = 16

export function checkBits(bits: number, where: string): number {
  if (!Number.isInteger(bits) || bits < MIN_BITS || bits > MAX_BITS) {
    throw new Error(`${where} asks for ${bits} bits; use a whole number from ${MIN_BITS} to ${MAX_BITS}.`)
  }
  return bits
}

/**
 * The activation range in units of the scale, M(b) = 2^b − [b < 8]: 15 at 4 bits, 256 at 8, 65536 at 16, the values of
 * the original study. Sub-byte widths use 2^b − 1 (16 levels fit 4 bits); byte widths and up use 2^b (see docs/quantization.md).
 */
export function activationRangeMax(bits: number): number {
  checkBits(bits, 'Activation quantization')
  return 2 ** bits - (bits < 8 ? 1 : 0)
}

/** Integer codes of x on a grid, as a float32 tensor holding whole numbers. */
export function codesOf(x: tf.Tensor, grid: Grid): tf.Tensor {
  return tf.tidy(() => tf.clipByValue(tf.add(tf.round(tf.div(x, grid.step)), grid.zeroPoint), grid.qmin, grid.qmax))
}

/** Values of codes on a grid. */
export function fromCodes(codes: tf.Tensor, grid: Grid): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.sub(codes, grid.zeroPoint), grid.step))
}

/** 1 where x lies inside the grid's range [(qmin − z)·step, (qmax − z)·step], else 0. */
export function insideMask(x: tf.Tensor, grid: Grid): tf.Tensor {
  return tf.tidy(() => {
    const low = tf.mul(tf.sub(grid.qmin, grid.zeroPoint), grid.step)
    const high = tf.mul(tf.sub(grid.qmax, grid.zeroPoint), grid.step)
    return tf.logicalAnd(tf.greaterEqual(x, low), tf.lessEqual(x, high)).cast('float32')
  })
}

/** Fake quantization: forward fromCodes(codesOf(x)); backward dy inside the range and 0 (or dy) outside. */
export function fakeQuantize(x: tf.Tensor, grid: Grid, outside: OutsideGradient = 'zero'): tf.Tensor {
  const quantize = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [value, save] = args as [tf.Tensor, tf.GradSaveFunc]
    // Saved, not closed over: tensors made inside a custom forward are disposed before the backward pass runs.
    if (outside === 'zero') save([insideMask(value, grid)])
    return {
      value: fromCodes(codesOf(value, grid), grid),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => (outside === 'zero' ? tf.mul(dy, saved[0]!) : dy),
    }
  })
  return quantize(x)
}
