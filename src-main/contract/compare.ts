// Comparing runs and browsing many of them: a paged, sorted, filtered run table with chosen param and metric columns,
// and a comparison of 2–N runs (params, metric statistics, tags, artifacts), differences flagged by the service.
import { z } from 'zod'
import { method } from './define.ts'
import { RunFilter, RunSummary } from './runs.ts'

const RunId = z.string().trim().min(1, 'Give a run id (the full uuid or its first characters).').max(64)

/** A param or a metric as a table column; a metric column shows the metric's last value (highest step). */
export const RunColumn = z.object({ kind: z.enum(['param', 'metric']), key: z.string().min(1).max(200) })
export type RunColumn = z.infer<typeof RunColumn>

/** What the run table sorts by: a built-in attribute or a param / metric column (runs without the key sort last). */
export const RunSortKey = z.union([z.enum(['created', 'started', 'name', 'kind', 'status', 'duration']), RunColumn])
export type RunSortKey = z.infer<typeof RunSortKey>

export const RunQuery = RunFilter.omit({ limit: true }).extend({
  /**
   * A filter in the run query language (docs/run-query.md), e.g. `params.noise_sigma > 0.5 and metrics.test_accuracy >= 0.8`.
   * Parsed and validated; values are bound as SQL parameters, never written into SQL.
   */
  where: z.string().max(2000).optional(),
  sort: z.object({ by: RunSortKey, direction: z.enum(['asc', 'desc']).default('desc') }).default({ by: 'created', direction: 'desc' }),
  /** Extra columns; each row's `values` follows this order. */
  columns: z.array(RunColumn).max(40).default([]),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(1000).default(200),
})
export type RunQuery = z.input<typeof RunQuery>
/** A RunQuery after validation, defaults filled in: what the handler and the store see. */
export type ParsedRunQuery = z.output<typeof RunQuery>

/** A cell of a param or metric column: params are text, metrics numbers; null where the run has no such key. */
export const ColumnValue = z.union([z.string(), z.number(), z.null()])
export type ColumnValue = z.infer<typeof ColumnValue>

export const RunRow = RunSummary.extend({
  /** Seconds from start to end (or to now while it runs); null before it starts. */
  durationS: z.number().nullable(),
  values: z.array(ColumnValue),
})
export type RunRow = z.infer<typeof RunRow>

export const RunPage = z.object({
  rows: z.array(RunRow),
  /** How many runs match the filter in all; the page holds rows offset … offset + rows.length − 1 of them. */
  total: z.number().int().min(0),
  offset: z.number().int().min(0),
})
export type RunPage = z.infer<typeof RunPage>

/** Which way is better for a metric: accuracy and midpoints up, losses, errors and latencies down. */
export const MetricDirection = z.enum(['max', 'min'])
export type MetricDirection = z.infer<typeof MetricDirection>

/** Words that make a metric lower-is-better wherever they appear in its key (val_loss, testError, latency_ms, epoch_time). */
const LOWER_IS_BETTER_WORDS = ['loss', 'error', 'latency', 'time', 'duration', 'seconds', 'brier']
/** Short names that do so only as a whole part of the key (test_ece, nll), so 'recent' or 'piece' are not caught. */
const LOWER_IS_BETTER_PARTS = ['ece', 'nll']

/**
 * Which way is better for a metric, from its key alone: 'min' when the key contains loss, error, latency, time,
 * duration, seconds or brier, or has ece or nll as a part (split at _ - . / spaces and camelCase); 'max' otherwise
 * (accuracy, midpoints, throughput). docs/run-query.md lists the rule.
 */
export function metricDirection(key: string): MetricDirection {
  const lower = key.toLowerCase()
  if (LOWER_IS_BETTER_WORDS.some((word) => lower.includes(word))) return 'min'
  const parts = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
  return parts.some((part) => LOWER_IS_BETTER_PARTS.includes(part)) ? 'min' : 'max'
}

export const MetricStats = z.object({
  last: z.number(),
  min: z.number(),
  max: z.number(),
  /** min or max, by the metric's direction. */
  best: z.number(),
  /** How many points the run logged for the metric, and the step of the last one. */
  points: z.number().int(),
  lastStep: z.number(),
})
export type MetricStats = z.infer<typeof MetricStats>

export const RunComparison = z.object({
  runs: z.array(RunSummary.extend({ durationS: z.number().nullable() })),
  /** Every param any of the runs has; `values` follows `runs` (null: that run lacks it). */
  params: z.array(z.object({ key: z.string(), values: z.array(z.string().nullable()), differs: z.boolean() })),
  metrics: z.array(
    z.object({
      key: z.string(),
      direction: MetricDirection,
      /** Per run, over its finite points only (±Infinity is left out as if not logged); null: no finite point. */
      stats: z.array(MetricStats.nullable()),
      /** Some run lacks the metric while another has it, or the last values are not all equal. */
      differs: z.boolean(),
      /** Index into `runs` of the run whose `best` is best by `direction`; null when no run has the metric or two tie. */
      bestRun: z.number().int().nullable(),
    }),
  ),
  tags: z.array(z.object({ tag: z.string(), present: z.array(z.boolean()), differs: z.boolean() })),
  artifacts: z.array(
    z.object({
      path: z.string(),
      files: z.array(z.object({ sha256: z.string(), size: z.number() }).nullable()),
      /** Every run has the file and all hashes are equal. */
      identical: z.boolean(),
    }),
  ),
})
export type RunComparison = z.infer<typeof RunComparison>

export const compareMethods = {
  queryRuns: method(
    RunQuery,
    RunPage,
    'One page of the run table: filtered (kind, status, tag, text and a `where` query), sorted (by an attribute, param or metric), with chosen param and metric columns, and the total count.',
  ),
  runColumns: method(
    z.object({ includeDeleted: z.boolean().default(false) }),
    z.object({ params: z.array(z.string()), metrics: z.array(z.string()) }),
    'The param and metric keys that runs have, for column pickers and query completion.',
  ),
  compareRuns: method(
    z.object({ runs: z.array(RunId).min(2, 'Pick at least two runs to compare.').max(20, 'Compare at most 20 runs at once.') }),
    RunComparison,
    'Two or more runs side by side: params, metric statistics (last, min, max, best by direction), tags and artifact hashes, each row flagged when the runs differ.',
  ),
}
