// The analog array's settings: how values become codes (AnalogArrayConfig), what one physical array does to them
// (AnalogDeviceModel: gains, offsets, noise, saturation, integration order) and the per-layer mapping (scales).

export type OperandOrder = 'natural' | 'sign' | 'magnitude' | 'random'

export interface AnalogArrayConfig {
  /** Inputs are quantised to unsigned codes 0…2^inputBits − 1. */
  inputBits: number
  /** Weight magnitude bits plus a sign: codes −(2^weightBits − 1)…2^weightBits − 1. */
  weightBits: number
  /** The input dimension is split into row chunks of this many rows, one analog pass each. */
  rows: number
  /** ADC codes −2^(adcBits − 1)…2^(adcBits − 1) − 1. */
  adcBits: number
  /** The chunks' ADC codes are summed digitally, then clamped to ±digitalClamp. */
  digitalClamp: number
  /** 'clip': negative inputs become 0. 'split': x = x⁺ − x⁻, two passes subtracted digitally. */
  signedInputs: 'clip' | 'split'
}

/** What Benchside believes about one physical array: nominal or calibrated against a board. */
export interface AnalogDeviceModel {
  /** Physical columns; a layer's output j uses column j mod columns (wider layers take further passes). */
  columns: number
  /** Per-column multiplicative gain mismatch, nominal 1. */
  columnGain: number[]
  /** Per-column offset in ADC codes, nominal 0. */
  columnOffset: number[]
  /** Additive Gaussian noise in ADC codes, per vector, chunk and column, before the ADC. */
  noiseStd: number
  /** The analog integrator clips at ±saturation (ADC code units). */
  saturation: number
  /** null = associative: the chunk sum saturates once, at the end. Otherwise operands are integrated group by group, saturating after each group. */
  ordering: { order: OperandOrder; groupRows: number } | null
}

/** How one layer is mapped onto the array: fixed scales chosen once (from calibration data). */
export interface AnalogLayerScales {
  inputScale: number
  weightScale: number
  gain: number
}

/** BrainScaleS-2-like: 5-bit inputs, 6-bit + sign weights, 128-row chunks, 8-bit ADC, a 12-bit signed digital sum. */
export const DEFAULT_ARRAY: AnalogArrayConfig = Object.freeze({
  inputBits: 5,
  weightBits: 6,
  rows: 128,
  adcBits: 8,
  digitalClamp: 2 ** 11 - 1,
  signedInputs: 'clip',
})

/**
 * An ideal array of `columns` columns: gains 1, offsets 0, noise 0.5 ADC codes, saturation at the default ADC's top code
 * (2^(8−1) − 1 = 127; pass `saturation` for another ADC width), natural order in groups of 32 rows.
 */
export function nominalDevice(columns = 256, overrides: Partial<AnalogDeviceModel> = {}): AnalogDeviceModel {
  const device: AnalogDeviceModel = {
    columns,
    columnGain: Array.from({ length: columns }, () => 1),
    columnOffset: Array.from({ length: columns }, () => 0),
    noiseStd: 0.5,
    saturation: 2 ** (DEFAULT_ARRAY.adcBits - 1) - 1,
    ordering: { order: 'natural', groupRows: 32 },
    ...overrides,
  }
  checkDevice(device)
  return device
}

/** The same device integrating associatively: every chunk sum saturates once, at the end. */
export function associative(device: AnalogDeviceModel): AnalogDeviceModel {
  return { ...device, ordering: null }
}

/** ADC code range of a config. */
export function adcRange(config: Pick<AnalogArrayConfig, 'adcBits'>): { min: number; max: number } {
  return { min: -(2 ** (config.adcBits - 1)), max: 2 ** (config.adcBits - 1) - 1 }
}

const wholeIn = (value: number, low: number, high: number): boolean => Number.isInteger(value) && value >= low && value <= high

export function checkConfig(config: AnalogArrayConfig): AnalogArrayConfig {
  const bad = (what: string, value: unknown, rule: string): never => {
    throw new Error(`The analog array's ${what} is ${String(value)}; ${rule}.`)
  }
  if (!wholeIn(config.inputBits, 1, 16)) bad('inputBits', config.inputBits, 'use a whole number from 1 to 16')
  if (!wholeIn(config.weightBits, 1, 16)) bad('weightBits', config.weightBits, 'use a whole number from 1 to 16')
  if (!wholeIn(config.adcBits, 2, 24)) bad('adcBits', config.adcBits, 'use a whole number from 2 to 24')
  if (!wholeIn(config.rows, 1, 1 << 20)) bad('rows', config.rows, 'use a whole number of at least 1')
  if (!(config.digitalClamp > 0)) bad('digitalClamp', config.digitalClamp, 'use a positive number')
  if (config.signedInputs !== 'clip' && config.signedInputs !== 'split') bad('signedInputs setting', config.signedInputs, "use 'clip' or 'split'")
  return config
}

export function checkDevice(device: AnalogDeviceModel): AnalogDeviceModel {
  const bad = (what: string, rule: string): never => {
    throw new Error(`The analog device model's ${what}; ${rule}.`)
  }
  if (!wholeIn(device.columns, 1, 1 << 20)) bad(`column count is ${device.columns}`, 'use a whole number of at least 1')
  if (device.columnGain.length !== device.columns)
    bad(`columnGain has ${device.columnGain.length} entries for ${device.columns} columns`, 'give one gain per column')
  if (device.columnOffset.length !== device.columns)
    bad(`columnOffset has ${device.columnOffset.length} entries for ${device.columns} columns`, 'give one offset per column')
  if (!(device.noiseStd >= 0)) bad(`noiseStd is ${device.noiseStd}`, 'use 0 or a positive number')
  if (!(device.saturation > 0)) bad(`saturation is ${device.saturation}`, 'use a positive number (ADC code units)')
  const ordering = device.ordering
  if (ordering !== null) {
    if (!['natural', 'sign', 'magnitude', 'random'].includes(ordering.order))
      bad(`order is '${ordering.order}'`, "use 'natural', 'sign', 'magnitude' or 'random'")
    if (!wholeIn(ordering.groupRows, 1, 1 << 20)) bad(`groupRows is ${ordering.groupRows}`, 'use a whole number of at least 1')
  }
  return device
}

export function checkScales(scales: AnalogLayerScales, where: string): AnalogLayerScales {
  for (const key of ['inputScale', 'weightScale', 'gain'] as const) {
    if (!(scales[key] > 0) || !Number.isFinite(scales[key])) throw new Error(`${where}: the ${key} is ${scales[key]}; it must be a positive number.`)
  }
  return scales
}
