// Calibrating Benchside's analog model against a board: probe vectors through LOAD_WEIGHTS/RUN (and the board's
// offset probe) give per-column offsets and noise, per-column gains from input ramps, the saturation level from
// plateaus, and the integration order from probes whose result depends on it; held-out random layers say how good
// the fitted model is, next to the associative variant and the nominal model.
import * as tf from '@tensorflow/tfjs'
import type { CalibrationQuality } from '../contract/index.ts'
import {
  associative,
  DEFAULT_ARRAY,
  nominalDevice,
  simulateChunkCodes,
  type AnalogArrayConfig,
  type AnalogDeviceModel,
  type OperandOrder,
} from '../engine/analog.ts'
import { fitColumnGains, fitSaturation, meanStd, median, rms } from '../engine/analog-fit.ts'
import { seededRandom } from '../engine/random.ts'
import { boardGain } from '../hardware/analog-protocol/index.ts'
import type { SessionBoard } from './board-rpc.ts'

export interface CalibrationOptions {
  /** ADC reads per probe vector, averaged. */
  repeats: number
  signal?: AbortSignal
  onProgress?: (fraction: number, message: string) => void
}

export interface CalibrationResult {
  model: AnalogDeviceModel
  quality: CalibrationQuality
}

interface Geometry {
  rows: number
  cols: number
  wmax: number
  xmax: number
  config: AnalogArrayConfig
}

/** A probe layer: weight codes [rows][cols] row-major and input code vectors [count][rows]. */
interface Probe {
  weights: Int8Array
  inputs: Uint8Array
  count: number
}

const SLOT = { ramp: 0, rampNegative: 1, zero: 2, ordering: 3, validation: 4 }

export async function calibrateBoard(board: SessionBoard, options: CalibrationOptions): Promise<CalibrationResult> {
  const info = await board.info()
  const g: Geometry = {
    rows: info.rows,
    cols: info.cols,
    wmax: 2 ** info.weightBits - 1,
    xmax: 2 ** info.inputBits - 1,
    config: { ...DEFAULT_ARRAY, rows: info.rows, inputBits: info.inputBits, weightBits: info.weightBits, adcBits: info.adcBits },
  }
  const progress = options.onProgress ?? (() => {})
  const repeats = options.repeats
  const measure = async (slot: number, probe: Probe): Promise<Float32Array[]> => {
    options.signal?.throwIfAborted()
    await board.loadWeights(slot, probe.weights, g.rows, g.cols, { signal: options.signal })
    const codes = await board.run(slot, probe.inputs, g.rows, { repeats, signal: options.signal })
    return meanCodes(codes, probe.count, repeats, g.cols)
  }

  // 1. Offsets and noise: zero inputs, many reads.
  progress(0.05, 'offsets and noise')
  const { offsets, noise } = await measureOffsets(board, g, Math.max(32, repeats), options.signal)

  // 2. Gains and saturation: ramps on a few rows of a uniform positive (and negative) layer, at a gain that drives the
  //    largest ramp vectors about twice past the ADC's range.
  progress(0.2, 'gain ramps')
  const wp = Math.round(g.wmax / 2)
  const adcTop = 2 ** (info.adcBits - 1)
  const probeGain = (2 * adcTop) / (wp * g.xmax * 8)
  await board.set('gain', boardGain(probeGain))
  const ramp = rampProbe(g, wp)
  const plateau = uniformVectors(g, [g.xmax, g.xmax])
  // The positive layer takes the ramp and, after it, two vectors driven far into saturation: one load, one run.
  const up = await measure(SLOT.ramp, { ...stack([...ramp.vectors, ...plateau]), weights: uniformWeights(g, wp) })
  const down = await measure(SLOT.rampNegative, { ...stack(plateau), weights: uniformWeights(g, -wp) })
  const upRamp = up.slice(0, ramp.vectors.length)
  const saturation = Math.min(adcTop, fitSaturation([...up.slice(ramp.vectors.length), ...down], offsets))
  const gains = fitColumnGains({ sums: ramp.sums, codes: upRamp }, offsets, probeGain, saturation)
  const fitted = (ordering: AnalogDeviceModel['ordering']): AnalogDeviceModel => ({
    columns: g.cols,
    columnGain: gains.gain,
    columnOffset: offsets,
    noiseStd: noise,
    saturation,
    ordering,
  })

  // 3. Ordering: layers whose partial sums overshoot the saturation in different places depending on the order.
  progress(0.45, 'ordering probes')
  const probes = orderingProbes(g, wp)
  const measured: Float32Array[][] = []
  for (const probe of probes) measured.push(await measure(SLOT.ordering, probe))
  const candidates: { label: string; ordering: AnalogDeviceModel['ordering'] }[] = [
    { label: 'associative', ordering: null },
    ...([8, 16, 32, 64] as const).map((groupRows) => ({ label: `natural, groups of ${groupRows}`, ordering: { order: 'natural' as OperandOrder, groupRows } })),
    ...([8, 16, 32, 64, 128] as const).map((groupRows) => ({ label: `sign, groups of ${groupRows}`, ordering: { order: 'sign' as OperandOrder, groupRows } })),
    ...([16, 32] as const).map((groupRows) => ({ label: `magnitude, groups of ${groupRows}`, ordering: { order: 'magnitude' as OperandOrder, groupRows } })),
  ]
  const scored = candidates
    .map((c) => ({ ...c, rms: rms(flatMeasured(measured), flatPredicted(probes, fitted(c.ordering), probeGain, g)) }))
    .sort((a, b) => a.rms - b.rms)
  const best = scored[0]!
  const associativeRms = scored.find((c) => c.ordering === null)!.rms
  // Ordering is "present" when some order explains the probes far better than saturating once does.
  const orderingDetected = best.ordering !== null && best.rms < 0.5 * associativeRms && associativeRms > 2 * noise
  const model = fitted(orderingDetected ? best.ordering : null)

  // 4. Held-out random layers at a gain where some sums saturate: how well each model predicts them.
  progress(0.75, 'validation')
  const validation = validationProbe(g, seededRandom(12345))
  const validationGain = (0.6 * saturation) / Math.max(1, percentileAbs(idealSums(validation, g), 0.9))
  await board.set('gain', boardGain(validationGain))
  const observed = (await measure(SLOT.validation, validation)).flatMap((v) => [...v])
  const predict = (device: AnalogDeviceModel) => flatPredicted([validation], device, validationGain, g)
  const calibrated = predict({ ...model, noiseStd: 0 })
  const quality: CalibrationQuality = {
    gainR2: { median: median(gains.r2), min: Math.min(...gains.r2) },
    columnGain: meanStd(gains.gain),
    columnOffset: meanStd(offsets),
    noiseStd: noise,
    saturation,
    orderingDetected,
    ordering: model.ordering,
    candidates: scored.map((c) => ({ label: c.label, rms: c.rms })),
    validation: {
      calibrated: rms(observed, calibrated),
      associative: rms(observed, predict(associative({ ...model, noiseStd: 0 }))),
      nominal: rms(observed, predict(nominalDevice(g.cols, { noiseStd: 0, saturation: adcTop - 1 }))),
      vectors: validation.count,
    },
    scatter: sample(observed.length, 400).map((i) => [calibrated[i]!, observed[i]!] as [number, number]),
  }
  await board.reset()
  progress(1, 'done')
  return { model, quality }
}

async function measureOffsets(board: SessionBoard, g: Geometry, repeats: number, signal?: AbortSignal): Promise<{ offsets: number[]; noise: number }> {
  const features = (await board.info()).features
  if (features.calibration) {
    const probe = await board.calibrate('offset', repeats, { signal })
    return { offsets: [...probe.mean], noise: median([...probe.std]) }
  }
  // Without the board's own probe: zero weights, zero inputs, read many times.
  await board.loadWeights(SLOT.zero, new Int8Array(g.rows * g.cols), g.rows, g.cols, { signal })
  const codes = await board.run(SLOT.zero, new Uint8Array(g.rows), g.rows, { repeats, signal })
  const offsets: number[] = []
  const stds: number[] = []
  for (let j = 0; j < g.cols; j++) {
    const column = Array.from({ length: repeats }, (_, r) => codes[r * g.cols + j]!)
    const { mean, std } = meanStd(column)
    offsets.push(mean)
    stds.push(std)
  }
  return { offsets, noise: median(stds) }
}

/** The repeats of each vector averaged: [vector][column]. */
function meanCodes(codes: Int8Array, count: number, repeats: number, cols: number): Float32Array[] {
  return Array.from({ length: count }, (_, v) => {
    const mean = new Float32Array(cols)
    for (let r = 0; r < repeats; r++) {
      const base = (v * repeats + r) * cols
      for (let j = 0; j < cols; j++) mean[j]! += codes[base + j]! / repeats
    }
    return mean
  })
}

function uniformWeights(g: Geometry, w: number): Int8Array {
  return new Int8Array(g.rows * g.cols).fill(w)
}

/** Vectors with input a on the first k rows, for k in 2, 4, 8 and every a: known sums w·a·k up to past saturation. */
function rampProbe(g: Geometry, w: number): { vectors: Uint8Array[]; sums: number[] } {
  const vectors: Uint8Array[] = []
  const sums: number[] = []
  for (const k of [2, 4, 8])
    for (let a = 1; a <= g.xmax; a++) {
      const x = new Uint8Array(g.rows)
      x.fill(a, 0, k)
      vectors.push(x)
      sums.push(w * a * k)
    }
  return { vectors, sums }
}

/** One vector per level, every row at that input code. */
function uniformVectors(g: Geometry, levels: readonly number[]): Uint8Array[] {
  return levels.map((a) => new Uint8Array(g.rows).fill(a))
}

function stack(vectors: readonly Uint8Array[]): Omit<Probe, 'weights'> {
  const inputs = new Uint8Array(vectors.length * (vectors[0]?.length ?? 0))
  vectors.forEach((v, i) => inputs.set(v, i * v.length))
  return { inputs, count: vectors.length }
}

/**
 * Layers whose ideal sums are small but whose partial sums overshoot: + then −, − then +, signs alternating in blocks
 * of 1 to 32 rows, and small positive weights before large negative ones (magnitude order integrates the large first).
 */
function orderingProbes(g: Geometry, w: number): Probe[] {
  const half = g.rows / 2
  const layer = (weightOfRow: (row: number) => number): Int8Array => {
    const weights = new Int8Array(g.rows * g.cols)
    for (let r = 0; r < g.rows; r++) weights.fill(weightOfRow(r), r * g.cols, (r + 1) * g.cols)
    return weights
  }
  const inputs = stack(uniformVectors(g, [2, 4, 8, 16, g.xmax]))
  const layers = [
    layer((r) => (r < half ? w : -w)),
    layer((r) => (r < half ? -w : w)),
    // Alternating signs every 1, 2, 4, … rows: mixed signs within a group cancel before it saturates under natural
    // order, but not when the array integrates each group's positive operands first.
    ...[1, 2, 4, 8, 16, 32].map((b) => layer((r) => (Math.floor(r / b) % 2 === 0 ? w : -w))),
    layer((r) => (r < half ? Math.round(w / 4) : -g.wmax)),
  ]
  return layers.map((weights) => ({ weights, ...inputs }))
}

function validationProbe(g: Geometry, random: () => number): Probe {
  const weights = new Int8Array(g.rows * g.cols).map(() => (random() < 0.5 ? 0 : Math.round((random() * 2 - 1) * g.wmax)))
  const count = 64
  const inputs = new Uint8Array(count * g.rows).map(() => (random() < 0.5 ? 0 : Math.round(random() * g.xmax)))
  return { weights, inputs, count }
}

function idealSums(probe: Probe, g: Geometry): number[] {
  const sums: number[] = []
  for (let v = 0; v < probe.count; v++)
    for (let j = 0; j < g.cols; j++) {
      let s = 0
      for (let r = 0; r < g.rows; r++) s += probe.inputs[v * g.rows + r]! * probe.weights[r * g.cols + j]!
      sums.push(s)
    }
  return sums
}

function percentileAbs(values: readonly number[], p: number): number {
  const sorted = values.map(Math.abs).sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0
}

function flatMeasured(measured: readonly Float32Array[][]): number[] {
  return measured.flatMap((vectors) => vectors.flatMap((v) => [...v]))
}

/** What a device model predicts for the probes (noise off), flattened like flatMeasured. */
function flatPredicted(probes: readonly Probe[], device: AnalogDeviceModel, gain: number, g: Geometry): number[] {
  const quiet = { ...device, noiseStd: 0 }
  return probes.flatMap((probe) => {
    const codes = tf.tidy(() => {
      const xq = tf.tensor2d(Float32Array.from(probe.inputs), [probe.count, g.rows])
      const wq = tf.tensor2d(Float32Array.from(probe.weights), [g.rows, g.cols])
      return simulateChunkCodes(xq, wq, gain, quiet, g.config, { seed: 1 })
    })
    const values = [...codes.dataSync()]
    codes.dispose()
    return values
  })
}

function sample(length: number, count: number): number[] {
  const step = Math.max(1, Math.floor(length / count))
  return Array.from({ length: Math.min(count, Math.ceil(length / step)) }, (_, i) => i * step).filter((i) => i < length)
}
