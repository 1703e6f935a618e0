// Robustness: sweep results as curves with intervals and midpoint noise levels, read from the stored cells,
// so a running or interrupted sweep shows what it has measured so far.
import { BenchsideError, type SweepResult } from '../contract/index.ts'
import { pointLabel } from '../engine/graph.ts'
import { accuracyCurve, estimateMidpoint, normalQuantile, type CellCounts, type MidpointEstimate } from '../engine/midpoint.ts'
import type { Store } from '../store/store.ts'
import type { HandlersFor } from './handlers.ts'
import type { ModelCatalog } from './models.ts'
import { loadEngine } from './lazy-engine.ts'

export function robustnessHandlers(store: Store, models: ModelCatalog): HandlersFor<'getSweep'> {
  return {
    getSweep: async ({ run }) => {
      const uuid = store.runs.resolve(run)
      const summary = store.runs.summary(uuid)
      if (summary.kind !== 'sweep')
        throw new BenchsideError({ code: 'INVALID_ARGS', field: 'run', message: `Run ${run} is a ${summary.kind} run, not a sweep.` })
      const model = store.runs.params(uuid)['model']
      if (!model) throw new BenchsideError({ code: 'CONFLICT', field: 'run', message: `Sweep ${run} does not say which model it swept.` })
      await loadEngine()
      const metadata = models.metadata(model)
      const classes = metadata.classNames.length
      const order = metadata.spec.nodes.map((n) => n.id)
      const labels = new Map(metadata.spec.nodes.map((n) => [n.id, pointLabel(n)]))
      const byScope = new Map<string, ReturnType<Store['sweeps']['cells']>>()
      for (const cell of store.sweeps.cells(uuid)) byScope.set(cell.scope, [...(byScope.get(cell.scope) ?? []), cell])
      const scopes: SweepResult['scopes'] = [...byScope]
        .sort(([a], [b]) => (order.indexOf(a) + 1 || 1e9) - (order.indexOf(b) + 1 || 1e9))
        .map(([scope, cells]) => {
          const estimate = cells.some((c) => c.sigma === 0) ? estimateMidpoint(cells, { classes }) : null
          return {
            scope,
            label: labels.get(scope) ?? scope,
            curve: curveWithIntervals(cells),
            midpoint: estimate && midpointInfo(estimate),
          }
        })
      const cleanCells = store.sweeps.cells(uuid).filter((c) => c.sigma === 0)
      const clean = cleanCells.length ? accuracyCurve(cleanCells)[0]!.accuracy : null
      const strategy = store.runs.params(uuid)['strategy'] === 'grid' ? 'grid' : 'adaptive'
      return { run: uuid, status: summary.status, classes, strategy, clean, scopes }
    },
  }
}

/** Accuracy per σ with a 95% interval, from stored cells. */
export function curveWithIntervals(cells: readonly CellCounts[]): SweepResult['scopes'][number]['curve'] {
  const z = normalQuantile(0.975)
  return accuracyCurve(cells).map((p) => {
    const half = z * Math.sqrt(p.variance)
    return { sigma: p.sigma, accuracy: p.accuracy, low: Math.max(0, p.accuracy - half), high: Math.min(1, p.accuracy + half), repeats: p.repeats }
  })
}

/** A midpoint estimate as the contract shows it. */
export function midpointInfo(estimate: MidpointEstimate): NonNullable<SweepResult['scopes'][number]['midpoint']> {
  const { status, sigma, ci, clean, chance, threshold } = estimate
  return { status, sigma, ci, clean, chance, threshold }
}
