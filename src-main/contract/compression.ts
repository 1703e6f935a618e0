// Compression: per-layer pruning + quantization policies, the searches that find them (DDPG agents, baselines) with
// latency measured on a board, and applying a policy to get a smaller model. See docs/compression.md.
import { z } from 'zod'
import { toCsv } from './csv.ts'
import { method, Seed } from './define.ts'

/** Bits of a layer's weights or input activations: 1–8 (mixed precision, 8 = int8) or 32 (float). */
export const PolicyBits = z
  .number()
  .refine((b) => Number.isInteger(b) && ((b >= 1 && b <= 8) || b === 32), { message: 'bits must be a whole number from 1 to 8, or 32 for float' })

export const LayerPolicy = z
  .object({
    /** A compressible layer's id: a dense or conv node that is not the classifier. */
    layer: z.string().min(1).max(200),
    /** Fraction of output channels (conv) or units (dense) kept, in (0, 1]. */
    keep: z.number().gt(0, 'keep must be above 0').max(1, 'keep must be at most 1'),
    weightBits: PolicyBits,
    activationBits: PolicyBits,
  })
  .strict()
export type LayerPolicy = z.infer<typeof LayerPolicy>

export const POLICY_FORMAT = 'benchside-compression-policy'

/** A policy file (docs/compression.md): every compressible layer of one architecture, in graph order. */
export const Policy = z
  .object({
    format: z.literal(POLICY_FORMAT).default(POLICY_FORMAT),
    version: z.literal(1).default(1),
    architecture: z.string().min(1).max(200),
    layers: z.array(LayerPolicy).min(1).max(512),
  })
  .strict()
export type Policy = z.output<typeof Policy>

export const AgentKind = z.enum(['joint', 'prune', 'quant'])
export type AgentKind = z.infer<typeof AgentKind>
/** r6: acc + β·|lat/(ρ·lat_ref) − 1|; target-power: acc·(lat/target)^β over target; log-cost: −log(cost)·acc/acc_ref; amc: −error·log(FLOPs). */
export const RewardKind = z.enum(['r6', 'target-power', 'log-cost', 'amc'])
export type RewardKind = z.infer<typeof RewardKind>
export const BaselineKind = z.enum(['uniform', 'random', 'greedy'])
export type BaselineKind = z.infer<typeof BaselineKind>

const Board = z.string().min(1).max(200).default('local')
const Target = z.number().gt(0).max(1).default(0.25)
const Episodes = z.number().int().min(1).max(5000)

/** What every compression job shares: the model, the board and how an episode retrains and validates. */
const EpisodeSettings = {
  modelUuid: z.string().min(1),
  board: Board,
  target: Target,
  /** Epochs of retraining after applying a policy, before validation (0: none). */
  retrainEpochs: z.number().int().min(0).max(100).default(1),
  /** Training samples per retraining epoch (null: the whole training split). */
  retrainSamples: z.number().int().min(100).max(1_000_000).nullable().default(2000),
  /** Validation samples an episode's accuracy is measured on (taken from the training split, never the test split). */
  validationSamples: z.number().int().min(100).max(100_000).default(1000),
  /** Pruned channel counts are rounded to multiples of this (at least one channel stays). */
  channelMultiple: z.number().int().min(1).max(64).default(1),
  /** 'measured' asks the board for every new policy; 'predicted' uses the per-layer cost model. */
  latency: z.enum(['measured', 'predicted']).default('measured'),
  seed: Seed.default(1),
}

export const CompressionSearchParams = z
  .object({
    ...EpisodeSettings,
    agent: AgentKind.default('joint'),
    reward: RewardKind.default('r6'),
    episodes: Episodes.default(100),
    /** Episodes with uniformly random actions before the agent acts. */
    warmupEpisodes: z.number().int().min(0).max(1000).default(10),
    /** Largest mixed-precision width B: a ratio above 0.5 maps to 1…B bits. */
    maxBits: z.number().int().min(1).max(8).default(6),
    /** Samples the per-layer sensitivity curves are measured on. */
    sensitivitySamples: z.number().int().min(50).max(10_000).default(300),
    /** The final pick: best validation accuracy among the last N episodes within ±0.05 of the target ratio. */
    pickWindow: z.number().int().min(1).max(5000).default(50),
    /** Epochs the picked policy is retrained for before the test-set evaluation (0: no final retraining). */
    finalEpochs: z.number().int().min(0).max(200).default(5),
  })
  .strict()
export type CompressionSearchParams = z.output<typeof CompressionSearchParams>

export const CompressionBaselineParams = z
  .object({
    ...EpisodeSettings,
    kind: BaselineKind,
    /** Policies tried (random: drawn; uniform: grid points; greedy: the upper bound on steps). */
    policies: z.number().int().min(1).max(500).default(12),
  })
  .strict()
export type CompressionBaselineParams = z.output<typeof CompressionBaselineParams>

export const CompressionApplyParams = z
  .object({
    modelUuid: z.string().min(1),
    policy: Policy,
    epochs: z.number().int().min(0).max(200).default(3),
    channelMultiple: z.number().int().min(1).max(64).default(1),
    /** Measure the compressed model's latency on this board too (null: do not measure). */
    board: z.string().min(1).max(200).nullable().default(null),
    seed: Seed.default(1),
  })
  .strict()
export type CompressionApplyParams = z.output<typeof CompressionApplyParams>

export const CompressionProfileParams = z
  .object({
    modelUuid: z.string().min(1),
    board: Board,
    /** Re-measure even when the latency table already holds the grid. */
    force: z.boolean().default(false),
  })
  .strict()
export type CompressionProfileParams = z.output<typeof CompressionProfileParams>

// ---- what compression jobs report ----

/** One compressible layer as the policy editor and the agent's state see it. */
export const CompressibleLayer = z.object({
  id: z.string(),
  op: z.enum(['dense', 'conv2d']),
  index: z.number().int(),
  inChannels: z.number().int(),
  outChannels: z.number().int(),
  kernel: z.number().int(),
  stride: z.number().int(),
  macs: z.number(),
  params: z.number(),
  /** False when its output channels feed a residual add, whose branches must keep the same channels. */
  prunable: z.boolean(),
})
export type CompressibleLayer = z.infer<typeof CompressibleLayer>

/** KL divergence of the compressed network's softmax from the reference, one layer compressed at a time. */
export const SensitivityCurves = z.object({
  layer: z.string(),
  keep: z.array(z.object({ keep: z.number(), kl: z.number() })),
  weightBits: z.array(z.object({ bits: z.number(), kl: z.number() })),
  activationBits: z.array(z.object({ bits: z.number(), kl: z.number() })),
})
export type SensitivityCurves = z.infer<typeof SensitivityCurves>

export const CompressionEpisode = z.object({
  episode: z.number().int(),
  /** 'warmup': random actions; 'agent': the actor plus exploration noise; a baseline's name for baseline points. */
  source: z.string(),
  policy: z.array(LayerPolicy),
  accuracy: z.number(),
  /** Measured on the board (null when the search ran on predictions only). */
  latencyS: z.number().nullable(),
  predictedLatencyS: z.number().nullable(),
  /** Latency (measured, else predicted) over the reference model's. */
  latencyRatio: z.number(),
  bops: z.number(),
  macs: z.number(),
  reward: z.number().nullable(),
  seconds: z.object({ apply: z.number(), retrain: z.number(), evaluate: z.number(), measure: z.number() }),
})
export type CompressionEpisode = z.infer<typeof CompressionEpisode>

export const CompressionReference = z.object({
  accuracy: z.number(),
  latencyS: z.number(),
  macs: z.number(),
  bops: z.number(),
  params: z.number(),
})

export const FinalPick = z.object({
  episode: z.number().int(),
  policy: z.array(LayerPolicy),
  validationAccuracy: z.number(),
  latencyS: z.number().nullable(),
  latencyRatio: z.number(),
  /** After finalEpochs of retraining, on the test split. */
  testAccuracy: z.number(),
  /** The reference model's test accuracy, for comparison. */
  referenceTestAccuracy: z.number(),
})

export const CostModelError = z.object({
  /** Over the policies measured: |predicted − measured| / measured. */
  median: z.number(),
  worst: z.number(),
  count: z.number().int(),
})

const CompressionRunBase = {
  modelUuid: z.string(),
  architecture: z.string(),
  board: z.string(),
  target: z.number(),
  layers: z.array(CompressibleLayer),
  reference: CompressionReference,
  episodes: z.array(CompressionEpisode),
  costModelError: CostModelError.nullable(),
}

export const CompressionSearchResult = z.object({
  ...CompressionRunBase,
  agent: AgentKind,
  reward: RewardKind,
  sensitivity: z.array(SensitivityCurves),
  pick: FinalPick.nullable(),
})
export type CompressionSearchResult = z.infer<typeof CompressionSearchResult>

export const CompressionBaselineResult = z.object({ ...CompressionRunBase, kind: BaselineKind })
export type CompressionBaselineResult = z.infer<typeof CompressionBaselineResult>

export const CompressionApplyResult = z.object({
  modelUuid: z.string(),
  architecture: z.string(),
  policy: z.array(LayerPolicy),
  referenceTestAccuracy: z.number(),
  testAccuracy: z.number(),
  params: z.number(),
  referenceParams: z.number(),
  macs: z.number(),
  bops: z.number(),
  latencyS: z.number().nullable(),
  referenceLatencyS: z.number().nullable(),
})
export type CompressionApplyResult = z.infer<typeof CompressionApplyResult>

export const CompressionProfileResult = z.object({
  modelUuid: z.string(),
  board: z.string(),
  /** How many grid points were measured now (the rest came from the latency table). */
  measured: z.number().int(),
  points: z.number().int(),
})
export type CompressionProfileResult = z.infer<typeof CompressionProfileResult>

// ---- the policy editor's live view ----

export const PolicyLayerCost = z.object({
  layer: z.string(),
  inChannels: z.number().int(),
  outChannels: z.number().int(),
  macs: z.number(),
  bops: z.number(),
  params: z.number(),
  predictedLatencyS: z.number().nullable(),
})

export const PolicyEvaluation = z.object({
  architecture: z.string(),
  layers: z.array(PolicyLayerCost),
  macs: z.number(),
  bops: z.number(),
  params: z.number(),
  reference: z.object({ macs: z.number(), bops: z.number(), params: z.number(), predictedLatencyS: z.number().nullable() }),
  predictedLatencyS: z.number().nullable(),
  /** Why there is no prediction (the board has not been profiled for this model), or null. */
  predictionMissing: z.string().nullable(),
})
export type PolicyEvaluation = z.infer<typeof PolicyEvaluation>

export const PolicyMeasurement = z.object({
  latencyS: z.number(),
  referenceLatencyS: z.number(),
  predictedLatencyS: z.number().nullable(),
  /** True when the latency table already held this policy's timing on this board. */
  cached: z.boolean(),
})
export type PolicyMeasurement = z.infer<typeof PolicyMeasurement>

export const ModelPolicyArgs = z.object({ modelUuid: z.string().min(1), board: Board, policy: Policy.nullable().default(null) })

export const compressionMethods = {
  compressionLayers: method(
    z.object({ modelUuid: z.string().min(1) }),
    z.object({ architecture: z.string(), layers: z.array(CompressibleLayer) }),
    "A model's compressible layers (dense and conv, not the classifier) with their shapes, MACs and parameters.",
  ),
  evaluatePolicy: method(
    ModelPolicyArgs,
    PolicyEvaluation,
    "A policy's per-layer channels, MACs, BOPs, parameters and the cost model's predicted latency on a board (no measurement). A null policy is the uncompressed model.",
  ),
  measurePolicy: method(
    ModelPolicyArgs,
    PolicyMeasurement,
    'Measures the compressed network on the board (once per board and pruned shape; later calls read the latency table).',
  ),
} as const

/** Episodes (or baseline points) as CSV, one row per episode with its policy flattened per layer. Shared by the CLI and the room. */
export function compressionEpisodesCsv(result: { layers: { id: string }[]; episodes: CompressionEpisode[] }): string {
  const layerColumns = result.layers.flatMap((l) => [`${l.id}.keep`, `${l.id}.weight_bits`, `${l.id}.activation_bits`])
  const head = ['episode', 'source', 'accuracy', 'latency_s', 'predicted_latency_s', 'latency_ratio', 'macs', 'bops', 'reward', ...layerColumns]
  const rows = result.episodes.map((e) => [
    e.episode,
    e.source,
    e.accuracy,
    e.latencyS,
    e.predictedLatencyS,
    e.latencyRatio,
    e.macs,
    e.bops,
    e.reward,
    ...result.layers.flatMap((l) => {
      const p = e.policy.find((x) => x.layer === l.id)
      return [p?.keep ?? null, p?.weightBits ?? null, p?.activationBits ?? null]
    }),
  ])
  return toCsv([head, ...rows])
}
