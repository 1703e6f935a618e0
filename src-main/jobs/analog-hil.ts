// Hardware in the loop: a network's analog layers run on a board, everything else on the host. Weight codes go into
// board slots (one per row chunk and column tile, reloaded only when they change); a forward pass runs layer by layer,
// each layer's inputs quantised exactly as in simulation and its ADC codes converted back by the same digital step.
import { createHash } from 'node:crypto'
import * as tf from '@tensorflow/tfjs'
import { chunkCodesToOutput, inputCodes, layerInputRows, layerKernel2d, weightCodes, type AnalogNode } from '../engine/analog.ts'
import { analogNodes } from '../engine/analog.ts'
import { layerConfig, type AnalogPlan } from '../engine/analog-plan.ts'
import { nodeInputs } from '../engine/graph.ts'
import type { ComputeOverride, Network } from '../engine/network.ts'
import { boardGain, type DeviceInfo } from '../hardware/analog-protocol/index.ts'
import type { SessionBoard } from './board-rpc.ts'

interface SlotPlan {
  slot: number
  chunk: number
  tile: number
  rowStart: number
  rows: number
  colStart: number
  cols: number
}

export interface BoardRunOptions {
  signal?: AbortSignal
  /** Vectors sent to the board so far for this layer, and their total. */
  onProgress?: (done: number, total: number) => void
}

export class BoardLayers {
  private readonly slots = new Map<string, SlotPlan[]>()
  private readonly nodes: Map<string, AnalogNode>
  private readonly loaded = new Map<number, string>()

  constructor(
    private readonly board: SessionBoard,
    private readonly info: DeviceInfo,
    private readonly net: Network,
    private readonly plan: Pick<AnalogPlan, 'config' | 'layers' | 'signedLayers'>,
  ) {
    if (plan.config.rows > info.rows)
      throw new Error(
        `The model's analog mapping uses row chunks of ${plan.config.rows}, but board ${info.deviceId} has ${info.rows} rows. Re-plan the model for this board.`,
      )
    this.nodes = new Map(analogNodes(net, Object.keys(plan.layers)).map((node) => [node.id, node]))
    let next = 0
    for (const node of this.nodes.values()) {
      const [inputs, outputs] = this.kernel2dShape(node)
      const list: SlotPlan[] = []
      for (let rowStart = 0, chunk = 0; rowStart < inputs; rowStart += plan.config.rows, chunk++)
        for (let colStart = 0, tile = 0; colStart < outputs; colStart += info.cols, tile++)
          list.push({
            slot: next++,
            chunk,
            tile,
            rowStart,
            rows: Math.min(plan.config.rows, inputs - rowStart),
            colStart,
            cols: Math.min(info.cols, outputs - colStart),
          })
      this.slots.set(node.id, list)
    }
    if (next > info.slots)
      throw new Error(
        `The chosen layers need ${next} weight slots (one per 128-row chunk and column tile) but board ${info.deviceId} has ${info.slots}. Run fewer layers on the board.`,
      )
  }

  get layerIds(): string[] {
    return [...this.nodes.keys()]
  }

  private kernel2dShape(node: AnalogNode): [number, number] {
    const { kernel } = this.net.weights(node.id)
    const shape = layerKernel2d(kernel, node).shape
    return [shape[0], shape[1]]
  }

  /** Sends the current weight codes of every layer; slots whose codes did not change since the last load are skipped. */
  async load(options: { signal?: AbortSignal } = {}): Promise<number> {
    let sent = 0
    for (const [id, slots] of this.slots) {
      const node = this.nodes.get(id)!
      const codes = tf.tidy(() => weightCodes(layerKernel2d(this.net.weights(id).kernel, node), this.plan.layers[id]!, this.plan.config))
      const [, outputs] = codes.shape
      const all = Int8Array.from(codes.dataSync())
      codes.dispose()
      for (const s of slots) {
        const part = new Int8Array(s.rows * s.cols)
        for (let r = 0; r < s.rows; r++)
          part.set(all.subarray((s.rowStart + r) * outputs + s.colStart, (s.rowStart + r) * outputs + s.colStart + s.cols), r * s.cols)
        const hash = createHash('sha1').update(part).digest('hex')
        // A reconnected (restarted) board has lost its slots: its driver forgets them, so they are sent again.
        if (this.loaded.get(s.slot) === hash && this.board.loadedSlots.has(s.slot)) continue
        await this.board.loadWeights(s.slot, part, s.rows, s.cols, { signal: options.signal })
        this.loaded.set(s.slot, hash)
        sent++
      }
    }
    return sent
  }

  /**
   * The layer's output for its input (any batch shape the layer takes), measured: input codes → the board per chunk
   * and tile → ADC codes → digital sum and scale, plus the float bias. Also returns the codes, [chunks, N, outputs].
   */
  async run(id: string, input: tf.Tensor, options: BoardRunOptions = {}): Promise<{ output: tf.Tensor; codes: tf.Tensor3D }> {
    const node = this.nodes.get(id)
    if (!node) throw new Error(`Layer '${id}' is not mapped onto the board.`)
    const scales = this.plan.layers[id]!
    const slots = this.slots.get(id)!
    const { rows, outputShape } = tf.tidy(() => layerInputRows(input, node))
    const [n, inputs] = rows.shape
    const outputs = slots.filter((s) => s.chunk === 0).reduce((sum, s) => sum + s.cols, 0)
    const chunks = Math.ceil(inputs / this.plan.config.rows)
    const parts = tf.tidy(() => {
      const { positive, negative } = inputCodes(rows, scales, layerConfig(this.plan, id))
      return negative ? [positive, negative] : [positive]
    })
    rows.dispose()
    await this.board.set('gain', boardGain(scales.gain))
    const total = n * slots.length * parts.length
    let done = 0
    const perPart: Float32Array[] = []
    try {
      for (const part of parts) {
        const codes = Uint8Array.from(part.dataSync())
        const out = new Float32Array(chunks * n * outputs)
        for (const s of slots) {
          const vectors = new Uint8Array(n * s.rows)
          for (let v = 0; v < n; v++) vectors.set(codes.subarray(v * inputs + s.rowStart, v * inputs + s.rowStart + s.rows), v * s.rows)
          const answer = await this.board.run(s.slot, vectors, s.rows, {
            signal: options.signal,
            // Only when asked: over a board session every progress report is a message to the job.
            onProgress: options.onProgress && ((d) => options.onProgress?.(done + d, total)),
          })
          for (let v = 0; v < n; v++) for (let j = 0; j < s.cols; j++) out[(s.chunk * n + v) * outputs + s.colStart + j] = answer[v * s.cols + j]!
          done += n
        }
        perPart.push(out)
      }
    } finally {
      tf.dispose(parts)
    }
    const { bias } = this.net.weights(id)
    return tf.tidy(() => {
      const positive = tf.tensor3d(perPart[0]!, [chunks, n, outputs])
      const codes = perPart[1] ? tf.sub(positive, tf.tensor3d(perPart[1], [chunks, n, outputs])) : positive
      const y = tf.reshape(chunkCodesToOutput(codes as tf.Tensor3D, scales, this.plan.config), outputShape)
      return { output: bias ? tf.add(y, bias) : y, codes: codes as tf.Tensor3D }
    })
  }
}

export interface BoardForward {
  logits: tf.Tensor
  /** Per board layer: its input and its measured output, for comparisons and for fine-tuning. */
  inputs: Map<string, tf.Tensor>
  outputs: Map<string, tf.Tensor>
}

/** Overrides that return fixed tensors for some layers (the measured outputs): the rest of the network runs on the host. */
export function fixedOutputs(outputs: ReadonlyMap<string, tf.Tensor>): Map<string, ComputeOverride> {
  return new Map([...outputs].map(([id, value]) => [id, () => value]))
}

/**
 * A forward pass with the board layers measured, in network order: each layer's input is computed on the host from
 * the measured outputs before it, then run on the board. The caller disposes the returned tensors.
 */
export async function boardForward(net: Network, x: tf.Tensor, layers: BoardLayers, options: BoardRunOptions = {}): Promise<BoardForward> {
  const inputs = new Map<string, tf.Tensor>()
  const outputs = new Map<string, tf.Tensor>()
  const order = net.spec.nodes.map((n) => n.id).filter((id) => layers.layerIds.includes(id))
  try {
    for (const id of order) {
      const inputId = nodeInputs(net.spec.nodes.find((n) => n.id === id)!)[0]!
      const input = tf.tidy(() => {
        const values = net.activations(x, { hooks: { compute: fixedOutputs(outputs) } })
        return inputId === 'input' ? x.clone() : values.get(inputId)!.clone()
      })
      inputs.set(id, input)
      const { output, codes } = await layers.run(id, input, options)
      codes.dispose()
      outputs.set(id, output)
    }
    const logits = tf.tidy(() => net.forward(x, { hooks: { compute: fixedOutputs(outputs) } }))
    return { logits, inputs, outputs }
  } catch (error) {
    tf.dispose([...inputs.values(), ...outputs.values()])
    throw error
  }
}

/** Forward value of `measured`, gradient of `simulated`: the backward pass runs through the model. */
export function measuredWithModelGradient(simulated: tf.Tensor, measured: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((..._args: (tf.Tensor | tf.GradSaveFunc)[]) => ({ value: measured.clone(), gradFunc: (dy: tf.Tensor) => dy }))
  return op(simulated)
}
