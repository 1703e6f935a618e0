// A multi-head model on a network's frozen body: M copies of the classifier (or of its last two dense layers) held as
// stacked plain tensors, so that all heads run in one batched matmul. See bodyOf for what a head contains.
import * as tf from '@tensorflow/tfjs'
import { z } from 'zod'
import { nodeInputs, type NodeSpec } from '../graph.ts'
import type { Hooks, Network } from '../network.ts'
import { fillNormals, hashKey } from '../normal-random.ts'

export type HeadDepth = 1 | 2

/**
 * Where a network splits into body and head.
 * Depth 1: the head is the classifier (the last node, a dense layer); the body ends at the classifier's input.
 * Depth 2: the head is dense(hidden) → ReLU → dense(classes), made from the dense layer of the block before the
 * classifier (dense → [BN →] ReLU); a BN there is folded into that dense layer with its moving statistics (inference
 * mode), so the head has no BN of its own. The body ends at that dense layer's input.
 */
export interface Body {
  /** The point whose value the heads read, a vector per sample. */
  featurePoint: string
  headDepth: HeadDepth
  /** The dense layers whose shapes (and, for pretrained heads, weights) the head copies, first to last. */
  dense: string[]
  /** The BN folded into the first dense layer of a 2-layer head, or null. */
  batchNorm: string | null
  featureSize: number
  /** Width of a 2-layer head's hidden layer, or null for a 1-layer head. */
  hiddenUnits: number | null
  classes: number
}

export function bodyOf(net: Network, headDepth: HeadDepth = 1): Body {
  const { spec } = net
  const byId = new Map(spec.nodes.map((node) => [node.id, node]))
  const classifier = spec.nodes.at(-1)!
  if (classifier.op !== 'dense') {
    throw new Error(
      `${spec.architecture} ends in '${classifier.id}' (${classifier.op}), not in a dense classifier: heads cannot replace it, and the rest would be a body without a classifier.`,
    )
  }
  let featurePoint = classifier.input
  const dense: string[] = [classifier.id]
  let batchNorm: string | null = null
  let hiddenUnits: number | null = null
  if (headDepth === 2) {
    const relu = byId.get(classifier.input)
    let below = relu?.op === 'relu' ? byId.get(relu.input) : undefined
    if (below?.op === 'batchNorm') {
      batchNorm = below.id
      below = byId.get(below.input)
    }
    if (relu?.op !== 'relu' || below?.op !== 'dense') {
      throw new Error(
        `A 2-layer head needs a dense → (BN →) ReLU block before the classifier; ${spec.architecture} has '${classifier.input}' (${relu?.op ?? 'nothing'}) before '${classifier.id}'. Use a 1-layer head.`,
      )
    }
    if (readByOthers(spec.nodes, below.id, batchNorm, relu.id)) {
      throw new Error(`${spec.architecture}: the block '${below.id}' before the classifier also feeds other nodes, so it cannot move into a head.`)
    }
    featurePoint = below.input
    dense.unshift(below.id)
    hiddenUnits = below.units
  }
  const shape = net.point(featurePoint).outputShape
  if (shape.length !== 1) {
    throw new Error(`The heads read '${featurePoint}', whose value is ${shape.join('×')} per sample; a head needs a vector (flatten or pool first).`)
  }
  return { featurePoint, headDepth, dense, batchNorm, featureSize: shape[0]!, hiddenUnits, classes: spec.classes }
}

/** Whether anything besides the block's own chain reads the block's dense, BN or ReLU output. */
function readByOthers(nodes: readonly NodeSpec[], denseId: string, bnId: string | null, reluId: string): boolean {
  const block = new Set([denseId, bnId, reluId].filter((id): id is string => id !== null))
  const expected = new Set([bnId ?? reluId, reluId, nodes.at(-1)!.id])
  return nodes.some((node) => !expected.has(node.id) && nodeInputs(node).some((input) => block.has(input)))
}

/** The body's output for a batch, in inference mode; hooks (noise, analog) apply to the body's points. */
export function features(net: Network, x: tf.Tensor, featurePoint: string, hooks?: Hooks): tf.Tensor2D {
  return tf.tidy(() => net.activations(x, { training: false, hooks }).get(featurePoint)! as tf.Tensor2D)
}

/** One layer of all M heads: kernel M×in×out, bias M×out. */
export interface HeadLayer {
  kernel: tf.Tensor3D
  bias: tf.Tensor2D
}

export interface HeadsMeta {
  featurePoint: string
  seed: number
}

const Encoded = z.object({ shape: z.array(z.number().int().min(1)), f32: z.string() })
const HeadsJson = z.object({
  format: z.literal('benchside-heads'),
  version: z.literal(1),
  featurePoint: z.string().min(1),
  seed: z.number(),
  layers: z
    .array(z.object({ kernel: Encoded, bias: Encoded }))
    .min(1)
    .max(2),
})
export type HeadsJson = z.infer<typeof HeadsJson>

export class Heads {
  readonly featurePoint: string
  readonly seed: number
  /** Per layer, variables holding the stacked kernels and biases of all heads. */
  readonly layers: { kernel: tf.Variable<tf.Rank.R3>; bias: tf.Variable<tf.Rank.R2> }[]

  /** Copies the given tensors into variables; the caller keeps (and disposes) its own. */
  constructor(layers: readonly HeadLayer[], meta: HeadsMeta) {
    if (layers.length < 1 || layers.length > 2) throw new Error(`A head has 1 or 2 layers, not ${layers.length}.`)
    const count = layers[0]!.kernel.shape[0]
    let width = layers[0]!.kernel.shape[1]
    layers.forEach(({ kernel, bias }, l) => {
      const [m, inputs, outputs] = kernel.shape
      if (m !== count || inputs !== width || bias.shape[0] !== count || bias.shape[1] !== outputs) {
        throw new Error(
          `Head layer ${l}: kernel ${kernel.shape.join('×')} and bias ${bias.shape.join('×')} do not chain as M×in×out and M×out for ${count} heads.`,
        )
      }
      width = outputs
    })
    this.featurePoint = meta.featurePoint
    this.seed = meta.seed
    // A variable shares its initial tensor's data (reference-counted), so the caller may dispose its tensor.
    this.layers = layers.map(({ kernel, bias }) => ({ kernel: tf.variable(kernel), bias: tf.variable(bias) }))
  }

  get count(): number {
    return this.layers[0]!.kernel.shape[0]
  }

  get depth(): HeadDepth {
    return this.layers.length as HeadDepth
  }

  get classes(): number {
    return this.layers.at(-1)!.kernel.shape[2]
  }

  get featureSize(): number {
    return this.layers[0]!.kernel.shape[1]
  }

  /** Kernel and bias of every layer, in order; the trainable variables. */
  get variables(): tf.Variable[] {
    return this.layers.flatMap(({ kernel, bias }) => [kernel, bias])
  }

  /** Every head's logits for a batch of features N×F: M×N×C. Differentiable in the variables. */
  logits(featureBatch: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => {
      let h: tf.Tensor3D = featureBatch.expandDims(0).tile([this.count, 1, 1]) as tf.Tensor3D
      this.layers.forEach(({ kernel, bias }, l) => {
        h = tf.matMul(h, kernel).add(bias.expandDims(1))
        if (l < this.layers.length - 1) h = tf.relu(h)
      })
      return h
    })
  }

  /** A new Heads holding copies of the chosen heads. */
  select(indices: readonly number[]): Heads {
    for (const i of indices) if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new Error(`There is no head ${i}; the heads are 0…${this.count - 1}.`)
    const picked = tf.tidy(() => {
      const at = tf.tensor1d(indices as number[], 'int32')
      return this.layers.map(({ kernel, bias }) => ({ kernel: tf.gather(kernel, at), bias: tf.gather(bias, at) }))
    })
    try {
      return new Heads(picked, { featurePoint: this.featurePoint, seed: this.seed })
    } finally {
      tf.dispose(picked.flatMap(({ kernel, bias }) => [kernel, bias]))
    }
  }

  toJSON(): HeadsJson {
    return {
      format: 'benchside-heads',
      version: 1,
      featurePoint: this.featurePoint,
      seed: this.seed,
      layers: this.layers.map(({ kernel, bias }) => ({ kernel: encode(kernel), bias: encode(bias) })),
    }
  }

  static fromJSON(value: unknown): Heads {
    const parsed = HeadsJson.safeParse(value)
    if (!parsed.success) throw new Error(`These are not saved heads: ${parsed.error.issues[0]?.message ?? 'unknown shape'}.`)
    const layers = parsed.data.layers.map(({ kernel, bias }, l) => {
      if (kernel.shape.length !== 3 || bias.shape.length !== 2) throw new Error(`Saved head layer ${l} must have a 3-D kernel and a 2-D bias.`)
      return { kernel: decode(kernel, `layer ${l} kernel`) as tf.Tensor3D, bias: decode(bias, `layer ${l} bias`) as tf.Tensor2D }
    })
    try {
      return new Heads(layers, { featurePoint: parsed.data.featurePoint, seed: parsed.data.seed })
    } finally {
      tf.dispose(layers.flatMap(({ kernel, bias }) => [kernel, bias]))
    }
  }

  dispose(): void {
    tf.dispose(this.variables)
  }
}

function encode(t: tf.Tensor): { shape: number[]; f32: string } {
  const data = t.dataSync() as Float32Array
  return { shape: [...t.shape], f32: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') }
}

function decode(entry: { shape: number[]; f32: string }, what: string): tf.Tensor {
  const bytes = Buffer.from(entry.f32, 'base64')
  const size = entry.shape.reduce((a, b) => a * b, 1)
  if (bytes.length !== size * 4) throw new Error(`Saved head ${what} holds ${bytes.length} bytes; a ${entry.shape.join('×')} float32 tensor needs ${size * 4}.`)
  const data = new Float32Array(size)
  new Uint8Array(data.buffer).set(bytes)
  return tf.tensor(data, entry.shape)
}

export interface HeadInit {
  heads: number
  seed: number
  /**
   * fresh (default): He-normal kernels (σ = √(2/fan-in), untruncated) and zero biases, seeded per head and layer, so
   * the heads start as diverse as a deep ensemble's members. pretrained: the network's own weights (BN folded) plus
   * N(0, σ²) with σ = perturbation × the RMS of that layer's kernel, on kernels and biases alike.
   */
  init?: 'fresh' | 'pretrained'
  /** Relative σ of the pretrained heads' perturbation; 0.1 by default. */
  perturbation?: number
}

/** M heads shaped like the body's head layers; head m's numbers depend only on (seed, m), not on M. */
export function initialHeads(net: Network, body: Body, options: HeadInit): Heads {
  const { heads: count, seed, init = 'fresh', perturbation = 0.1 } = options
  if (!Number.isInteger(count) || count < 1) throw new Error(`The number of heads is ${count}; it must be a whole number of at least 1.`)
  if (!(perturbation >= 0)) throw new Error(`The perturbation is ${perturbation}; it must be ≥ 0.`)
  const widths = [body.featureSize, ...(body.hiddenUnits === null ? [] : [body.hiddenUnits]), body.classes]
  const layers = tf.tidy(() =>
    body.dense.map((id, l) => {
      const [inputs, outputs] = [widths[l]!, widths[l + 1]!]
      const noise = (m: number, part: string, size: number) => fillNormals(new Float32Array(size), hashKey(['ensemble-head', seed, m, l, part]))
      const perHead = (draw: (m: number) => tf.Tensor) => tf.stack(Array.from({ length: count }, (_, m) => draw(m)))
      if (init === 'fresh') {
        const std = Math.sqrt(2 / inputs)
        return {
          kernel: perHead((m) => tf.tensor2d(noise(m, 'kernel', inputs * outputs), [inputs, outputs]).mul(std)) as tf.Tensor3D,
          bias: tf.zeros([count, outputs]) as tf.Tensor2D,
        }
      }
      const { kernel, bias } = pretrainedLayer(net, id, l === 0 ? body.batchNorm : null)
      const sigma = perturbation * Math.sqrt(kernel.square().mean().dataSync()[0]!)
      return {
        kernel: perHead((m) => kernel.add(tf.tensor2d(noise(m, 'kernel', inputs * outputs), [inputs, outputs]).mul(sigma))) as tf.Tensor3D,
        bias: perHead((m) => bias.add(tf.tensor1d(noise(m, 'bias', outputs)).mul(sigma))) as tf.Tensor2D,
      }
    }),
  )
  try {
    return new Heads(layers, { featurePoint: body.featurePoint, seed })
  } finally {
    tf.dispose(layers.flatMap(({ kernel, bias }) => [kernel, bias]))
  }
}

/** A dense layer's kernel and bias, with a following BN folded in as inference computes it: γ(xW + b − μ)/√(σ²+ε) + β. */
function pretrainedLayer(net: Network, id: string, batchNorm: string | null): { kernel: tf.Tensor2D; bias: tf.Tensor1D } {
  const { kernel, bias } = net.weights(id)
  const units = kernel.shape[1]!
  const b = bias ?? tf.zeros([units])
  if (batchNorm === null) return { kernel: kernel as tf.Tensor2D, bias: b as tf.Tensor1D }
  const layer = net.layer(batchNorm)!
  const part = (name: string) => {
    const found = layer.weights.find((w) => w.originalName.endsWith(`/${name}`))
    if (!found) throw new Error(`The batch norm '${batchNorm}' has no ${name}, so it cannot be folded into '${id}'.`)
    return found.read()
  }
  const epsilon = Number(layer.getConfig().epsilon ?? 1e-3)
  const scale = part('gamma').div(part('moving_variance').add(epsilon).sqrt())
  return {
    kernel: kernel.mul(scale) as tf.Tensor2D,
    bias: b.sub(part('moving_mean')).mul(scale).add(part('beta')) as tf.Tensor1D,
  }
}
