// The layer-level differentiable op: y = analog(x·W), quantising x and W once on the host, running one analog pass
// per input sign ('split' inputs subtract the negative pass digitally) and converting the codes back.
import * as tf from '@tensorflow/tfjs'
import { hashKey } from '../normal-random.ts'
import { checkScales, type AnalogArrayConfig, type AnalogDeviceModel, type AnalogLayerScales } from './config.ts'
import { chunkCodesToOutput, inputCodes, weightCodes } from './codes.ts'
import { simulateChunkCodes } from './integrate.ts'
import { callSeed } from './random-source.ts'

/** y = analog(x·W) for x [N, inputs] and W [inputs, outputs]; the bias is added outside, in float. */
export function analogMatMul(
  x: tf.Tensor2D,
  kernel: tf.Tensor2D,
  scales: AnalogLayerScales,
  device: AnalogDeviceModel,
  config: AnalogArrayConfig,
  seed?: number,
): tf.Tensor2D {
  checkScales(scales, 'The analog layer')
  if (x.shape[1] !== kernel.shape[0]) throw new Error(`The input has ${x.shape[1]} features but the kernel has ${kernel.shape[0]} rows; they must match.`)
  const base = callSeed(seed)
  return tf.tidy(() => {
    const { positive, negative } = inputCodes(x, scales, config)
    const wq = weightCodes(kernel, scales, config)
    // Each pass is its own analog run: its own noise and its own random order.
    let codes = simulateChunkCodes(positive, wq, scales.gain, device, config, { seed: hashKey([base, 'positive']) })
    if (negative) codes = tf.sub(codes, simulateChunkCodes(negative, wq, scales.gain, device, config, { seed: hashKey([base, 'negative']) }))
    return chunkCodesToOutput(codes, scales, config)
  })
}
