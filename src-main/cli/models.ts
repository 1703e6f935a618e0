// benchside data list|import|show, models list|show|export|import, train, eval
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { AnalogTraining, EvaluateParams, metricNumber, modelMethods, NoiseModel, TrainParams, type RunSummary } from '../contract/index.ts'
import { checked, keywordOrList, withDefault, type OpenApi } from './api.ts'
import { followJob, jobResult } from './jobs.ts'
import { executorOf, withExecutor } from './clusters.ts'
import { formatTime, printJson, printTable } from './output.ts'

const percent = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`)

/** An import that did not finish: followJob said why on stderr; --json gets the run. */
function failed(run: RunSummary, json: boolean): void {
  if (json) printJson(run)
  process.exitCode = run.status === 'KILLED' ? 130 : 1
}

export function registerModelCommands(program: Command, openApi: OpenApi): void {
  const data = program.command('data').description('datasets: built-in and imported')
  data
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const list = await (await openApi()).listDatasets({})
      if (o.json) return printJson(list)
      printTable(
        ['ID', 'NAME', 'ORIGIN', 'SAMPLE', 'CLASSES', 'TRAIN', 'TEST'],
        list.map((d) => [d.id, d.name, d.origin, d.sampleShape.join('×'), d.classNames.length, d.counts.train, d.counts.test]),
      )
    })
  data
    .command('show <id>')
    .option('--json', 'print JSON')
    .action(async (id: string, o) => {
      const d = await (await openApi()).getDataset({ id, samplesPerClass: 0 })
      if (o.json) return printJson(d)
      console.log(`${d.name} (${d.id}) — ${d.description}`)
      console.log(`samples ${d.sampleShape.join('×')} · train ${d.counts.train} · test ${d.counts.test}`)
      printTable(
        ['CLASS', 'NAME', 'TRAIN', 'TEST'],
        d.classNames.map((n, i) => [i, n, d.classCounts.train[i]!, d.classCounts.test[i]!]),
      )
    })
  data
    .command('import <path>')
    .description(
      'a folder of four IDX files (MNIST layout), an NPZ with x_train, y_train, x_test, y_test, or a folder with one subfolder of .wav files per class',
    )
    .option('--name <name>', 'a name for the dataset')
    .option('--json', 'print JSON')
    .action(async (path: string, o) => {
      const api = await openApi()
      const run = await api.importDataset({ path: resolve(path), name: o.name })
      if (!o.json) process.stderr.write(`Importing ${resolve(path)} (run ${run.uuid.slice(0, 8)}); Ctrl-C cancels.\n`)
      const done = await followJob(api, run, Boolean(o.json))
      if (done.status !== 'FINISHED') return failed(done, Boolean(o.json))
      const d = await jobResult(api, done.uuid, 'dataset-import')
      if (o.json) return printJson(d)
      console.log(
        `Imported ${d.name} as '${d.id}': ${d.counts.train} train / ${d.counts.test} test samples of ${d.sampleShape.join('×')}, ${d.classNames.length} classes.`,
      )
    })

  const models = program.command('models').description('architectures and trained or imported models')
  models
    .command('list')
    .option('--architectures', 'list the built-in architectures instead')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const api = await openApi()
      if (o.architectures) {
        const list = await api.listArchitectures({})
        return o.json
          ? printJson(list)
          : printTable(
              ['ARCHITECTURE', 'WHAT'],
              list.map((a) => [a.id, a.summary]),
            )
      }
      const list = await api.listModels({})
      if (o.json) return printJson(list)
      if (!list.length) return console.log('No models yet. Train one with: benchside train --model lenet5-bn --epochs 5')
      printTable(
        ['ID', 'NAME', 'ARCHITECTURE', 'DATASET', 'TEST ACC', 'ON BOARD', 'BACKEND', 'CREATED'],
        list.map((m) => [
          m.id.slice(0, 8),
          m.name,
          m.architecture,
          m.dataset,
          // The whole test split, and apart from it what an analog board measured on a few samples (HIL fine-tuning).
          percent(m.testAccuracy),
          m.boardAccuracy === null ? '-' : `${percent(m.boardAccuracy)} of ${m.boardSamples ?? '?'}`,
          m.backend ?? (m.device ? 'board' : 'not recorded'),
          formatTime(m.createdAt),
        ]),
      )
    })
  models
    .command('show <model>')
    .description('a model (or, with --architecture, an architecture) with its layers and injection points')
    .option('--architecture', 'treat <model> as an architecture id')
    .option('--dataset <id>', withDefault('dataset for the input shape, with --architecture', modelMethods.describeArchitecture.args.shape.dataset))
    .option('--json', 'print JSON')
    .action(async (id: string, o) => {
      const api = await openApi()
      const points = o.architecture ? await api.describeArchitecture({ architecture: id, dataset: o.dataset }) : (await api.getModel({ model: id })).points
      if (o.json) return printJson(points)
      printTable(
        ['POINT', 'LABEL', 'OP', 'OUTPUT', 'MACS', 'PARAMS'],
        points.map((p) => [p.id, p.label, p.op, p.outputShape.join('×'), p.macs, p.params]),
      )
    })
  models
    .command('export <model> <path>')
    .description('tfjs LayersModel into the folder <path>, or --npz weights into the file <path>')
    .option('--npz', 'weights-only NPZ (names in docs/model-files.md)')
    .option('--force', 'replace files that exist already')
    .action(async (model: string, path: string, o) => {
      const { files } = await (await openApi()).exportModel({ model, path: resolve(path), format: o.npz ? 'npz' : 'layers', overwrite: o.force === true })
      console.log(`Wrote ${files.join(', ')}`)
    })
  models
    .command('import <path>')
    .description('a model.json (tfjs LayersModel) or .npz weights; NPZ needs --architecture and --dataset')
    .option('--architecture <id>', 'the architecture the weights belong to')
    .option('--dataset <id>', 'the dataset the model was trained on')
    .option('--name <name>', 'a name for the model')
    .option('--json', 'print JSON')
    .action(async (path: string, o) => {
      const api = await openApi()
      const run = await api.importModel({ path: resolve(path), architecture: o.architecture, dataset: o.dataset, name: o.name })
      if (!o.json) process.stderr.write(`Importing ${resolve(path)} (run ${run.uuid.slice(0, 8)}); Ctrl-C cancels.\n`)
      const done = await followJob(api, run, Boolean(o.json))
      if (done.status !== 'FINISHED') return failed(done, Boolean(o.json))
      if (o.json) return printJson((await api.listModels({})).find((m) => m.id === done.uuid) ?? null)
      const { architecture, weights } = await jobResult(api, done.uuid, 'model-import')
      console.log(`Imported ${architecture} (${weights.toLocaleString('en-US')} weights) as model ${done.uuid.slice(0, 8)}.`)
    })

  const qat = TrainParams.shape.qat.unwrap().shape
  const noise = TrainParams.shape.noise.unwrap().shape
  withExecutor(program.command('train'))
    .description('train an architecture on a dataset (a job with progress; Ctrl-C cancels)')
    .option('--dataset <id>', withDefault('dataset id (benchside data list)', TrainParams.shape.dataset))
    .option('--model <architecture>', withDefault('architecture (benchside models list --architectures)', TrainParams.shape.architecture))
    .option('--epochs <n>', withDefault('epochs', TrainParams.shape.epochs), Number)
    .option('--batch-size <n>', withDefault('batch size', TrainParams.shape.batchSize), Number)
    .option('--optimizer <name>', withDefault('adam or sgd', TrainParams.shape.optimizer))
    .option('--lr <rate>', withDefault('learning rate', TrainParams.shape.learningRate), Number)
    .option('--schedule <name>', withDefault('cosine or constant', TrainParams.shape.schedule))
    .option('--seed <n>', withDefault('seed', TrainParams.shape.seed), Number)
    .option('--validation <fraction>', withDefault('fraction of train held out for validation', TrainParams.shape.validationFraction), Number)
    .option('--patience <n>', withDefault('early stopping after n epochs without a better validation accuracy (0: off)', TrainParams.shape.patience), Number)
    .option('--qat-weight-bits <b>', 'quantization-aware training: weight bits (2–16)', Number)
    .option('--qat-activation-bits <b>', withDefault('QAT: ReLU activation bits (0 keeps them float)', qat.activationBits), Number)
    .option('--qat-scaling <mode>', withDefault('QAT activation scaling: constant, statistics or learned', qat.scaling))
    .option('--qat-scale <s>', withDefault('QAT: the constant scale (range max = M(b)·s), or the learned scale’s start', qat.scale), Number)
    .option('--qat-per-tensor', 'QAT: one weight scale per tensor instead of per output channel')
    .option('--noise-sigma <σ>', 'noisy training: noise level while training', Number)
    .option('--noise <kind>', withDefault('noisy training: additive, multiplicative or combined', NoiseModel.shape.kind))
    .option('--noise-points <list>', withDefault("noisy training: 'global' or point ids, e.g. fc1,fc2", noise.points))
    .option('--noise-theta <θ>', withDefault('noisy training: per-sample σ = σ + θ·|N(0,1)|', noise.theta), Number)
    .option('--noise-ramp <epochs>', withDefault('noisy training: ramp σ from 0 over this many epochs', noise.rampEpochs), Number)
    .option('--analog <integration>', 'train through the analog MVM model: associative or ordered')
    .option('--analog-layers <which>', withDefault('analog training: dense, all (dense and conv) or ids like fc1,fc2', AnalogTraining.shape.layers))
    .option('--analog-device <device>', "analog training: a calibrated board's model (its device id, or demo); nominal when omitted")
    .option(
      '--analog-fill <fraction>',
      withDefault('analog training: a high percentile of each layer’s chunk sums lands on this fraction of full scale', AnalogTraining.shape.fill),
      Number,
    )
    .option('--name <name>', 'a name for the run')
    .option('--json', 'print the finished run as JSON')
    .action(async (o) => {
      const params = checked(
        TrainParams,
        {
          dataset: o.dataset,
          architecture: o.model,
          epochs: o.epochs,
          batchSize: o.batchSize,
          optimizer: o.optimizer,
          learningRate: o.lr,
          schedule: o.schedule,
          seed: o.seed,
          validationFraction: o.validation,
          patience: o.patience,
          qat:
            o.qatWeightBits === undefined
              ? undefined
              : {
                  weightBits: o.qatWeightBits,
                  activationBits: o.qatActivationBits,
                  scaling: o.qatScaling,
                  scale: o.qatScale,
                  granularity: o.qatPerTensor ? 'tensor' : undefined,
                },
          noise:
            o.noiseSigma === undefined
              ? undefined
              : {
                  model: { kind: o.noise },
                  points: keywordOrList(o.noisePoints, ['global']),
                  sigma: o.noiseSigma,
                  theta: o.noiseTheta,
                  rampEpochs: o.noiseRamp,
                },
          analog:
            o.analog === undefined
              ? undefined
              : { integration: o.analog, layers: keywordOrList(o.analogLayers, ['dense', 'all']), device: o.analogDevice, fill: o.analogFill },
        },
        'params',
      )
      const api = await openApi()
      const run = await api.startJob({ kind: 'train', name: o.name, params, executor: executorOf(o) })
      const done = await followJob(api, run, Boolean(o.json))
      const detail = await api.getRun({ run: done.uuid })
      if (o.json) printJson(detail)
      else if (done.status === 'FINISHED') {
        const test = metricNumber(detail.metrics.find((m) => m.key === 'test_accuracy')?.value)
        console.log(
          `Model ${done.uuid.slice(0, 8)} (${params.architecture} on ${params.dataset}): test accuracy ${percent(test)}, backend ${detail.params.backend}.`,
        )
      }
      process.exitCode = done.status === 'FINISHED' ? 0 : 1
    })

  withExecutor(program.command('eval <model>'))
    .description('evaluate a model on a dataset split (a job)')
    .option('--dataset <id>', 'dataset id (default: the one it was trained on)')
    .option('--split <name>', withDefault('test or train', EvaluateParams.shape.split))
    .option('--json', 'print the finished run as JSON')
    .action(async (model: string, o) => {
      const params = checked(EvaluateParams, { model, dataset: o.dataset, split: o.split }, 'params')
      const api = await openApi()
      const run = await api.startJob({ kind: 'evaluate', params, executor: executorOf(o) })
      const done = await followJob(api, run, Boolean(o.json))
      const detail = await api.getRun({ run: done.uuid })
      if (o.json) printJson(detail)
      else if (done.status === 'FINISHED')
        console.log(`Accuracy ${percent(metricNumber(detail.metrics.find((m) => m.key === 'accuracy')?.value))} on ${params.split}.`)
      process.exitCode = done.status === 'FINISHED' ? 0 : 1
    })
}
