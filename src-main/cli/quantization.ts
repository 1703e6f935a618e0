// benchside qat (quantization-aware training) and benchside study robustness|show (QAT vs noisy training).
import type { Command } from 'commander'
import { studyCsv, type StudyResult } from '../contract/index.ts'
import type { Core } from '../core.ts'
import { followJob } from './jobs.ts'
import { printJson, printTable } from './output.ts'

const list = (value: string): number[] => value.split(',').filter((s) => s.trim()).map(Number)
const sci = (v: number | null) => (v === null ? '-' : v.toExponential(2))
const percent = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`)

export function registerQuantizationCommands(program: Command, openCore: () => Core): void {
  program
    .command('qat')
    .description('quantization-aware training with a constant activation scale (a train job; Ctrl-C cancels)')
    .option('--bits <b>', 'weight and ReLU activation bits (2–16)', Number, 4)
    .option('--weight-bits <b>', 'weight bits, when they differ from --bits', Number)
    .option('--scaling <mode>', 'activation scaling: constant (range max = M(b)·scale), statistics or learned', 'constant')
    .option('--scale <s>', 'the constant scale (or the learned scale’s start)', Number, 0.1)
    .option('--per-tensor', 'one weight scale per tensor instead of per output channel')
    .option('--noise-sigma <σ>', 'also train with global additive noise of this σ')
    .option('--dataset <id>', 'dataset id', 'fashion-mnist-subset')
    .option('--model <architecture>', 'architecture', 'lenet5')
    .option('--epochs <n>', 'epochs', Number, 5)
    .option('--seed <n>', 'seed', Number, 1)
    .option('--name <name>', 'a name for the run')
    .option('--json', 'print the finished run as JSON')
    .action(async (o) => {
      const core = openCore()
      const run = await core.api.startJob({
        kind: 'train',
        name: o.name ?? `QAT ${o.bits}-bit ${o.scaling} ${o.scale} · ${o.model}`,
        params: {
          dataset: o.dataset,
          architecture: o.model,
          epochs: o.epochs,
          seed: o.seed,
          qat: { weightBits: o.weightBits ?? o.bits, activationBits: o.bits, scaling: o.scaling, scale: o.scale, granularity: o.perTensor ? 'tensor' : 'channel', symmetric: true },
          noise: o.noiseSigma === undefined ? undefined : { sigma: Number(o.noiseSigma) },
        },
      })
      const done = await followJob(core, run, Boolean(o.json))
      const detail = await core.api.getRun({ run: done.uuid })
      if (o.json) printJson(detail)
      else if (done.status === 'FINISHED')
        console.log(`Model ${done.uuid.slice(0, 8)}: test accuracy ${percent(detail.metrics.find((m) => m.key === 'test_accuracy')?.value ?? null)} with ${o.bits}-bit QAT.`)
      process.exitCode = done.status === 'FINISHED' ? 0 : 1
    })

  const study = program.command('study').description('studies that train and measure many networks')
  study
    .command('robustness')
    .description('QAT vs noisy training: trains the grid, measures global-noise curves and midpoints (a job; Ctrl-C cancels, `jobs resume` continues)')
    .option('--dataset <id>', 'dataset id', 'fashion-mnist-subset')
    .option('--model <architecture>', 'architecture', 'lenet5')
    .option('--epochs <n>', 'epochs per training', Number, 5)
    .option('--repeats <n>', 'trainings per grid cell (seeds seed, seed+1, …)', Number, 2)
    .option('--seed <n>', 'first seed', Number, 1)
    .option('--no-float', 'skip the float baseline')
    .option('--noisy <σs>', 'noisy-training σ list ("" for none)', '0.5')
    .option('--bits <list>', 'QAT bit widths ("" for none)', '4,8')
    .option('--scales <list>', 'constant activation scales', '0.1')
    .option('--qat-noisy', 'also QAT + noise at the first noisy σ')
    .option('--sigmas <from:to:count>', 'global noise grid at inference', '1e-2:1e2:17')
    .option('--noise-repeats <n>', 'noise draws per σ', Number, 3)
    .option('--no-walking', 'skip the layer-wise (walking-noise) midpoints')
    .option('--limit <n>', 'evaluate on the first n test samples', Number)
    .option('--name <name>', 'a name for the run')
    .option('--json', 'print the result as JSON')
    .action(async (o) => {
      const [from, to, count] = String(o.sigmas).split(':').map(Number)
      const core = openCore()
      const run = await core.api.startJob({
        kind: 'robustness-study',
        name: o.name ?? `robustness study · ${o.model} · ${o.dataset}`,
        params: {
          dataset: o.dataset,
          architecture: o.model,
          epochs: o.epochs,
          repeats: o.repeats,
          seed: o.seed,
          float: o.float,
          noisySigmas: list(o.noisy),
          qatBits: list(o.bits),
          qatScales: list(o.scales),
          qatNoisy: Boolean(o.qatNoisy),
          evaluation: { from, to, count, repeats: o.noiseRepeats, walking: o.walking, limit: o.limit },
        },
      })
      const done = await followJob(core, run, Boolean(o.json))
      const result = await core.api.getStudy({ run: done.uuid })
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
      const result = await openCore().api.getStudy({ run })
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
