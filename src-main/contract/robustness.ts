// Layer robustness ("walking noise"): noise sweeps over injection points and their midpoint noise levels.
import { z } from 'zod'
import { method, Seed } from './define.ts'

const Id = z.string().trim().min(1).max(200)

/** A σ of a sweep grid: positive, and at most 1e12 (grids reach 1e10 by default; nothing survives far less). */
export const Sigma = z.number().positive().max(1e12)

export const NoiseModel = z.object({
  kind: z.enum(['additive', 'multiplicative', 'combined']).default('additive'),
  /** Combined noise: σ_add = A·ratio, σ_mul = A·(1 − ratio). */
  ratio: z.number().min(0).max(1).default(0.5),
  order: z.enum(['mul-then-add', 'add-then-mul']).default('mul-then-add'),
  /** σ as given, σ/√N or σ/N with N the elements of one sample at the point. */
  normalize: z.enum(['none', 'sqrt', 'linear']).default('none'),
  /** Executions averaged per point id: effective σ/√r. */
  executions: z.record(z.string(), z.number().int().min(1).max(1_000_000)).optional(),
})
export type NoiseModel = z.output<typeof NoiseModel>

export const SweepScope = z.discriminatedUnion('kind', [
  /** One injection point at a time. */
  z.object({ kind: z.literal('walking') }),
  /** Every point but the input at once. */
  z.object({ kind: z.literal('global') }),
  /** A chosen set of points, each with a σ scale. */
  z.object({ kind: z.literal('set'), name: z.string().trim().min(1).max(64), scales: z.record(z.string(), z.number().min(0).max(1000)) }),
])

export const SweepParams = z.object({
  model: Id,
  dataset: Id.optional(),
  noise: NoiseModel.default(NoiseModel.parse({})),
  scope: SweepScope.default({ kind: 'walking' }),
  /** adaptive: coarse pass then bisection to the midpoint; grid: every σ of the grid (for heatmaps). */
  strategy: z.enum(['adaptive', 'grid']).default('adaptive'),
  grid: z
    .object({ from: Sigma.default(1e-2), to: Sigma.default(1e10), count: z.number().int().min(2).max(200).default(49) })
    .default({ from: 1e-2, to: 1e10, count: 49 }),
  repeats: z.number().int().min(1).max(100).default(5),
  seed: Seed.default(1),
  /** Adaptive search stops when the midpoint's interval and bracket are this narrow, in decades of σ. */
  toleranceDecades: z.number().positive().max(2).default(0.05),
  /** Evaluate only the first N test samples (all when omitted). */
  limit: z.number().int().min(10).max(10_000_000).optional(),
  /** Worker threads sharing the scopes (default: one per core). */
  workers: z.number().int().min(1).max(64).optional(),
})
export type SweepParams = z.output<typeof SweepParams>

export const MidpointInfo = z.object({
  status: z.enum(['found', 'below-range', 'above-range', 'clean-at-chance']),
  sigma: z.number().nullable(),
  ci: z.tuple([z.number().nullable(), z.number().nullable()]),
  clean: z.number(),
  chance: z.number(),
  threshold: z.number(),
})

export const SweepResult = z.object({
  run: z.string(),
  status: z.string(),
  classes: z.number(),
  /** adaptive sweeps measure each point at the σ its search chose (curves); grid sweeps every σ of the grid (a heatmap). */
  strategy: z.enum(['adaptive', 'grid']),
  /** Accuracy without noise (σ = 0, every scope's clean cells pooled), null before it is measured. */
  clean: z.number().nullable(),
  scopes: z.array(
    z.object({
      scope: z.string(),
      label: z.string(),
      curve: z.array(z.object({ sigma: z.number(), accuracy: z.number(), low: z.number(), high: z.number(), repeats: z.number() })),
      midpoint: MidpointInfo.nullable(),
    }),
  ),
})
export type SweepResult = z.infer<typeof SweepResult>

export const robustnessMethods = {
  getSweep: method(z.object({ run: Id }), SweepResult, 'A sweep run: accuracy against σ per scope (with intervals) and the midpoint noise levels.'),
}
