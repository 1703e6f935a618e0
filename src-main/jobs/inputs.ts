// What the parent resolves for a job before it starts (dataset files, model files), per kind: ids in the params
// become concrete paths, so a job process never needs the database.
import type { JobKind } from '../contract/index.ts'
import type { DatasetSource } from '../engine/data/registry.ts'
import type { LayerShape } from '../hardware/layer-latency.ts'

export interface JobInputsByKind {
  selftest: Record<string, never>
  train: { dataset: DatasetSource }
  evaluate: { dataset: DatasetSource; modelJson: string }
  roofline: Record<string, never>
  'layer-latency': { layers: LayerShape[]; skipped: string[]; modelUuid: string }
  sweep: { dataset: DatasetSource; modelJson: string }
  'robustness-study': { dataset: DatasetSource }
}

export type JobInputs<K extends JobKind = JobKind> = JobInputsByKind[K]
