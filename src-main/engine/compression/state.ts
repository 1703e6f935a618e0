// The agent's observation of one layer (HAQ/AMC style): what the layer is, how much of the network's cost lies before
// and after it under the policy chosen so far, how sensitive it is, and the previous action. Standardised by the caller.
import type { CompressibleLayer, SensitivityCurves } from '../../contract/index.ts'

export interface LayerCostShare {
  /** MACs and BOPs of each policy layer under the policy chosen so far (later layers at their reference cost). */
  macs: number[]
  bops: number[]
}

/** The feature vector of layer t; its length is stateSize(sensitivityPoints, actionSize). */
export function layerState(
  t: number,
  layers: readonly CompressibleLayer[],
  costs: LayerCostShare,
  sensitivity: SensitivityCurves | undefined,
  previousAction: readonly number[],
): number[] {
  const layer = layers[t]!
  const total = (values: number[]) => values.reduce((a, b) => a + b, 0) || 1
  const share = (values: number[], from: number, to: number) => values.slice(from, to).reduce((a, b) => a + b, 0) / total(values)
  const curve = [
    ...(sensitivity?.keep.map((p) => p.kl) ?? []),
    ...(sensitivity?.weightBits.map((p) => p.kl) ?? []),
    ...(sensitivity?.activationBits.map((p) => p.kl) ?? []),
  ]
  return [
    t,
    layer.op === 'conv2d' ? 1 : 0,
    layer.macs,
    costs.bops[t] ?? 0,
    layer.inChannels,
    layer.outChannels,
    layer.kernel,
    layer.stride,
    layer.params,
    share(costs.macs, 0, t),
    share(costs.macs, t + 1, layers.length),
    share(costs.bops, 0, t),
    share(costs.bops, t + 1, layers.length),
    layer.prunable ? 1 : 0,
    // KL spans orders of magnitude; its log keeps the standardised feature informative.
    ...curve.map((kl) => Math.log10(kl + 1e-6)),
    ...previousAction,
  ]
}

export const BASE_FEATURES = 14

export function stateSize(sensitivityPoints: number, actionSize: number): number {
  return BASE_FEATURES + sensitivityPoints + actionSize
}
