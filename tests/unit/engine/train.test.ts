// Per-step reports of the training loop: every N batches (and at an epoch's last batch), each the sample-weighted mean
// loss and accuracy of the batches since the last report, so the steps of an epoch average to its epoch report.
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Dataset } from '../../../src-main/engine/data/dataset.ts'
import type { ModelSpec } from '../../../src-main/engine/graph.ts'
import { Network } from '../../../src-main/engine/network.ts'
import { seededRandom } from '../../../src-main/engine/random.ts'
import { train, type StepReport } from '../../../src-main/engine/train.ts'

const spec: ModelSpec = {
  architecture: 'tiny-mlp',
  classes: 2,
  nodes: [
    { id: 'input', op: 'input', shape: [2, 2, 1] },
    { id: 'flatten', op: 'flatten', input: 'input' },
    { id: 'fc1', op: 'dense', input: 'flatten', units: 8 },
    { id: 'fc1.relu', op: 'relu', input: 'fc1' },
    { id: 'logits', op: 'dense', input: 'fc1.relu', units: 2 },
  ],
}

function dataset(count: number): Dataset {
  const random = seededRandom(3)
  const x = Float32Array.from({ length: count * 4 }, () => random() * 2 - 1)
  const y = Int32Array.from({ length: count }, (_, i) => (x[i * 4]! > 0 ? 1 : 0))
  const split = { x, y, count }
  return {
    id: 't',
    name: 't',
    sampleShape: [2, 2, 1],
    classNames: ['a', 'b'],
    normalization: { scale: 1, mean: 0, std: 1 },
    train: split,
    validation: null,
    test: split,
  }
}

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('train() per-step reports', () => {
  it('reports every N batches and at the end of each epoch, averaging to the epoch', async () => {
    const net = new Network(spec, 1)
    const data = dataset(100)
    const steps: StepReport[] = []
    try {
      // 100 samples in batches of 16: 7 batches per epoch (the last of 4); reports after batches 3, 6 and 7.
      const reports = await train(
        net,
        data,
        { epochs: 2, batchSize: 16, optimizer: 'adam', learningRate: 0.01, schedule: 'constant', seed: 1, patience: 0, logEverySteps: 3 },
        { onStep: (r) => steps.push(r) },
      )
      expect(steps.map((s) => [s.epoch, s.step])).toEqual([
        [0, 3],
        [0, 6],
        [0, 7],
        [1, 10],
        [1, 13],
        [1, 14],
      ])
      expect(steps.every((s) => s.batchesPerEpoch === 7)).toBe(true)
      for (const epoch of [0, 1]) {
        const own = steps.filter((s) => s.epoch === epoch)
        // Samples behind each report: 48, 48 and 4.
        const weights = [48, 48, 4]
        const loss = own.reduce((sum, s, i) => sum + s.loss * weights[i]!, 0) / 100
        const accuracy = own.reduce((sum, s, i) => sum + s.accuracy * weights[i]!, 0) / 100
        expect(loss).toBeCloseTo(reports[epoch]!.trainLoss, 5)
        expect(accuracy).toBeCloseTo(reports[epoch]!.trainAccuracy, 5)
      }
    } finally {
      net.dispose()
    }
  })
})
