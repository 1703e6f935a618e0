// What each job kind reports: one zod schema per kind. A job hands its result to context.result(); the job manager
// validates it against this schema and stores it; services read it back through one typed reader. Nobody else
// knows where or how a result is kept.
import { z } from 'zod'
import { CalibrationQuality, AnalogDeviceModelSchema, HilMeasurement } from './analog.ts'
import { LayerLatencyMeasurement, RooflineMeasurement } from './boards.ts'
import { BenchsideError, method } from './define.ts'
import type { JobKind } from './jobs.ts'
import { DatasetInfo } from './models.ts'
import { ActiveLearningResult, EnsembleTrainResult, UncertaintyEvaluateResult } from './uncertainty.ts'
import { CompressionApplyResult, CompressionBaselineResult, CompressionProfileResult, CompressionSearchResult } from './compression.ts'

export const Confusion = z.object({
  classNames: z.array(z.string()),
  /** matrix[true class][predicted class] = count. */
  matrix: z.array(z.array(z.number().int().min(0))),
})
export type Confusion = z.infer<typeof Confusion>

export const LayerWeightStats = z.object({
  point: z.string(),
  count: z.number(),
  meanAbs: z.number(),
  /** Population standard deviation of the weights. */
  std: z.number(),
  maxAbs: z.number(),
  /** Fraction of weights with |w| > nearExtreme · max|w| of the layer. */
  nearExtremeFraction: z.number(),
  histogram: z.object({
    /** bins + 1 edges from −limit to +limit. */
    edges: z.array(z.number()),
    counts: z.array(z.number()),
    /** Weights beyond ±limit (counted in the outermost bins as well). */
    outside: z.number(),
  }),
})
export type LayerWeightStats = z.infer<typeof LayerWeightStats>

export const SelftestResult = z.object({ steps: z.number().int(), resumedAt: z.number().int().nullable(), finalLoss: z.number() })

export const TrainResult = z.object({
  testAccuracy: z.number(),
  testLoss: z.number(),
  /** Models trained through the analog model: the same weights evaluated in float. */
  testAccuracyFloat: z.number().nullable(),
  confusion: Confusion,
  /** Whether training raised the signal-to-noise ratio or drove weights to the extremes shows here. */
  weightStats: z.array(LayerWeightStats),
})
export type TrainResult = z.infer<typeof TrainResult>

export const EvaluateResult = z.object({ split: z.enum(['test', 'train']), accuracy: z.number(), loss: z.number(), confusion: Confusion })
export type EvaluateResult = z.infer<typeof EvaluateResult>

const SweepCost = z.object({ layerEvaluations: z.number(), macs: z.number(), passes: z.number(), cells: z.number() })

export const SweepMidpoints = z.object({
  strategy: z.string(),
  classes: z.number().int(),
  workers: z.number().int(),
  scopes: z.array(
    z.object({
      scope: z.string(),
      /** The midpoint σ (null when the accuracy never crossed the threshold in the searched range) and its status. */
      sigma: z.number().nullable(),
      status: z.string(),
      passes: z.number(),
      stopped: z.string(),
      cost: SweepCost,
    }),
  ),
  cost: SweepCost,
})
export type SweepMidpoints = z.infer<typeof SweepMidpoints>

export const StudyCompletion = z.object({ variants: z.number().int(), evaluated: z.number().int() })

export const CalibrationResult = z.object({ deviceId: z.string(), model: AnalogDeviceModelSchema, quality: CalibrationQuality })

/** What an import found; the dataset is registered under `id` when the run is FINISHED. */
export const DatasetImportResult = z.object({
  /** Also the name of the dataset's folder under the data folder, hence the narrow alphabet. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,99}$/, 'a dataset id is lower-case letters, digits and dashes'),
  name: z.string(),
  format: DatasetInfo.shape.format,
  sampleShape: z.array(z.number().int().min(1)),
  classNames: z.array(z.string()),
  counts: DatasetInfo.shape.counts,
})
export type DatasetImportResult = z.infer<typeof DatasetImportResult>

export const ModelImportResult = z.object({
  architecture: z.string(),
  /** The dataset it was said to be trained on, if it was said. */
  dataset: z.string().nullable(),
  classNames: z.array(z.string()),
  sampleShape: z.array(z.number()),
  /** Number of weight values. */
  weights: z.number().int().min(0),
})
export type ModelImportResult = z.infer<typeof ModelImportResult>

/** The result schema of every job kind; the type checker insists each kind has one. */
export const jobResults = {
  selftest: SelftestResult,
  train: TrainResult,
  evaluate: EvaluateResult,
  sweep: SweepMidpoints,
  'robustness-study': StudyCompletion,
  'analog-calibrate': CalibrationResult,
  'hil-evaluate': HilMeasurement,
  'hil-finetune': HilMeasurement,
  roofline: RooflineMeasurement,
  'layer-latency': LayerLatencyMeasurement,
  'dataset-import': DatasetImportResult,
  'model-import': ModelImportResult,
  'compression-search': CompressionSearchResult,
  'compression-baseline': CompressionBaselineResult,
  'compression-apply': CompressionApplyResult,
  'compression-profile': CompressionProfileResult,
  'ensemble-train': EnsembleTrainResult,
  'uncertainty-evaluate': UncertaintyEvaluateResult,
  'active-learning': ActiveLearningResult,
} satisfies Record<JobKind, z.ZodType>

export type JobResult<K extends JobKind> = z.output<(typeof jobResults)[K]>

const runResultOf = <K extends JobKind>(kind: K) =>
  z.object({ kind: z.literal(kind), run: z.string(), status: z.string(), result: jobResults[kind].nullable() })

/** A run's result, tagged with its kind; null while the job has reported none (queued, or failed early). */
export const RunResult = z.discriminatedUnion('kind', [
  runResultOf('selftest'),
  runResultOf('train'),
  runResultOf('evaluate'),
  runResultOf('sweep'),
  runResultOf('robustness-study'),
  runResultOf('analog-calibrate'),
  runResultOf('hil-evaluate'),
  runResultOf('hil-finetune'),
  runResultOf('roofline'),
  runResultOf('layer-latency'),
  runResultOf('dataset-import'),
  runResultOf('model-import'),
  runResultOf('compression-search'),
  runResultOf('compression-baseline'),
  runResultOf('compression-apply'),
  runResultOf('compression-profile'),
  runResultOf('ensemble-train'),
  runResultOf('uncertainty-evaluate'),
  runResultOf('active-learning'),
])
export type RunResult = z.output<typeof RunResult>

/** The newest evaluation of a model: its training run's test split, or a later evaluate run. */
export const ModelEvaluation = z.object({
  run: z.string(),
  /** The evaluating run's name. */
  name: z.string(),
  source: z.enum(['training', 'evaluation']),
  dataset: z.string(),
  split: z.enum(['test', 'train']),
  accuracy: z.number(),
  backend: z.string().nullable(),
  time: z.number().nullable(),
  confusion: Confusion,
  /** Per class: precision and recall from the confusion matrix (null where a class was never predicted or never present). */
  perClass: z.array(z.object({ className: z.string(), precision: z.number().nullable(), recall: z.number().nullable() })),
})
export type ModelEvaluation = z.infer<typeof ModelEvaluation>

export const ModelWeightStats = z.object({ model: z.string(), name: z.string(), layers: z.array(LayerWeightStats) })
export type ModelWeightStats = z.infer<typeof ModelWeightStats>

const Id = z.string().trim().min(1).max(64)

export const resultMethods = {
  getRunResult: method(z.object({ run: Id }), RunResult, "A job run's result as its kind's schema says; null while the job has reported none."),
  getModelEvaluation: method(
    z.object({ model: Id }),
    ModelEvaluation.nullable(),
    "A model's newest evaluation with its confusion matrix; null when it has none.",
  ),
  getWeightStats: method(
    z.object({ model: Id }),
    ModelWeightStats.nullable(),
    "Statistics of a model's weights per layer; null for models trained before they were recorded.",
  ),
}

/** Precision and recall per class, from a confusion matrix (rows: true class, columns: predicted). */
export function perClassScores(confusion: Confusion): ModelEvaluation['perClass'] {
  return confusion.classNames.map((className, c) => {
    const row = confusion.matrix[c] ?? []
    const present = row.reduce((a, b) => a + b, 0)
    const predicted = confusion.matrix.reduce((sum, r) => sum + (r[c] ?? 0), 0)
    const hits = row[c] ?? 0
    return { className, precision: predicted > 0 ? hits / predicted : null, recall: present > 0 ? hits / present : null }
  })
}

/**
 * A run's result narrowed to one kind and checked by that kind's schema (null while the job has reported none); another
 * kind is an error naming both. Every reader of a RunResult goes through this: no casts.
 */
export function resultOfKind<K extends JobKind>(answer: RunResult, kind: K): JobResult<K> | null {
  if (answer.kind !== kind) {
    throw new BenchsideError({ code: 'INVALID_ARGS', field: 'run', message: `Run ${answer.run.slice(0, 8)} is a ${answer.kind} run, not a ${kind} run.` })
  }
  // parse is the check; TypeScript cannot follow a generic key into the schema table, hence this one assertion.
  return answer.result === null ? null : (jobResults[kind].parse(answer.result) as JobResult<K>)
}
