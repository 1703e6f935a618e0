// The train job: builds an architecture for a dataset, trains it with per-epoch metrics and checkpoints, evaluates it
// on the test split and stores the model (model/model.json + weights.bin) as artifacts of the run.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { initBackend } from '../../engine/backend.ts'
import { withValidation } from '../../engine/data/dataset.ts'
import { loadDataset } from '../../engine/data/registry.ts'
import { evaluate } from '../../engine/evaluate.ts'
import { importLayersModel, layersModelFiles, type ModelMetadata } from '../../engine/model-files.ts'
import { Network } from '../../engine/network.ts'
import { threadNoiseOf } from '../../engine/parallel-train/thread-noise.ts'
import { train } from '../../engine/train.ts'
import { networkWeightStats } from '../../engine/weight-stats.ts'
import { architecture } from '../../engine/zoo.ts'
import type { JobContext } from '../context.ts'
import { trainingHooks } from '../training-hooks.ts'

export default async function trainJob(context: JobContext<'train'>): Promise<void> {
  const p = context.params
  context.progress(0, 'preparing', 'loading the dataset and the compute backend')
  const backend = await initBackend()
  context.param('backend', backend.name)
  const dataset = withValidation(loadDataset(context.inputs.dataset), p.validationFraction, p.seed)
  const spec = architecture(p.architecture).build(dataset.sampleShape, dataset.classNames.length)
  const metadata: ModelMetadata = {
    spec,
    classNames: dataset.classNames,
    normalization: dataset.normalization,
    sampleShape: dataset.sampleShape,
    dataset: p.dataset,
  }

  const checkpoint = join(context.artifactDir, 'checkpoint', 'model.json')
  const lastEpoch = context.resume?.lastSteps['train_loss']
  const lastStep = context.resume?.lastSteps['step_loss'] ?? 0
  let net: Network
  let startEpoch = 0
  if (lastEpoch !== undefined && existsSync(checkpoint)) {
    net = (await importLayersModel(checkpoint)).net
    startEpoch = lastEpoch + 1
  } else {
    net = new Network(spec, p.seed)
  }
  context.param('parameters', net.model.countParams())
  context.param('steps_per_epoch', Math.ceil(dataset.train.count / p.batchSize))

  const saveModel = async (folder: string) => {
    const files = await layersModelFiles(net, metadata)
    for (const [name, content] of Object.entries(files)) context.artifact(`${folder}/${name}`, content)
  }

  const hooks = await trainingHooks(net, dataset, p, context.inputs.analogDevice)
  // Noise alone goes in as data, so worker threads can train with it; QAT and analog hooks are closures (one thread).
  const trainingNoise = p.noise && !p.qat && !p.analog ? threadNoiseOf(p.noise, p.seed) : undefined

  await train(
    net,
    dataset,
    { ...p, hooks: undefined, hooksForEpoch: trainingNoise ? undefined : hooks.hooksForEpoch, trainingNoise },
    {
      signal: context.signal,
      startEpoch,
      // How many threads trained, and why one when more could have (hooks, backend, size), is kept with the run: never
      // a silent fallback. Params are a setting, written by the first attempt (a resumed one keeps them).
      onWorkers: (plan) => {
        if (context.resume) return
        context.param('train_workers', plan.workers)
        if (plan.reason) context.param('train_workers_note', plan.reason)
      },
      onBatch: (fraction, epoch, loss) => context.progress(fraction * 0.97, 'training', `epoch ${epoch + 1} of ${p.epochs} · loss ${loss.toFixed(3)}`),
      // Per-step curves: step = batches done since the start, so they share an axis with the epochs (epoch e ends at step (e+1)·steps_per_epoch).
      onStep: (r) => {
        // A resumed run repeats the epoch it was stopped in: its steps logged before the stop are kept, not logged twice.
        if (r.step <= lastStep) return
        context.metric('step_loss', r.loss, r.step)
        context.metric('step_accuracy', r.accuracy, r.step)
      },
      onEpoch: async (r) => {
        context.metric('train_loss', r.trainLoss, r.epoch)
        context.metric('train_accuracy', r.trainAccuracy, r.epoch)
        if (r.validationLoss !== null) context.metric('val_loss', r.validationLoss, r.epoch)
        if (r.validationAccuracy !== null) context.metric('val_accuracy', r.validationAccuracy, r.epoch)
        context.metric('learning_rate', r.learningRate, r.epoch)
        context.metric('epoch_seconds', r.seconds, r.epoch)
        await saveModel('checkpoint')
      },
    },
  )

  context.progress(0.97, 'evaluating', 'test split')
  const stored = hooks.finish()
  if (stored.quant) metadata.quant = stored.quant
  if (stored.analog) metadata.analog = stored.analog
  const result = await evaluate(net, dataset, dataset.test, { hooks: hooks.evaluationHooks() })
  const testAccuracyFloat = stored.analog ? (await evaluate(net, dataset, dataset.test)).accuracy : null
  if (testAccuracyFloat !== null) context.metric('test_accuracy_float', testAccuracyFloat, 0)
  context.metric('test_accuracy', result.accuracy, 0)
  context.metric('test_loss', result.loss, 0)
  await saveModel('model')
  context.result({
    testAccuracy: result.accuracy,
    testLoss: result.loss,
    testAccuracyFloat,
    confusion: { classNames: dataset.classNames, matrix: result.confusion },
    weightStats: networkWeightStats(net),
  })
  context.progress(1, 'done', `test accuracy ${(result.accuracy * 100).toFixed(1)}%`)
  net.dispose()
}
