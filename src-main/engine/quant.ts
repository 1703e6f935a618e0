// Quantization-aware training: one config (weight and activation bits, granularity, scaling mode) becomes the Hooks
// that train() and evaluate() take. The parts live in quant/: grids and STE, weights, activations, integer inference.
import * as tf from '@tensorflow/tfjs'
import type { ComputeOverride, Hooks, Network, PointHook } from './network.ts'
import { activationRangeMax, checkBits } from './quant/grid.ts'
import { calibrateRanges, constantActivationHook, learnedActivationHook, type ActivationGridKind, type RangeStatistic } from './quant/activations.ts'
import { isWeightNode, weightQuantOverride, type Granularity } from './quant/weights.ts'

export * from './quant/grid.ts'
export * from './quant/weights.ts'
export * from './quant/activations.ts'
export * from './quant/integer.ts'

export interface WeightQuantConfig {
  /** Bits of every quantized weight node, unless `bitsByPoint` names it. */
  bits: number
  bitsByPoint?: Readonly<Record<string, number>>
  granularity: Granularity
  symmetric: boolean
  /** Dense/conv node ids to quantize (default: every dense, conv2d and depthwiseConv2d node). */
  points?: readonly string[]
}

export type ActivationScaling =
  /** range max = M(b)·scale, fixed: the convention of the original study. */
  | { mode: 'constant'; scale: number }
  /** range max = a statistic of calibration batches (see `calibrate`), then fixed. */
  | ({ mode: 'statistics' } & RangeStatistic)
  /** range max = M(b)·s with s a trainable variable starting at `initialScale` (LSQ gradient). */
  | { mode: 'learned'; initialScale: number }

export interface ActivationQuantConfig {
  bits: number
  bitsByPoint?: Readonly<Record<string, number>>
  scaling: ActivationScaling
  /** Default 'levels' (2^b codes over [0, M·scale]); 'step' uses step = scale and M + 1 codes. */
  grid?: ActivationGridKind
  /** Point ids to quantize (default: every ReLU node). Values are treated as unsigned: negatives clip to 0. */
  points?: readonly string[]
}

export interface QuantConfig {
  weights?: WeightQuantConfig
  activations?: ActivationQuantConfig
}

/** Hooks plus what they own: learned scale variables (to train next to the network's weights) and the scales used. */
export interface QuantHooks extends Hooks {
  compute: ReadonlyMap<string, ComputeOverride>
  after: ReadonlyMap<string, PointHook>
  /** Learned scales, by point id; empty unless the scaling mode is 'learned'. */
  variables: ReadonlyMap<string, tf.Variable>
  /** The activation scale per point at creation (learned ones move during training). */
  scales: ReadonlyMap<string, number>
  dispose(): void
}

type NetworkShape = Pick<Network, 'spec' | 'points'>

// tfjs variable names are global; a counter keeps two hook sets on one network apart.
let scaleVariables = 0

function checkedPoints(net: NetworkShape, ids: readonly string[], what: string): string[] {
  const known = new Set(net.points.map((p) => p.id))
  for (const id of ids) if (!known.has(id)) throw new Error(`${what} names '${id}', which is not an injection point. Points: ${[...known].join(', ')}.`)
  return [...ids]
}

/** The weight nodes a config quantizes. */
export function weightPointIds(net: NetworkShape, config: WeightQuantConfig): string[] {
  if (!config.points) return net.spec.nodes.filter(isWeightNode).map((n) => n.id)
  const ids = checkedPoints(net, config.points, 'Weight quantization')
  for (const id of ids) {
    const node = net.spec.nodes.find((n) => n.id === id)!
    if (!isWeightNode(node)) throw new Error(`Weight quantization names '${id}', a ${node.op} node; only dense and conv nodes have weights.`)
  }
  return ids
}

/** The points a config quantizes the activations of. */
export function activationPointIds(net: NetworkShape, config: ActivationQuantConfig): string[] {
  return config.points ? checkedPoints(net, config.points, 'Activation quantization') : net.spec.nodes.filter((n) => n.op === 'relu').map((n) => n.id)
}

const bitsAt = (config: { bits: number; bitsByPoint?: Readonly<Record<string, number>> }, id: string): number => config.bitsByPoint?.[id] ?? config.bits

/** Weight-only hooks of a config (used while calibrating activation statistics). */
export function weightHooks(net: NetworkShape, config: WeightQuantConfig): Hooks {
  const compute = new Map<string, ComputeOverride>()
  for (const id of weightPointIds(net, config)) {
    compute.set(
      id,
      weightQuantOverride({
        bits: checkBits(bitsAt(config, id), `Weight quantization of '${id}'`),
        granularity: config.granularity,
        symmetric: config.symmetric,
      }),
    )
  }
  return { compute }
}

/**
 * Observed activation ranges for 'statistics' scaling: runs the calibration batches with the config's weight
 * quantization and returns the statistic per activation point, to pass to quantHooks.
 */
export async function calibrate(
  net: Pick<Network, 'spec' | 'points' | 'activations'>,
  batches: Iterable<tf.Tensor>,
  config: QuantConfig,
): Promise<Map<string, number>> {
  const scaling = config.activations?.scaling
  if (!config.activations || scaling?.mode !== 'statistics') throw new Error("Calibration needs activation quantization with scaling mode 'statistics'.")
  const hooks = config.weights ? weightHooks(net, config.weights) : undefined
  return calibrateRanges(net, batches, activationPointIds(net, config.activations), scaling, hooks)
}

/**
 * Hooks that fake-quantize weights (compute overrides) and activations (after hooks) as the config says.
 * 'statistics' scaling needs the ranges from `calibrate`. Dispose the result when done with learned scales.
 */
export function quantHooks(net: NetworkShape, config: QuantConfig, ranges?: ReadonlyMap<string, number>): QuantHooks {
  const compute = new Map(config.weights ? weightHooks(net, config.weights).compute : [])
  const after = new Map<string, PointHook>()
  const variables = new Map<string, tf.Variable>()
  const scales = new Map<string, number>()
  const activations = config.activations
  if (activations) {
    const { scaling } = activations
    for (const id of activationPointIds(net, activations)) {
      const bits = checkBits(bitsAt(activations, id), `Activation quantization of '${id}'`)
      const rangeMax = activationRangeMax(bits)
      let scale: number
      if (scaling.mode === 'statistics') {
        const observed = ranges?.get(id)
        if (observed === undefined) throw new Error(`Point '${id}' has no calibration range; run calibrate() first and pass its result to quantHooks.`)
        // A point that never fired during calibration has no range; a range of 1 keeps the grid valid.
        scale = (observed > 0 ? observed : 1) / rangeMax
      } else {
        scale = scaling.mode === 'constant' ? scaling.scale : scaling.initialScale
      }
      if (!(scale > 0)) throw new Error(`The activation scale of '${id}' is ${scale}; it must be a positive number.`)
      scales.set(id, scale)
      if (scaling.mode === 'learned') {
        const variable = tf.variable(tf.scalar(scale), true, `quant_scale_${id.replace('.', '__')}_${++scaleVariables}`)
        variables.set(id, variable)
        after.set(id, learnedActivationHook(bits, variable, activations.grid))
      } else {
        after.set(id, constantActivationHook(bits, scale, activations.grid))
      }
    }
  }
  return { compute, after, variables, scales, dispose: () => variables.forEach((v) => v.dispose()) }
}

/** Quantization as stored with a trained model: weight settings and each activation point's range, fixed. */
export interface FrozenQuant {
  weights?: WeightQuantConfig
  activations?: { bits: number; bitsByPoint?: Readonly<Record<string, number>>; grid?: ActivationGridKind; ranges: Record<string, number> }
}

/** Fixes the activation ranges the hooks ended training with (learned scales at their trained values). */
export function freezeQuant(hooks: QuantHooks, config: QuantConfig): FrozenQuant {
  const frozen: FrozenQuant = {}
  if (config.weights) frozen.weights = config.weights
  if (config.activations) {
    const { bits, bitsByPoint, grid } = config.activations
    const ranges: Record<string, number> = {}
    for (const [id, scale] of hooks.scales) {
      const current = hooks.variables.get(id)?.dataSync()[0] ?? scale
      ranges[id] = current * activationRangeMax(bitsByPoint?.[id] ?? bits)
    }
    frozen.activations = { bits, ranges, ...(bitsByPoint ? { bitsByPoint } : {}), ...(grid ? { grid } : {}) }
  }
  return frozen
}

/** Inference hooks for a stored model's frozen quantization. */
export function frozenQuantHooks(net: NetworkShape, frozen: FrozenQuant): QuantHooks {
  const activations = frozen.activations
  return quantHooks(
    net,
    {
      weights: frozen.weights,
      activations: activations && {
        bits: activations.bits,
        bitsByPoint: activations.bitsByPoint,
        grid: activations.grid,
        points: Object.keys(activations.ranges),
        scaling: { mode: 'statistics', statistic: 'max' },
      },
    },
    new Map(Object.entries(activations?.ranges ?? {})),
  )
}
