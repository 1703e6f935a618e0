// An ensemble as the uncertainty jobs use it, whatever it is made of: a single model (an ensemble of one), M heads on a
// model's body, or M models trained from scratch. One interface: every member's probabilities on a split.
import { readFileSync } from 'node:fs'
import type { Dataset, Split } from '../engine/data/dataset.ts'
import { importLayersModel, type ModelMetadata } from '../engine/model-files.ts'
import type { Hooks, Network } from '../engine/network.ts'
import { predictMembers } from '../engine/uncertainty/ensemble-train.ts'
import { Heads } from '../engine/uncertainty/heads.ts'
import * as tf from '@tensorflow/tfjs'
import { batchTensors } from '../engine/data/dataset.ts'
import { storedModelHooks } from '../engine/stored-hooks.ts'

/** What the parent resolves for a job that evaluates an ensemble (inputs.ts). */
export type EnsembleSource =
  { kind: 'single'; modelJson: string } | { kind: 'last-layer'; modelJson: string; headsFile: string } | { kind: 'deep'; memberModelJsons: string[] }

export interface LoadedEnsemble {
  members: number
  /** The first (or only) network: its points are where noise can go. */
  net: Network
  metadata: ModelMetadata
  /** Every member's softmax probabilities (M arrays of N×C); `hooks` builds the body hooks per member network. */
  predict(dataset: Dataset, split: Split, options?: { limit?: number; hooks?: (net: Network) => Hooks | undefined }): Promise<Float32Array[]>
  dispose(): void
}

export async function loadEnsemble(source: EnsembleSource): Promise<LoadedEnsemble> {
  if (source.kind === 'last-layer') {
    const { net, metadata } = await importLayersModel(source.modelJson)
    const heads = Heads.fromJSON(JSON.parse(readFileSync(source.headsFile, 'utf8')) as unknown)
    return {
      members: heads.count,
      net,
      metadata,
      predict: (dataset, split, options = {}) => predictMembers(net, heads, dataset, split, { limit: options.limit, hooks: options.hooks?.(net) }),
      dispose: () => (heads.dispose(), net.dispose()),
    }
  }
  const files = source.kind === 'single' ? [source.modelJson] : source.memberModelJsons
  const loaded = await Promise.all(files.map((file) => importLayersModel(file)))
  return {
    members: loaded.length,
    net: loaded[0]!.net,
    metadata: loaded[0]!.metadata,
    predict: async (dataset, split, options = {}) => {
      const out: Float32Array[] = []
      for (const { net, metadata } of loaded) {
        // A member evaluates as it was trained (quantized, compressed), with the caller's hooks composed after.
        const hooks = options.hooks?.(net) ?? storedModelHooks(net, metadata)
        out.push(await modelProbabilities(net, dataset, split, options.limit, hooks))
      }
      return out
    },
    dispose: () => loaded.forEach(({ net }) => net.dispose()),
  }
}

/** A whole model's softmax probabilities on a split (N×C), batched. */
export async function modelProbabilities(
  net: Network,
  dataset: Dataset,
  split: Split,
  limit: number | undefined,
  hooks: Hooks | undefined,
): Promise<Float32Array> {
  const classes = dataset.classNames.length
  const count = Math.min(split.count, limit ?? Infinity)
  const out = new Float32Array(count * classes)
  for (let start = 0; start < count; start += 256) {
    const indices = Array.from({ length: Math.min(256, count - start) }, (_, i) => start + i)
    const probs = tf.tidy(() => tf.softmax(net.forward(batchTensors(dataset, split, indices).x, { hooks })))
    out.set((await probs.data()) as Float32Array, start * classes)
    probs.dispose()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return out
}
