// The hooks a training recipe asks for — quantization-aware training and noisy training, alone or combined — built
// from the train params, so the train job and the robustness study train the same way.
import type { TrainParams } from '../contract/index.ts'
import { batchTensors, type Dataset } from '../engine/data/dataset.ts'
import { combineHooks } from '../engine/hooks.ts'
import type { Hooks, Network } from '../engine/network.ts'
import { counterNormals, trainingHooksForEpoch } from '../engine/noise.ts'
import { calibrate, freezeQuant, quantHooks, type FrozenQuant, type QuantConfig, type QuantHooks } from '../engine/quant.ts'

export type TrainingRecipe = Pick<TrainParams, 'qat' | 'noise' | 'seed'>

export interface TrainingHooks {
  /** Undefined when the recipe is plain float training. */
  hooksForEpoch: ((epoch: number) => Hooks | undefined) | undefined
  /** After training: the quantization to store with the model (undefined without QAT); releases the hooks. */
  finish(): FrozenQuant | undefined
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

export async function trainingHooks(net: Network, dataset: Dataset, recipe: TrainingRecipe): Promise<TrainingHooks> {
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
  return {
    // Quantization first, then noise: the noise of analog hardware acts on the quantized values.
    hooksForEpoch: quant || noiseForEpoch ? (epoch) => combineHooks(quant ?? undefined, noiseForEpoch?.(epoch)) : undefined,
    finish: () => {
      if (!quant || !config) return undefined
      const frozen = freezeQuant(quant, config)
      quant.dispose()
      return frozen
    },
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
