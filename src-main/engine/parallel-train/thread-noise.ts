// Noisy training that worker threads can rebuild: a plain description instead of hook closures, and normals keyed by
// (seed, step, draw, point, stream, row of the batch), so every sample gets the same noise whichever worker holds it.
import * as tf from '@tensorflow/tfjs'
import type { TrainParams } from '../../contract/index.ts'
import type { Hooks, Network } from '../network.ts'
import { trainingHooksForEpoch, type NoiseModel, type NoiseScope, type NormalSource } from '../noise.ts'
import { fillNormals, hashKey } from '../normal-random.ts'

/** Noisy training as data (TrainOptions.noise): noise.ts's TrainingNoise without its normal source, plus the seed. */
export interface ThreadNoise {
  model: NoiseModel
  scope: NoiseScope
  sigma: number
  theta: number
  rampEpochs: number
  seed: number
}

/** A train job's noise params as data; the hooks built from it are those of jobs/training-hooks.ts's noise part. */
export function threadNoiseOf(noise: NonNullable<TrainParams['noise']>, seed: number): ThreadNoise {
  const scope: NoiseScope =
    noise.points === 'global' ? { kind: 'global' } : { kind: 'set', name: 'trained', scales: Object.fromEntries(noise.points.map((id) => [id, 1])) }
  return { model: noise.model, scope, sigma: noise.sigma, theta: noise.theta, rampEpochs: noise.rampEpochs, seed }
}

export interface ThreadNoiseHooks {
  hooksForEpoch: (epoch: number) => Hooks
  /** Call before each step: batch `step` of the training, this shard starting at row `firstRow` of the batch. */
  beginStep(step: number, firstRow: number): void
}

export function threadNoiseHooks(net: Pick<Network, 'points'>, noise: ThreadNoise): ThreadNoiseHooks {
  let step = 0
  let firstRow = 0
  let draw = 0
  // Row by row: a shard's rows get the numbers the same rows get in the whole batch.
  const source: NormalSource = (point, shape, stream) => {
    const [rows = 1, ...rest] = shape
    const perRow = rest.reduce((a, b) => a * b, 1)
    const values = new Float32Array(rows * perRow)
    const call = draw++
    for (let r = 0; r < rows; r++) {
      fillNormals(values.subarray(r * perRow, (r + 1) * perRow), hashKey([noise.seed, step, call, point.id, stream, firstRow + r]))
    }
    return tf.tensor(values, [...shape])
  }
  const forEpoch = trainingHooksForEpoch(net, { ...noise, source })
  return {
    hooksForEpoch: forEpoch,
    beginStep(s, row) {
      step = s
      firstRow = row
      draw = 0
    },
  }
}
