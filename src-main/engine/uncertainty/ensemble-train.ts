// Trains M heads on a frozen body as one particle system: each head descends its own loss while the repulsion pushes
// the heads apart (in function or weight space), and predicts with every member, for the uncertainty metrics.
import * as tf from '@tensorflow/tfjs'
import { batchTensors, type Dataset, type Split } from '../data/dataset.ts'
import type { Hooks, Network } from '../network.ts'
import { seededRandom, shuffled } from '../random.ts'
import { bodyOf, features, initialHeads, type HeadDepth, type HeadInit, type Heads } from './heads.ts'
import { repulsionGradient, type RepulsionForm } from './repulsion.ts'
import { trainSampler, type RepulsionSampler } from './repulsion-samples.ts'

export interface FitOptions {
  /** function: between the heads' probabilities on repulsion samples; weight: between their weights; none: off. */
  repulsion: 'function' | 'weight' | 'none'
  form: RepulsionForm
  /** λ; 0 is the same as no repulsion. */
  repulsionWeight: number
  /** Function-space repulsion samples; training samples by default. */
  samples?: RepulsionSampler
  /** Repulsion samples per step; the batch size by default. */
  repulsionBatch?: number
  epochs: number
  batchSize: number
  /** Adam's step size, constant. */
  learningRate: number
  /** The Gaussian prior: + weightDecay·‖θ‖²/2 per head on kernels and biases, added to the batch-mean NLL. */
  weightDecay: number
  /** Seeds the batch order (and the default sampler). */
  seed: number
}

export interface EnsembleOptions extends FitOptions, Omit<HeadInit, 'heads' | 'seed'> {
  heads: number
  headDepth: HeadDepth
}

export const ENSEMBLE_DEFAULTS: EnsembleOptions = {
  heads: 10,
  headDepth: 1,
  repulsion: 'function',
  form: 'wgd',
  repulsionWeight: 1,
  epochs: 5,
  batchSize: 64,
  learningRate: 1e-3,
  weightDecay: 1e-4,
  seed: 1,
}

export interface EnsembleEpochReport {
  epoch: number
  /** Mean over heads of the batch-mean NLL, averaged over the epoch's samples. */
  trainLoss: number
  /** Mean over heads of the training accuracy. */
  trainAccuracy: number
  seconds: number
}

export interface EnsembleCallbacks {
  signal?: AbortSignal
  /** After each batch: the fraction of the whole training done and the batch's mean NLL over heads. */
  onBatch?: (fraction: number, loss: number) => void
  onEpoch?: (report: EnsembleEpochReport) => void | Promise<void>
}

/** Builds M heads on the network's body and trains them; the caller disposes the returned heads. */
export async function trainEnsemble(net: Network, dataset: Dataset, options: Partial<EnsembleOptions> = {}, callbacks: EnsembleCallbacks = {}): Promise<Heads> {
  const o = { ...ENSEMBLE_DEFAULTS, ...options }
  if (!Number.isInteger(o.heads) || o.heads < 2) throw new Error(`An ensemble needs at least 2 heads; ${o.heads} were asked for.`)
  const body = bodyOf(net, o.headDepth)
  const heads = initialHeads(net, body, { heads: o.heads, seed: o.seed, init: o.init, perturbation: o.perturbation })
  try {
    await fitHeads(net, heads, dataset, o, callbacks)
    return heads
  } catch (error) {
    heads.dispose()
    throw error
  }
}

/**
 * Trains existing heads (any M ≥ 1) in place. Per step, with Lₘ the batch-mean NLL of head m and ρ the repulsion
 * (repulsion.ts), each head's gradient is gₘ = ∇θₘ[Lₘ + weightDecay·‖θₘ‖²/2] − λ·Jₘᵀρₘ, and Adam steps along −gₘ.
 * Heads meet only in ρ: with λ = 0 each trains exactly as it would alone.
 */
export async function fitHeads(
  net: Network,
  heads: Heads,
  dataset: Dataset,
  options: FitOptions,
  callbacks: EnsembleCallbacks = {},
): Promise<EnsembleEpochReport[]> {
  const classes = dataset.classNames.length
  checkFit(net, heads, dataset, options)
  const repel = options.repulsion !== 'none' && options.repulsionWeight > 0
  const sampler = options.samples ?? trainSampler(dataset, options.seed)
  const repulsionBatch = options.repulsionBatch ?? options.batchSize
  const optimizer = tf.train.adam(options.learningRate)
  const variables = heads.variables
  const batchesPerEpoch = Math.ceil(dataset.train.count / options.batchSize)
  const reports: EnsembleEpochReport[] = []
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      const started = performance.now()
      const order = shuffled([...Array(dataset.train.count).keys()], seededRandom(options.seed * 1000 + epoch))
      let lossSum = 0
      let correctSum = 0
      for (let b = 0; b < batchesPerEpoch; b++) {
        if (callbacks.signal?.aborted) throw callbacks.signal.reason
        const indices = order.slice(b * options.batchSize, (b + 1) * options.batchSize)
        const { x, y } = batchTensors(dataset, dataset.train, indices)
        const batchFeatures = features(net, x, heads.featurePoint)
        let stats: tf.Tensor[] = []
        const { value, grads } = tf.variableGrads(() => {
          const logits = heads.logits(batchFeatures)
          const perHead = tf.neg(tf.logSoftmax(logits).mul(tf.oneHot(y, classes).expandDims(0)).sum(-1).mean(-1))
          stats = [tf.keep(perHead.mean()), tf.keep(logits.argMax(-1).equal(y.expandDims(0)).sum())]
          const prior = tf.addN(variables.map((v) => v.square().sum())).mul(options.weightDecay / 2)
          return perHead.sum().add(prior) as tf.Scalar
        }, variables)
        const repulsion = repel ? repulsionStep(net, heads, options, sampler, repulsionBatch, epoch * batchesPerEpoch + b) : null
        const step = tf.tidy(() =>
          variables.map((v, i) => ({ name: v.name, tensor: repulsion ? grads[v.name]!.sub(repulsion[i]!.mul(options.repulsionWeight)) : grads[v.name]! })),
        )
        optimizer.applyGradients(step)
        const [lossValue, correctValue] = await Promise.all(stats.map((t) => t.data()))
        tf.dispose([x, y, batchFeatures, value, ...Object.values(grads), ...(repulsion ?? []), ...step.map((s) => s.tensor), ...stats])
        lossSum += lossValue![0]! * indices.length
        correctSum += correctValue![0]! / heads.count
        callbacks.onBatch?.((epoch * batchesPerEpoch + b + 1) / (options.epochs * batchesPerEpoch), lossValue![0]!)
        // Yield so cancel messages and progress get through between batches.
        await new Promise((resolve) => setImmediate(resolve))
      }
      const report = {
        epoch,
        trainLoss: lossSum / dataset.train.count,
        trainAccuracy: correctSum / dataset.train.count,
        seconds: (performance.now() - started) / 1000,
      }
      reports.push(report)
      await callbacks.onEpoch?.(report)
    }
  } finally {
    optimizer.dispose()
  }
  return reports
}

function repulsionStep(net: Network, heads: Heads, options: FitOptions, sampler: RepulsionSampler, batch: number, step: number): tf.Tensor[] {
  if (options.repulsion === 'weight') return repulsionGradient(heads, { space: 'weight', form: options.form })
  const x = sampler(batch, step)
  const sampleFeatures = features(net, x, heads.featurePoint)
  try {
    return repulsionGradient(heads, { space: 'function', form: options.form, features: sampleFeatures })
  } finally {
    tf.dispose([x, sampleFeatures])
  }
}

function checkFit(net: Network, heads: Heads, dataset: Dataset, options: FitOptions): void {
  const classes = dataset.classNames.length
  if (heads.classes !== classes) throw new Error(`The heads predict ${heads.classes} classes but ${dataset.name} has ${classes}.`)
  const input = net.points[0]!.outputShape
  if (input.join('×') !== dataset.sampleShape.join('×')) {
    throw new Error(`${net.spec.architecture} takes samples of shape ${input.join('×')} but ${dataset.name} has ${dataset.sampleShape.join('×')}.`)
  }
  const featureShape = net.point(heads.featurePoint).outputShape
  if (featureShape.length !== 1 || featureShape[0] !== heads.featureSize) {
    throw new Error(`The heads read ${heads.featureSize} features at '${heads.featurePoint}', where ${net.spec.architecture} gives ${featureShape.join('×')}.`)
  }
  for (const [name, value, min] of [
    ['epochs', options.epochs, 1],
    ['batch size', options.batchSize, 1],
  ] as const) {
    if (!Number.isInteger(value) || value < min) throw new Error(`The ${name} is ${value}; it must be a whole number of at least ${min}.`)
  }
  if (!(options.learningRate > 0)) throw new Error(`The learning rate is ${options.learningRate}; it must be > 0.`)
  if (!(options.weightDecay >= 0) || !(options.repulsionWeight >= 0)) throw new Error('The weight decay and the repulsion weight must be ≥ 0.')
  if (options.repulsion !== 'none' && options.repulsionWeight > 0 && heads.count < 2) throw new Error('Repulsion needs at least 2 heads.')
}

export interface PredictOptions {
  batchSize?: number
  /** Samples predicted, from the start of the split (all by default). */
  limit?: number
  /** Hooks on the body's points (noise, analog execution); the heads run as plain tensors. */
  hooks?: Hooks
}

/** Every head's softmax probabilities on a split: M arrays of N×C, batched. */
export async function predictMembers(net: Network, heads: Heads, dataset: Dataset, split: Split, options: PredictOptions = {}): Promise<Float32Array[]> {
  const classes = heads.classes
  const count = Math.min(split.count, options.limit ?? Infinity)
  const batchSize = options.batchSize ?? 256
  const members = Array.from({ length: heads.count }, () => new Float32Array(count * classes))
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i)
    const probs = tf.tidy(() => {
      const { x } = batchTensors(dataset, split, indices)
      return tf.softmax(heads.logits(features(net, x, heads.featurePoint, options.hooks)))
    })
    const data = (await probs.data()) as Float32Array
    probs.dispose()
    const block = indices.length * classes
    members.forEach((member, m) => member.set(data.subarray(m * block, (m + 1) * block), start * classes))
    await new Promise((resolve) => setImmediate(resolve))
  }
  return members
}
