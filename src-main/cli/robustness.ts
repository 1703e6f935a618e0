// benchside sweep: walking-noise (or global / set) sweeps and their midpoint noise levels.
import type { Command } from 'commander'
import { NoiseModel, SweepParams } from '../contract/index.ts'
import { checked, gridOption, gridText, withDefault, type OpenApi } from './api.ts'
import { followJob } from './jobs.ts'
import { executorOf, withExecutor } from './clusters.ts'
import { printJson, printTable } from './output.ts'

const sci = (v: number | null) => (v === null ? '-' : v.toExponential(2))

export function registerRobustnessCommands(program: Command, openApi: OpenApi): void {
  const noise = NoiseModel.shape
  withExecutor(program.command('sweep <model>'))
    .description('noise sweep over injection points; prints the midpoint noise level per point (a job)')
    .option('--dataset <id>', 'dataset (default: the one the model was trained on)')
    .option('--noise <kind>', withDefault('additive, multiplicative or combined', noise.kind))
    .option('--ratio <r>', withDefault('combined noise: σ_add = A·r, σ_mul = A·(1−r)', noise.ratio), Number)
    .option('--order <order>', withDefault('combined noise: mul-then-add or add-then-mul', noise.order))
    .option('--normalize <how>', withDefault('σ as given (none), σ/√N (sqrt) or σ/N (linear)', noise.normalize))
    .option(
      '--scope <scope>',
      withDefault('walking (one point at a time) or global (all points)', SweepParams.shape.scope, (s) => s.kind),
    )
    .option('--points <list>', 'a set of points with σ scales instead, e.g. conv1=1,fc1=0.5')
    .option('--strategy <name>', withDefault('adaptive (find midpoints) or grid (every σ, for heatmaps)', SweepParams.shape.strategy))
    .option('--sigmas <from:to:count>', withDefault('σ grid, log-spaced', SweepParams.shape.grid, gridText))
    .option('--repeats <n>', withDefault('repeats per σ', SweepParams.shape.repeats), Number)
    .option('--seed <n>', withDefault('seed', SweepParams.shape.seed), Number)
    .option(
      '--tolerance <decades>',
      withDefault('adaptive search: stop when the midpoint is known to this many decades of σ', SweepParams.shape.toleranceDecades),
      Number,
    )
    .option('--limit <n>', 'evaluate only the first n test samples', Number)
    .option('--name <name>', 'a name for the run')
    .option('--json', 'print the result as JSON')
    .action(async (model: string, o) => {
      const scope = o.points
        ? {
            kind: 'set',
            name: 'set',
            scales: Object.fromEntries(
              String(o.points)
                .split(',')
                .map((pair) => {
                  const [k, v] = pair.split('=')
                  return [k!.trim(), Number(v ?? 1)]
                }),
            ),
          }
        : o.scope === undefined
          ? undefined
          : { kind: o.scope }
      const params = checked(
        SweepParams,
        {
          model,
          dataset: o.dataset,
          noise: { kind: o.noise, ratio: o.ratio, order: o.order, normalize: o.normalize },
          scope,
          strategy: o.strategy,
          grid: gridOption(o.sigmas),
          repeats: o.repeats,
          seed: o.seed,
          toleranceDecades: o.tolerance,
          limit: o.limit,
        },
        'params',
      )
      const api = await openApi()
      const run = await api.startJob({ kind: 'sweep', name: o.name, params, executor: executorOf(o) })
      const done = await followJob(api, run, Boolean(o.json))
      const result = await api.getSweep({ run: done.uuid })
      if (o.json) return printJson(result)
      if (done.status !== 'FINISHED') return void (process.exitCode = 1)
      const clean = result.scopes[0]?.midpoint?.clean
      console.log(
        `Sweep ${done.uuid.slice(0, 8)}: clean accuracy ${clean === undefined ? '-' : (clean * 100).toFixed(1) + '%'}, chance ${(100 / result.classes).toFixed(1)}%`,
      )
      printTable(
        ['POINT', 'LABEL', 'MIDPOINT σ', '95% CI', 'STATUS', 'CELLS'],
        result.scopes.map((s) => [
          s.scope,
          s.label,
          sci(s.midpoint?.sigma ?? null),
          s.midpoint ? `${sci(s.midpoint.ci[0])} … ${sci(s.midpoint.ci[1])}` : '-',
          s.midpoint?.status ?? '-',
          s.curve.reduce((n, p) => n + p.repeats, 0),
        ]),
      )
    })
}
