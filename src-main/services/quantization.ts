// Quantization room: robustness-study results from the stored cells and metrics, so a running or interrupted study
// shows every training measured so far.
import { BenchsideError, StudyParams, type StudyResult } from '../contract/index.ts'
import { estimateMidpoint } from '../engine/midpoint.ts'
import { groupVariants, studyVariants, summarizeGroups } from '../engine/robustness-study.ts'
import type { Store } from '../store/store.ts'
import type { SweepCell } from '../store/sweeps.ts'
import type { HandlersFor } from './handlers.ts'
import { curveWithIntervals, midpointInfo } from './robustness.ts'

export function quantizationHandlers(store: Store): HandlersFor<'getStudy'> {
  return {
    getStudy: ({ run }) => {
      const uuid = store.runs.resolve(run)
      const summary = store.runs.summary(uuid)
      if (summary.kind !== 'robustness-study')
        throw new BenchsideError({ code: 'INVALID_ARGS', field: 'run', message: `Run ${run} is a ${summary.kind} run, not a robustness study.` })
      const params = StudyParams.parse((store.runs.jobSpec(uuid) as { params: unknown }).params)
      // Logged by the job when it starts; ten (Fashion-MNIST) until then.
      const classes = Number(store.runs.params(uuid)['classes'] ?? 10)
      const cellsByScope = new Map<string, SweepCell[]>()
      for (const cell of store.sweeps.cells(uuid)) cellsByScope.set(cell.scope, [...(cellsByScope.get(cell.scope) ?? []), cell])

      const variants: StudyResult['variants'] = studyVariants(params).map((v) => {
        const metric = (key: string) => store.runs.lastMetric(uuid, `${key}:${v.id}`)
        const global = cellsByScope.get(`${v.id}/global`) ?? []
        const hasClean = (cells: SweepCell[]) => cells.some((c) => c.sigma === 0)
        const estimate = hasClean(global) ? estimateMidpoint(global, { classes }) : null
        const layerMidpoints: Record<string, number | null> = {}
        for (const [scope, cells] of cellsByScope) {
          if (!scope.startsWith(`${v.id}/`) || scope === `${v.id}/global` || !hasClean(cells)) continue
          layerMidpoints[scope.slice(v.id.length + 1)] = estimateMidpoint(cells, { classes }).sigma
        }
        const evaluated = metric('evaluated') !== null
        const trained = metric('test_accuracy') !== null
        return {
          ...v,
          state: evaluated ? 'evaluated' : trained ? 'trained' : 'pending',
          cleanAccuracy: estimate?.clean ?? metric('test_accuracy'),
          curve: curveWithIntervals(global)
            .filter((p) => p.sigma > 0)
            .map(({ sigma, accuracy, low, high }) => ({ sigma, accuracy, low, high })),
          globalMidpoint: estimate && midpointInfo(estimate),
          layerMidpoints,
        }
      })
      const groups = groupVariants(variants.filter((v) => v.state !== 'pending'))
      return { run: uuid, status: summary.status, params, variants, groups, summary: summarizeGroups(groups) }
    },
  }
}
