// benchside sweep: walking-noise (or global / set) sweeps and their midpoint noise levels.
import type { Command } from 'commander'
import type { Core } from '../core.ts'
import { followJob } from './jobs.ts'
import { printJson, printTable } from './output.ts'

const sci = (v: number | null) => (v === null ? '-' : v.toExponential(2))

export function registerRobustnessCommands(program: Command, openCore: () => Core): void {
  program
    .command('sweep <model>')
    .description('noise sweep over injection points; prints the midpoint noise level per point (a job)')
    .option('--dataset <id>', 'dataset (default: the one the model was trained on)')
    .option('--noise <kind>', 'additive, multiplicative or combined', 'additive')
    .option('--ratio <r>', 'combined noise: σ_add = A·r, σ_mul = A·(1−r)', Number, 0.5)
    .option('--order <order>', 'combined noise: mul-then-add or add-then-mul', 'mul-then-add')
    .option('--normalize <how>', 'σ as given (none), σ/√N (sqrt) or σ/N (linear)', 'none')
    .option('--scope <scope>', 'walking (one point at a time) or global (all points)', 'walking')
    .option('--points <list>', 'a set of points with σ scales instead, e.g. conv1=1,fc1=0.5')
    .option('--strategy <name>', 'adaptive (find midpoints) or grid (every σ, for heatmaps)', 'adaptive')
    .option('--sigmas <from:to:count>', 'σ grid, log-spaced', '1e-2:1e10:49')
    .option('--repeats <n>', 'repeats per σ', Number, 5)
    .option('--seed <n>', 'seed', Number, 1)
    .option('--tolerance <decades>', 'adaptive search: stop when the midpoint is known to this many decades of σ', Number, 0.05)
    .option('--limit <n>', 'evaluate only the first n test samples', Number)
    .option('--name <name>', 'a name for the run')
    .option('--json', 'print the result as JSON')
    .action(async (model: string, o) => {
      const [from, to, count] = String(o.sigmas).split(':').map(Number)
      const scope = o.points
        ? { kind: 'set' as const, name: 'set', scales: Object.fromEntries(String(o.points).split(',').map((pair) => { const [k, v] = pair.split('='); return [k!.trim(), Number(v ?? 1)] })) }
        : { kind: o.scope as 'walking' | 'global' }
      const core = openCore()
      const run = await core.api.startJob({
        kind: 'sweep',
        name: o.name ?? `sweep of ${model.slice(0, 8)} · ${o.noise} · ${o.points ? 'set' : o.scope}`,
        params: {
          model,
          dataset: o.dataset,
          noise: { kind: o.noise, ratio: o.ratio, order: o.order, normalize: o.normalize },
          scope,
          strategy: o.strategy,
          grid: { from, to, count },
          repeats: o.repeats,
          seed: o.seed,
          toleranceDecades: o.tolerance,
          limit: o.limit,
        },
      })
      const done = await followJob(core, run, Boolean(o.json))
      const result = await core.api.getSweep({ run: done.uuid })
      if (o.json) return printJson(result)
      if (done.status !== 'FINISHED') return void (process.exitCode = 1)
      const clean = result.scopes[0]?.midpoint?.clean
      console.log(`Sweep ${done.uuid.slice(0, 8)}: clean accuracy ${clean === undefined ? '-' : (clean * 100).toFixed(1) + '%'}, chance ${(100 / result.classes).toFixed(1)}%`)
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
