// Analog processor boards over a serial line (or the emulated demo board): connect, calibrate Benchside's analog
// model against a board, run layers on it (hardware in the loop) and compare float, simulated and measured accuracy.
import { z } from 'zod'
import { method, Seed } from './define.ts'

const Id = z.string().trim().min(1).max(200)
/** A serial port path, or 'demo' for the emulated board. */
const Port = z.string().trim().min(1, 'Give a serial port path (benchside analog list) or demo.').max(500)

export const AnalogDeviceInfo = z.object({
  protocolVersion: z.number(),
  deviceId: z.string(),
  firmware: z.string(),
  rows: z.number(),
  cols: z.number(),
  inputBits: z.number(),
  weightBits: z.number(),
  adcBits: z.number(),
  maxBatch: z.number(),
  slots: z.number(),
  maxPayload: z.number(),
  features: z.object({ ordering: z.boolean(), repeats: z.boolean(), calibration: z.boolean() }),
})
export type AnalogDeviceInfo = z.infer<typeof AnalogDeviceInfo>

export const OperandOrder = z.enum(['natural', 'sign', 'magnitude', 'random'])

/** What Benchside believes about one board's array: nominal, or fitted by a calibration. */
export const AnalogDeviceModelSchema = z.object({
  columns: z.number().int().positive(),
  columnGain: z.array(z.number()),
  columnOffset: z.array(z.number()),
  noiseStd: z.number().min(0),
  saturation: z.number().positive(),
  ordering: z.object({ order: OperandOrder, groupRows: z.number().int().positive() }).nullable(),
})

export const CalibrationQuality = z.object({
  /** Gain fit per column: R² of the linear region (median and worst column). */
  gainR2: z.object({ median: z.number(), min: z.number() }),
  columnGain: z.object({ mean: z.number(), std: z.number() }),
  columnOffset: z.object({ mean: z.number(), std: z.number() }),
  noiseStd: z.number(),
  saturation: z.number(),
  /** True when an ordered model explains the ordering probes clearly better than the associative one. */
  orderingDetected: z.boolean(),
  ordering: z.object({ order: OperandOrder, groupRows: z.number() }).nullable(),
  /** RMS error (ADC codes) of each candidate integration model on the ordering probes, best first. */
  candidates: z.array(z.object({ label: z.string(), rms: z.number() })),
  /** On random held-out layers: RMS error in codes of the calibrated model, the associative variant and the nominal model. */
  validation: z.object({ calibrated: z.number(), associative: z.number(), nominal: z.number(), vectors: z.number() }),
  /** A sample of (predicted, measured) mean codes from the held-out layers, for a scatter plot. */
  scatter: z.array(z.tuple([z.number(), z.number()])),
})
export type CalibrationQuality = z.infer<typeof CalibrationQuality>

export const AnalogCalibration = z.object({
  deviceId: z.string(),
  run: z.string().nullable(),
  createdAt: z.number(),
  model: AnalogDeviceModelSchema,
  quality: CalibrationQuality,
})
export type AnalogCalibration = z.infer<typeof AnalogCalibration>

export const AnalogBoardStatus = z.object({
  /** The port path, or 'demo'. */
  port: z.string(),
  name: z.string(),
  kind: z.enum(['serial', 'emulated']),
  state: z.enum(['available', 'connected', 'disconnected', 'error']),
  deviceId: z.string().nullable(),
  info: AnalogDeviceInfo.nullable(),
  error: z.string().nullable(),
  calibration: z.object({ createdAt: z.number(), run: z.string().nullable(), validationRms: z.number() }).nullable(),
})
export type AnalogBoardStatus = z.infer<typeof AnalogBoardStatus>

export const AnalogBoardList = z.object({
  boards: z.array(AnalogBoardStatus),
  /** Why port discovery found nothing, e.g. no udev in a container. */
  warning: z.string().nullable(),
})

/** Which layers run on the array: every dense layer, every dense and conv layer, or the ids named. */
const AnalogLayers = z.union([z.enum(['dense', 'all']), z.array(Id).min(1)]).default('dense')

export const AnalogTraining = z.object({
  layers: AnalogLayers,
  /** associative: saturate once per chunk; ordered: saturate after every operand group, as the device model says. */
  integration: z.enum(['associative', 'ordered']).default('ordered'),
  /** The calibrated model of this device (benchside analog list); the nominal model when omitted. */
  device: Id.optional(),
  /** Gain per layer: the 99.9th percentile of its chunk sums lands on this fraction of full scale (more: better SNR, less head-room; above 1 the largest sums clip). */
  fill: z.number().gt(0).max(8).default(0.5),
})

export const CalibrateParams = z.object({
  board: Port.default('demo'),
  /** Noise draws per probe vector. */
  repeats: z.number().int().min(1).max(255).default(16),
})

export const HilEvaluateParams = z.object({
  model: Id,
  board: Port.default('demo'),
  dataset: Id.optional(),
  layers: AnalogLayers,
  /** Test samples run on the board. */
  limit: z.number().int().min(10).max(100_000).default(1000),
  seed: Seed.default(1),
})

export const HilFinetuneParams = HilEvaluateParams.extend({
  epochs: z.number().int().min(1).max(50).default(1),
  /** Training samples per epoch, forward on the board. */
  trainLimit: z.number().int().min(64).max(100_000).default(4000),
  batchSize: z.number().int().min(8).max(1024).default(64),
  learningRate: z.number().positive().max(1).default(5e-4),
})

const Accuracies = z.object({
  float: z.number().nullable(),
  associative: z.number().nullable(),
  ordered: z.number().nullable(),
  measured: z.number().nullable(),
})

export const HilLayerStats = z.object({
  layer: z.string(),
  label: z.string(),
  outputs: z.number(),
  measured: z.object({ mean: z.number(), std: z.number() }),
  /** Error of each simulated variant against the measured layer outputs on the same inputs (real units). */
  ordered: z.object({ rms: z.number(), correlation: z.number() }),
  associative: z.object({ rms: z.number(), correlation: z.number() }),
  /** Up to a few hundred (ordered sim, associative sim, measured) output triples. */
  scatter: z.array(z.tuple([z.number(), z.number(), z.number()])),
})

/** A hardware-in-the-loop measurement; a running job reports it after every batch, so a lost board keeps what it measured. */
export const HilMeasurement = z.object({
  model: z.string(),
  deviceId: z.string(),
  calibrated: z.boolean(),
  layers: z.array(z.string()),
  samples: z.number(),
  accuracy: Accuracies,
  perLayer: z.array(HilLayerStats),
  /** Fine-tuning runs: accuracies before (epoch 0, loss null) and after each epoch. */
  epochs: z.array(z.object({ epoch: z.number(), loss: z.number().nullable(), accuracy: Accuracies })),
})
export type HilMeasurement = z.infer<typeof HilMeasurement>

export const HilResult = HilMeasurement.extend({ run: z.string(), kind: z.string(), status: z.string() })
export type HilResult = z.infer<typeof HilResult>

export const analogMethods = {
  listAnalogBoards: method(
    z.object({}).default({}),
    AnalogBoardList,
    'Serial ports that look like analog boards, connected boards, and the emulated demo board.',
  ),
  connectAnalogBoard: method(z.object({ port: Port }), AnalogBoardStatus, 'Opens a board (for demo: starts the emulator) and reads its INFO.'),
  disconnectAnalogBoard: method(z.object({ port: Port }), AnalogBoardStatus, 'Closes a board (for demo: stops the emulator).'),
  getAnalogCalibration: method(
    z.object({ device: Id }),
    AnalogCalibration.nullable(),
    "A board's newest calibration: the fitted model and the quality of the fit.",
  ),
  getHil: method(
    z.object({ run: Id }),
    HilResult,
    'A hardware-in-the-loop evaluation or fine-tuning run: accuracies of float, simulated and measured, and per-layer comparisons.',
  ),
}

export const analogEvents = {
  analogBoardsChanged: z.object({ port: z.string() }),
}
