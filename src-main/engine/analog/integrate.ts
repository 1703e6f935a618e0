// One layer's analog passes: per row chunk and column the integrator sums gain·columnGain·xq·wq group by group in the
// device's order, clipping at ±saturation after every group (or once, associatively), then the ADC adds the column
// offset and noise, rounds and clamps. Vectorised: a JS loop runs only over the few operand groups.
import * as tf from '@tensorflow/tfjs'
import { fillNormals } from '../normal-random.ts'
import { adcRange, checkConfig, checkDevice, type AnalogArrayConfig, type AnalogDeviceModel } from './config.ts'
import { chunkGroupSums, chunkOperands, chunkSums, randomRowOrder } from './order.ts'
import { streamKey, streamUniform, type AnalogRandom } from './random-source.ts'
import { steRound } from './ste.ts'

/** Per-output values of a per-column setting: output j sits on column j mod columns. */
function perOutput(values: readonly number[], outputs: number, factor = 1): tf.Tensor1D {
  return tf.tensor1d(Float32Array.from({ length: outputs }, (_, j) => factor * values[j % values.length]!))
}

/**
 * ADC codes per chunk, [chunks, N, outputs], for integer input codes xq [N, inputs] (≥ 0) and weight codes wq
 * [inputs, outputs]. Differentiable: rounding is straight-through, saturation and ADC clamps pass no gradient outside.
 */
export function simulateChunkCodes(
  xq: tf.Tensor2D,
  wq: tf.Tensor2D,
  gain: number,
  device: AnalogDeviceModel,
  config: AnalogArrayConfig,
  random: AnalogRandom,
): tf.Tensor3D {
  checkConfig(config)
  checkDevice(device)
  if (!(gain > 0)) throw new Error(`The analog gain is ${gain}; it must be a positive number.`)
  if (xq.shape[1] !== wq.shape[0]) throw new Error(`Input codes have ${xq.shape[1]} columns but the weight codes have ${wq.shape[0]} rows; they must match.`)
  return tf.tidy(() => {
    const [n, inputs] = xq.shape
    const outputs = wq.shape[1]
    const { saturation, ordering } = device
    const rowOrder = ordering?.order === 'random' ? randomRowOrder(inputs, config.rows, streamUniform(random, 'order')) : null
    const scale = perOutput(device.columnGain, outputs, gain)
    let v: tf.Tensor
    if (ordering === null) {
      v = tf.clipByValue(tf.mul(chunkSums(chunkOperands(xq, wq, config.rows, rowOrder)), scale), -saturation, saturation)
    } else {
      v = tf.stack(
        chunkGroupSums(xq, wq, config.rows, ordering, scale, rowOrder).map((sums) => {
          let acc: tf.Tensor | null = null
          for (const sum of sums) acc = tf.clipByValue(acc ? tf.add(acc, sum) : sum, -saturation, saturation)
          return acc!
        }),
      )
    }
    const chunks = v.shape[0]!
    v = tf.add(v, perOutput(device.columnOffset, outputs))
    if (device.noiseStd > 0) {
      const normals = fillNormals(new Float32Array(chunks * n * outputs), streamKey(random, 'noise'))
      v = tf.add(v, tf.mul(tf.tensor3d(normals, [chunks, n, outputs]), device.noiseStd))
    }
    const { min, max } = adcRange(config)
    return tf.clipByValue(steRound(v), min, max) as tf.Tensor3D
  })
}
