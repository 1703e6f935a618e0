// Data-parallel training on wasm: the same seed trains to the same model with 1 and 2 worker threads (batch norm
// statistics over the whole batch, gradients summed, one update), a crashing worker or a cancel ends training with a
// clear error instead of hanging, and what cannot run on threads says so and trains on one.
import { availableParallelism } from 'node:os'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../../src-main/engine/backend.ts'
import { take, type Dataset } from '../../../../src-main/engine/data/dataset.ts'
import { builtinDatasets, loadDataset } from '../../../../src-main/engine/data/registry.ts'
import { evaluate } from '../../../../src-main/engine/evaluate.ts'
import { Network } from '../../../../src-main/engine/network.ts'
import {
  MIN_SAMPLES_FOR_THREADS,
  train,
  workerPlan,
  workersFromEnv,
  type EpochReport,
  type TrainOptions,
  type WorkerPlan,
} from '../../../../src-main/engine/train.ts'
import { architecture } from '../../../../src-main/engine/zoo.ts'
import { NoiseModel } from '../../../../src-main/contract/index.ts'

let data: Dataset

beforeAll(async () => {
  await initBackend('wasm')
  const full = loadDataset(builtinDatasets().find((d) => d.id === 'fashion-mnist-subset')!)
  // 1,601 training samples: batches of 64 end with one of a single sample, which leaves worker 2 an empty shard.
  data = {
    ...full,
    train: take(full.train, [...Array(1601).keys()], full.sampleShape),
    validation: null,
    test: take(full.test, [...Array(1000).keys()], full.sampleShape),
  }
})

const options: TrainOptions = { epochs: 2, batchSize: 64, optimizer: 'adam', learningRate: 2e-3, schedule: 'cosine', seed: 7, patience: 0 }

async function trainWith(
  workers: number,
  arch = 'mlp-tfc-bn',
): Promise<{ reports: EpochReport[]; plan: WorkerPlan; accuracy: number; weights: Float32Array[] }> {
  const net = new Network(architecture(arch).build(data.sampleShape, 10), 3)
  let plan: WorkerPlan | null = null
  try {
    const reports = await train(net, data, { ...options, workers }, { onWorkers: (p) => (plan = p) })
    const { accuracy } = await evaluate(net, data, data.test)
    return { reports, plan: plan!, accuracy, weights: net.model.getWeights().map((w) => w.dataSync() as Float32Array) }
  } finally {
    net.dispose()
  }
}

describe('data-parallel training', () => {
  it('trains the same model from the same seed with 1 and 2 workers (within float tolerance)', async () => {
    const one = await trainWith(1)
    const two = await trainWith(2)
    expect(one.plan).toEqual({ workers: 1, reason: null })
    expect(two.plan).toEqual({ workers: 2, reason: null })
    // It learned (10 classes: chance is 10%).
    expect(one.accuracy).toBeGreaterThan(0.6)
    // Stated tolerance: test accuracy within 1 point on 1,000 samples, epoch losses within 1%. Only summation order
    // differs (Σ over two shards, then across them), so in practice the gap is far smaller.
    expect(Math.abs(two.accuracy - one.accuracy)).toBeLessThanOrEqual(0.01)
    for (const [e, r] of two.reports.entries()) {
      expect(Math.abs(r.trainLoss - one.reports[e]!.trainLoss) / one.reports[e]!.trainLoss).toBeLessThan(0.01)
      expect(Math.abs(r.trainAccuracy - one.reports[e]!.trainAccuracy)).toBeLessThan(0.01)
    }
    // The weights (batch-norm moving statistics included) agree too: a per-shard batch norm would not be this close.
    let diff = 0
    let scale = 0
    for (const [i, w] of two.weights.entries()) {
      for (const [j, v] of w.entries()) {
        diff = Math.max(diff, Math.abs(v - one.weights[i]![j]!))
        scale = Math.max(scale, Math.abs(one.weights[i]![j]!))
      }
    }
    expect(diff / scale).toBeLessThan(1e-2)
  }, 180_000)

  it('makes the same step as one thread: batch-norm statistics and gradients over the whole batch', async () => {
    // One SGD step on 96 samples (shards of 48): the update is linear in the gradient, and the moving statistics come
    // from the batch's mean and variance, so shard-local batch norm would be off by far more than rounding.
    const saved = data
    data = { ...saved, train: take(saved.train, [...Array(96).keys()], saved.sampleShape) }
    const step = { epochs: 1, batchSize: 96, optimizer: 'sgd' as const, learningRate: 0.05, schedule: 'constant' as const }
    const weightsAfter = async (workers: number, arch: string) => {
      const net = new Network(architecture(arch).build(data.sampleShape, 10), 3)
      try {
        await train(net, data, { ...options, ...step, workers })
        return net.model.getWeights().map((w) => w.dataSync() as Float32Array)
      } finally {
        net.dispose()
      }
    }
    try {
      for (const arch of ['mlp-tfc-bn', 'lenet5-bn']) {
        const initial = new Network(architecture(arch).build(data.sampleShape, 10), 3)
        const start = initial.model.getWeights().map((w) => w.dataSync() as Float32Array)
        initial.dispose()
        const [one, two] = [await weightsAfter(1, arch), await weightsAfter(2, arch)]
        for (const [i, w] of one.entries()) {
          // Relative to how far the step moved the tensor (moving statistics included).
          const moved = Math.max(...w.map((v, j) => Math.abs(v - start[i]![j]!)))
          const apart = Math.max(...w.map((v, j) => Math.abs(v - two[i]![j]!)))
          expect(moved).toBeGreaterThan(0)
          expect(apart / moved).toBeLessThan(1e-3)
        }
      }
    } finally {
      data = saved
    }
  }, 120_000)

  it('trains with noise on worker threads, drawing each sample the same noise as one thread does', async () => {
    const saved = data
    data = { ...saved, train: take(saved.train, [...Array(96).keys()], saved.sampleShape) }
    const noise = { model: NoiseModel.parse({ kind: 'combined' }), scope: { kind: 'global' as const }, sigma: 0.3, theta: 0.2, rampEpochs: 0, seed: 5 }
    const run = async (workers: number, trainingNoise?: typeof noise) => {
      const net = new Network(architecture('mlp-tfc-bn').build(data.sampleShape, 10), 3)
      let plan: WorkerPlan | null = null
      try {
        const step = { epochs: 1, batchSize: 96, optimizer: 'sgd' as const, learningRate: 0.05, schedule: 'constant' as const }
        await train(net, data, { ...options, ...step, workers, trainingNoise }, { onWorkers: (p) => (plan = p) })
        return { plan: plan!, weights: net.model.getWeights().map((w) => w.dataSync() as Float32Array) }
      } finally {
        net.dispose()
      }
    }
    try {
      const [one, two, clean] = [await run(1, noise), await run(2, noise), await run(2)]
      expect(two.plan).toEqual({ workers: 2, reason: null })
      const apart = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((w, i) => Math.max(...w.map((v, j) => Math.abs(v - b[i]![j]!)))))
      const moved = apart(one.weights, clean.weights)
      // The noise changed the step (the hooks ran), and both worker counts drew the same noise for every sample.
      expect(moved).toBeGreaterThan(1e-3)
      expect(apart(one.weights, two.weights) / moved).toBeLessThan(1e-3)
    } finally {
      data = saved
    }
  }, 120_000)

  it('trains a convolutional network with batch norm on 2 workers like on 1', async () => {
    const saved = data
    data = { ...saved, train: take(saved.train, [...Array(320).keys()], saved.sampleShape) }
    try {
      const one = await trainWith(1, 'lenet5-bn')
      const two = await trainWith(2, 'lenet5-bn')
      expect(two.plan.workers).toBe(2)
      for (const [e, r] of two.reports.entries()) expect(Math.abs(r.trainLoss - one.reports[e]!.trainLoss) / one.reports[e]!.trainLoss).toBeLessThan(0.01)
      expect(Math.abs(two.accuracy - one.accuracy)).toBeLessThanOrEqual(0.01)
    } finally {
      data = saved
    }
  }, 180_000)

  it('fails with a clear message when a worker crashes, and stops the others', async () => {
    const net = new Network(architecture('mlp-tfc-bn').build(data.sampleShape, 10), 3)
    const before = tf.memory().numTensors
    try {
      await expect(train(net, data, { ...options, workers: 2 }, { parallel: { failAt: { rank: 1, batch: 3 } } })).rejects.toThrow(
        /Training worker 2 of 2 failed: injected failure at batch 3/,
      )
    } finally {
      net.dispose()
    }
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before)
  }, 60_000)

  it('fails with a clear message when a worker thread dies without a word', async () => {
    const net = new Network(architecture('mlp-tfc-bn').build(data.sampleShape, 10), 3)
    try {
      await expect(train(net, data, { ...options, workers: 2 }, { parallel: { failAt: { rank: 0, batch: 2, how: 'exit' } } })).rejects.toThrow(
        /Training worker 1 of 2 exited unexpectedly \(code 3\)/,
      )
    } finally {
      net.dispose()
    }
  }, 60_000)

  it('stops on cancel with the abort reason', async () => {
    const net = new Network(architecture('mlp-tfc-bn').build(data.sampleShape, 10), 3)
    const controller = new AbortController()
    let batches = 0
    const started = performance.now()
    try {
      await expect(
        train(
          net,
          data,
          { ...options, workers: 2, epochs: 50 },
          {
            signal: controller.signal,
            onBatch: () => {
              if (++batches === 5) controller.abort(new Error('cancelled by the test'))
            },
          },
        ),
      ).rejects.toThrow('cancelled by the test')
    } finally {
      net.dispose()
    }
    // Stopped well before 50 epochs would have finished.
    expect(batches).toBeLessThan(200)
    expect(performance.now() - started).toBeLessThan(30_000)
  }, 60_000)

  it('says why it trains on one thread: hooks, other backends, tiny batches', () => {
    expect(workerPlan({ workers: 2, batchSize: 64, hooks: { after: new Map() } }, 'wasm')).toEqual({
      workers: 1,
      reason: expect.stringMatching(/hooks are functions/),
    })
    expect(workerPlan({ workers: 2, batchSize: 64 }, 'cpu')).toEqual({ workers: 1, reason: expect.stringMatching(/cpu backend/) })
    expect(workerPlan({ workers: 2, batchSize: 64 }, 'tensorflow')).toEqual({ workers: 1, reason: expect.stringMatching(/tfjs-node/) })
    expect(workerPlan({ workers: 2, batchSize: 3 }, 'wasm')).toEqual({ workers: 1, reason: expect.stringMatching(/too small/) })
    expect(workerPlan({ workers: 1, batchSize: 64 }, 'wasm')).toEqual({ workers: 1, reason: null })
    expect(() => workerPlan({ workers: 0, batchSize: 64 }, 'wasm')).toThrow(/1 or more/)
  })

  it('takes the worker count from the option or BENCHSIDE_TRAIN_WORKERS, else min(2, cores) for big trainings only', () => {
    expect(workersFromEnv({ BENCHSIDE_TRAIN_WORKERS: '1' })).toBe(1)
    expect(workersFromEnv({ BENCHSIDE_TRAIN_WORKERS: ' 3 ' })).toBe(3)
    expect(workersFromEnv({})).toBeNull()
    expect(() => workersFromEnv({ BENCHSIDE_TRAIN_WORKERS: 'two' })).toThrow(/BENCHSIDE_TRAIN_WORKERS is 'two'/)
    // Unasked, threads only for trainings big enough to repay starting them; asked (option or environment), always.
    const big = { batchSize: 64, samples: MIN_SAMPLES_FOR_THREADS }
    expect(workerPlan(big, 'wasm', {})).toEqual({ workers: Math.min(2, availableParallelism()), reason: null })
    if (availableParallelism() > 1) {
      expect(workerPlan({ ...big, samples: 1600 }, 'wasm', {})).toEqual({ workers: 1, reason: expect.stringMatching(/too little work/) })
      expect(workerPlan({ ...big, samples: 1600, workers: 2 }, 'wasm', {})).toEqual({ workers: 2, reason: null })
      expect(workerPlan({ ...big, samples: 1600 }, 'wasm', { BENCHSIDE_TRAIN_WORKERS: '2' })).toEqual({ workers: 2, reason: null })
    }
  })
})
