// The main-thread side of data-parallel training: starts the workers with the network's weights and the training
// split in shared memory, hands them each epoch's seeded order, relays per-batch results in order, and copies the
// trained weights back into the caller's network after every epoch. A failing worker or a cancel stops them all.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Worker } from 'node:worker_threads'
import * as tf from '@tensorflow/tfjs'
import type { Dataset } from '../data/dataset.ts'
import { startEntryWorker } from '../entry-worker.ts'
import type { Network } from '../network.ts'
import { abortExchange, createExchange } from './exchange.ts'
import type { OptimizerKind } from './fused-optimizer.ts'
import type { ThreadNoise } from './thread-noise.ts'
import type { FromWorker, ToWorker, WorkerSetup } from './protocol.ts'
import { batchNormChannels, statsLength } from './sync-batch-norm.ts'

export interface ParallelOptions {
  workers: number
  optimizer: OptimizerKind
  noise?: ThreadNoise
  /** Tests only: worker `rank` throws, or exits as a crash would, at this batch. */
  failAt?: { rank: number; batch: number; how?: 'throw' | 'exit' }
}

export interface ParallelRunner {
  /** Trains one epoch over `order`; `onBatch` gets each batch's totals in batch order. The net holds the result after. */
  runEpoch(
    epoch: number,
    order: readonly number[],
    batchSize: number,
    learningRate: number,
    onBatch: (batch: number, lossSum: number, correct: number, rows: number) => void,
  ): Promise<void>
  dispose(): Promise<void>
}

export async function startParallelTraining(net: Network, dataset: Dataset, options: ParallelOptions, signal?: AbortSignal): Promise<ParallelRunner> {
  const n = options.workers
  const variables = net.trainableWeights
  const bn = batchNormChannels(net)
  // Gradients plus the shard's loss and correct count.
  const exchange = createExchange(n, Math.max(0, ...bn.map((l) => statsLength(l.channels))), variables.reduce((a, v) => a + v.size, 0) + 2)
  const data = shareTrainingSplit(dataset)
  const weights = net.model.getWeights().map((w) => ({ values: w.dataSync() as Float32Array, shape: w.shape }))
  const workers: Worker[] = []
  const listeners = new Set<(message: FromWorker) => void>()
  let failure: Error | null = null
  let stopping = false
  let rejectFailure: (error: Error) => void = () => {}
  const failed = new Promise<never>((_, reject) => (rejectFailure = reject))
  failed.catch(() => {})
  const stopAll = (): void => {
    abortExchange(exchange)
    for (const w of workers) void w.terminate()
  }
  const fail = (error: Error): void => {
    if (failure) return
    failure = error
    stopAll()
    rejectFailure(error)
  }
  const onAbort = (): void => fail(signal!.reason instanceof Error ? signal!.reason : new Error('Training was cancelled.'))
  signal?.addEventListener('abort', onAbort, { once: true })
  if (signal?.aborted) onAbort()

  for (let rank = 0; rank < n; rank++) {
    const setup: WorkerSetup = {
      rank,
      spec: net.spec,
      weights,
      data,
      optimizer: options.optimizer,
      ...(options.noise ? { noise: options.noise } : {}),
      exchange,
      ...(options.failAt?.rank === rank ? { failAt: { batch: options.failAt.batch, how: options.failAt.how ?? 'throw' } } : {}),
    }
    const worker = startWorker(setup)
    workers.push(worker)
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'error') fail(new Error(`Training worker ${message.rank + 1} of ${n} failed: ${message.message}`))
      else {
        // A throwing callback (onBatch, say) fails the training instead of escaping as an uncaught exception.
        try {
          for (const listener of listeners) listener(message)
        } catch (error) {
          fail(error instanceof Error ? error : new Error(String(error)))
        }
      }
    })
    worker.on('error', (error) => fail(new Error(`Training worker ${rank + 1} of ${n} crashed: ${error.message}`)))
    worker.on('exit', (code) => {
      if (!stopping) fail(new Error(`Training worker ${rank + 1} of ${n} exited unexpectedly (code ${code}); the training was stopped.`))
    })
  }

  const collect = <T>(accept: (message: FromWorker) => T | undefined): Promise<T> =>
    Promise.race([
      failed,
      new Promise<T>((resolve) => {
        const listener = (message: FromWorker): void => {
          const done = accept(message)
          if (done !== undefined) {
            listeners.delete(listener)
            resolve(done)
          }
        }
        listeners.add(listener)
      }),
    ])

  try {
    let ready = 0
    await collect((m) => (m.type === 'ready' && ++ready === n ? true : undefined))
  } catch (error) {
    stopping = true
    stopAll()
    throw error
  }

  return {
    async runEpoch(epoch, order, batchSize, learningRate, onBatch) {
      if (failure) throw failure
      const shared = new Int32Array(new SharedArrayBuffer(order.length * 4))
      shared.set(order)
      let finished = 0
      let trained: Float32Array[] | null = null
      const done = collect((m) => {
        if (m.type === 'batches') {
          for (let i = 0; i < m.totals.length; i += 3) onBatch(m.first + i / 3, m.totals[i]!, m.totals[i + 1]!, m.totals[i + 2]!)
        } else if (m.type === 'epoch-done') {
          if (m.weights) trained = m.weights
          if (++finished === n) return true
        }
        return undefined
      })
      for (const [rank, w] of workers.entries()) {
        const message: ToWorker = { type: 'epoch', epoch, order: shared, batchSize, learningRate, sendWeights: rank === 0 }
        w.postMessage(message)
      }
      await done
      const tensors = net.model.getWeights().map((w, i) => tf.tensor(trained![i]!, w.shape))
      net.model.setWeights(tensors)
      tf.dispose(tensors)
    },
    async dispose() {
      signal?.removeEventListener('abort', onAbort)
      stopping = true
      if (!failure) for (const w of workers) w.postMessage({ type: 'stop' } satisfies ToWorker)
      await Promise.all(workers.map((w) => w.terminate()))
    },
  }
}

/** The training split in SharedArrayBuffers: one copy for all workers instead of one per worker. */
function shareTrainingSplit(dataset: Dataset): WorkerSetup['data'] {
  const { x, y, count } = dataset.train
  const xShared = new SharedArrayBuffer(x.byteLength)
  if (x instanceof Uint8Array) new Uint8Array(xShared).set(x)
  else new Float32Array(xShared).set(x)
  const yShared = new SharedArrayBuffer(y.byteLength)
  new Int32Array(yShared).set(y)
  return {
    x: xShared,
    xType: x instanceof Uint8Array ? 'uint8' : 'float32',
    y: yShared,
    count,
    sampleShape: dataset.sampleShape,
    normalization: dataset.normalization,
    classes: dataset.classNames.length,
  }
}

/** train-worker.js next to this chunk in a build (chunks sit beside the entries), or worker.ts through tsx. */
function startWorker(setup: WorkerSetup): Worker {
  const here = dirname(fileURLToPath(import.meta.url))
  return startEntryWorker(import.meta.url, { built: join(here, 'train-worker.js'), source: join(here, 'worker.ts') }, setup)
}
