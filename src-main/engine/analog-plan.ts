// How a network is mapped onto an analog array — the array settings, the layers on it and their fixed scales — as
// stored with a model trained through the analog model, and used again to run it on a board or in simulation.
import * as tf from '@tensorflow/tfjs'
import {
  analogHooks,
  analogLayerIds,
  analogNodes,
  associative,
  planAnalogLayers,
  type AnalogArrayConfig,
  type AnalogDeviceModel,
  type AnalogLayerScales,
} from './analog.ts'
import { combineHooks } from './hooks.ts'
import type { Hooks, Network } from './network.ts'

export interface AnalogPlan {
  /** The array settings; `signedInputs` is decided per layer (signedLayers). */
  config: AnalogArrayConfig
  layers: Record<string, AnalogLayerScales>
  /** Layers whose inputs can be negative (normalised pixels): they take two passes, x⁺ and x⁻. Others take one. */
  signedLayers: string[]
  /** How the model was trained: saturating once per chunk, or after every operand group. */
  integration: 'associative' | 'ordered'
  /** The board whose calibrated model it was trained with; null for the nominal model. */
  device: string | null
}

export type LayerSelection = 'dense' | 'all' | readonly string[]

/** The layer ids a selection names: every dense layer, every dense and conv2d layer, or the ids given (checked). */
export function selectAnalogLayers(net: Network, selection: LayerSelection): string[] {
  const candidates = analogLayerIds(net)
  if (selection === 'all') return candidates
  if (selection === 'dense') return candidates.filter((id) => net.point(id).op === 'dense')
  for (const id of selection)
    if (!candidates.includes(id)) throw new Error(`Layer '${id}' cannot run on the analog array: only dense and conv2d layers can (${candidates.join(', ')}).`)
  return [...selection]
}

/** The array settings one layer runs with: two passes only where its inputs can be negative. */
export function layerConfig(plan: Pick<AnalogPlan, 'config' | 'signedLayers'>, id: string): AnalogArrayConfig {
  return { ...plan.config, signedInputs: plan.signedLayers.includes(id) ? 'split' : 'clip' }
}

/**
 * Scales for the chosen layers from sample inputs under a device model. A layer whose sample inputs go negative is
 * signed (two passes); after a ReLU one pass suffices — and a skipped pass would read only offsets and noise.
 */
export function planNetwork(
  net: Network,
  sample: tf.Tensor,
  layers: readonly string[],
  device: AnalogDeviceModel,
  config: AnalogArrayConfig,
  integration: AnalogPlan['integration'],
  deviceName: string | null,
  fillFraction = 0.5,
): AnalogPlan {
  const signedLayers = tf.tidy(() => {
    const values = net.activations(sample)
    return analogNodes(net, layers)
      .filter((node) => tf.min(values.get(node.input)!).dataSync()[0]! < 0)
      .map((node) => node.id)
  })
  const base = { config: { ...config, signedInputs: 'clip' as const }, signedLayers }
  // One planning pass per input kind (each runs the network once), not one per layer.
  const signed = layers.filter((id) => signedLayers.includes(id))
  const unsigned = layers.filter((id) => !signedLayers.includes(id))
  const plan = (ids: string[], signedInputs: AnalogArrayConfig['signedInputs']): Record<string, AnalogLayerScales> =>
    ids.length ? planAnalogLayers(net, sample, ids, device, { ...config, signedInputs }, { fillFraction }) : {}
  const scales = { ...plan(signed, 'split'), ...plan(unsigned, 'clip') }
  // In network order, as the layers were given.
  return { ...base, layers: Object.fromEntries(layers.map((id) => [id, scales[id]!])), integration, device: deviceName }
}

/** Simulation hooks for a plan under a device model: ordered as the device says, or associative. */
export function planHooks(
  net: Network,
  plan: Pick<AnalogPlan, 'config' | 'layers' | 'signedLayers'>,
  device: AnalogDeviceModel,
  integration: 'associative' | 'ordered',
  seed?: number,
): Hooks {
  const model = integration === 'associative' ? associative(device) : device
  const options = seed === undefined ? {} : { seed }
  return combineHooks(...Object.entries(plan.layers).map(([id, scales]) => analogHooks(net, { [id]: scales }, model, layerConfig(plan, id), options)))!
}
