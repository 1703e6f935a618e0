// How a network is mapped onto an analog array — the array settings, the layers on it and their fixed scales — as
// stored with a model trained through the analog model, and used again to run it on a board or in simulation.
import { analogHooks, analogLayerIds, associative, type AnalogArrayConfig, type AnalogDeviceModel, type AnalogLayerScales } from './analog.ts'
import type { Hooks, Network } from './network.ts'

export interface AnalogPlan {
  config: AnalogArrayConfig
  layers: Record<string, AnalogLayerScales>
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

/** Simulation hooks for a plan under a device model: ordered as the device says, or associative. */
export function planHooks(net: Network, plan: Pick<AnalogPlan, 'config' | 'layers'>, device: AnalogDeviceModel, integration: 'associative' | 'ordered', seed?: number): Hooks {
  return analogHooks(net, plan.layers, integration === 'associative' ? associative(device) : device, plan.config, seed === undefined ? {} : { seed })
}
