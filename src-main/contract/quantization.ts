// Quantization vs noisy training: the robustness-study job (a grid of trainings, each evaluated under global noise
// and walking noise) and its results, grouped per method and bit width.
import { z } from 'zod'
import { toCsv } from './csv.ts'
import { method, Seed, TrainWorkers } from './define.ts'
import { MidpointInfo, Sigma } from './robustness.ts'

const Id = z.string().trim().min(1).max(200)
const Bits = z.number().int().min(2).max(16)

export const StudyParams = z.object({
  dataset: Id.default('fashion-mnist-subset'),
  architecture: Id.default('lenet5'),
  epochs: z.number().int().min(1).max(200).default(5),
  batchSize: z.number().int().min(1).max(4096).default(64),
  learningRate: z.number().positive().max(10).default(2e-3),
  workers: TrainWorkers,
  /** Trainings per grid cell, with seeds seed, seed+1, …: the spread between them gives the intervals. */
  repeats: z.number().int().min(1).max(20).default(2),
  seed: Seed.default(1),
  /** Train a float baseline. */
  float: z.boolean().default(true),
  /** Noisy training (additive, every point) at each σ; empty: none. */
  noisySigmas: z.array(z.number().positive().max(100)).max(8).default([0.5]),
  /** QAT bit widths (weights and ReLU activations alike); empty: none. */
  qatBits: z.array(Bits).max(8).default([4, 8]),
  /** Constant activation scales: range max = M(b)·scale. */
  qatScales: z.array(z.number().positive().max(100)).min(1).max(8).default([0.1]),
  /** Also train QAT with noise (at the first noisy σ) for every bit width and scale. */
  qatNoisy: z.boolean().default(false),
  evaluation: z
    .object({
      /** Global additive noise at inference over this log grid (σ = 0 is always measured). */
      from: Sigma.default(1e-2),
      to: Sigma.default(1e2),
      count: z.number().int().min(2).max(100).default(17),
      /** Noise draws per σ. */
      repeats: z.number().int().min(1).max(50).default(3),
      /** Layer-wise midpoints (walking noise, adaptive) too. */
      walking: z.boolean().default(true),
      /** Evaluate on the first N test samples only. */
      limit: z.number().int().min(10).max(10_000_000).optional(),
    })
    .default({ from: 1e-2, to: 1e2, count: 17, repeats: 3, walking: true }),
})
export type StudyParams = z.output<typeof StudyParams>

export const StudyMethod = z.enum(['float', 'noisy', 'qat', 'qat-noisy'])
export type StudyMethod = z.infer<typeof StudyMethod>

/** One training of the grid. */
export const StudyVariant = z.object({
  id: z.string(),
  method: StudyMethod,
  /** null for float training (32-bit). */
  bits: z.number().nullable(),
  scale: z.number().nullable(),
  sigma: z.number().nullable(),
  repeat: z.number(),
  seed: z.number(),
})
export type StudyVariant = z.infer<typeof StudyVariant>

const Curve = z.array(z.object({ sigma: z.number(), accuracy: z.number(), low: z.number(), high: z.number() }))

export const StudyVariantResult = StudyVariant.extend({
  state: z.enum(['pending', 'trained', 'evaluated']),
  cleanAccuracy: z.number().nullable(),
  curve: Curve,
  globalMidpoint: MidpointInfo.nullable(),
  layerMidpoints: z.record(z.string(), z.number().nullable()),
})

/** The variants of one (method, bits, scale, σ), repeats pooled. */
export const StudyGroup = z.object({
  key: z.string(),
  label: z.string(),
  method: StudyMethod,
  bits: z.number().nullable(),
  scale: z.number().nullable(),
  sigma: z.number().nullable(),
  trainings: z.number(),
  cleanAccuracy: z.number().nullable(),
  /** Geometric mean of the repeats' global midpoints, with a 95% interval (t over repeats; the curve's own interval for one). */
  midpoint: z.number().nullable(),
  midpointCi: z.tuple([z.number().nullable(), z.number().nullable()]),
  /** Mean accuracy per σ over the repeats. */
  curve: Curve,
  layerMidpoints: z.record(z.string(), z.number().nullable()),
  /**
   * Paired with float (repeat r of both used seed + r): the geometric mean of the per-repeat midpoint ratios and its
   * 95% t-interval. Pairing removes the spread that seeds cause in both; null for float or without two pairs.
   */
  versusFloat: z.object({ ratio: z.number(), ci: z.tuple([z.number(), z.number()]), pairs: z.number() }).nullable(),
})
export type StudyGroup = z.infer<typeof StudyGroup>

export const StudyResult = z.object({
  run: z.string(),
  status: z.string(),
  params: StudyParams,
  variants: z.array(StudyVariantResult),
  groups: z.array(StudyGroup),
  /** Plain words: which method is most robust per bit width, and by how much. */
  summary: z.array(z.string()),
})
export type StudyResult = z.infer<typeof StudyResult>

/** Every training of the grid, repeats innermost-last; repeat r of every method uses seed + r (paired comparisons). */
export function studyVariants(p: StudyParams): StudyVariant[] {
  const cells: Omit<StudyVariant, 'id' | 'repeat' | 'seed'>[] = []
  if (p.float) cells.push({ method: 'float', bits: null, scale: null, sigma: null })
  for (const sigma of p.noisySigmas) cells.push({ method: 'noisy', bits: null, scale: null, sigma })
  for (const bits of p.qatBits)
    for (const scale of p.qatScales) {
      cells.push({ method: 'qat', bits, scale, sigma: null })
      if (p.qatNoisy && p.noisySigmas.length) cells.push({ method: 'qat-noisy', bits, scale, sigma: p.noisySigmas[0]! })
    }
  const variants: StudyVariant[] = []
  for (let repeat = 0; repeat < p.repeats; repeat++)
    for (const cell of cells) variants.push({ ...cell, id: `${groupKey(cell)}-r${repeat}`, repeat, seed: p.seed + repeat })
  return variants
}

/** A grid cell's id: the variants' ids and the groups' keys. */
export function groupKey(v: Pick<StudyVariant, 'method' | 'bits' | 'scale' | 'sigma'>): string {
  switch (v.method) {
    case 'float':
      return 'float'
    case 'noisy':
      return `noisy-s${v.sigma}`
    case 'qat':
      return `qat${v.bits}-c${v.scale}`
    case 'qat-noisy':
      return `qat${v.bits}-c${v.scale}-noisy${v.sigma}`
  }
}

/** A grid cell's method in words; every host labels trainings and groups with it. */
export function groupLabel(v: Pick<StudyVariant, 'method' | 'bits' | 'scale' | 'sigma'>): string {
  switch (v.method) {
    case 'float':
      return 'float'
    case 'noisy':
      return `noisy training σ=${v.sigma}`
    case 'qat':
      return `QAT ${v.bits}-bit, scale ${v.scale}`
    case 'qat-noisy':
      return `QAT ${v.bits}-bit, scale ${v.scale} + noise σ=${v.sigma}`
  }
}

/** The grouped table as CSV, one row per method and bit width: the CLI's `study show --csv` and the UI's export. */
export function studyCsv(result: Pick<StudyResult, 'groups'>): string {
  const head = [
    'method',
    'label',
    'bits',
    'scale',
    'sigma',
    'trainings',
    'clean_accuracy',
    'global_midpoint',
    'ci_low',
    'ci_high',
    'vs_float_paired',
    'vs_float_ci_low',
    'vs_float_ci_high',
  ]
  const rows = result.groups.map((g) => {
    const paired = g.versusFloat
    return [
      g.method,
      g.label,
      g.bits ?? 32,
      g.scale,
      g.sigma,
      g.trainings,
      g.cleanAccuracy,
      g.midpoint,
      g.midpointCi[0],
      g.midpointCi[1],
      paired?.ratio,
      paired?.ci[0],
      paired?.ci[1],
    ]
  })
  return toCsv([head, ...rows])
}

export const quantizationMethods = {
  getStudy: method(
    z.object({ run: Id }),
    StudyResult,
    'A robustness study: every training of the grid with its noise curve and midpoints, grouped per method and bit width.',
  ),
}
