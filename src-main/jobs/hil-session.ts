// What both hardware-in-the-loop jobs set up: the model and dataset, the board's device model (calibrated, or nominal
// with a warning), the analog mapping (the model's own, or planned now), the board slots; and the measured and
// simulated evaluation of a test subset with per-layer comparisons.
import * as tf from '@tensorflow/tfjs'
import type { HilResult } from '../contract/index.ts'
import { DEFAULT_ARRAY, nominalDevice, type AnalogDeviceModel } from '../engine/analog.ts'
import { planHooks, planNetwork, selectAnalogLayers, type AnalogPlan, type LayerSelection } from '../engine/analog-plan.ts'
import { initBackend } from '../engine/backend.ts'
import { batchTensors, type Dataset } from '../engine/data/dataset.ts'
import { loadDataset, type DatasetSource } from '../engine/data/registry.ts'
import { pointLabel } from '../engine/graph.ts'
import { LayerComparison } from '../engine/layer-comparison.ts'
import { importLayersModel, type ModelMetadata } from '../engine/model-files.ts'
import type { Network } from '../engine/network.ts'
import type { DeviceInfo } from '../hardware/analog-protocol/index.ts'
import { BoardLayers, boardForward } from './analog-hil.ts'
import type { BoardSession } from './board-client.ts'
import type { JobContext } from './context.ts'

export interface HilSession {
  net: Network
  metadata: ModelMetadata
  dataset: Dataset
  info: DeviceInfo
  device: AnalogDeviceModel
  calibrated: boolean
  plan: AnalogPlan
  layers: BoardLayers
}

export async function openHilSession(
  board: BoardSession,
  inputs: { modelJson: string; dataset: DatasetSource },
  selection: LayerSelection,
): Promise<HilSession> {
  await initBackend()
  const { net, metadata } = await importLayersModel(inputs.modelJson)
  const dataset = { ...loadDataset(inputs.dataset), normalization: metadata.normalization }
  const { info, calibration } = board
  const device = calibration?.model ?? nominalDevice(info.cols)
  let plan = metadata.analog
  if (!plan) {
    // A float model: mapped now, for this board, from the first training samples.
    const config = {
      ...DEFAULT_ARRAY,
      rows: Math.min(DEFAULT_ARRAY.rows, info.rows),
      inputBits: info.inputBits,
      weightBits: info.weightBits,
      adcBits: info.adcBits,
    }
    const sample = batchTensors(
      dataset,
      dataset.train,
      Array.from({ length: Math.min(512, dataset.train.count) }, (_, i) => i),
    )
    plan = planNetwork(net, sample.x, selectAnalogLayers(net, selection), device, config, 'ordered', null)
    tf.dispose([sample.x, sample.y])
  }
  const layers = new BoardLayers(board.board, info, net, plan)
  return { net, metadata, dataset, info, device, calibrated: calibration !== null, plan, layers }
}

/**
 * The frame of both HIL jobs: a session on the job's board (connecting first, queueing behind other jobs on it), the
 * model set up for it, the params that say which device and layers it ran on, and the network released at the end.
 */
export async function withHilSession<K extends 'hil-evaluate' | 'hil-finetune'>(
  context: JobContext<K>,
  run: (session: HilSession) => Promise<void>,
): Promise<void> {
  const p = context.params
  context.progress(0, 'connecting', `board ${p.board}`)
  await context.boards.using(
    p.board,
    async (board) => {
      const session = await openHilSession(board, context.inputs, p.layers)
      try {
        context.param('device', session.info.deviceId)
        context.param('calibrated', session.calibrated)
        context.param('analog_layers', session.layers.layerIds.join(','))
        await run(session)
      } finally {
        session.net.dispose()
      }
    },
    { signal: context.signal },
  )
}

export interface Accuracies {
  float: number
  associative: number
  ordered: number
  measured: number
}

export interface EvaluationCallbacks {
  signal?: AbortSignal
  onBatch?: (done: number, total: number, partial: { accuracy: Accuracies; perLayer: HilResult['perLayer'] }) => void
}

/** The first `limit` test samples: measured on the board and simulated (float, associative, ordered) on the same inputs. */
export async function evaluateOnBoard(
  session: HilSession,
  limit: number,
  seed: number,
  callbacks: EvaluationCallbacks = {},
): Promise<{ accuracy: Accuracies; perLayer: HilResult['perLayer']; samples: number }> {
  const { net, dataset, plan, device, layers } = session
  const count = Math.min(limit, dataset.test.count)
  const batch = 200
  const correct = { float: 0, associative: 0, ordered: 0, measured: 0 }
  const comparisons = new Map(
    layers.layerIds.map((id) => [
      id,
      new LayerComparison(
        id,
        pointLabel(net.spec.nodes.find((n) => n.id === id)!),
        net.point(id).outputShape.reduce((a, b) => a * b, 1),
      ),
    ]),
  )
  const hooks = { associative: planHooks(net, plan, device, 'associative', seed), ordered: planHooks(net, plan, device, 'ordered', seed) }
  await layers.load({ signal: callbacks.signal })
  let done = 0
  for (let start = 0; start < count; start += batch) {
    const indices = Array.from({ length: Math.min(batch, count - start) }, (_, i) => start + i)
    const { x, y } = batchTensors(dataset, dataset.test, indices)
    try {
      const staged = await boardForward(net, x, layers, { signal: callbacks.signal })
      try {
        const hits = (logits: tf.Tensor) => tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), y), 'int32')).dataSync()[0]!)
        correct.measured += hits(staged.logits)
        correct.float += tf.tidy(() => hits(net.forward(x)))
        correct.associative += tf.tidy(() => hits(net.forward(x, { hooks: hooks.associative })))
        correct.ordered += tf.tidy(() => hits(net.forward(x, { hooks: hooks.ordered })))
        // Per layer: each simulated variant on exactly the inputs the board saw.
        for (const id of layers.layerIds) {
          const input = staged.inputs.get(id)!
          const node = net.spec.nodes.find((n) => n.id === id)!
          const weights = net.weights(id)
          const [ordered, associative, measured] = tf.tidy(() => [
            hooks.ordered.compute!.get(id)!(input, weights, node, false).dataSync(),
            hooks.associative.compute!.get(id)!(input, weights, node, false).dataSync(),
            staged.outputs.get(id)!.dataSync(),
          ])
          comparisons.get(id)!.add(ordered!, associative!, measured!)
        }
      } finally {
        tf.dispose([staged.logits, ...staged.inputs.values(), ...staged.outputs.values()])
      }
    } finally {
      tf.dispose([x, y])
    }
    done += indices.length
    const accuracy = {
      float: correct.float / done,
      associative: correct.associative / done,
      ordered: correct.ordered / done,
      measured: correct.measured / done,
    }
    callbacks.onBatch?.(done, count, { accuracy, perLayer: [...comparisons.values()].map((c) => c.result()) })
  }
  return {
    accuracy: { float: correct.float / done, associative: correct.associative / done, ordered: correct.ordered / done, measured: correct.measured / done },
    perLayer: [...comparisons.values()].map((c) => c.result()),
    samples: done,
  }
}
