// The sweep job: noise at injection points (one at a time, all at once, or a weighted set) over σ, evaluated on the
// test split; every cell is stored as it is measured, the midpoint noise level of each scope is found adaptively or
// from the dense grid, and a stopped sweep resumes from its stored cells.
import { initBackend } from '../../engine/backend.ts'
import { loadDataset } from '../../engine/data/registry.ts'
import { adaptiveMidpoint, denseMidpoint, logGrid, type CellCounts } from '../../engine/midpoint.ts'
import { importLayersModel } from '../../engine/model-files.ts'
import { scopeId, type NoiseScope } from '../../engine/noise.ts'
import { addCost, cellKey, emptyCost, runSweep, type CellResult } from '../../engine/sweep.ts'
import type { JobContext, JobFunction } from '../context.ts'

const sweepJob: JobFunction<'sweep'> = async (context: JobContext<'sweep'>) => {
  const p = context.params
  context.progress(0, 'preparing', 'loading the model and the dataset')
  context.param('backend', (await initBackend()).name)
  const { net, metadata } = await importLayersModel(context.inputs.modelJson)
  const loaded = loadDataset(context.inputs.dataset)
  const dataset = { ...loaded, normalization: metadata.normalization }
  const classes = metadata.classNames.length

  const scopes: NoiseScope[] =
    p.scope.kind === 'walking'
      ? net.points.filter((point) => point.op !== 'flatten').map((point) => ({ kind: 'point', point: point.id }))
      : p.scope.kind === 'global'
        ? [{ kind: 'global' }]
        : [{ kind: 'set', name: p.scope.name, scales: p.scope.scales }]

  // Everything measured so far, this launch or before an interruption.
  const results = new Map<string, CellResult>((context.resume?.sweepCells ?? []).map((c) => [cellKey(c), c]))
  let cost = emptyCost()
  const summaries: { scope: string; midpoint: unknown; passes: number; stopped: string }[] = []

  for (const [index, scope] of scopes.entries()) {
    const id = scopeId(scope)
    const evaluate = async (requests: readonly { sigma: number; repeat: number }[]): Promise<CellCounts[]> => {
      const report = await runSweep(
        net,
        dataset,
        dataset.test,
        { cells: requests.map((r) => ({ scope, sigma: r.sigma, repeat: r.repeat })), noise: p.noise, seed: p.seed, limit: p.limit },
        {
          done: new Set(results.keys()),
          signal: context.signal,
          onCell: (cell) => {
            results.set(cellKey(cell), cell)
            context.cells([cell])
          },
          onProgress: (fraction) => context.progress((index + Math.min(fraction, 0.99)) / scopes.length, 'sweeping', `${id} (${index + 1} of ${scopes.length})`),
        },
      )
      cost = addCost(cost, report.cost)
      return requests.map((r) => results.get(cellKey({ scope: id, sigma: r.sigma, repeat: r.repeat }))!)
    }
    const found =
      p.strategy === 'adaptive'
        ? await adaptiveMidpoint(evaluate, { classes, range: [p.grid.from, p.grid.to], repeats: p.repeats, toleranceDecades: p.toleranceDecades })
        : await denseMidpoint(evaluate, { classes, sigmas: logGrid(p.grid.from, p.grid.to, p.grid.count), repeats: p.repeats })
    if (found.estimate.sigma !== null) context.metric(`midpoint:${id}`, found.estimate.sigma, 0)
    summaries.push({ scope: id, midpoint: found.estimate, passes: found.passes, stopped: found.stopped })
  }
  context.metric('layer_evaluations', cost.layerEvaluations, 0)
  context.metric('cells', results.size, 0)
  context.artifact('midpoints.json', JSON.stringify({ strategy: p.strategy, classes, scopes: summaries, cost }, null, 2))
  context.progress(1, 'done', `${scopes.length} scope(s), ${results.size} cells`)
  net.dispose()
}

export default sweepJob
