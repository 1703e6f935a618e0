// Run history: browse, tag, annotate, delete and export past runs.
import { z } from 'zod'
import { method } from './define.ts'

export const RunStatus = z.enum(['SCHEDULED', 'RUNNING', 'FINISHED', 'FAILED', 'KILLED', 'INTERRUPTED'])
export type RunStatus = z.infer<typeof RunStatus>

const RunId = z.string().trim().min(1, 'Give a run id (the full uuid or its first characters).').max(64)
const Tag = z
  .string()
  .trim()
  .min(1, 'A tag cannot be empty.')
  .max(64, 'A tag has at most 64 characters.')
  .regex(/^[^\s,]+$/, 'A tag has no spaces or commas.')

export const RunSummary = z.object({
  uuid: z.string(),
  name: z.string(),
  kind: z.string(),
  experiment: z.string(),
  status: RunStatus,
  createdAt: z.number(),
  startTime: z.number().nullable(),
  endTime: z.number().nullable(),
  error: z.string().nullable(),
  tags: z.array(z.string()),
  deleted: z.boolean(),
})
export type RunSummary = z.infer<typeof RunSummary>

/**
 * A metric's value as it crosses JSON: a number, or NaN / ±Infinity spelled out (JSON has no such numbers and
 * JSON.stringify would turn them into null). A diverged training is stored and shown as it was, as MLflow does.
 */
export const MetricValue = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])])
export type MetricValue = z.infer<typeof MetricValue>

/** The number a metric value stands for (NaN, Infinity or -Infinity for the spelled-out ones); null for no value. */
export function metricNumber(value: MetricValue): number
export function metricNumber(value: MetricValue | null | undefined): number | null
export function metricNumber(value: MetricValue | null | undefined): number | null {
  return value === null || value === undefined ? null : typeof value === 'number' ? value : Number(value)
}

/** A metric value as a plot takes it: the number, or null (a gap in the line) for NaN and ±Infinity. */
export function plottedMetric(value: MetricValue): number | null {
  const number = metricNumber(value)
  return Number.isFinite(number) ? number : null
}

/** A number as a metric value: finite ones as they are, NaN and ±Infinity spelled out. */
export function metricValue(value: number): MetricValue {
  return Number.isFinite(value) ? value : Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity'
}

/** A metric value as text: "NaN", "Infinity" or "-Infinity", else the number through `format`. */
export function formatMetric(value: MetricValue, format: (value: number) => string = String): string {
  const number = metricNumber(value)
  return Number.isFinite(number) ? format(number) : String(number)
}

export const MetricPoint = z.object({ key: z.string(), value: MetricValue, step: z.number(), time: z.number() })
export type MetricPoint = z.infer<typeof MetricPoint>
export const Note = z.object({ id: z.number(), text: z.string(), time: z.number() })
export type Note = z.infer<typeof Note>
export const Artifact = z.object({ path: z.string(), sha256: z.string(), size: z.number(), time: z.number() })
export type Artifact = z.infer<typeof Artifact>

/** Where a view stands in a run's metrics: pass it back as getRun's `since` to get only what is new. */
export const MetricsCursor = z.object({ metrics: z.number().int().min(0) })

export const RunDetail = RunSummary.extend({
  params: z.record(z.string(), z.string()),
  /** Every metric point, or with `since` only those logged after it. */
  metrics: z.array(MetricPoint),
  notes: z.array(Note),
  artifacts: z.array(Artifact),
  cursor: MetricsCursor,
})
export type RunDetail = z.infer<typeof RunDetail>

export const RunFilter = z.object({
  kind: z.string().optional(),
  status: RunStatus.optional(),
  tag: z.string().optional(),
  text: z.string().max(200).optional(),
  includeDeleted: z.boolean().default(false),
  limit: z.number().int().min(1).max(10_000).default(1000),
})
export type RunFilter = z.input<typeof RunFilter>

export const runMethods = {
  listRuns: method(RunFilter, z.array(RunSummary), 'Runs, newest first, filtered by kind, status, tag and free text.'),
  getRun: method(
    z.object({ run: RunId, since: MetricsCursor.optional() }),
    RunDetail,
    'One run with its params, metrics, notes and artifacts; with `since` (a cursor from an earlier answer) only the metrics logged after it.',
  ),
  tagRun: method(z.object({ run: RunId, tag: Tag }), RunSummary, 'Adds a tag to a run.'),
  untagRun: method(z.object({ run: RunId, tag: Tag }), RunSummary, 'Removes a tag from a run.'),
  addNote: method(z.object({ run: RunId, text: z.string().trim().min(1, 'A note cannot be empty.').max(20_000) }), Note, 'Appends a note to a run.'),
  deleteRun: method(z.object({ run: RunId }), RunSummary, 'Soft-deletes a run; restoreRun brings it back.'),
  restoreRun: method(z.object({ run: RunId }), RunSummary, 'Undoes deleteRun.'),
  exportRuns: method(
    z.object({ runs: z.array(RunId).min(1, 'Choose at least one run to export.').max(1000) }),
    z.object({ format: z.literal('benchside-runs'), version: z.literal(1), runs: z.array(RunDetail) }),
    'The full record of runs as one JSON document.',
  ),
  readArtifact: method(
    z.object({
      run: RunId,
      path: z.string().trim().min(1, 'Give the path of the artifact inside the run, e.g. confusion.json.').max(1000),
    }),
    z.object({ text: z.string() }),
    'The content of one JSON or text artifact of a run (files under 5 MB; binary files are refused).',
  ),
}

export const runEvents = {
  /**
   * One run changed, in this process or any other that shares the data folder: its record, and from which cursors
   * it has new metrics or sweep cells (null: none new). Views fetch getRun({ since }) instead of polling.
   */
  runUpdated: z.object({ run: RunSummary, metricsSince: z.number().int().nullable(), cellsSince: z.number().int().nullable() }),
}
