// The compression-apply job: a policy applied to a model, retrained and tested; the compressed model is stored as
// this run's model (model/model.json), so every room can take it like any other model.
import type { Policy } from '../../contract/index.ts'
import { layersModelFiles } from '../../engine/model-files.ts'
import type { JobContext } from '../context.ts'
import { CompressionBench } from '../compression-bench.ts'
import { evaluate } from '../../engine/evaluate.ts'

export default async function compressionApplyJob(context: JobContext<'compression-apply'>): Promise<void> {
  const p = context.params
  context.progress(0, 'preparing', 'loading the model, the dataset and the compute backend')
  const bench = await CompressionBench.open(context, context.inputs.modelJson, context.inputs.dataset, {
    board: p.board ?? 'local',
    validationSamples: 100,
    retrainSamples: null,
    channelMultiple: p.channelMultiple,
    seed: p.seed,
  })
  try {
    const policy: Policy = p.policy
    const model = bench.compress(policy)
    try {
      context.param('architecture', bench.architecture)
      context.param('dataset', context.inputs.dataset.id)
      context.param('compressed_from', context.inputs.modelUuid)
      context.progress(0.05, 'retraining', `${p.epochs} epochs`)
      await bench.retrain(model, p.epochs, null, p.seed, (f) => context.progress(0.05 + 0.8 * f, 'retraining', `${Math.round(f * 100)}%`))
      context.progress(0.85, 'evaluating', 'test split')
      const tested = await evaluate(model.net, bench.dataset, bench.dataset.test, { hooks: model.hooks })
      const referenceTested = await evaluate(bench.reference, bench.dataset, bench.dataset.test)
      context.metric('test_accuracy', tested.accuracy, 0)
      context.metric('test_loss', tested.loss, 0)
      let latencyS: number | null = null
      let referenceLatencyS: number | null = null
      if (p.board !== null) {
        context.progress(0.9, 'measuring', `on '${p.board}'`)
        latencyS = await bench.measure(policy)
        referenceLatencyS = await bench.measure(bench.referencePolicy())
        context.metric('latency_s', latencyS, 0)
      }
      const costs = bench.costs(policy)
      const files = await layersModelFiles(model.net, {
        ...bench.metadata,
        spec: model.net.spec,
        compression: { policy: policy.layers, inputRanges: Object.fromEntries(model.ranges ?? []) },
      })
      for (const [name, content] of Object.entries(files)) context.artifact(`model/${name}`, content)
      context.result({
        modelUuid: context.inputs.modelUuid,
        architecture: bench.architecture,
        policy: policy.layers,
        referenceTestAccuracy: referenceTested.accuracy,
        testAccuracy: tested.accuracy,
        params: model.net.model.countParams(),
        referenceParams: bench.reference.model.countParams(),
        macs: costs.macs,
        bops: costs.bops,
        latencyS,
        referenceLatencyS,
      })
      context.progress(1, 'done', `test accuracy ${(tested.accuracy * 100).toFixed(1)}% (reference ${(referenceTested.accuracy * 100).toFixed(1)}%)`)
    } finally {
      model.dispose()
    }
  } finally {
    bench.dispose()
  }
}
