// Uncertainty: repulsive last-layer ensembles (and their baselines), the uncertainty and OOD metrics they are judged
// by, uncertainty under hardware noise, and pool-based active learning. See docs/uncertainty.md.
import { z } from 'zod'
import { Seed, TrainWorkers } from './define.ts'
import { NoiseModel } from './robustness.ts'
import { AnalogTraining } from './analog.ts'

const Id = z.string().trim().min(1).max(200)

/** last-layer: M heads on the model's frozen body; deep: M models of the same architecture trained from scratch. */
export const EnsembleMethod = z.enum(['last-layer', 'deep'])
/** function: repulsion between the heads' outputs; weight: between their weights; none: a plain ensemble. */
export const RepulsionKind = z.enum(['function', 'weight', 'none'])
/** Where the function-space repulsion samples come from. */
export const RepulsionSamples = z.enum(['train', 'augment', 'ood'])

export const EnsembleTrainParams = z
  .object({
    model: Id,
    method: EnsembleMethod.default('last-layer'),
    heads: z.number().int().min(2, 'an ensemble needs at least 2 members').max(50).default(10),
    /** 1: the classifier; 2: the classifier and the dense layer before it. */
    headDepth: z.union([z.literal(1), z.literal(2)]).default(1),
    /** fresh: He-initialised heads (as diverse as a deep ensemble's members); pretrained: the classifier's weights plus 10% noise. */
    init: z.enum(['fresh', 'pretrained']).default('fresh'),
    repulsion: RepulsionKind.default('function'),
    form: z.enum(['wgd', 'svgd']).default('wgd'),
    samples: RepulsionSamples.default('augment'),
    /** The out-of-distribution set: repulsion samples (samples = ood) and the OOD metrics; null: none (no OOD metrics). */
    oodDataset: Id.nullable().default('mnist-digits-subset'),
    repulsionWeight: z.number().min(0).max(1e3).default(1),
    epochs: z.number().int().min(1).max(200).default(5),
    batchSize: z.number().int().min(8).max(1024).default(64),
    learningRate: z.number().positive().max(1).default(1e-3),
    workers: TrainWorkers,
    weightDecay: z.number().min(0).max(1).default(1e-4),
    /** Training samples used (null: the whole training split). */
    trainSamples: z.number().int().min(100).nullable().default(null),
    seed: Seed.default(1),
  })
  .strict()
export type EnsembleTrainParams = z.output<typeof EnsembleTrainParams>

export const UncertaintyNoise = z.object({
  model: NoiseModel.default(NoiseModel.parse({})),
  /** An injection point of the body, or 'global' (every point of the body). */
  point: z.string().min(1).default('global'),
  /** σ values to evaluate at (σ = 0 is always added). */
  sigmas: z.array(z.number().positive().max(1e6)).min(1).max(40),
})

export const UncertaintyEvaluateParams = z
  .object({
    /** An ensemble-train run, or any model (a single model is an ensemble of one). */
    ensemble: Id,
    /** In-distribution test set (default: the one the model was trained on). */
    dataset: Id.optional(),
    oodDataset: Id.nullable().default('mnist-digits-subset'),
    bins: z.number().int().min(2).max(100).default(15),
    /** Test samples evaluated (null: all). */
    limit: z.number().int().min(10).nullable().default(null),
    noise: UncertaintyNoise.optional(),
    /** Run the body through the analog model (planned on training samples), the nominal device or a calibrated one. */
    analog: AnalogTraining.optional(),
    seed: Seed.default(1),
  })
  .strict()
export type UncertaintyEvaluateParams = z.output<typeof UncertaintyEvaluateParams>

export const Acquisition = z.enum(['bald', 'entropy', 'margin', 'random'])
export type Acquisition = z.infer<typeof Acquisition>

export const ActiveLearningParams = z
  .object({
    model: Id,
    acquire: Acquisition.default('bald'),
    initial: z.number().int().min(10).max(100_000).default(100),
    perRound: z.number().int().min(1).max(10_000).default(50),
    rounds: z.number().int().min(1).max(200).default(5),
    heads: z.number().int().min(2).max(50).default(5),
    /** Gradient steps per round: the labelled set is small, so rounds are sized in steps, not epochs. */
    steps: z.number().int().min(1).max(100_000).default(300),
    learningRate: z.number().positive().max(1).default(1e-2),
    /** The unlabelled pool is drawn from the training split; null: all of it. */
    pool: z.number().int().min(100).nullable().default(5000),
    seed: Seed.default(1),
  })
  .strict()
export type ActiveLearningParams = z.output<typeof ActiveLearningParams>

// ---- results ----

/** Every scalar metric of one evaluation (docs/uncertainty.md defines each). OOD metrics are null without an OOD set. */
export const UncertaintySummary = z.object({
  accuracy: z.number(),
  nll: z.number(),
  brier: z.number(),
  ece: z.number(),
  mce: z.number(),
  adaptiveEce: z.number(),
  meanEntropy: z.number(),
  meanAleatoric: z.number(),
  meanEpistemic: z.number(),
  disagreement: z.number(),
  meanPairwiseKl: z.number(),
  aurc: z.number(),
  aurocEntropy: z.number().nullable(),
  aurocMi: z.number().nullable(),
  auprEntropy: z.number().nullable(),
  auprMi: z.number().nullable(),
  fpr95Entropy: z.number().nullable(),
  fpr95Mi: z.number().nullable(),
})
export type UncertaintySummary = z.infer<typeof UncertaintySummary>

export const EnsembleTrainResult = z.object({
  model: z.string(),
  method: EnsembleMethod,
  members: z.number().int(),
  repulsion: RepulsionKind,
  samples: RepulsionSamples.nullable(),
  dataset: z.string(),
  /** On the in-distribution test split (and the OOD set when there is one). */
  summary: UncertaintySummary,
})
export type EnsembleTrainResult = z.infer<typeof EnsembleTrainResult>

const Curve = z.array(z.object({ x: z.number(), y: z.number() }))
const Histogram = z.object({ edges: z.array(z.number()), inDistribution: z.array(z.number()), outOfDistribution: z.array(z.number()).nullable() })
/** A test sample shown in a gallery: its pixels (uint8, row-major) and what the ensemble made of it. */
const GallerySample = z.object({
  index: z.number().int(),
  pixels: z.array(z.number().int().min(0).max(255)),
  shape: z.array(z.number().int()),
  label: z.number().int().nullable(),
  predicted: z.number().int(),
  confidence: z.number(),
  epistemic: z.number(),
})

export const UncertaintyEvaluateResult = z.object({
  ensemble: z.string(),
  members: z.number().int(),
  /** 'float', or how the body ran on the analog model, e.g. 'analog (ordered, nominal device)'. */
  body: z.string(),
  dataset: z.string(),
  oodDataset: z.string().nullable(),
  classNames: z.array(z.string()),
  summary: UncertaintySummary,
  reliability: z.array(
    z.object({ lower: z.number(), upper: z.number(), count: z.number().int(), confidence: z.number().nullable(), accuracy: z.number().nullable() }),
  ),
  entropy: Histogram,
  mutualInformation: Histogram,
  rocEntropy: Curve.nullable(),
  rocMi: Curve.nullable(),
  riskCoverage: Curve,
  gallery: z.object({ mostCertain: z.array(GallerySample), leastCertain: z.array(GallerySample), confidentOod: z.array(GallerySample) }),
  /** Under noise: accuracy, ECE and mean epistemic uncertainty per σ (σ = 0 first). */
  noise: z
    .object({
      point: z.string(),
      curve: z.array(z.object({ sigma: z.number(), accuracy: z.number(), ece: z.number(), meanEpistemic: z.number(), meanEntropy: z.number() })),
    })
    .nullable(),
})
export type UncertaintyEvaluateResult = z.infer<typeof UncertaintyEvaluateResult>

export const ActiveLearningResult = z.object({
  model: z.string(),
  acquire: Acquisition,
  rounds: z.array(z.object({ round: z.number().int(), labelled: z.number().int(), testAccuracy: z.number(), ece: z.number() })),
})
export type ActiveLearningResult = z.infer<typeof ActiveLearningResult>
