// The training loop: Adam or SGD, cosine or constant learning rate, seeded shuffles, validation, early stopping,
// per-epoch reports and checkpoints. Hooks (noise, fake quantization) take part in the forward pass while training.
// On wasm a step uses the fused optimizer and batch norm, and by default spreads each batch over worker threads
// (parallel-train/): tfjs-backend-wasm computes on one thread in Node.
import { availableParallelism } from 'node:os'
import * as tf from '@tensorflow/tfjs'
import { batchTensors, type Dataset } from './data/dataset.ts'
import { evaluate } from './evaluate.ts'
import { combineHooks } from './hooks.ts'
import type { Hooks, Network } from './network.ts'
import { startParallelTraining, type ParallelOptions } from './parallel-train/coordinator.ts'
import { FusedOptimizer } from './parallel-train/fused-optimizer.ts'
import { applyUpdate, heapView, shardGradients } from './parallel-train/shard-step.ts'
import { LOCAL_GATHER, syncBatchNormOverrides } from './parallel-train/sync-batch-norm.ts'
import { threadNoiseHooks, type ThreadNoise, type ThreadNoiseHooks } from './parallel-train/thread-noise.ts'
import { seededRandom, shuffled } from './random.ts'

export interface TrainOptions {
  epochs: number
  batchSize: number
  optimizer: 'adam' | 'sgd'
  learningRate: number
  schedule: 'cosine' | 'constant'
  seed: number
  /** Stop when validation accuracy has not improved for this many epochs (0: never). */
  patience: number
  hooks?: Hooks
  /** Hooks that change per epoch (a noise ramp); takes precedence over `hooks`. */
  hooksForEpoch?: (epoch: number) => Hooks | undefined
  /**
   * Noisy training described as data rather than hooks, so worker threads can rebuild it (applied after `hooks`). Its
   * normals are keyed by sample, so a seed gives the same noise whatever the worker count.
   */
  trainingNoise?: ThreadNoise
  /** onStep is called after every this many batches (and after an epoch's last one). */
  logEverySteps?: number
  /**
   * Worker threads that share each batch on the wasm backend (default: see workerPlan); 1 trains on the calling thread.
   * Other backends, and hooks (functions cannot be sent to a thread), always use one thread: see onWorkers.
   */
  workers?: number
}

/** How many threads trained, and why it is one when more were asked for. */
export interface WorkerPlan {
  workers: number
  reason: string | null
}

export interface StepReport {
  /** Batches done since the start of training (1-based): epoch·batchesPerEpoch + batch + 1. */
  step: number
  epoch: number
  batchesPerEpoch: number
  /** Mean training loss and accuracy over the samples of the batches since the last report. */
  loss: number
  accuracy: number
}

export interface EpochReport {
  epoch: number
  trainLoss: number
  trainAccuracy: number
  validationLoss: number | null
  validationAccuracy: number | null
  learningRate: number
  seconds: number
}

export interface TrainCallbacks {
  signal?: AbortSignal
  /** Called after each batch with the fraction of the whole training done. */
  onBatch?: (fraction: number, epoch: number, loss: number) => void
  /** Called every `logEverySteps` batches with the loss and accuracy over those batches. */
  onStep?: (report: StepReport) => void
  /** Called after each epoch; a checkpoint may be written here. */
  onEpoch?: (report: EpochReport) => void | Promise<void>
  /** First epoch to run, when resuming from a checkpoint taken after epoch startEpoch − 1. */
  startEpoch?: number
  /** Called once before training with the number of worker threads used. */
  onWorkers?: (plan: WorkerPlan) => void
  /** Tests only: passed to the data-parallel workers (fault injection). */
  parallel?: Pick<ParallelOptions, 'failAt'>
}

/** The configuration measured for issue 17; more threads shrink each shard while every barrier waits for the slowest. */
const DEFAULT_MAX_WORKERS = 2
/**
 * Below this many samples (train-set size × epochs), threads are not used unless asked for: starting them costs
 * 1–4 s (a wasm backend and a network copy each), and a shared machine may have no idle core to give them.
 */
export const MIN_SAMPLES_FOR_THREADS = 100_000

/** Worker threads asked for by the environment (BENCHSIDE_TRAIN_WORKERS; a busy machine may want 1), or null. */
export function workersFromEnv(env: NodeJS.ProcessEnv = process.env): number | null {
  const fromEnv = env.BENCHSIDE_TRAIN_WORKERS?.trim()
  if (!fromEnv) return null
  const n = Number(fromEnv)
  if (!Number.isInteger(n) || n < 1) throw new Error(`BENCHSIDE_TRAIN_WORKERS is '${fromEnv}'; set it to a whole number of threads (1 or more) or unset it.`)
  return n
}

/**
 * Threads for a training: as asked (option, then BENCHSIDE_TRAIN_WORKERS), else min(2, cores) when the training is big
 * enough to repay starting them; one thread on other backends, with hooks, or with batches too small to share.
 */
export function workerPlan(
  options: Pick<TrainOptions, 'workers' | 'hooks' | 'hooksForEpoch' | 'batchSize'> & { samples?: number },
  backend = tf.getBackend(),
  env: NodeJS.ProcessEnv = process.env,
): WorkerPlan {
  const explicit = options.workers ?? workersFromEnv(env)
  const asked = Math.floor(explicit ?? Math.min(DEFAULT_MAX_WORKERS, availableParallelism()))
  if (!(asked >= 1)) throw new Error(`Training was asked to use ${options.workers} worker threads; use 1 or more.`)
  if (asked === 1) return { workers: 1, reason: null }
  if (backend !== 'wasm') {
    const why = backend === 'tensorflow' ? 'tfjs-node threads its own kernels' : `the ${backend} backend does not run data-parallel`
    return { workers: 1, reason: `Trained on one thread: ${why}.` }
  }
  if (options.hooks || options.hooksForEpoch) {
    return { workers: 1, reason: 'Trained on one thread: noise, quantization and analog hooks are functions, which cannot be sent to worker threads.' }
  }
  if (options.batchSize < 2 * asked) return { workers: 1, reason: `Trained on one thread: batches of ${options.batchSize} are too small to share.` }
  if (explicit === null && options.samples !== undefined && options.samples < MIN_SAMPLES_FOR_THREADS) {
    return {
      workers: 1,
      reason: `Trained on one thread: ${options.samples} samples in all are too little work to repay starting threads (ask for workers to force them).`,
    }
  }
  return { workers: asked, reason: null }
}

type BatchDone = (batch: number, lossSum: number, correct: number, rows: number) => void

/** Trains one epoch's batches (in `order`) and reports each; the network holds the epoch's result when it resolves. */
interface EpochRunner {
  runEpoch(epoch: number, order: readonly number[], learningRate: number, hooks: Hooks | undefined, onBatch: BatchDone): Promise<void>
  dispose(): Promise<void>
}

export function learningRateAt(options: Pick<TrainOptions, 'learningRate' | 'schedule' | 'epochs'>, epoch: number): number {
  if (options.schedule === 'constant') return options.learningRate
  return 0.5 * options.learningRate * (1 + Math.cos((Math.PI * epoch) / options.epochs))
}

export async function train(net: Network, dataset: Dataset, options: TrainOptions, callbacks: TrainCallbacks = {}): Promise<EpochReport[]> {
  const plan = workerPlan({ ...options, samples: dataset.train.count * (options.epochs - (callbacks.startEpoch ?? 0)) })
  callbacks.onWorkers?.(plan)
  const noise = options.trainingNoise ? threadNoiseHooks(net, options.trainingNoise) : null
  const runner =
    plan.workers > 1
      ? await parallelRunner(net, dataset, options, plan.workers, callbacks)
      : tf.getBackend() === 'wasm'
        ? fusedRunner(net, dataset, options, callbacks.signal, noise)
        : tfjsRunner(net, dataset, options, callbacks.signal, noise)
  const reports: EpochReport[] = []
  const batchesPerEpoch = Math.ceil(dataset.train.count / options.batchSize)
  let best = -Infinity
  let sinceBest = 0
  try {
    for (let epoch = callbacks.startEpoch ?? 0; epoch < options.epochs; epoch++) {
      const started = performance.now()
      const learningRate = learningRateAt(options, epoch)
      const hooks = combineHooks(options.hooksForEpoch?.(epoch) ?? options.hooks, noise?.hooksForEpoch(epoch))
      // The shuffle of epoch e depends only on (seed, e), so a resumed run sees the same batches.
      const order = shuffled([...Array(dataset.train.count).keys()], seededRandom(options.seed * 1000 + epoch))
      let lossSum = 0
      let correctSum = 0
      const every = Math.max(1, options.logEverySteps ?? batchesPerEpoch)
      let windowLoss = 0
      let windowCorrect = 0
      let windowCount = 0
      await runner.runEpoch(epoch, order, learningRate, hooks, (b, batchLoss, correct, rows) => {
        lossSum += batchLoss
        correctSum += correct
        windowLoss += batchLoss
        windowCorrect += correct
        windowCount += rows
        if (callbacks.onStep && ((b + 1) % every === 0 || b === batchesPerEpoch - 1)) {
          callbacks.onStep({
            step: epoch * batchesPerEpoch + b + 1,
            epoch,
            batchesPerEpoch,
            loss: windowLoss / windowCount,
            accuracy: windowCorrect / windowCount,
          })
          windowLoss = windowCorrect = windowCount = 0
        }
        callbacks.onBatch?.((epoch * batchesPerEpoch + b + 1) / (options.epochs * batchesPerEpoch), epoch, batchLoss / rows)
      })
      const validation = dataset.validation ? await evaluate(net, dataset, dataset.validation, { hooks }) : null
      const report: EpochReport = {
        epoch,
        trainLoss: lossSum / dataset.train.count,
        trainAccuracy: correctSum / dataset.train.count,
        validationLoss: validation?.loss ?? null,
        validationAccuracy: validation?.accuracy ?? null,
        learningRate,
        seconds: (performance.now() - started) / 1000,
      }
      reports.push(report)
      await callbacks.onEpoch?.(report)
      if (options.patience > 0 && report.validationAccuracy !== null) {
        if (report.validationAccuracy > best) {
          best = report.validationAccuracy
          sinceBest = 0
        } else if (++sinceBest >= options.patience) break
      }
    }
  } finally {
    await runner.dispose()
  }
  return reports
}

/** Runs batch after batch on this thread, yielding between them so cancel messages and progress get through. */
function localRunner(
  dataset: Dataset,
  options: TrainOptions,
  signal: AbortSignal | undefined,
  step: (x: tf.Tensor, y: tf.Tensor1D, rows: number, learningRate: number, hooks: Hooks | undefined) => { lossSum: number; correct: number },
  dispose: () => void,
  noise: ThreadNoiseHooks | null,
): EpochRunner {
  return {
    async runEpoch(epoch, order, learningRate, hooks, onBatch) {
      const batches = Math.ceil(order.length / options.batchSize)
      for (let b = 0; b < batches; b++) {
        if (signal?.aborted) throw signal.reason
        noise?.beginStep(epoch * batches + b, 0)
        const indices = order.slice(b * options.batchSize, (b + 1) * options.batchSize)
        const { x, y } = batchTensors(dataset, dataset.train, indices)
        try {
          const { lossSum, correct } = step(x, y, indices.length, learningRate, hooks)
          onBatch(b, lossSum, correct, indices.length)
        } finally {
          tf.dispose([x, y])
        }
        await new Promise((resolve) => setImmediate(resolve))
      }
    },
    dispose: async () => dispose(),
  }
}

/**
 * Adam reads `learningRate` at every step; momentum (an SGD optimizer) keeps −lr in a tensor that only setLearningRate
 * refreshes, so assigning the field would leave its schedule at the first rate.
 */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  const sgd = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number }
  if (typeof sgd.setLearningRate === 'function') sgd.setLearningRate(learningRate)
  else sgd.learningRate = learningRate
}

/** Stock tfjs optimizers (tfjs-node, cpu). */
function tfjsRunner(net: Network, dataset: Dataset, options: TrainOptions, signal: AbortSignal | undefined, noise: ThreadNoiseHooks | null): EpochRunner {
  const classes = dataset.classNames.length
  const optimizer = options.optimizer === 'adam' ? tf.train.adam(options.learningRate) : tf.train.momentum(options.learningRate, 0.9)
  const variables = net.trainableWeights
  const step = (x: tf.Tensor, y: tf.Tensor1D, rows: number, learningRate: number, hooks: Hooks | undefined) => {
    setLearningRate(optimizer, learningRate)
    const trainable = hooks?.variables?.size ? [...variables, ...hooks.variables.values()] : variables
    let correct: tf.Tensor | null = null
    const loss = optimizer.minimize(
      () => {
        const logits = net.forward(x, { training: true, hooks })
        correct = tf.keep(logits.argMax(-1).equal(y).sum())
        return tf.losses.softmaxCrossEntropy(tf.oneHot(y, classes), logits) as tf.Scalar
      },
      true,
      trainable,
    )!
    const result = { lossSum: loss.dataSync()[0]! * rows, correct: correct!.dataSync()[0]! }
    tf.dispose([loss, correct!])
    return result
  }
  return localRunner(dataset, options, signal, step, () => optimizer.dispose(), noise)
}

/** wasm on one thread: the fused optimizer and batch norm of the data-parallel workers, with one shard per batch. */
function fusedRunner(net: Network, dataset: Dataset, options: TrainOptions, signal: AbortSignal | undefined, noise: ThreadNoiseHooks | null): EpochRunner {
  const classes = dataset.classNames.length
  const optimizer = new FusedOptimizer(options.optimizer, tf.backend().epsilon())
  const variables = net.trainableWeights
  const batchNorm = { compute: syncBatchNormOverrides(net, LOCAL_GATHER) }
  const step = (x: tf.Tensor, y: tf.Tensor1D, rows: number, learningRate: number, hooks: Hooks | undefined) => {
    const trainable = hooks?.variables?.size ? [...variables, ...hooks.variables.values()] : variables
    const result = shardGradients(net, x, y, classes, rows, combineHooks(batchNorm, hooks), trainable)
    try {
      const zeros = (i: number) => new Float32Array(trainable[i]!.size)
      applyUpdate(optimizer, trainable, (i) => [result.gradients[i] ? heapView(result.gradients[i]) : zeros(i)], learningRate)
    } finally {
      tf.dispose(result.gradients.filter((g): g is tf.Tensor => g !== null))
    }
    return { lossSum: result.lossSum, correct: result.correct }
  }
  return localRunner(dataset, options, signal, step, () => {}, noise)
}

async function parallelRunner(net: Network, dataset: Dataset, options: TrainOptions, workers: number, callbacks: TrainCallbacks): Promise<EpochRunner> {
  // The workers rebuild the noise hooks from options.trainingNoise; no other hooks reach this path (workerPlan).
  const runner = await startParallelTraining(
    net,
    dataset,
    { workers, optimizer: options.optimizer, noise: options.trainingNoise, ...callbacks.parallel },
    callbacks.signal,
  )
  return {
    runEpoch: (epoch, order, learningRate, _hooks, onBatch) => runner.runEpoch(epoch, order, options.batchSize, learningRate, onBatch),
    dispose: () => runner.dispose(),
  }
}
