// Per-layer scales from sample inputs: the input and weight steps fill the code ranges, and the gain puts a high
// percentile of the associative chunk sums at a chosen fraction of the integrator's (or ADC's) full scale.
import * as tf from '@tensorflow/tfjs'
import type { Network } from '../network.ts'
import { adcRange, checkConfig, checkDevice, type AnalogArrayConfig, type AnalogDeviceModel, type AnalogLayerScales } from './config.ts'
import { inputCodeMax, inputCodes, weightCodeMax, weightCodes } from './codes.ts'
import { analogNodes } from './hooks.ts'
import { layerInputRows, layerKernel2d } from './layers.ts'
import { chunkOperands, chunkSums } from './order.ts'

export interface PlanOptions {
  /** Percentile (0–100] of the layer inputs and of |chunk sums| that maps to the top of the range; default 99.9. */
  percentile?: number
  /** Fraction of full scale that percentile of |chunk sums| lands on; default 0.5, leaving head-room for ordered integration and noise. */
  fillFraction?: number
}

/** The p-th percentile (linear interpolation) of a tensor's values. */
export function percentileOf(values: tf.Tensor, percentile: number): number {
  const sorted = Float32Array.from(values.dataSync()).sort()
  if (sorted.length === 0) return 0
  const at = (percentile / 100) * (sorted.length - 1)
  const low = Math.floor(at)
  const high = Math.min(low + 1, sorted.length - 1)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low)
}

/** Scales per layer, from the clean float activations of `sampleInputs` (one or more batches stacked on axis 0). */
export function planAnalogLayers(
  net: Network,
  sampleInputs: tf.Tensor,
  layers: readonly string[],
  device: AnalogDeviceModel,
  config: AnalogArrayConfig,
  options: PlanOptions = {},
): Record<string, AnalogLayerScales> {
  checkConfig(config)
  checkDevice(device)
  const percentile = options.percentile ?? 99.9
  const fillFraction = options.fillFraction ?? 0.5
  if (!(percentile > 0 && percentile <= 100)) throw new Error(`The planning percentile is ${percentile}; use a number above 0 and up to 100.`)
  if (!(fillFraction > 0 && fillFraction <= 8))
    throw new Error(`The fill fraction is ${fillFraction}; use a number above 0 and up to 8 (above 1 overdrives: the largest sums clip).`)
  const nodes = analogNodes(net, layers)
  const fullScale = Math.min(device.saturation, adcRange(config).max)
  const plans: Record<string, AnalogLayerScales> = {}
  tf.tidy(() => {
    const activations = net.activations(sampleInputs)
    for (const node of nodes) {
      const { rows } = layerInputRows(activations.get(node.input)!, node)
      const kernel = layerKernel2d(net.weights(node.id).kernel, node)
      // An all-zero input or kernel has no range: any step represents it, so 1 keeps the scales valid.
      const inputTop = percentileOf(config.signedInputs === 'split' ? tf.abs(rows) : tf.relu(rows), percentile)
      const weightTop = tf.max(tf.abs(kernel)).dataSync()[0]!
      const inputScale = (inputTop > 0 ? inputTop : 1) / inputCodeMax(config)
      const weightScale = (weightTop > 0 ? weightTop : 1) / weightCodeMax(config)
      const probe = { inputScale, weightScale, gain: 1 }
      const { positive, negative } = inputCodes(rows, probe, config)
      const wq = weightCodes(kernel, probe, config)
      const sums = [positive, negative].filter((x): x is tf.Tensor2D => x !== null).map((x) => tf.abs(chunkSums(chunkOperands(x, wq, config.rows))).flatten())
      const sumTop = percentileOf(tf.concat(sums), percentile)
      plans[node.id] = { inputScale, weightScale, gain: sumTop > 0 ? (fillFraction * fullScale) / sumTop : 1 }
    }
  })
  return plans
}
