// Compute overrides that run named dense/conv2d layers through the analog model; the bias is added in float, as the
// host does after reading a board's codes.
import * as tf from '@tensorflow/tfjs'
import { hashKey } from '../normal-random.ts'
import type { ComputeOverride, Hooks, Network } from '../network.ts'
import { checkConfig, checkDevice, checkScales, type AnalogArrayConfig, type AnalogDeviceModel, type AnalogLayerScales } from './config.ts'
import { checkAnalogNode, layerInputRows, layerKernel2d, type AnalogNode } from './layers.ts'
import { analogMatMul } from './matmul.ts'

/** The analog layer nodes a list of ids names, with a sentence when one is missing or cannot run on the array. */
export function analogNodes(net: Pick<Network, 'spec' | 'points'>, ids: readonly string[]): AnalogNode[] {
  return ids.map((id) => {
    const node = net.spec.nodes.find((n) => n.id === id)
    if (!node) throw new Error(`${net.spec.architecture} has no layer '${id}'. Points: ${net.points.map((p) => p.id).join(', ')}.`)
    return checkAnalogNode(node)
  })
}

/** y = analog(rows · kernel2d) reshaped to the layer's output, plus the float bias. */
export function analogOverride(
  scales: AnalogLayerScales,
  device: AnalogDeviceModel,
  config: AnalogArrayConfig,
  nextSeed: () => number | undefined,
): ComputeOverride {
  return (input, { kernel, bias }, node) =>
    tf.tidy(() => {
      const { rows, outputShape } = layerInputRows(input, node)
      const y = tf.reshape(analogMatMul(rows, layerKernel2d(kernel, node), scales, device, config, nextSeed()), outputShape)
      return bias ? tf.add(y, bias) : y
    })
}

/**
 * Hooks whose compute overrides run the named layers on the analog model. With a seed, the n-th call of a layer draws
 * the same noise and order in every run; without one, every call draws afresh.
 */
export function analogHooks(
  net: Pick<Network, 'spec' | 'points'>,
  layers: Readonly<Record<string, AnalogLayerScales>>,
  device: AnalogDeviceModel,
  config: AnalogArrayConfig,
  options: { seed?: number } = {},
): Hooks {
  checkConfig(config)
  checkDevice(device)
  const compute = new Map<string, ComputeOverride>()
  for (const node of analogNodes(net, Object.keys(layers))) {
    const scales = checkScales(layers[node.id]!, `Analog layer '${node.id}'`)
    let calls = 0
    const seed = options.seed
    compute.set(
      node.id,
      analogOverride(scales, device, config, () => (seed === undefined ? undefined : hashKey([seed, node.id, calls++]))),
    )
  }
  return { compute }
}
