// The host side of the array: real values to integer input and weight codes (quantised once, the same way for the
// simulation and a board), and chunk ADC codes back to real outputs. Rounding is straight-through, clamps are not.
import * as tf from '@tensorflow/tfjs'
import { checkConfig, checkScales, type AnalogArrayConfig, type AnalogLayerScales } from './config.ts'
import { steRound } from './ste.ts'

export const inputCodeMax = (config: Pick<AnalogArrayConfig, 'inputBits'>): number => 2 ** config.inputBits - 1
export const weightCodeMax = (config: Pick<AnalogArrayConfig, 'weightBits'>): number => 2 ** config.weightBits - 1

/**
 * Unsigned input codes clamp(round(x / inputScale), 0, 2^inputBits − 1). With 'split' inputs, `negative` holds the
 * codes of −x (the second pass); with 'clip' it is null and negative inputs give code 0.
 */
export function inputCodes(x: tf.Tensor2D, scales: AnalogLayerScales, config: AnalogArrayConfig): { positive: tf.Tensor2D; negative: tf.Tensor2D | null } {
  checkConfig(config)
  checkScales(scales, 'Input codes')
  const max = inputCodeMax(config)
  const codesOf = (sign: 1 | -1): tf.Tensor2D => tf.tidy(() => tf.clipByValue(steRound(tf.div(x, sign * scales.inputScale)), 0, max) as tf.Tensor2D)
  return { positive: codesOf(1), negative: config.signedInputs === 'split' ? codesOf(-1) : null }
}

/** Signed weight codes clamp(round(W / weightScale), −(2^weightBits − 1), 2^weightBits − 1). */
export function weightCodes(kernel: tf.Tensor2D, scales: AnalogLayerScales, config: AnalogArrayConfig): tf.Tensor2D {
  checkConfig(config)
  checkScales(scales, 'Weight codes')
  const max = weightCodeMax(config)
  return tf.tidy(() => tf.clipByValue(steRound(tf.div(kernel, scales.weightScale)), -max, max) as tf.Tensor2D)
}

/**
 * Digital side, for simulated and measured codes alike: the chunks' codes [chunks, N, outputs] are summed, clamped to
 * ±digitalClamp and scaled back to real units, y = Σ codes · inputScale · weightScale / gain (no bias).
 */
export function chunkCodesToOutput(codes: tf.Tensor3D, scales: AnalogLayerScales, config: AnalogArrayConfig): tf.Tensor2D {
  checkConfig(config)
  checkScales(scales, 'Chunk codes to output')
  return tf.tidy(() => {
    const sum = tf.clipByValue(tf.sum(codes, 0), -config.digitalClamp, config.digitalClamp)
    return tf.mul(sum, (scales.inputScale * scales.weightScale) / scales.gain) as tf.Tensor2D
  })
}
