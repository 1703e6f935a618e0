// What the parent resolves for a job before it starts (dataset files, model files), per kind: ids in the params
// become concrete paths, so a job process never needs the database.
import type { JobKind } from '../contract/index.ts'
import type { DatasetSource } from '../engine/data/registry.ts'
import type { LayerShape } from '../hardware/layer-latency.ts'
import type { AnalogDeviceModel } from '../engine/analog.ts'
import type { EnsembleSource } from './ensembles.ts'

export interface JobInputsByKind {
  selftest: Record<string, never>
  /** analogDevice: the calibrated model named by params.analog.device. */
  train: { dataset: DatasetSource; analogDevice?: AnalogDeviceModel }
  evaluate: { dataset: DatasetSource; modelJson: string }
  roofline: Record<string, never>
  'layer-latency': { layers: LayerShape[]; skipped: string[]; modelUuid: string; architecture: string }
  sweep: { dataset: DatasetSource; modelJson: string }
  'robustness-study': { dataset: DatasetSource }
  'analog-calibrate': Record<string, never>
  'hil-evaluate': { dataset: DatasetSource; modelJson: string }
  'hil-finetune': { dataset: DatasetSource; modelJson: string }
  /** The data folder's datasets folder: the job stages its copy there (import-staging.ts), the parent moves it into place. */
  'dataset-import': { datasetsDir: string }
  /** The dataset named in params (its classes and sample shape complete an NPZ or a tfjs model.json). */
  'model-import': { dataset: DatasetSource | null }
  'compression-search': CompressionInputs
  'compression-baseline': CompressionInputs
  'compression-apply': CompressionInputs
  'compression-profile': CompressionInputs
  /** oodDataset: for repulsion samples (samples = ood) and the OOD metrics. */
  'ensemble-train': { modelUuid: string; modelJson: string; dataset: DatasetSource; oodDataset: DatasetSource | null }
  /** analogDevice: the calibrated model named by params.analog.device. */
  'uncertainty-evaluate': {
    ensembleRun: string
    ensemble: EnsembleSource
    dataset: DatasetSource
    oodDataset: DatasetSource | null
    analogDevice?: AnalogDeviceModel
  }
  'active-learning': { modelUuid: string; modelJson: string; dataset: DatasetSource }
}

/** The model to compress and the dataset it was trained on (retraining and validation draw from it). */
export interface CompressionInputs {
  modelUuid: string
  modelJson: string
  dataset: DatasetSource
}

export type JobInputs<K extends JobKind = JobKind> = JobInputsByKind[K]
