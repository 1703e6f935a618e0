// A policy's compressed network as the board agent times it, and the uniform grid the cost model is fitted on.
// Shared by the compression jobs and the policy editor's service, so both ask the latency table the same questions.
import type { CompressibleLayer, LayerPolicy, Policy } from '../contract/index.ts'
import { PROFILE_BITS, PROFILE_KEEPS, type CostSample, type LayerQuery } from '../engine/compression/cost-model.ts'
import { uniformPolicy } from '../engine/compression/policy.ts'
import { pruneNetwork } from '../engine/compression/prune.ts'
import type { Network } from '../engine/network.ts'
import type { LayerShape } from '../hardware/layer-latency.ts'
import { boardLayersOf } from './network-layers.ts'

const FLOAT = 32

/** The bits the board agent times a layer at: float if either operand is float, else the wider of the two. */
export function boardBits(layer: Pick<LayerPolicy, 'weightBits' | 'activationBits'> | undefined): number {
  if (!layer || layer.weightBits === FLOAT || layer.activationBits === FLOAT) return FLOAT
  return Math.max(layer.weightBits, layer.activationBits)
}

export interface BoardNetwork {
  layers: LayerShape[]
  bits: number[]
  /** MACs per sample of each layer after pruning (what the cost model interpolates in). */
  macs: number[]
}

/** The compressed network's dense and conv layers (the classifier at float) with each layer's bits. Only shapes matter. */
export function boardNetworkOf(reference: Network, policy: Policy, channelMultiple: number): BoardNetwork {
  const pruned = pruneNetwork(reference, policy, { channelMultiple })
  try {
    const { layers } = boardLayersOf(pruned.net)
    const byLayer = new Map(policy.layers.map((l) => [l.layer, l]))
    return { layers, bits: layers.map((l) => boardBits(byLayer.get(l.id))), macs: layers.map((l) => pruned.net.point(l.id).macs) }
  } finally {
    pruned.net.dispose()
  }
}

/** The 4 × 5 uniform policies the board is profiled at. */
export function profilePolicies(layers: readonly CompressibleLayer[], architecture: string): Policy[] {
  return PROFILE_KEEPS.flatMap((keep) => PROFILE_BITS.map((bits) => uniformPolicy(layers, { keep, weightBits: bits, activationBits: bits }, architecture)))
}

/** Each layer as the cost model sees it: its input channels (conv) or features (dense), MACs and bits. */
export function costQueries(network: BoardNetwork): LayerQuery[] {
  return network.layers.map((l, i) => ({
    layer: l.id,
    inputs: l.op === 'dense' ? l.fields.in! : l.fields.cin!,
    macs: network.macs[i]!,
    bits: network.bits[i]!,
  }))
}

export function costSamplesOf(network: BoardNetwork, layersS: readonly number[]): CostSample[] {
  return costQueries(network).map((q, i) => ({ ...q, seconds: layersS[i]! }))
}
