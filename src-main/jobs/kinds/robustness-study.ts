// The robustness study: trains every variant of the grid (float, noisy, QAT bits × scales, QAT + noise; with repeats),
// then measures each under global additive noise on a σ grid and, optionally, its walking-noise midpoints. Each
// variant's model and every measured cell are stored as they come, so a stopped study resumes where it stopped.
// A kill may land anywhere: model.json is written after the weights (its presence means a whole model), a variant's
// metrics come after its measurements, and `evaluated:<variant>` comes last; what a resumed attempt logs again is
// ignored by the store (one point per key and step).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { StudyParams, StudyVariant } from '../../contract/index.ts'
import { initBackend } from '../../engine/backend.ts'
import { withValidation, type Dataset } from '../../engine/data/dataset.ts'
import { loadDataset } from '../../engine/data/registry.ts'
import { evaluate } from '../../engine/evaluate.ts'
import { logGrid } from '../../engine/midpoint.ts'
import { importLayersModel, layersModelFiles, type ModelMetadata } from '../../engine/model-files.ts'
import { Network } from '../../engine/network.ts'
import { NoiseModel } from '../../contract/index.ts'
import { frozenQuantHooks } from '../../engine/quant.ts'
import { studyVariants } from '../../engine/robustness-study.ts'
import type { CellResult } from '../../engine/sweep.ts'
import { threadNoiseOf } from '../../engine/parallel-train/thread-noise.ts'
import { train } from '../../engine/train.ts'
import { searchMidpoints, walkingScopes } from '../../engine/walking-noise.ts'
import { architecture } from '../../engine/zoo.ts'
import type { JobContext, JobFunction } from '../context.ts'
import { trainingHooks, type TrainingRecipe } from '../training-hooks.ts'
import { inShare } from '../cluster/task-plan.ts'

/** Share of one variant's time spent training; the rest is the noise evaluation. */
const TRAIN_SHARE = 0.6

/** What a variant trains with, in the train job's terms. */
export function recipeOf(v: StudyVariant): TrainingRecipe {
  const noise = v.sigma === null ? undefined : { model: NoiseModel.parse({}), points: 'global' as const, sigma: v.sigma, theta: 0, rampEpochs: 0 }
  const qat =
    v.bits === null
      ? undefined
      : { weightBits: v.bits, granularity: 'channel' as const, symmetric: true, activationBits: v.bits, scaling: 'constant' as const, scale: v.scale! }
  return { noise, qat, seed: v.seed }
}

const studyJob: JobFunction<'robustness-study'> = async (context: JobContext<'robustness-study'>) => {
  const p = context.params
  context.progress(0, 'preparing', 'loading the dataset and the compute backend')
  context.param('backend', (await initBackend()).name)
  const dataset = withValidation(loadDataset(context.inputs.dataset), 0.1, p.seed)
  const variants = studyVariants(p)
  context.param('variants', variants.length)
  context.param('classes', dataset.classNames.length)
  const known = context.resume?.sweepCells ?? []

  // On a cluster each task trains and measures its share of the variants; locally one process does them all.
  const mine = inShare(variants, context.share)
  for (const [index, variant] of mine.entries()) {
    context.signal.throwIfAborted()
    if (context.resume?.lastSteps[`evaluated:${variant.id}`] !== undefined) continue
    const report = (fraction: number, phase: string, message: string) =>
      context.progress((index + fraction) / mine.length, phase, `${variant.id} (${index + 1} of ${mine.length}) · ${message}`)
    const { net, metadata } = await trainedVariant(context, dataset, variant, (f, m) => report(f * TRAIN_SHARE, 'training', m))
    try {
      const prefix = `${variant.id}/`
      const mine = known.filter((c) => c.scope.startsWith(prefix)).map((c) => ({ ...c, scope: c.scope.slice(prefix.length) }))
      await measureVariant(context, p, net, dataset, metadata, variant, mine, (f, m) => report(TRAIN_SHARE + f * (1 - TRAIN_SHARE), 'evaluating', m))
    } finally {
      net.dispose()
    }
  }
  context.result({ variants: variants.length, evaluated: mine.length })
  context.progress(1, 'done', `${mine.length} training(s) measured`)
}

/** The variant's model: read back when a previous attempt stored it, else trained now and stored. */
async function trainedVariant(
  context: JobContext<'robustness-study'>,
  dataset: Dataset,
  variant: StudyVariant,
  progress: (fraction: number, message: string) => void,
): Promise<{ net: Network; metadata: ModelMetadata }> {
  const p = context.params
  const folder = `variants/${variant.id}/model`
  const stored = join(context.artifactDir, folder, 'model.json')
  const testAccuracyKey = `test_accuracy:${variant.id}`
  if (existsSync(stored)) {
    const model = await importLayersModel(stored)
    if (context.resume?.lastSteps[testAccuracyKey] === undefined) {
      // The last attempt stopped between storing the model and logging its accuracy: the artifacts may be unrecorded too.
      for (const name of ['weights.bin', 'model.json']) context.artifact(`${folder}/${name}`, readFileSync(join(context.artifactDir, folder, name)))
      const frozen = model.metadata.quant
      const result = await evaluate(model.net, dataset, dataset.test, { hooks: frozen ? frozenQuantHooks(model.net, frozen) : undefined })
      context.metric(testAccuracyKey, result.accuracy, 0)
    }
    return model
  }

  const spec = architecture(p.architecture).build(dataset.sampleShape, dataset.classNames.length)
  const metadata: ModelMetadata = { spec, classNames: dataset.classNames, normalization: dataset.normalization, sampleShape: dataset.sampleShape }
  const net = new Network(spec, variant.seed)
  const recipe = recipeOf(variant)
  const hooks = await trainingHooks(net, dataset, recipe)
  // Noisy float variants pass their noise as data, so they train on worker threads too; QAT variants stay on one.
  const trainingNoise = recipe.noise && !recipe.qat ? threadNoiseOf(recipe.noise, variant.seed) : undefined
  await train(
    net,
    dataset,
    {
      epochs: p.epochs,
      batchSize: p.batchSize,
      optimizer: 'adam',
      learningRate: p.learningRate,
      schedule: 'cosine',
      seed: variant.seed,
      patience: 0,
      hooksForEpoch: trainingNoise ? undefined : hooks.hooksForEpoch,
      trainingNoise,
      workers: p.workers,
    },
    {
      signal: context.signal,
      // Float and noisy variants train on threads; QAT ones on one (their hooks are functions).
      onWorkers: (plan) => !context.resume && context.param(`train_workers:${variant.id}`, plan.workers),
      onBatch: (fraction, epoch, loss) => progress(fraction, `epoch ${epoch + 1} of ${p.epochs} · loss ${loss.toFixed(3)}`),
    },
  )
  const frozen = hooks.finish().quant
  if (frozen) metadata.quant = frozen
  const result = await evaluate(net, dataset, dataset.test, { hooks: frozen ? frozenQuantHooks(net, frozen) : undefined })
  const files = await layersModelFiles(net, metadata)
  // Weights first: model.json is what a resumed attempt looks for, so it must never exist without them.
  context.artifact(`${folder}/weights.bin`, files['weights.bin'])
  context.artifact(`${folder}/model.json`, files['model.json'])
  context.metric(testAccuracyKey, result.accuracy, 0)
  return { net, metadata }
}

/** Global additive noise over the σ grid, then (optionally) one point at a time; cells are stored under `<variant>/<scope>`. */
async function measureVariant(
  context: JobContext<'robustness-study'>,
  p: StudyParams,
  net: Network,
  dataset: Dataset,
  metadata: ModelMetadata,
  variant: StudyVariant,
  known: CellResult[],
  progress: (fraction: number, message: string) => void,
): Promise<void> {
  const ev = p.evaluation
  // The model's own normalisation, as the sweep job does.
  const data = { ...dataset, normalization: metadata.normalization }
  const base = metadata.quant ? frozenQuantHooks(net, metadata.quant) : undefined
  const noise = NoiseModel.parse({})
  const onCell = (cell: CellResult) => context.cells([{ ...cell, scope: `${variant.id}/${cell.scope}` }])
  const walking = ev.walking ? walkingScopes(net).filter((s) => s.kind === 'point' && net.point(s.point).op !== 'flatten') : []
  const globalShare = ev.walking ? 0.4 : 1

  const [global] = await searchMidpoints(
    net,
    data,
    data.test,
    [{ kind: 'global' }],
    { noise, seed: p.seed, limit: ev.limit, strategy: 'dense', sigmas: logGrid(ev.from, ev.to, ev.count), repeats: ev.repeats, known, base },
    { signal: context.signal, onCell, onProgress: (f) => progress(f * globalShare, 'global noise') },
  )

  const layers = walking.length
    ? await searchMidpoints(
        net,
        data,
        data.test,
        walking,
        {
          noise,
          seed: p.seed,
          limit: ev.limit,
          strategy: 'adaptive',
          // Single layers tolerate more noise than all of them at once: search a wider range than the global grid.
          adaptive: { range: [ev.from, ev.to * 1e3], repeats: ev.repeats, toleranceDecades: 0.1 },
          known,
          base,
        },
        { signal: context.signal, onCell, onProgress: (f) => progress(globalShare + f * (1 - globalShare), 'walking noise') },
      )
    : []
  // The variant's numbers only once all of it is measured, the marker last: a variant without it is measured again on
  // resume (from its stored cells), and a variant with it is complete.
  if (global!.estimate.sigma !== null) context.metric(`global_midpoint:${variant.id}`, global!.estimate.sigma, 0)
  context.metric(`clean_accuracy:${variant.id}`, global!.estimate.clean, 0)
  for (const layer of layers) if (layer.estimate.sigma !== null) context.metric(`midpoint:${variant.id}/${layer.scope}`, layer.estimate.sigma, 0)
  context.metric(`evaluated:${variant.id}`, 1, 0)
}

export default studyJob
