// benchside ensemble / uncertainty / active-learning: repulsive last-layer ensembles, their uncertainty and OOD metrics
// (also under noise), and pool-based active learning.
import type { Command } from 'commander'
import { ActiveLearningParams, EnsembleTrainParams, UncertaintyEvaluateParams, type UncertaintySummary } from '../contract/index.ts'
import { checked, keywordOrList, numberList, withDefault, type OpenApi } from './api.ts'
import { followJob, jobResult } from './jobs.ts'
import { executorOf, withExecutor } from './clusters.ts'
import { printJson, printTable } from './output.ts'

const fixed = (v: number | null) => (v === null ? null : v.toFixed(4))

function printSummary(summary: UncertaintySummary): void {
  printTable(
    ['metric', 'value'],
    Object.entries(summary).map(([key, value]) => [key, fixed(value)]),
  )
}

export function registerUncertaintyCommands(program: Command, openApi: OpenApi): void {
  const e = EnsembleTrainParams.shape
  const ensemble = program.command('ensemble').description('repulsive last-layer ensembles and their baselines')
  withExecutor(ensemble.command('train <model>'))
    .description("train M heads on the model's frozen body as repulsive particles, or a plain or deep ensemble (a job)")
    .option('--method <m>', withDefault('last-layer (heads on the body) or deep (M models from scratch)', e.method))
    .option('--heads <n>', withDefault('members', e.heads), Number)
    .option('--head-depth <n>', withDefault('layers per head: 1 or 2', e.headDepth), Number)
    .option('--repulsion <kind>', withDefault('function, weight or none', e.repulsion))
    .option('--form <form>', withDefault('wgd or svgd', e.form))
    .option('--samples <source>', withDefault('repulsion samples: train, augment or ood', e.samples))
    .option('--ood-dataset <id>', withDefault('OOD set (repulsion samples and OOD metrics), or none', e.oodDataset))
    .option('--repulsion-weight <w>', withDefault('repulsion weight', e.repulsionWeight), Number)
    .option('--epochs <n>', withDefault('epochs', e.epochs), Number)
    .option('--learning-rate <lr>', withDefault('Adam step size', e.learningRate), Number)
    .option('--train-samples <n>', 'training samples used (default: all)', Number)
    .option('--seed <n>', withDefault('seed', e.seed), Number)
    .option('--name <name>', 'a name for the run')
    .option('--json', 'print the result as JSON')
    .action(async (model: string, o) => {
      const params = checked(
        EnsembleTrainParams,
        {
          model,
          method: o.method,
          heads: o.heads,
          headDepth: o.headDepth,
          repulsion: o.repulsion,
          form: o.form,
          samples: o.samples,
          oodDataset: o.oodDataset === 'none' ? null : o.oodDataset,
          repulsionWeight: o.repulsionWeight,
          epochs: o.epochs,
          learningRate: o.learningRate,
          trainSamples: o.trainSamples,
          seed: o.seed,
        },
        'params',
      )
      const api = await openApi()
      const label =
        params.method === 'deep' ? 'deep ensemble' : `${params.repulsion === 'none' ? 'plain' : `${params.repulsion}-space ${params.samples}`} ensemble`
      const run = await api.startJob({
        kind: 'ensemble-train',
        name: o.name ?? `${label} ×${params.heads} of ${model.slice(0, 8)}`,
        params,
        executor: executorOf(o),
      })
      const done = await followJob(api, run, Boolean(o.json))
      if (done.status !== 'FINISHED') return void (process.exitCode = 1)
      const result = await jobResult(api, done.uuid, 'ensemble-train')
      if (o.json) return printJson(result)
      console.log(`Ensemble ${done.uuid.slice(0, 8)}: ${result.members} members on ${result.dataset}`)
      printSummary(result.summary)
    })

  const u = UncertaintyEvaluateParams.shape
  program
    .command('uncertainty')
    .description('uncertainty, calibration and OOD detection of ensembles and models')
    .command('eval <ensemble>')
    .description('evaluate an ensemble run (or any model, as an ensemble of one), optionally under noise (a job)')
    .option('--dataset <id>', 'in-distribution test set (default: the model’s)')
    .option('--ood-dataset <id>', withDefault('OOD set, or none', u.oodDataset))
    .option('--limit <n>', 'test samples evaluated (default: all)', Number)
    .option('--noise-sigma <list>', 'σ values of noise injected into the body, e.g. 0.1,0.5,2')
    .option('--noise-point <id>', 'injection point of the noise, or global', 'global')
    .option('--analog [device]', 'run the body on the analog model: the nominal device, or a calibrated one')
    .option('--analog-layers <which>', 'dense, all, or a list of layer ids', 'dense')
    .option('--seed <n>', withDefault('seed', u.seed), Number)
    .option('--json', 'print the result as JSON')
    .action(async (ensemble: string, o) => {
      const sigmas = numberList(o.noiseSigma)
      const params = checked(
        UncertaintyEvaluateParams,
        {
          ensemble,
          dataset: o.dataset,
          oodDataset: o.oodDataset === 'none' ? null : o.oodDataset,
          limit: o.limit,
          noise: sigmas ? { point: o.noisePoint, sigmas } : undefined,
          analog:
            o.analog === undefined
              ? undefined
              : { device: typeof o.analog === 'string' ? o.analog : undefined, layers: keywordOrList(o.analogLayers, ['dense', 'all']) },
          seed: o.seed,
        },
        'params',
      )
      const api = await openApi()
      const done = await followJob(api, await api.startJob({ kind: 'uncertainty-evaluate', params }), Boolean(o.json))
      if (done.status !== 'FINISHED') return void (process.exitCode = 1)
      const result = await jobResult(api, done.uuid, 'uncertainty-evaluate')
      if (o.json) return printJson(result)
      printSummary(result.summary)
      if (result.noise) {
        console.log(`Under noise at ${result.noise.point}:`)
        printTable(
          ['σ', 'accuracy', 'ECE', 'mean epistemic', 'mean entropy'],
          result.noise.curve.map((c) => [c.sigma, fixed(c.accuracy), fixed(c.ece), fixed(c.meanEpistemic), fixed(c.meanEntropy)]),
        )
      }
    })

  const a = ActiveLearningParams.shape
  program
    .command('active-learning <model>')
    .description("pool-based active learning on the model's frozen body: test accuracy and ECE per round (a job)")
    .option('--acquire <kind>', withDefault('bald, entropy, margin or random', a.acquire))
    .option('--initial <n>', withDefault('labelled samples at the start', a.initial), Number)
    .option('--per-round <n>', withDefault('samples labelled per round', a.perRound), Number)
    .option('--rounds <n>', withDefault('rounds', a.rounds), Number)
    .option('--heads <n>', withDefault('ensemble heads', a.heads), Number)
    .option('--steps <n>', withDefault('training steps per round', a.steps), Number)
    .option('--learning-rate <lr>', withDefault('Adam step size', a.learningRate), Number)
    .option('--pool <n>', withDefault('pool size (from the training split)', a.pool), Number)
    .option('--seed <n>', withDefault('seed', a.seed), Number)
    .option('--json', 'print the result as JSON')
    .action(async (model: string, o) => {
      const params = checked(
        ActiveLearningParams,
        {
          model,
          acquire: o.acquire,
          initial: o.initial,
          perRound: o.perRound,
          rounds: o.rounds,
          heads: o.heads,
          steps: o.steps,
          learningRate: o.learningRate,
          pool: o.pool,
          seed: o.seed,
        },
        'params',
      )
      const api = await openApi()
      const done = await followJob(
        api,
        await api.startJob({ kind: 'active-learning', name: `active learning (${params.acquire}) on ${model.slice(0, 8)}`, params }),
        Boolean(o.json),
      )
      if (done.status !== 'FINISHED') return void (process.exitCode = 1)
      const result = await jobResult(api, done.uuid, 'active-learning')
      if (o.json) return printJson(result)
      printTable(
        ['round', 'labelled', 'test accuracy', 'ECE'],
        result.rounds.map((r) => [r.round, r.labelled, fixed(r.testAccuracy), fixed(r.ece)]),
      )
    })
}
