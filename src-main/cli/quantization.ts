// benchside qat (quantization-aware training) and benchside study robustness|show (QAT vs noisy training).
import type { Command } from 'commander'
import { metricNumber, StudyParams, studyCsv, TrainParams, type StudyResult } from '../contract/index.ts'
import { checked, gridOption, gridText, numberList, unlessNegated, withDefault, type OpenApi } from './api.ts'
import { followJob } from './jobs.ts'
import { executorOf, withExecutor } from './clusters.ts'
import { printJson, printTable } from './output.ts'

const sci = (v: number | null) => (v === null ? '-' : v.toExponential(2))
const percent = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`)

export function registerQuantizationCommands(program: Command, openApi: OpenApi): void {
  const qat = TrainParams.shape.qat.unwrap().shape
  program
    .command('qat')
    .description('quantization-aware training with a constant activation scale (a train job; Ctrl-C cancels)')
    // 4 bits on LeNet-5 is the QAT set-up of the robustness study, a preset of this command rather than the train
    // job's defaults (8 bits, LeNet-5 with batch norm), which `benchside train --qat-weight-bits` keeps.
    .option('--bits <b>', 'weight and ReLU activation bits (2–16)', Number, 4)
    .option('--weight-bits <b>', 'weight bits, when they differ from --bits', Number)
    .option('--scaling <mode>', withDefault('activation scaling: constant (range max = M(b)·scale), statistics or learned', qat.scaling))
    .option('--scale <s>', withDefault('the constant scale (or the learned scale’s start)', qat.scale), Number)
    .option('--per-tensor', 'one weight scale per tensor instead of per output channel')
    .option('--noise-sigma <σ>', 'also train with global additive noise of this σ', Number)
    .option('--dataset <id>', withDefault('dataset id', TrainParams.shape.dataset))
    .option('--model <architecture>', 'architecture', 'lenet5')
    .option('--epochs <n>', withDefault('epochs', TrainParams.shape.epochs), Number)
    .option('--seed <n>', withDefault('seed', TrainParams.shape.seed), Number)
    .option('--name <name>', 'a name for the run')
    .option('--json', 'print the finished run as JSON')
    .action(async (o) => {
      const params = checked(
        TrainParams,
        {
          dataset: o.dataset,
          architecture: o.model,
          epochs: o.epochs,
          seed: o.seed,
          qat: {
            weightBits: o.weightBits ?? o.bits,
            activationBits: o.bits,
            scaling: o.scaling,
            scale: o.scale,
            granularity: o.perTensor ? 'tensor' : undefined,
          },
          noise: o.noiseSigma === undefined ? undefined : { sigma: o.noiseSigma },
        },
        'params',
      )
      const { qat: q } = params
      const api = await openApi()
      const run = await api.startJob({
        kind: 'train',
        name: o.name ?? `QAT ${q?.activationBits}-bit ${q?.scaling} ${q?.scale} · ${params.architecture}`,
        params,
      })
      const done = await followJob(api, run, Boolean(o.json))
      const detail = await api.getRun({ run: done.uuid })
      if (o.json) printJson(detail)
      else if (done.status === 'FINISHED')
        console.log(
          `Model ${done.uuid.slice(0, 8)}: test accuracy ${percent(metricNumber(detail.metrics.find((m) => m.key === 'test_accuracy')?.value))} with ${q?.activationBits}-bit QAT.`,
        )
      process.exitCode = done.status === 'FINISHED' ? 0 : 1
    })

  const evaluation = StudyParams.shape.evaluation.unwrap().shape
  const study = program.command('study').description('studies that train and measure many networks')
  withExecutor(study.command('robustness'))
    .description('QAT vs noisy training: trains the grid, measures global-noise curves and midpoints (a job; Ctrl-C cancels, `jobs resume` continues)')
    .option('--dataset <id>', withDefault('dataset id', StudyParams.shape.dataset))
    .option('--model <architecture>', withDefault('architecture', StudyParams.shape.architecture))
    .option('--epochs <n>', withDefault('epochs per training', StudyParams.shape.epochs), Number)
    .option('--repeats <n>', withDefault('trainings per grid cell (seeds seed, seed+1, …)', StudyParams.shape.repeats), Number)
    .option('--seed <n>', withDefault('first seed', StudyParams.shape.seed), Number)
    .option('--no-float', 'skip the float baseline')
    .option('--noisy <σs>', withDefault('noisy-training σ list ("" for none)', StudyParams.shape.noisySigmas))
    .option('--bits <list>', withDefault('QAT bit widths ("" for none)', StudyParams.shape.qatBits))
    .option('--scales <list>', withDefault('constant activation scales', StudyParams.shape.qatScales))
    .option('--qat-noisy', 'also QAT + noise at the first noisy σ')
    .option('--sigmas <from:to:count>', withDefault('global noise grid at inference', StudyParams.shape.evaluation, gridText))
    .option('--noise-repeats <n>', withDefault('noise draws per σ', evaluation.repeats), Number)
    .option('--no-walking', 'skip the layer-wise (walking-noise) midpoints')
    .option('--limit <n>', 'evaluate on the first n test samples', Number)
    .option('--name <name>', 'a name for the run')
    .option('--json', 'print the result as JSON')
    .action(async (o) => {
      const params = checked(
        StudyParams,
        {
          dataset: o.dataset,
          architecture: o.model,
          epochs: o.epochs,
          repeats: o.repeats,
          seed: o.seed,
          float: unlessNegated(o.float),
          noisySigmas: numberList(o.noisy),
          qatBits: numberList(o.bits),
          qatScales: numberList(o.scales),
          qatNoisy: o.qatNoisy,
          evaluation: { ...gridOption(o.sigmas), repeats: o.noiseRepeats, walking: unlessNegated(o.walking), limit: o.limit },
        },
        'params',
      )
      const api = await openApi()
      const run = await api.startJob({
        kind: 'robustness-study',
        name: o.name ?? `robustness study · ${params.architecture} · ${params.dataset}`,
        params,
        executor: executorOf(o),
      })
      const done = await followJob(api, run, Boolean(o.json))
      const result = await api.getStudy({ run: done.uuid })
      if (o.json) printJson(result)
      else printStudy(result)
      process.exitCode = done.status === 'FINISHED' ? 0 : 1
    })
  study
    .command('show <run>')
    .description('a robustness study: the table per method and bit width, and the summary')
    .option('--csv', 'print the table as CSV')
    .option('--json', 'print JSON')
    .action(async (run: string, o) => {
      const result = await (await openApi()).getStudy({ run })
      if (o.json) return printJson(result)
      if (o.csv) return void process.stdout.write(studyCsv(result))
      printStudy(result)
    })
}

function printStudy(result: StudyResult): void {
  const done = result.variants.filter((v) => v.state === 'evaluated').length
  console.log(`Study ${result.run.slice(0, 8)} (${result.status}): ${done} of ${result.variants.length} trainings measured.`)
  printTable(
    ['METHOD', 'BITS', 'TRAININGS', 'CLEAN', 'GLOBAL MIDPOINT σ', '95% CI', 'VS FLOAT (PAIRED, 95% CI)'],
    result.groups.map((g) => [
      g.label,
      g.bits ?? 32,
      g.trainings,
      percent(g.cleanAccuracy),
      sci(g.midpoint),
      `${sci(g.midpointCi[0])} … ${sci(g.midpointCi[1])}`,
      g.versusFloat ? `${g.versusFloat.ratio.toFixed(2)}× (${g.versusFloat.ci[0].toFixed(2)}–${g.versusFloat.ci[1].toFixed(2)})` : '-',
    ]),
  )
  for (const line of result.summary) console.log(`· ${line}`)
}
