// Messages between train() and its data-parallel worker threads (structured-clone data only).
import type { ModelSpec } from '../graph.ts'
import type { Normalization } from '../data/dataset.ts'
import type { ExchangeBuffers } from './exchange.ts'
import type { OptimizerKind } from './fused-optimizer.ts'
import type { ThreadNoise } from './thread-noise.ts'

export interface WorkerSetup {
  rank: number
  spec: ModelSpec
  /** The network's weights (model.getWeights() order) when training starts. */
  weights: { values: Float32Array; shape: number[] }[]
  data: {
    /** The training split's samples and labels, shared rather than copied into every worker. */
    x: SharedArrayBuffer
    xType: 'uint8' | 'float32'
    y: SharedArrayBuffer
    count: number
    sampleShape: number[]
    normalization: Normalization
    classes: number
  }
  optimizer: OptimizerKind
  noise?: ThreadNoise
  exchange: ExchangeBuffers
  /** Tests only: at this batch this worker throws (an error it reports) or exits (a crash: no report, exit code 3). */
  failAt?: { batch: number; how: 'throw' | 'exit' }
}

export type ToWorker = { type: 'epoch'; epoch: number; order: Int32Array; batchSize: number; learningRate: number; sendWeights: boolean } | { type: 'stop' }

export type FromWorker =
  | { type: 'ready' }
  /** From worker 0 only, a few times a second: [lossSum, correct, rows] of each batch since the last report. */
  | { type: 'batches'; first: number; totals: Float64Array }
  | { type: 'epoch-done'; rank: number; weights: Float32Array[] | null }
  | { type: 'error'; rank: number; message: string }
