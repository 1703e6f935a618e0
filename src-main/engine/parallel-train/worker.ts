// A data-parallel training worker: its own wasm backend and copy of the network. Per batch it trains on its shard,
// sums gradients with the other workers through shared memory and applies the same fused update, so every replica
// holds the same weights. Started by parallel-train/coordinator.ts.
import { parentPort, workerData } from 'node:worker_threads'
import * as tf from '@tensorflow/tfjs'
import { initBackend } from '../backend.ts'
import { batchTensors, type Dataset } from '../data/dataset.ts'
import { combineHooks } from '../hooks.ts'
import { Network, type Hooks } from '../network.ts'
import { AbortedError, Exchange } from './exchange.ts'
import { FusedOptimizer } from './fused-optimizer.ts'
import type { FromWorker, ToWorker, WorkerSetup } from './protocol.ts'
import { applyUpdate, heapView, shardGradients } from './shard-step.ts'
import { batchNormChannels, contributeEmpty, syncBatchNormOverrides } from './sync-batch-norm.ts'
import { threadNoiseHooks } from './thread-noise.ts'

const setup = workerData as WorkerSetup
const port = parentPort!
const send = (message: FromWorker): void => port.postMessage(message)

async function start(): Promise<(message: ToWorker) => void> {
  const backend = await initBackend('wasm')
  if (backend.name !== 'wasm') throw new Error(`the wasm backend did not start in the worker (${backend.fallbackReason ?? backend.name})`)
  const net = new Network(setup.spec)
  const initial = setup.weights.map((w) => tf.tensor(w.values, w.shape))
  net.model.setWeights(initial)
  tf.dispose(initial)
  const variables = net.trainableWeights
  const exchange = new Exchange(setup.exchange, setup.rank)
  const batchNorm = { compute: syncBatchNormOverrides(net, exchange) }
  const noise = setup.noise ? threadNoiseHooks(net, setup.noise) : null
  let hooks: Hooks | undefined = batchNorm
  const bnLayers = batchNormChannels(net)
  const optimizer = new FusedOptimizer(setup.optimizer, tf.backend().epsilon())
  const sizes = variables.map((v) => v.size)
  const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0))
  const variablesLength = sizes.reduce((a, b) => a + b, 0)
  const report = batchReporter(variablesLength)
  const d = setup.data
  const x = d.xType === 'uint8' ? new Uint8Array(d.x) : new Float32Array(d.x)
  const split = { x, y: new Int32Array(d.y), count: d.count }
  const dataset = { sampleShape: d.sampleShape, normalization: d.normalization } as Dataset

  /** `batchRows`: rows of the whole batch (all shards), which each shard's loss share is divided by. */
  const step = (indices: Int32Array, batchRows: number, learningRate: number, batch: number): void => {
    const slot = exchange.gradientSlot()
    // The shard's loss and correct count ride behind the gradients, so worker 0 knows the batch totals.
    const tail = variablesLength
    let lossSum = 0
    let correct = 0
    if (indices.length === 0) {
      contributeEmpty(exchange, bnLayers)
      slot.fill(0)
    } else {
      if (setup.failAt?.batch === batch) {
        if (setup.failAt.how === 'exit') process.exit(3)
        throw new Error(`injected failure at batch ${batch}`)
      }
      const { x, y } = batchTensors(dataset, split, Array.from(indices))
      const result = shardGradients(net, x, y, d.classes, batchRows, hooks, variables)
      tf.dispose([x, y])
      result.gradients.forEach((g, i) => (g ? slot.set(heapView(g), offsets[i]) : slot.fill(0, offsets[i], offsets[i]! + sizes[i]!)))
      tf.dispose(result.gradients.filter((g): g is tf.Tensor => g !== null))
      lossSum = result.lossSum
      correct = result.correct
    }
    slot[tail] = lossSum
    slot[tail + 1] = correct
    const slots = exchange.exchangeGradients()
    applyUpdate(optimizer, variables, (i) => slots.map((s) => s.subarray(offsets[i], offsets[i]! + sizes[i]!)), learningRate)
    if (setup.rank === 0) report.add(batch, slots, batchRows)
  }

  return (message) => {
    if (message.type === 'stop') {
      net.dispose()
      port.close()
      return
    }
    const { epoch, order, batchSize, learningRate } = message
    const batches = Math.ceil(order.length / batchSize)
    hooks = combineHooks(batchNorm, noise?.hooksForEpoch(epoch))
    for (let b = 0; b < batches; b++) {
      const batch = order.subarray(b * batchSize, Math.min(order.length, (b + 1) * batchSize))
      // Contiguous shards of near-equal size; the last batch may leave a worker without rows.
      const per = Math.ceil(batch.length / exchange.workers)
      const first = Math.min(batch.length, setup.rank * per)
      const shard = batch.subarray(first, Math.min(batch.length, (setup.rank + 1) * per))
      noise?.beginStep(epoch * batches + b, first)
      step(shard, batch.length, learningRate, b)
    }
    report.flush()
    send({ type: 'epoch-done', rank: setup.rank, weights: message.sendWeights ? net.model.getWeights().map((w) => w.dataSync() as Float32Array) : null })
  }
}

const ready = start()
ready.then(
  () => send({ type: 'ready' }),
  (error: unknown) => send({ type: 'error', rank: setup.rank, message: describe(error) }),
)
port.on('message', (message: ToWorker) => {
  ready
    .then((handle) => handle(message))
    .catch((error: unknown) => {
      // Stopped by the coordinator (cancel, or another worker failed): it already knows why.
      if (error instanceof AbortedError) return
      send({ type: 'error', rank: setup.rank, message: describe(error) })
    })
})

/**
 * Batch totals for the coordinator, posted at most every REPORT_MS: a message per batch would wake the main thread
 * for every step, and on two cores it takes its time from the workers.
 */
const REPORT_MS = 100
function batchReporter(tail: number) {
  let first = 0
  let totals: number[] = []
  let last = performance.now()
  const flush = (): void => {
    if (totals.length) send({ type: 'batches', first, totals: Float64Array.from(totals) })
    totals = []
    last = performance.now()
  }
  return {
    add(batch: number, slots: Float32Array[], rows: number): void {
      if (totals.length === 0) first = batch
      let loss = 0
      let correct = 0
      for (const s of slots) {
        loss += s[tail]!
        correct += s[tail + 1]!
      }
      totals.push(loss, correct, rows)
      if (performance.now() - last >= REPORT_MS) flush()
    },
    flush,
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
