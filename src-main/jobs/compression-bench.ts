// What every compression job does to a policy: prune and quantize the reference model, retrain briefly, validate,
// and time the compressed network on the board (through the main process) or predict it from the cost model.
import type * as tf from '@tensorflow/tfjs'
import type { CompressibleLayer, Policy } from '../contract/index.ts'
import { initBackend } from '../engine/backend.ts'
import { buildCostModel, type CostModel, type CostSample } from '../engine/compression/cost-model.ts'
import { policyCosts } from '../engine/compression/costs.ts'
import { compressibleLayers } from '../engine/compression/layers.ts'
import { checkPolicy, referencePolicy } from '../engine/compression/policy.ts'
import { calibrateInputRanges, precisionHooks } from '../engine/compression/precision.ts'
import { pruneNetwork } from '../engine/compression/prune.ts'
import { batchTensors, take, withValidation, type Dataset } from '../engine/data/dataset.ts'
import { loadDataset, type DatasetSource } from '../engine/data/registry.ts'
import { evaluate } from '../engine/evaluate.ts'
import { importLayersModel, type ModelMetadata } from '../engine/model-files.ts'
import type { Hooks, Network } from '../engine/network.ts'

type InputRange = { min: number; max: number }
import { seededRandom, shuffled } from '../engine/random.ts'
import { train } from '../engine/train.ts'
import type { JobContext } from './context.ts'

/** What the bench needs of a job: its cancel signal, the board's latency, and a place for params. */
export type BenchContext = Pick<JobContext, 'signal' | 'latency' | 'param'>
import { boardNetworkOf, costQueries, costSamplesOf, profilePolicies, type BoardNetwork } from './compression-latency.ts'

const FLOAT = 32
const CALIBRATION_SAMPLES = 256

export interface BenchSettings {
  board: string
  validationSamples: number
  retrainSamples: number | null
  channelMultiple: number
  seed: number
}

export interface CompressedModel {
  net: Network
  hooks: Hooks | undefined
  /** Each quantized layer's input range, calibrated once: the constant scales its activations are quantized with. */
  ranges: Map<string, InputRange> | null
  /** Disposes the pruned network (never the reference). */
  dispose(): void
}

export interface EpisodeOutcome {
  accuracy: number
  seconds: { apply: number; retrain: number; evaluate: number }
}

const elapsed = (since: number) => (performance.now() - since) / 1000

export class CompressionBench {
  readonly layers: CompressibleLayer[]
  costModel: CostModel | null = null

  private constructor(
    readonly context: BenchContext,
    readonly reference: Network,
    readonly metadata: ModelMetadata,
    /** train: what retraining draws from; validation: the held-out samples an episode is scored on; test: untouched. */
    readonly dataset: Dataset,
    readonly settings: BenchSettings,
  ) {
    this.layers = compressibleLayers(reference)
    if (this.layers.length === 0) {
      throw new Error(`${reference.spec.architecture} has no compressible layer: it needs a dense or conv layer besides the classifier.`)
    }
  }

  static async open(context: BenchContext, modelJson: string, source: DatasetSource, settings: BenchSettings): Promise<CompressionBench> {
    const backend = await initBackend()
    context.param('backend', backend.name)
    const { net, metadata } = await importLayersModel(modelJson)
    const loaded = loadDataset(source)
    if (loaded.sampleShape.join() !== metadata.sampleShape.join()) {
      throw new Error(`The model takes ${metadata.sampleShape.join('×')} samples but ${loaded.name} has ${loaded.sampleShape.join('×')}.`)
    }
    const fraction = Math.min(0.5, settings.validationSamples / loaded.train.count)
    const dataset = { ...withValidation(loaded, fraction, settings.seed), normalization: metadata.normalization }
    return new CompressionBench(context, net, metadata, dataset, settings)
  }

  get architecture(): string {
    return this.reference.spec.architecture
  }

  referencePolicy(): Policy {
    return referencePolicy(this.layers, this.architecture)
  }

  costs(policy: Policy): ReturnType<typeof policyCosts> {
    return policyCosts(this.reference, policy, this.settings.channelMultiple)
  }

  /** The policy applied to the reference: pruned (a new, smaller network) and quantized by compute overrides. */
  compress(policy: Policy): CompressedModel {
    checkPolicy(this.reference, policy)
    const pruned = pruneNetwork(this.reference, policy, { channelMultiple: this.settings.channelMultiple, seed: this.settings.seed })
    const quantized = policy.layers.some((l) => l.weightBits !== FLOAT || l.activationBits !== FLOAT)
    let ranges: Map<string, InputRange> | null = null
    if (quantized) {
      const x = this.batch(this.dataset.train, CALIBRATION_SAMPLES)
      try {
        ranges = calibrateInputRanges(
          pruned.net,
          x,
          policy.layers.map((l) => l.layer),
        )
      } finally {
        x.dispose()
      }
    }
    return { net: pruned.net, hooks: ranges ? precisionHooks(pruned.net, policy, ranges) : undefined, ranges, dispose: () => pruned.net.dispose() }
  }

  /** Applies, retrains for `epochs` on `retrainSamples` training samples, and scores on the validation samples. */
  async episode(
    policy: Policy,
    options: { epochs: number; seed: number; samples?: number | null; keep?: boolean },
  ): Promise<EpisodeOutcome & { model: CompressedModel | null }> {
    let started = performance.now()
    const model = this.compress(policy)
    const apply = elapsed(started)
    try {
      started = performance.now()
      await this.retrain(model, options.epochs, options.samples === undefined ? this.settings.retrainSamples : options.samples, options.seed)
      const retrain = elapsed(started)
      started = performance.now()
      const scored = await evaluate(model.net, this.dataset, this.dataset.validation!, { hooks: model.hooks })
      const outcome = { accuracy: scored.accuracy, seconds: { apply, retrain, evaluate: elapsed(started) } }
      if (options.keep) return { ...outcome, model }
      model.dispose()
      return { ...outcome, model: null }
    } catch (error) {
      model.dispose()
      throw error
    }
  }

  async retrain(model: CompressedModel, epochs: number, samples: number | null, seed: number, onBatch?: (fraction: number) => void): Promise<void> {
    if (epochs === 0) return
    const split = this.dataset.train
    const chosen = samples === null || samples >= split.count ? null : shuffled([...Array(split.count).keys()], seededRandom(seed)).slice(0, samples)
    const subset: Dataset = { ...this.dataset, train: chosen ? take(split, chosen, this.dataset.sampleShape) : split, validation: null }
    await train(
      model.net,
      subset,
      { epochs, batchSize: 64, optimizer: 'adam', learningRate: 5e-4, schedule: 'cosine', seed, patience: 0, hooks: model.hooks },
      { signal: this.context.signal, onBatch: onBatch ? (fraction) => onBatch(fraction) : undefined },
    )
  }

  boardNetwork(policy: Policy): BoardNetwork {
    checkPolicy(this.reference, policy)
    return boardNetworkOf(this.reference, policy, this.settings.channelMultiple)
  }

  /** Latency measured on the board (the latency table answers policies measured before). */
  async measure(policy: Policy): Promise<number> {
    const { layers, bits } = this.boardNetwork(policy)
    const timed = await this.context.latency.measure(this.settings.board, layers, bits, this.context.signal)
    return timed.totalS
  }

  predict(policy: Policy): number | null {
    if (!this.costModel) return null
    return this.costModel.networkSeconds(costQueries(this.boardNetwork(policy)))
  }

  /** Times the uniform keep × bits grid on the board (once per board: the latency table keeps it) and fits the cost model. */
  async profile(onProgress: (done: number, total: number) => void): Promise<{ measured: number; points: number }> {
    const samples: CostSample[] = []
    let measured = 0
    const grid = profilePolicies(this.layers, this.architecture)
    for (const [i, policy] of grid.entries()) {
      const network = this.boardNetwork(policy)
      const timed = await this.context.latency.measure(this.settings.board, network.layers, network.bits, this.context.signal)
      if (!timed.cached) measured++
      samples.push(...costSamplesOf(network, timed.layersS))
      onProgress(i + 1, grid.length)
    }
    this.costModel = buildCostModel(samples)
    return { measured, points: grid.length }
  }

  /** The first n samples of a split as one normalised batch. */
  batch(split: Dataset['train'], n: number): tf.Tensor {
    return batchOf(this.dataset, split, n)
  }

  dispose(): void {
    this.reference.dispose()
  }
}

function batchOf(dataset: Dataset, split: Dataset['train'], n: number): tf.Tensor {
  const { x, y } = batchTensors(dataset, split, [...Array(Math.min(n, split.count)).keys()])
  y.dispose()
  return x
}
