// The active-learning job: pool-based, on a trained model's frozen body. Start with `initial` labelled samples of the
// pool; each round train a plain last-layer ensemble on the labelled ones, record test accuracy and ECE, then label the
// `perRound` pool samples the acquisition function ranks highest. The labelled set is checkpointed after every round,
// so a killed run resumes at the round it was in.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { ActiveLearningResult, type Acquisition } from '../../contract/index.ts'
import { initBackend } from '../../engine/backend.ts'
import { take, type Dataset } from '../../engine/data/dataset.ts'
import { loadDataset } from '../../engine/data/registry.ts'
import { importLayersModel } from '../../engine/model-files.ts'
import { seededRandom, shuffled } from '../../engine/random.ts'
import { eceOf, reliabilityDiagram } from '../../engine/uncertainty/calibration.ts'
import { predictMembers, trainEnsemble } from '../../engine/uncertainty/ensemble-train.ts'
import { accuracy, predictiveMean, uncertaintyDecomposition } from '../../engine/uncertainty/metrics.ts'
import type { JobContext } from '../context.ts'

const CHECKPOINT = 'active/state.json'
const State = z.object({ labelled: z.array(z.number().int()), rounds: ActiveLearningResult.shape.rounds })

export default async function activeLearningJob(context: JobContext<'active-learning'>): Promise<void> {
  const p = context.params
  context.progress(0, 'preparing', 'loading the model and the dataset')
  const backend = await initBackend()
  context.param('backend', backend.name)
  const { net, metadata } = await importLayersModel(context.inputs.modelJson)
  try {
    const loaded = loadDataset(context.inputs.dataset)
    const dataset: Dataset = { ...loaded, normalization: metadata.normalization }
    const classes = dataset.classNames.length
    const random = seededRandom(p.seed)
    const pool = shuffled([...Array(dataset.train.count).keys()], random).slice(0, p.pool ?? dataset.train.count)
    if (p.initial + p.rounds * p.perRound > pool.length) {
      throw new Error(`${p.initial} + ${p.rounds} rounds × ${p.perRound} samples exceed the pool of ${pool.length}; use fewer rounds or a larger pool.`)
    }
    const file = join(context.artifactDir, CHECKPOINT)
    const saved = context.resume && existsSync(file) ? State.safeParse(JSON.parse(readFileSync(file, 'utf8'))) : null
    const state = saved?.success ? saved.data : { labelled: pool.slice(0, p.initial), rounds: [] }
    const report = () => context.result({ model: context.inputs.modelUuid, acquire: p.acquire, rounds: state.rounds })

    for (let round = state.rounds.length; round < p.rounds + 1; round++) {
      const fraction = (done: number) => (round + done) / (p.rounds + 1)
      const labelledSet = new Set(state.labelled)
      const labelled: Dataset = { ...dataset, train: take(dataset.train, state.labelled, dataset.sampleShape), validation: null }
      const batchSize = Math.min(64, state.labelled.length)
      const epochs = Math.ceil(p.steps / Math.ceil(state.labelled.length / batchSize))
      const heads = await trainEnsemble(
        net,
        labelled,
        { heads: p.heads, repulsion: 'none', epochs, batchSize, learningRate: p.learningRate, seed: p.seed + round },
        { signal: context.signal, onBatch: (f) => context.progress(fraction(f * 0.7), 'training', `round ${round} · ${state.labelled.length} labelled`) },
      )
      try {
        const members = await predictMembers(net, heads, dataset, dataset.test)
        const mean = predictiveMean(members, classes)
        const entry = {
          round,
          labelled: state.labelled.length,
          testAccuracy: accuracy(mean, dataset.test.y, classes),
          ece: eceOf(reliabilityDiagram(mean, dataset.test.y, classes)),
        }
        // The last round only measures; the others then acquire the next batch of labels.
        if (round < p.rounds) {
          context.progress(fraction(0.8), 'acquiring', `${p.acquire}: ${p.perRound} of ${pool.length - state.labelled.length}`)
          const candidates = pool.filter((i) => !labelledSet.has(i))
          const unlabelled: Dataset = { ...dataset, train: take(dataset.train, candidates, dataset.sampleShape) }
          const scores = acquisitionScores(
            p.acquire,
            await predictMembers(net, heads, unlabelled, unlabelled.train),
            classes,
            seededRandom(p.seed * 31 + round),
          )
          const chosen = [...candidates.keys()].sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, p.perRound)
          state.labelled = [...state.labelled, ...chosen.map((k) => candidates[k]!)]
        }
        state.rounds = [...state.rounds, entry]
        context.artifact(CHECKPOINT, JSON.stringify(state))
        context.metric('test_accuracy', entry.testAccuracy, round)
        context.metric('ece', entry.ece, round)
        context.metric('labelled', entry.labelled, round)
        report()
      } finally {
        heads.dispose()
      }
    }
    const last = state.rounds.at(-1)!
    context.progress(1, 'done', `${last.labelled} labelled · accuracy ${(last.testAccuracy * 100).toFixed(1)}%`)
  } finally {
    net.dispose()
  }
}

/** Higher is acquired first. BALD: mutual information; entropy: predictive entropy; margin: 1 − (p₁ − p₂); random. */
export function acquisitionScores(kind: Acquisition, members: Float32Array[], classes: number, random: () => number): Float64Array {
  const count = members[0]!.length / classes
  if (kind === 'random') return Float64Array.from({ length: count }, () => random())
  if (kind === 'bald' || kind === 'entropy') {
    const parts = uncertaintyDecomposition(members, classes)
    return kind === 'bald' ? parts.epistemic : parts.total
  }
  const mean = predictiveMean(members, classes)
  return Float64Array.from({ length: count }, (_, n) => {
    let first = 0
    let second = 0
    for (let c = 0; c < classes; c++) {
      const v = mean[n * classes + c]!
      if (v > first) [first, second] = [v, first]
      else if (v > second) second = v
    }
    return 1 - (first - second)
  })
}
