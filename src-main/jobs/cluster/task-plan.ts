// How a job kind splits into cluster tasks and how their results join again. A task runs the same job function with a
// share {index, count} of its work: a sweep's scopes, a study's trainings (variants), taken round-robin, so each cell
// and each variant is computed exactly as in a local run with the same seeds. Kinds without a split run as one task.
import { BenchsideError, jobResults, SweepMidpoints, type JobKind, type JobResult, type JobSpec } from '../../contract/index.ts'
import { studyVariants } from '../../engine/robustness-study.ts'
import type { MetricPoint } from '../../contract/index.ts'
import type { JobInputs } from '../inputs.ts'

/** A task's part of a job: the items i with i % count === index. */
export interface TaskShare {
  index: number
  count: number
}

export function inShare<T>(items: readonly T[], share: TaskShare | null): T[] {
  return share ? items.filter((_, i) => i % share.count === share.index) : [...items]
}

export interface TaskPlan {
  count: number
  /** The job's result (and totals logged as metrics) from every task's result, in task order. */
  merge(results: unknown[]): { result: unknown; metrics: Omit<MetricPoint, 'time'>[] }
}

/** Kinds a cluster can run: they need no board held by this machine and read only files the host stages. */
export const CLUSTER_KINDS: ReadonlySet<JobKind> = new Set(['selftest', 'train', 'evaluate', 'sweep', 'robustness-study', 'ensemble-train'])

/** Too many array tasks cost more in scheduling than they save. */
const MAX_TASKS = 256

export function checkClusterKind(kind: JobKind): void {
  if (!CLUSTER_KINDS.has(kind)) {
    throw new BenchsideError({
      code: 'INVALID_ARGS',
      message: `A ${kind} job cannot run on a cluster: it needs a board or files held by this machine. Jobs that can: ${[...CLUSTER_KINDS].join(', ')}.`,
    })
  }
}

const whole: TaskPlan = { count: 1, merge: (results) => ({ result: results[0], metrics: [] }) }

/** knownCount: the task count of a job already submitted (a re-attach has no inputs to count from). */
export async function planTasks(spec: JobSpec, inputs: unknown, knownCount?: number): Promise<TaskPlan> {
  checkClusterKind(spec.kind)
  if (spec.kind === 'sweep') {
    const count = knownCount ?? Math.min(MAX_TASKS, await sweepScopeCount(spec, (inputs as JobInputs<'sweep'>).modelJson))
    return { count, merge: mergeSweeps }
  }
  if (spec.kind === 'robustness-study') {
    const count = knownCount ?? Math.min(MAX_TASKS, studyVariants(spec.params).length)
    return {
      count,
      merge: (results) => {
        const parts = results.map((r) => jobResults['robustness-study'].parse(r))
        const merged: JobResult<'robustness-study'> = { variants: parts[0]?.variants ?? 0, evaluated: parts.reduce((sum, p) => sum + p.evaluated, 0) }
        return { result: merged, metrics: [] }
      },
    }
  }
  return whole
}

/** Walking noise has a scope per injection point (flatten only reshapes and is skipped); global and set sweeps have one. */
async function sweepScopeCount(spec: Extract<JobSpec, { kind: 'sweep' }>, modelJson: string): Promise<number> {
  if (spec.params.scope.kind !== 'walking') return 1
  const { readModelMetadata } = await import('../../engine/model-files.ts')
  return readModelMetadata(modelJson).spec.nodes.filter((node) => node.op !== 'flatten').length
}

/** Tasks hold scopes round-robin; interleaving their lists restores the model's order, as a local sweep reports it. */
function mergeSweeps(results: unknown[]): ReturnType<TaskPlan['merge']> {
  const parts = results.map((r) => SweepMidpoints.parse(r))
  const scopes: SweepMidpoints['scopes'] = []
  const longest = Math.max(0, ...parts.map((p) => p.scopes.length))
  for (let k = 0; k < longest; k++) for (const part of parts) if (part.scopes[k]) scopes.push(part.scopes[k]!)
  const cost = { layerEvaluations: 0, macs: 0, passes: 0, cells: 0 }
  for (const part of parts) {
    cost.layerEvaluations += part.cost.layerEvaluations
    cost.macs += part.cost.macs
    cost.passes += part.cost.passes
    cost.cells += part.cost.cells
  }
  const first = parts[0]!
  const result: SweepMidpoints = { strategy: first.strategy, classes: first.classes, workers: parts.reduce((n, p) => n + p.workers, 0), scopes, cost }
  return { result, metrics: [{ key: 'layer_evaluations', value: cost.layerEvaluations, step: 0 }] }
}
