// Job results, read back typed: the stored result parsed with its kind's schema, or what a run of an older Benchside
// left in its own files. The one place that knows how results are kept; services and hosts ask here.
import { BenchsideError, jobResults, perClassScores, type JobKind, type JobResult, type ModelEvaluation, type RunResult } from '../contract/index.ts'
import type { Store } from '../store/store.ts'
import type { HandlersFor } from './handlers.ts'

/** A run's result as its kind's schema says, or null while the job has reported none. */
export function readResult<K extends JobKind>(store: Store, runUuid: string, kind: K): JobResult<K> | null {
  const value = store.results.read(runUuid) ?? legacyResult(store, runUuid, kind)
  if (value === null) return null
  const parsed = jobResults[kind].safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new BenchsideError({
      code: 'CONFLICT',
      message: `The result of run ${runUuid.slice(0, 8)} cannot be read (${issue?.path.join('.') || 'its shape'}: ${issue?.message ?? 'invalid'}); it was written by another version of Benchside. Run the job again to measure it anew.`,
    })
  }
  return parsed.data as JobResult<K>
}

/** The result of a run of the given kinds; a clear error when the run is of another kind. */
export function resultOf<K extends JobKind>(
  store: Store,
  run: string,
  kinds: readonly K[],
  what: string,
): { uuid: string; kind: K; result: JobResult<K> | null } {
  const uuid = store.runs.resolve(run)
  const kind = store.runs.summary(uuid).kind as K
  if (!kinds.includes(kind)) throw new BenchsideError({ code: 'INVALID_ARGS', field: 'run', message: `Run ${run} is a ${kind} run, not ${what}.` })
  return { uuid, kind, result: readResult(store, uuid, kind) }
}

/** Runs from before results had one home kept them in files of their own; read those as the schema's shape. */
function legacyResult(store: Store, uuid: string, kind: JobKind): unknown {
  const file = (path: string) => store.results.readJson(uuid, path)
  const metric = (key: string) => store.runs.lastMetric(uuid, key)
  const confusion = () => {
    const c = file('confusion.json') as { classNames?: unknown; confusion?: unknown } | null
    return c && { classNames: c.classNames, matrix: c.confusion }
  }
  switch (kind) {
    case 'selftest':
      return file('summary.json')
    case 'train': {
      const matrix = confusion()
      return (
        matrix && {
          testAccuracy: metric('test_accuracy'),
          testLoss: metric('test_loss'),
          testAccuracyFloat: metric('test_accuracy_float'),
          confusion: matrix,
          weightStats: file('weight-stats.json') ?? [],
        }
      )
    }
    case 'evaluate': {
      const matrix = confusion()
      return matrix && { split: store.runs.params(uuid)['split'] ?? 'test', accuracy: metric('accuracy'), loss: metric('loss'), confusion: matrix }
    }
    case 'sweep': {
      const old = file('midpoints.json') as { scopes?: { midpoint?: { sigma?: unknown; status?: unknown } }[] } | null
      if (!old || !Array.isArray(old.scopes)) return old
      return { ...old, scopes: old.scopes.map((s) => ({ ...s, sigma: s.midpoint?.sigma ?? null, status: s.midpoint?.status })) }
    }
    case 'analog-calibrate':
      return file('calibration.json')
    case 'hil-evaluate':
    case 'hil-finetune':
      return file('hil.json')
    case 'roofline':
      return file('roofline.json')
    case 'layer-latency':
      return file('layer-latency.json')
    // Kinds that always kept their result in its one home: nothing older to read.
    case 'robustness-study':
    case 'dataset-import':
    case 'model-import':
    case 'compression-search':
    case 'compression-baseline':
    case 'compression-apply':
    case 'compression-profile':
    case 'ensemble-train':
    case 'uncertainty-evaluate':
    case 'active-learning':
      return null
    default: {
      // A new job kind must say here whether older versions kept its result elsewhere.
      const unhandled: never = kind
      throw new Error(`No legacy result reader for job kind ${String(unhandled)}.`)
    }
  }
}

type ResultMethod = 'getRunResult' | 'getModelEvaluation' | 'getWeightStats'

export function resultHandlers(store: Store): HandlersFor<ResultMethod> {
  const runs = store.runs
  return {
    getRunResult: ({ run }) => {
      const uuid = runs.resolve(run)
      const summary = runs.summary(uuid)
      const kind = summary.kind
      if (!Object.hasOwn(jobResults, kind))
        throw new BenchsideError({ code: 'INVALID_ARGS', field: 'run', message: `Run ${run} is a ${kind} run, which is not a job and has no result.` })
      return { kind, run: uuid, status: summary.status, result: readResult(store, uuid, kind as JobKind) } as RunResult
    },

    getModelEvaluation: ({ model }) => {
      const uuid = runs.resolve(model)
      const params = runs.params(uuid)
      for (const evaluation of runs.withParam('evaluate', 'model', uuid)) {
        const result = readResult(store, evaluation.uuid, 'evaluate')
        if (!result) continue
        const p = runs.params(evaluation.uuid)
        return evaluationOf(
          evaluation,
          'evaluation',
          p['dataset'] ?? params['dataset'] ?? 'unknown',
          result.split,
          result.accuracy,
          p['backend'],
          result.confusion,
        )
      }
      const own = runs.summary(uuid)
      if (own.kind !== 'train' || own.status !== 'FINISHED') return null
      const result = readResult(store, uuid, 'train')
      return result && evaluationOf(own, 'training', params['dataset'] ?? 'unknown', 'test', result.testAccuracy, params['backend'], result.confusion)
    },

    getWeightStats: ({ model }) => {
      const uuid = runs.resolve(model)
      const summary = runs.summary(uuid)
      if (summary.kind !== 'train') return null
      const result = readResult(store, uuid, 'train')
      return result && result.weightStats.length > 0 ? { model: uuid, name: summary.name, layers: result.weightStats } : null
    },
  }
}

function evaluationOf(
  run: { uuid: string; name: string; endTime: number | null },
  source: ModelEvaluation['source'],
  dataset: string,
  split: ModelEvaluation['split'],
  accuracy: number,
  backend: string | undefined,
  confusion: ModelEvaluation['confusion'],
): ModelEvaluation {
  return {
    run: run.uuid,
    name: run.name,
    source,
    dataset,
    split,
    accuracy,
    backend: backend ?? null,
    time: run.endTime,
    confusion,
    perClass: perClassScores(confusion),
  }
}
