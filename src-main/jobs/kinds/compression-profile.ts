// The compression-profile job: times a model's uniform keep × bits grid on a board, so the policy editor and the
// searches can predict any policy's latency. The latency table keeps every point; a second profile measures nothing.
import type { JobContext } from '../context.ts'
import { CompressionBench } from '../compression-bench.ts'

export default async function compressionProfileJob(context: JobContext<'compression-profile'>): Promise<void> {
  const p = context.params
  context.progress(0, 'preparing', 'loading the model')
  const bench = await CompressionBench.open(context, context.inputs.modelJson, context.inputs.dataset, {
    board: p.board,
    validationSamples: 100,
    retrainSamples: null,
    channelMultiple: 1,
    seed: 1,
  })
  try {
    const { measured, points } = await bench.profile((done, total) =>
      context.progress(done / total, 'profiling', `${done} of ${total} grid points on '${p.board}'`),
    )
    context.param('board', p.board)
    context.result({ modelUuid: context.inputs.modelUuid, board: p.board, measured, points })
    context.progress(1, 'done', `${points} grid points (${measured} measured now, ${points - measured} from the latency table)`)
  } finally {
    bench.dispose()
  }
}
