// The training loop: Adam or SGD, cosine or constant learning rate, seeded shuffles, validation, early stopping,
// per-epoch reports and checkpoints. Hooks (noise, fake quantization) take part in the forward pass while training.
import * as tf from '@tensorflow/tfjs'
import { batchTensors, type Dataset } from './data/dataset.ts'
import { evaluate } from './evaluate.ts'
import type { Hooks, Network } from './network.ts'
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
  /** onStep is called after every this many batches (and after an epoch's last one). */
  logEverySteps?: number
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
}

export function learningRateAt(options: Pick<TrainOptions, 'learningRate' | 'schedule' | 'epochs'>, epoch: number): number {
  if (options.schedule === 'constant') return options.learningRate
  return 0.5 * options.learningRate * (1 + Math.cos((Math.PI * epoch) / options.epochs))
}

export async function train(net: Network, dataset: Dataset, options: TrainOptions, callbacks: TrainCallbacks = {}): Promise<EpochReport[]> {
  const classes = dataset.classNames.length
  const optimizer = options.optimizer === 'adam' ? tf.train.adam(options.learningRate) : tf.train.momentum(options.learningRate, 0.9)
  const variables = net.trainableWeights
  const reports: EpochReport[] = []
  const batchesPerEpoch = Math.ceil(dataset.train.count / options.batchSize)
  let best = -Infinity
  let sinceBest = 0
  try {
    for (let epoch = callbacks.startEpoch ?? 0; epoch < options.epochs; epoch++) {
      const started = performance.now()
      const learningRate = learningRateAt(options, epoch)
      ;(optimizer as unknown as { learningRate: number }).learningRate = learningRate
      const hooks = options.hooksForEpoch?.(epoch) ?? options.hooks
      const trainable = hooks?.variables?.size ? [...variables, ...hooks.variables.values()] : variables
      // The shuffle of epoch e depends only on (seed, e), so a resumed run sees the same batches.
      const order = shuffled([...Array(dataset.train.count).keys()], seededRandom(options.seed * 1000 + epoch))
      let lossSum = 0
      let correctSum = 0
      const every = Math.max(1, options.logEverySteps ?? batchesPerEpoch)
      let windowLoss = 0
      let windowCorrect = 0
      let windowCount = 0
      for (let b = 0; b < batchesPerEpoch; b++) {
        if (callbacks.signal?.aborted) throw callbacks.signal.reason
        const indices = order.slice(b * options.batchSize, (b + 1) * options.batchSize)
        const { x, y } = batchTensors(dataset, dataset.train, indices)
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
        const [lossValue, correctValue] = await Promise.all([loss.data(), correct!.data()])
        tf.dispose([x, y, loss, correct!])
        lossSum += lossValue[0]! * indices.length
        correctSum += correctValue[0]!
        windowLoss += lossValue[0]! * indices.length
        windowCorrect += correctValue[0]!
        windowCount += indices.length
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
        callbacks.onBatch?.((epoch * batchesPerEpoch + b + 1) / (options.epochs * batchesPerEpoch), epoch, lossValue[0]!)
        // Yield so cancel messages and progress get through between batches.
        await new Promise((resolve) => setImmediate(resolve))
      }
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
    optimizer.dispose()
  }
  return reports
}
