// Long work: start a job (it becomes a run), follow its progress, cancel it, resume an interrupted one.
import { z } from 'zod'
import { method } from './define.ts'
import { LayerLatencyParams, RooflineParams } from './boards.ts'
import { DatasetImportParams, EvaluateParams, ModelImportParams, TrainParams } from './models.ts'
import { StudyParams } from './quantization.ts'
import { CalibrateParams, HilEvaluateParams, HilFinetuneParams } from './analog.ts'
import { SweepParams } from './robustness.ts'
import { ActiveLearningParams, EnsembleTrainParams, UncertaintyEvaluateParams } from './uncertainty.ts'
import { CompressionApplyParams, CompressionBaselineParams, CompressionProfileParams, CompressionSearchParams } from './compression.ts'
import { RunSummary } from './runs.ts'
import { Executor, Placement } from './clusters.ts'

/** Parameters of the selftest job: it writes metrics for a few seconds so the job machinery can be seen working. */
export const SelftestParams = z.object({
  seconds: z.number().positive().max(3600).default(5),
  metricsPerSecond: z.number().int().min(1).max(200).default(5),
  /** Makes the job throw after this many seconds, to show how failures look. */
  failAfterSeconds: z.number().positive().max(3600).optional(),
  /** Also logs a 'diverged' metric that cycles through a number, NaN, Infinity and -Infinity, to show how those look. */
  nonFinite: z.boolean().optional(),
})

const JobName = z.string().trim().min(1).max(200).optional()
const Experiment = z.string().trim().min(1).max(200).optional()

/** One variant per job kind; later rooms add theirs here. */
export const JobSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('selftest'), params: SelftestParams.default(SelftestParams.parse({})) }),
  z.object({ kind: z.literal('train'), params: TrainParams.default(TrainParams.parse({})) }),
  z.object({ kind: z.literal('evaluate'), params: EvaluateParams }),
  z.object({ kind: z.literal('roofline'), params: RooflineParams.default(RooflineParams.parse({})) }),
  z.object({ kind: z.literal('layer-latency'), params: LayerLatencyParams }),
  z.object({ kind: z.literal('sweep'), params: SweepParams }),
  z.object({ kind: z.literal('robustness-study'), params: StudyParams.default(StudyParams.parse({})) }),
  z.object({ kind: z.literal('analog-calibrate'), params: CalibrateParams.default(CalibrateParams.parse({})) }),
  z.object({ kind: z.literal('hil-evaluate'), params: HilEvaluateParams }),
  z.object({ kind: z.literal('hil-finetune'), params: HilFinetuneParams }),
  z.object({ kind: z.literal('dataset-import'), params: DatasetImportParams }),
  z.object({ kind: z.literal('model-import'), params: ModelImportParams }),
  z.object({ kind: z.literal('compression-search'), params: CompressionSearchParams }),
  z.object({ kind: z.literal('compression-baseline'), params: CompressionBaselineParams }),
  z.object({ kind: z.literal('compression-apply'), params: CompressionApplyParams }),
  z.object({ kind: z.literal('compression-profile'), params: CompressionProfileParams }),
  z.object({ kind: z.literal('ensemble-train'), params: EnsembleTrainParams }),
  z.object({ kind: z.literal('uncertainty-evaluate'), params: UncertaintyEvaluateParams }),
  z.object({ kind: z.literal('active-learning'), params: ActiveLearningParams }),
])
export type JobSpec = z.output<typeof JobSpec>
export type JobKind = JobSpec['kind']
export type JobParams<K extends JobKind> = Extract<JobSpec, { kind: K }>['params']

/** executor: where the job runs; omitted = here (a local process). */
export const StartJobArgs = z.intersection(JobSpec, z.object({ name: JobName, experiment: Experiment, executor: Executor.optional() }))

export const JobState = z.enum(['queued', 'running', 'finished', 'failed', 'killed'])
export const JobProgress = z.object({
  runUuid: z.string(),
  kind: z.string(),
  name: z.string(),
  state: JobState,
  fraction: z.number().min(0).max(1),
  phase: z.string(),
  message: z.string(),
  etaSeconds: z.number().nullable(),
  startedAt: z.number().nullable(),
  /** Set when the job runs on a cluster; absent for a local process. */
  placement: Placement.optional(),
})
export type JobProgress = z.infer<typeof JobProgress>

export const JobKindInfo = z.object({ kind: z.string(), summary: z.string() })

export const jobMethods = {
  startJob: method(StartJobArgs, RunSummary, 'Starts a job in its own process; the run it writes is returned at once.'),
  cancelJob: method(
    z.object({ run: z.string().min(1) }),
    RunSummary,
    'Stops a queued or running job, also one another process sharing the data folder runs (the CLI, another window); its run becomes KILLED.',
  ),
  resumeJob: method(z.object({ run: z.string().min(1) }), RunSummary, 'Continues an INTERRUPTED, FAILED or KILLED run where it stopped.'),
  listJobs: method(z.object({}).default({}), z.array(JobProgress), 'Jobs queued or running in any process sharing the data folder, with progress.'),
  listJobKinds: method(z.object({}).default({}), z.array(JobKindInfo), 'The kinds of job that can be started.'),
}

export const jobEvents = {
  jobProgress: JobProgress,
}
