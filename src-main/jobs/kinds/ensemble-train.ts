// The ensemble-train job: M heads on a trained model's frozen body, trained as repulsive particles (or plainly), or M
// models of its architecture trained from scratch (a deep ensemble); then its uncertainty metrics on the test split
// against the OOD set. The ensemble is stored as artifacts of the run: ensemble/heads.json, or ensemble/member-m/.
import { initBackend } from '../../engine/backend.ts'
import { take, withValidation, type Dataset } from '../../engine/data/dataset.ts'
import { loadDataset } from '../../engine/data/registry.ts'
import { importLayersModel, layersModelFiles } from '../../engine/model-files.ts'
import { Network } from '../../engine/network.ts'
import { seededRandom, shuffled } from '../../engine/random.ts'
import { train } from '../../engine/train.ts'
import { trainEnsemble } from '../../engine/uncertainty/ensemble-train.ts'
import { augmentSampler, oodSampler, trainSampler } from '../../engine/uncertainty/repulsion-samples.ts'
import { summarize } from '../../engine/uncertainty/summary.ts'
import type { JobContext } from '../context.ts'
import { loadEnsemble, type EnsembleSource } from '../ensembles.ts'

export default async function ensembleTrainJob(context: JobContext<'ensemble-train'>): Promise<void> {
  const p = context.params
  context.progress(0, 'preparing', 'loading the model, the datasets and the compute backend')
  const backend = await initBackend()
  context.param('backend', backend.name)
  const { net, metadata } = await importLayersModel(context.inputs.modelJson)
  const loaded = loadDataset(context.inputs.dataset)
  const dataset: Dataset = { ...loaded, normalization: metadata.normalization }
  const ood = context.inputs.oodDataset ? { ...loadDataset(context.inputs.oodDataset), normalization: metadata.normalization } : null
  if (ood && ood.sampleShape.join() !== dataset.sampleShape.join()) {
    throw new Error(
      `The OOD set ${ood.name} has ${ood.sampleShape.join('×')} samples but ${dataset.name} has ${dataset.sampleShape.join('×')}; they must match.`,
    )
  }
  const training =
    p.trainSamples === null
      ? dataset
      : {
          ...dataset,
          train: take(dataset.train, shuffled([...Array(dataset.train.count).keys()], seededRandom(p.seed)).slice(0, p.trainSamples), dataset.sampleShape),
        }
  const progress = (fraction: number, message: string) => context.progress(0.02 + 0.88 * fraction, 'training', message)

  let source: EnsembleSource
  try {
    if (p.method === 'last-layer') {
      const samples =
        p.samples === 'ood'
          ? ood
            ? oodSampler(ood, p.seed, dataset)
            : null
          : p.samples === 'augment'
            ? augmentSampler(training, p.seed)
            : trainSampler(training, p.seed)
      if (!samples) throw new Error(`Repulsion on OOD samples needs an OOD dataset; none was given.`)
      const heads = await trainEnsemble(
        net,
        { ...training, validation: null },
        {
          heads: p.heads,
          headDepth: p.headDepth,
          init: p.init,
          repulsion: p.repulsion,
          form: p.form,
          repulsionWeight: p.repulsionWeight,
          samples,
          epochs: p.epochs,
          batchSize: p.batchSize,
          learningRate: p.learningRate,
          weightDecay: p.weightDecay,
          seed: p.seed,
        },
        {
          signal: context.signal,
          onBatch: (fraction, loss) => progress(fraction, `loss ${loss.toFixed(3)}`),
          onEpoch: (r) => {
            context.metric('train_loss', r.trainLoss, r.epoch)
            context.metric('train_accuracy', r.trainAccuracy, r.epoch)
          },
        },
      )
      context.artifact('ensemble/heads.json', JSON.stringify(heads.toJSON()))
      heads.dispose()
      source = { kind: 'last-layer', modelJson: context.inputs.modelJson, headsFile: `${context.artifactDir}/ensemble/heads.json` }
    } else {
      // A deep ensemble: member m is the architecture trained from scratch with seed + m, as the train job would.
      const files: string[] = []
      for (let m = 0; m < p.heads; m++) {
        const member = new Network(metadata.spec, p.seed + m)
        try {
          await train(
            member,
            withValidation(training, 0, p.seed + m),
            {
              epochs: p.epochs,
              batchSize: p.batchSize,
              optimizer: 'adam',
              learningRate: 2e-3,
              schedule: 'cosine',
              seed: p.seed + m,
              patience: 0,
              workers: p.workers,
            },
            {
              signal: context.signal,
              onBatch: (f, _e, loss) => progress((m + f) / p.heads, `member ${m + 1} of ${p.heads} · loss ${loss.toFixed(3)}`),
              onWorkers: (plan) => m === 0 && !context.resume && context.param('train_workers', plan.workers),
            },
          )
          const saved = await layersModelFiles(member, metadata)
          for (const [name, content] of Object.entries(saved)) context.artifact(`ensemble/member-${m}/${name}`, content)
          files.push(`${context.artifactDir}/ensemble/member-${m}/model.json`)
        } finally {
          member.dispose()
        }
      }
      source = { kind: 'deep', memberModelJsons: files }
    }
  } finally {
    net.dispose()
  }

  context.progress(0.9, 'evaluating', 'test split and OOD set')
  const ensemble = await loadEnsemble(source)
  try {
    const members = await ensemble.predict(dataset, dataset.test)
    const oodMembers = ood ? await ensemble.predict(ood, ood.test) : undefined
    const summary = summarize({ members, labels: dataset.test.y, classes: dataset.classNames.length, oodMembers })
    for (const [key, value] of Object.entries(summary)) if (typeof value === 'number') context.metric(key, value, 0)
    context.result({
      model: context.inputs.modelUuid,
      method: p.method,
      members: ensemble.members,
      repulsion: p.method === 'deep' ? 'none' : p.repulsion,
      samples: p.method === 'deep' || p.repulsion === 'none' ? null : p.samples,
      dataset: dataset.id,
      summary: { ...nullOod(), ...summary },
    })
    context.progress(1, 'done', `accuracy ${(summary.accuracy * 100).toFixed(1)}% · ECE ${summary.ece.toFixed(3)}`)
  } finally {
    ensemble.dispose()
  }
}

/** OOD metrics default to null: the summary leaves them out when there is no OOD set. */
export function nullOod() {
  return { aurocEntropy: null, aurocMi: null, auprEntropy: null, auprMi: null, fpr95Entropy: null, fpr95Mi: null }
}
