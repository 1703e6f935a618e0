// A network built from a ModelSpec: tf.layers objects own the weights, and a small executor walks the nodes in order
// so that every node's output passes through its injection point. Points without hooks cost nothing.
import * as tf from '@tensorflow/tfjs'
import { downstreamOf, nodeInputs, pointLabel, validateSpec, type ModelSpec, type NodeSpec, type Op } from './graph.ts'

// Production mode: no tfjs console chatter (its 'install tfjs-node' banner) in the CLI, web mode or jobs.
tf.env().set('PROD', true)

export interface InjectionPoint {
  id: string
  label: string
  op: Op
  /** Output shape of one sample (no batch dimension). */
  outputShape: number[]
  inputShapes: number[][]
  /** Multiply-accumulates per sample (dense, conv); 0 for elementwise and pooling nodes. */
  macs: number
  params: number
}

/** Transforms a point's output (noise, fake quantization, masks). Runs inside the caller's tidy. */
export type PointHook = (value: tf.Tensor, point: InjectionPoint, training: boolean) => tf.Tensor

/** Replaces how a dense or conv node computes its output from its input, e.g. execution on an analog array. */
export type ComputeOverride = (input: tf.Tensor, weights: { kernel: tf.Tensor; bias: tf.Tensor | null }, node: NodeSpec, training: boolean) => tf.Tensor

export interface Hooks {
  after?: ReadonlyMap<string, PointHook>
  compute?: ReadonlyMap<string, ComputeOverride>
  /** Trainable variables the hooks own (learned quantization scales); training updates them with the weights. */
  variables?: ReadonlyMap<string, tf.Variable>
}

export interface ForwardOptions {
  training?: boolean
  hooks?: Hooks
}

export class Network {
  readonly points: InjectionPoint[]
  readonly model: tf.LayersModel
  private readonly layers = new Map<string, tf.layers.Layer>()

  constructor(
    readonly spec: ModelSpec,
    seed = 1,
  ) {
    validateSpec(spec)
    const symbolic = new Map<string, tf.SymbolicTensor>()
    let input: tf.SymbolicTensor | null = null
    spec.nodes.forEach((node, index) => {
      if (node.op === 'input') {
        input = tf.input({ shape: node.shape, name: node.id })
        symbolic.set(node.id, input)
        return
      }
      const inputs = nodeInputs(node).map((id) => symbolic.get(id)!)
      const layer = makeLayer(node, seed * 7919 + index, inputs[0]!.shape)
      this.layers.set(node.id, layer)
      symbolic.set(node.id, layer.apply(inputs.length === 1 ? inputs[0]! : inputs) as tf.SymbolicTensor)
    })
    const output = symbolic.get(spec.nodes.at(-1)!.id)!
    this.model = tf.model({ inputs: input!, outputs: output, name: spec.architecture })
    this.points = spec.nodes.map((node) => {
      const shape = (id: string) => symbolic.get(id)!.shape.slice(1) as number[]
      const outputShape = shape(node.id)
      const inputShapes = nodeInputs(node).map(shape)
      const layer = this.layers.get(node.id)
      return {
        id: node.id,
        label: pointLabel(node),
        op: node.op,
        outputShape,
        inputShapes,
        macs: macsOf(node, inputShapes[0] ?? [], outputShape),
        params: layer ? layer.countParams() : 0,
      }
    })
  }

  point(id: string): InjectionPoint {
    const point = this.points.find((p) => p.id === id)
    if (!point) throw new Error(`${this.spec.architecture} has no injection point '${id}'. Points: ${this.points.map((p) => p.id).join(', ')}.`)
    return point
  }

  /** Logits for a batch. Call inside tf.tidy (or the optimizer's closure): intermediate tensors are not disposed here. */
  forward(x: tf.Tensor, options: ForwardOptions = {}): tf.Tensor {
    return this.run(new Map(), x, null, options).get(this.outputId)!
  }

  /** Every point's value for a batch, e.g. to cache clean activations once and perturb one point many times. */
  activations(x: tf.Tensor, options: ForwardOptions = {}): Map<string, tf.Tensor> {
    return this.run(new Map(), x, null, options)
  }

  /**
   * Logits when the value at one point is replaced: only the nodes downstream of it are recomputed, every other value
   * comes from the cache of activations().
   */
  forwardFrom(cache: ReadonlyMap<string, tf.Tensor>, pointId: string, value: tf.Tensor, options: ForwardOptions = {}): tf.Tensor {
    const values = new Map(cache)
    values.set(pointId, value)
    return this.run(values, null, downstreamOf(this.spec, pointId), options, pointId).get(this.outputId)!
  }

  get outputId(): string {
    return this.spec.nodes.at(-1)!.id
  }

  get trainableWeights(): tf.Variable[] {
    return this.model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val)
  }

  layer(id: string): tf.layers.Layer | undefined {
    return this.layers.get(id)
  }

  /** A dense or conv node's kernel and bias, as compute overrides get them. */
  weights(id: string): { kernel: tf.Tensor; bias: tf.Tensor | null } {
    const layer = this.layers.get(id)
    if (!layer) throw new Error(`${this.spec.architecture} has no layer with weights called '${id}'.`)
    return weightsOf(layer)
  }

  dispose(): void {
    this.model.dispose()
  }

  private run(
    values: Map<string, tf.Tensor>,
    x: tf.Tensor | null,
    only: Set<string> | null,
    { training = false, hooks }: ForwardOptions,
    skip?: string,
  ): Map<string, tf.Tensor> {
    for (const node of this.spec.nodes) {
      if (node.id === skip || (only && !only.has(node.id))) continue
      let value: tf.Tensor
      if (node.op === 'input') {
        value = x!
      } else {
        const inputs = nodeInputs(node).map((id) => values.get(id)!)
        const override = hooks?.compute?.get(node.id)
        const layer = this.layers.get(node.id)!
        value = override
          ? override(inputs[0]!, weightsOf(layer), node, training)
          : (layer.apply(inputs.length === 1 ? inputs[0]! : inputs, { training }) as tf.Tensor)
      }
      const hook = hooks?.after?.get(node.id)
      values.set(node.id, hook ? hook(value, this.pointById(node.id), training) : value)
    }
    return values
  }

  private pointCache = new Map<string, InjectionPoint>()
  private pointById(id: string): InjectionPoint {
    let point = this.pointCache.get(id)
    if (!point) this.pointCache.set(id, (point = this.point(id)))
    return point
  }
}

function weightsOf(layer: tf.layers.Layer): { kernel: tf.Tensor; bias: tf.Tensor | null } {
  const [kernel, bias] = layer.trainableWeights.map((w) => w.read())
  return { kernel: kernel!, bias: bias ?? null }
}

function makeLayer(node: Exclude<NodeSpec, { op: 'input' }>, seed: number, inputShape: readonly (number | null)[]): tf.layers.Layer {
  const name = node.id.replace('.', '__')
  const kernelInitializer = tf.initializers.heNormal({ seed })
  switch (node.op) {
    case 'dense':
      return tf.layers.dense({ name, units: node.units, useBias: node.useBias ?? true, kernelInitializer })
    case 'conv2d':
      return tf.layers.conv2d({
        name,
        filters: node.filters,
        kernelSize: node.kernel,
        strides: node.stride ?? 1,
        padding: node.padding ?? 'same',
        dilationRate: node.dilation ?? 1,
        useBias: node.useBias ?? true,
        kernelInitializer,
      })
    case 'depthwiseConv2d':
      return tf.layers.depthwiseConv2d({
        name,
        kernelSize: node.kernel,
        strides: node.stride ?? 1,
        padding: node.padding ?? 'same',
        useBias: node.useBias ?? true,
        depthwiseInitializer: kernelInitializer,
      })
    case 'batchNorm':
      return tf.layers.batchNormalization({ name, momentum: 0.9, epsilon: 1e-5 })
    case 'relu':
      return tf.layers.reLU({ name })
    case 'maxPool':
      return tf.layers.maxPooling2d({ name, poolSize: node.size, strides: node.stride ?? node.size, padding: node.padding ?? 'valid' })
    case 'avgPool':
      return tf.layers.averagePooling2d({ name, poolSize: node.size, strides: node.stride ?? node.size, padding: node.padding ?? 'valid' })
    case 'globalAvgPool':
      return tf.layers.globalAveragePooling2d({ name })
    case 'flatten':
      // tf.layers.flatten refuses samples that are vectors already (an MLP on [N, 16] features); they pass unchanged.
      return inputShape.length === 2 ? tf.layers.reshape({ name, targetShape: [inputShape[1]!] }) : tf.layers.flatten({ name })
    case 'add':
      return tf.layers.add({ name })
  }
}

function macsOf(node: NodeSpec, input: number[], output: number[]): number {
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1)
  switch (node.op) {
    case 'dense':
      return size(input) * node.units
    case 'conv2d':
      return size(output) * node.kernel * node.kernel * (input.at(-1) ?? 1)
    case 'depthwiseConv2d':
      return size(output) * node.kernel * node.kernel
    default:
      return 0
  }
}
