// The layer-latency job: a model's dense and conv layers timed on a board, under an optional per-layer policy.
import { layerTimingKey, measureLayerLatency } from '../../hardware/layer-latency.ts'
import type { JobContext, JobFunction } from '../context.ts'

const layerLatencyJob: JobFunction<'layer-latency'> = async (context: JobContext<'layer-latency'>, services) => {
  if (!services) throw new Error('The layer-latency job runs in the main process, where the board lock lives.')
  const { layers, skipped } = context.inputs
  const policy = context.params.policy ?? null
  if (policy && policy.length !== layers.length) {
    throw new Error(`The policy has ${policy.length} entries but the model has ${layers.length} dense/conv layers (${layers.map((l) => l.id).join(', ')}).`)
  }
  context.progress(0, 'waiting', `board ${context.params.board}`)
  const result = await services.boards.withBoard(
    context.params.board,
    context.runUuid,
    (board) => {
      context.progress(0.1, 'measuring', `${layers.length} layers`)
      return measureLayerLatency(board, layers, policy, { signal: context.signal })
    },
    { signal: context.signal, onWait: (message) => context.progress(0, 'waiting', message) },
  )
  context.param('board', context.params.board)
  context.param('model_uuid', context.inputs.modelUuid)
  // What the timing depends on, so another model of the same architecture and layer shapes finds it (getLayerLatency).
  context.param('layers_key', layerTimingKey(context.inputs.architecture, layers, policy))
  result.layers.forEach((l, i) => context.metric('layer_latency_s', l.medianS, i))
  context.metric('total_latency_s', result.totalS, 0)
  context.result({ ...result, skipped })
  context.progress(1, 'done', `total ${(result.totalS * 1e3).toFixed(3)} ms`)
}

export default layerLatencyJob
