// The hooks a training recipe asks for — quantization-aware training and noisy training, alone or combined — built
// from the train params, so the train job and the robustness study train the same way.
import type { TrainParams } from '../contract/index.ts'
import { batchTensors, type Dataset } from '../engine/data/dataset.ts'
import { combineHooks } from '../engine/hooks.ts'
import type { Hooks, Network } from '../engine/network.ts'
import { counterNormals, trainingHooksForEpoch } from '../engine/noise.ts'
import { calibrate, freezeQuant, frozenQuantHooks, quantHooks, type FrozenQuant, type QuantConfig, type QuantHooks } from '../engine/quant.ts'
import * as tf from '@tensorflow/tfjs'
import { DEFAULT_ARRAY, nominalDevice, type AnalogDeviceModel } from '../engine/analog.ts'
import { planHooks, planNetwork, selectAnalogLayers, type AnalogPlan } from '../engine/analog-plan.ts'

export type TrainingRecipe = Pick<TrainParams, 'qat' | 'noise' | 'seed'> & { analog?: TrainParams['analog'] }

export interface TrainingHooks {
  /** Undefined when the recipe is plain float training. */
  hooksForEpoch: ((epoch: number) => Hooks | undefined) | undefined
  /** After training: what to store with the model — its quantization and its analog mapping, when trained with them. */
  finish(): { quant?: FrozenQuant; analog?: AnalogPlan }
  /** The hooks the trained model runs with at evaluation (quantization or the analog model), if any. */
  evaluationHooks(): Hooks | undefined
}

export function quantConfigOf(qat: NonNullable<TrainParams['qat']>): QuantConfig {
  return {
    weights: { bits: qat.weightBits, granularity: qat.granularity, symmetric: qat.symmetric },
    ...(qat.activationBits > 0
      ? {
          activations: {
            bits: qat.activationBits,
            scaling:
              qat.scaling === 'constant'
                ? { mode: 'constant' as const, scale: qat.scale }
                : qat.scaling === 'learned'
                  ? { mode: 'learned' as const, initialScale: qat.scale }
                  : { mode: 'statistics' as const, statistic: 'max' as const },
          },
        }
      : {}),
  }
}

export async function trainingHooks(net: Network, dataset: Dataset, recipe: TrainingRecipe, analogDevice?: AnalogDeviceModel): Promise<TrainingHooks> {
  if (recipe.qat && recipe.analog)
    throw new Error(
      'Quantization-aware training and analog training both replace how the dense layers compute; choose one (the analog model quantises inputs and weights itself).',
    )
  const config = recipe.qat ? quantConfigOf(recipe.qat) : null
  let quant: QuantHooks | null = null
  if (config) {
    const ranges = recipe.qat!.scaling === 'statistics' ? await calibrate(net, calibrationBatches(dataset, 10, 256), config) : undefined
    quant = quantHooks(net, config, ranges)
  }
  const noise = recipe.noise
  const noiseForEpoch = noise
    ? trainingHooksForEpoch(net, {
        model: noise.model,
        scope: noise.points === 'global' ? { kind: 'global' } : { kind: 'set', name: 'trained', scales: Object.fromEntries(noise.points.map((id) => [id, 1])) },
        sigma: noise.sigma,
        theta: noise.theta,
        rampEpochs: noise.rampEpochs,
        // Seeded, so that a noisy training repeats exactly for its seed (as float and QAT training do).
        source: counterNormals(recipe.seed),
      })
    : undefined
  const analog = recipe.analog ? analogTraining(net, dataset, recipe.analog, analogDevice ?? nominalDevice(), recipe.seed) : null
  let frozen: FrozenQuant | undefined
  return {
    // Quantization first, then noise: the noise of analog hardware acts on the quantized values.
    hooksForEpoch:
      quant || noiseForEpoch || analog ? (epoch) => combineHooks(quant ?? undefined, analog?.hooksForEpoch(epoch), noiseForEpoch?.(epoch)) : undefined,
    finish: () => {
      if (quant && config) {
        frozen = freezeQuant(quant, config)
        quant.dispose()
      }
      return { quant: frozen, analog: analog?.finish() }
    },
    evaluationHooks: () => (frozen ? frozenQuantHooks(net, frozen) : analog?.evaluationHooks()),
  }
}

/**
 * Training through the analog model: the layers' scales are planned again at the start of every epoch from the first
 * training samples (the weights and activations move), and fixed within it; the final plan is stored with the model.
 */
function analogTraining(net: Network, dataset: Dataset, options: NonNullable<TrainingRecipe['analog']>, device: AnalogDeviceModel, seed: number) {
  const layers = selectAnalogLayers(net, options.layers)
  const sample = () =>
    batchTensors(
      dataset,
      dataset.train,
      Array.from({ length: Math.min(512, dataset.train.count) }, (_, i) => i),
    )
  const plan = (): AnalogPlan => {
    const { x, y } = sample()
    try {
      return planNetwork(net, x, layers, device, DEFAULT_ARRAY, options.integration, options.device ?? null, options.fill)
    } finally {
      tf.dispose([x, y])
    }
  }
  let last: AnalogPlan | null = null
  return {
    hooksForEpoch: (epoch: number) => planHooks(net, (last = plan()), device, options.integration, seed * 7919 + epoch),
    finish: () => (last = plan()),
    evaluationHooks: () => planHooks(net, last ?? (last = plan()), device, options.integration, seed),
  }
}

/** The first `count` training batches as inputs, for calibrating activation ranges. */
function* calibrationBatches(dataset: Dataset, count: number, size: number) {
  for (let b = 0; b < count && b * size < dataset.train.count; b++) {
    const indices = Array.from({ length: Math.min(size, dataset.train.count - b * size) }, (_, i) => b * size + i)
    const { x, y } = batchTensors(dataset, dataset.train, indices)
    y.dispose()
    yield x
  }
}
