// Models & Data: datasets, architectures, trained or imported models, and the train / evaluate jobs.
import { z } from 'zod'
import { method, Seed, TrainWorkers } from './define.ts'
import { NoiseModel } from './robustness.ts'
import { AnalogTraining } from './analog.ts'
import { RunSummary } from './runs.ts'

const Id = z.string().trim().min(1).max(200)

export const DatasetInfo = z.object({
  id: z.string(),
  name: z.string(),
  origin: z.enum(['embedded', 'system', 'imported']),
  format: z.enum(['idx', 'npz', 'wav-folder']),
  description: z.string(),
  sampleShape: z.array(z.number()),
  classNames: z.array(z.string()),
  counts: z.object({ train: z.number(), validation: z.number(), test: z.number() }),
})
export type DatasetInfo = z.infer<typeof DatasetInfo>

export const DatasetDetail = DatasetInfo.extend({
  classCounts: z.object({ train: z.array(z.number()), test: z.array(z.number()) }),
  /** A few test samples per class, scaled to 0–255 for display (first channel). */
  samples: z.array(z.object({ label: z.number(), width: z.number(), height: z.number(), pixels: z.array(z.number()) })),
})
export type DatasetDetail = z.infer<typeof DatasetDetail>

export const InjectionPointInfo = z.object({
  id: z.string(),
  label: z.string(),
  op: z.string(),
  outputShape: z.array(z.number()),
  inputShapes: z.array(z.array(z.number())),
  macs: z.number(),
  params: z.number(),
})
export type InjectionPointInfo = z.infer<typeof InjectionPointInfo>

export const ArchitectureInfo = z.object({ id: z.string(), summary: z.string() })

export const ModelInfo = z.object({
  id: z.string(),
  name: z.string(),
  architecture: z.string(),
  dataset: z.string(),
  source: z.enum(['trained', 'imported']),
  /** How it was made: train, model-import, hil-finetune, compression-apply. */
  kind: z.string(),
  /** Accuracy on the dataset's whole test split (null when never measured so: imported, or HIL fine-tuned). */
  testAccuracy: z.number().nullable(),
  /** Accuracy measured on an analog board after HIL fine-tuning, over `boardSamples` test samples. */
  boardAccuracy: z.number().nullable(),
  boardSamples: z.number().nullable(),
  /** The tfjs backend it was computed with (null: not recorded, e.g. an import, or a fine-tuning whose forward ran on a board). */
  backend: z.string().nullable(),
  /** The analog device it was fine-tuned on, for HIL fine-tuned models. */
  device: z.string().nullable(),
  createdAt: z.number(),
})
export type ModelInfo = z.infer<typeof ModelInfo>

export const ModelDetail = ModelInfo.extend({
  classNames: z.array(z.string()),
  sampleShape: z.array(z.number()),
  points: z.array(InjectionPointInfo),
})
export type ModelDetail = z.infer<typeof ModelDetail>

export const TrainParams = z.object({
  dataset: Id.default('fashion-mnist-subset'),
  architecture: Id.default('lenet5-bn'),
  epochs: z.number().int().min(1).max(1000).default(5),
  batchSize: z.number().int().min(1).max(4096).default(64),
  optimizer: z.enum(['adam', 'sgd']).default('adam'),
  learningRate: z.number().positive().max(10).default(2e-3),
  schedule: z.enum(['cosine', 'constant']).default('cosine'),
  seed: Seed.default(1),
  validationFraction: z.number().min(0).max(0.5).default(0.1),
  /** Early stopping: epochs without a better validation accuracy (0 turns it off). */
  patience: z.number().int().min(0).max(1000).default(0),
  /** Training loss and accuracy are logged every this many batches (step_loss, step_accuracy), besides per epoch. */
  logEverySteps: z.number().int().min(1).max(100_000).default(10),
  workers: TrainWorkers,
  /** Quantization-aware training: fake-quantized weights and ReLU activations, kept for evaluation and sweeps. */
  qat: z
    .object({
      weightBits: z.number().int().min(2).max(16).default(8),
      granularity: z.enum(['tensor', 'channel']).default('channel'),
      symmetric: z.boolean().default(true),
      /** 0 leaves activations in float. */
      activationBits: z.number().int().min(0).max(16).default(8),
      /** constant: range max = M(b)·scale (the original study); statistics: calibrated on training batches; learned: LSQ. */
      scaling: z.enum(['constant', 'statistics', 'learned']).default('constant'),
      /** The constant scale, or the learned scale's start. */
      scale: z.number().positive().max(100).default(0.1),
    })
    .optional(),
  /** Noisy training: noise at chosen points while training (never at evaluation). */
  noise: z
    .object({
      model: NoiseModel.default(NoiseModel.parse({})),
      /** 'global' (every point but the input) or the ids of the points to train with noise. */
      points: z.union([z.literal('global'), z.array(z.string().min(1)).min(1)]).default('global'),
      sigma: z.number().min(0).max(1000),
      /** Per-sample σ = sigma + theta·|N(0,1)|. */
      theta: z.number().min(0).max(1000).default(0),
      /** Ramp σ linearly from 0 over this many epochs (0: constant). */
      rampEpochs: z.number().int().min(0).max(1000).default(0),
    })
    .optional(),
  /** Training through the analog MVM model on dense (and conv) layers; its mapping is stored with the model. */
  analog: AnalogTraining.optional(),
})
export type TrainParams = z.output<typeof TrainParams>

export const EvaluateParams = z.object({
  model: Id,
  dataset: Id.optional(),
  split: z.enum(['test', 'train']).default('test'),
})

/**
 * A file or folder on the computer Benchside runs on, absolute: a relative path would be read against whatever folder
 * the server happens to run in. The CLI makes paths absolute against the shell's folder before it calls.
 */
export function absolutePath(what: string) {
  return z
    .string()
    .trim()
    .min(1, `Give the path of ${what}.`)
    .max(4096)
    .refine((path) => path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\'), {
      message: `Give the full path of ${what} (starting at / or a drive letter), not a relative one.`,
    })
}

/** The dataset-import job: a path on this computer, checked in a job process, then copied into the data folder. */
export const DatasetImportParams = z.object({
  path: absolutePath('an IDX folder, an NPZ file or a folder of class folders of .wav files'),
  /** The dataset's name; the file or folder name when not given. */
  name: z.string().trim().min(1).max(200).optional(),
})

/** The model-import job: its run becomes the model (a run holding model/model.json). */
export const ModelImportParams = z.object({
  path: absolutePath('a model.json or an .npz weights file'),
  architecture: Id.optional(),
  dataset: Id.optional(),
})

export const modelMethods = {
  listDatasets: method(z.object({}).default({}), z.array(DatasetInfo), 'Built-in and imported datasets.'),
  getDataset: method(
    z.object({ id: Id, samplesPerClass: z.number().int().min(0).max(20).default(3) }),
    DatasetDetail,
    'One dataset with class counts and sample images.',
  ),
  importDataset: method(
    DatasetImportParams,
    RunSummary,
    'Starts a dataset-import job (a folder of four IDX files, an NPZ file, or a folder of .wav files per class): checked in its own process, then copied into the data folder; its run is returned at once, and the dataset exists when the run is FINISHED (its result says which).',
  ),
  listArchitectures: method(z.object({}).default({}), z.array(ArchitectureInfo), 'The built-in network architectures.'),
  describeArchitecture: method(
    z.object({ architecture: Id, dataset: Id.default('fashion-mnist-subset') }),
    z.array(InjectionPointInfo),
    'The layer table and injection points of an architecture for a dataset.',
  ),
  listModels: method(z.object({}).default({}), z.array(ModelInfo), 'Trained and imported models.'),
  getModel: method(z.object({ model: Id }), ModelDetail, 'One model with its layer table and injection points.'),
  exportModel: method(
    z.object({
      model: Id,
      format: z.enum(['layers', 'npz']),
      path: absolutePath('the folder (layers) or file (npz) to write'),
      /** Existing files are never replaced unless this is set. */
      overwrite: z.boolean().default(false),
    }),
    z.object({ files: z.array(z.string()) }),
    'Writes a model as tfjs LayersModel (model.json + weights.bin, into a folder) or as weights-only NPZ (a file); refuses to replace existing files unless `overwrite` is set.',
  ),
  renameModel: method(
    z.object({ model: Id, name: z.string().trim().min(1, 'Give the model a name.').max(200) }),
    ModelInfo,
    "Renames a model (its run's name).",
  ),
  deleteModel: method(
    z.object({ model: Id }),
    RunSummary,
    "Deletes a model: its run is soft-deleted with everything it holds; restoreRun (or Runs' deleted filter) brings it back.",
  ),
  importModel: method(
    ModelImportParams.extend({ name: z.string().trim().min(1).max(200).optional() }),
    RunSummary,
    'Starts a model-import job (a model.json, Benchside or tfjs, or NPZ weights for a built-in architecture and dataset); its run, returned at once, is the model once FINISHED.',
  ),
}
