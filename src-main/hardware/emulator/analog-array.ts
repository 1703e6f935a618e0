// The emulated board's physics: a 128 × 256 analog MVM array with hidden, seeded non-idealities.
// Deliberately independent of src-main/engine: Benchside has to discover this behaviour by calibration.

export const ARRAY_ROWS = 128
export const ARRAY_COLS = 256
export const INPUT_BITS = 5
export const WEIGHT_BITS = 6
export const ADC_BITS = 8
export const MAX_INPUT = (1 << INPUT_BITS) - 1
export const MAX_WEIGHT = (1 << WEIGHT_BITS) - 1
const ADC_MIN = -(1 << (ADC_BITS - 1))
const ADC_MAX = (1 << (ADC_BITS - 1)) - 1
/** The protocol's nominal transfer: code = gain · Σ x·w / 1024. */
const NOMINAL_SCALE = 1 / 1024
/** Row blocks an emulated array integrates in (one size drawn per device): each half of the array, or all of it, adds its positive contributions before its negative ones. */
const ORDER_BLOCK_CHOICES = [64, 128] as const

/** What makes one emulated device differ from the ideal; derived from its seed, never sent to the host. */
export interface HiddenParameters {
  /** Factor between the requested and the real gain. */
  globalGain: number
  columnGain: Float64Array
  /** Added after integration, in ADC codes. */
  columnOffset: Float64Array
  /** Standard deviation of the Gaussian read noise, in ADC codes. */
  noiseStd: number
  /** The integrator clips at ±saturation codes (the ADC's full scale is ±128). */
  saturation: number
  /** Rows integrated together, positive contributions before negative ones, before the next block starts. */
  orderBlockRows: number
}

/** sfc32: small, fast and good enough for emulated physics; seeded through splitmix32 so nearby seeds differ. */
export class Random {
  private a: number
  private b: number
  private c: number
  private d: number
  private spare = Number.NaN

  constructor(seed: number) {
    let s = seed >>> 0
    const split = () => {
      s = (s + 0x9e3779b9) | 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = split()
    this.b = split()
    this.c = split()
    this.d = split()
    for (let i = 0; i < 12; i++) this.next()
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return (t >>> 0) / 4294967296
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.next()
  }

  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const value = this.spare
      this.spare = Number.NaN
      return value
    }
    const u = 1 - this.next()
    const radius = Math.sqrt(-2 * Math.log(u))
    const angle = 2 * Math.PI * this.next()
    this.spare = radius * Math.sin(angle)
    return radius * Math.cos(angle)
  }
}

export function hiddenParameters(seed: number): HiddenParameters {
  const random = new Random(seed)
  const globalGain = random.uniform(0.85, 0.97)
  const noiseStd = random.uniform(0.6, 1.0)
  const saturation = random.uniform(100, 120)
  const columnGain = new Float64Array(ARRAY_COLS)
  const columnOffset = new Float64Array(ARRAY_COLS)
  for (let j = 0; j < ARRAY_COLS; j++) columnGain[j] = 1 + 0.05 * random.normal()
  for (let j = 0; j < ARRAY_COLS; j++) columnOffset[j] = 1.5 * random.normal()
  // Drawn last, so the values above stay what they were for every seed.
  const orderBlockRows = ORDER_BLOCK_CHOICES[Math.floor(random.next() * ORDER_BLOCK_CHOICES.length)]!
  return { globalGain, columnGain, columnOffset, noiseStd, saturation, orderBlockRows }
}

/** A matrix as the array holds it: column-major, split into positive and negative parts so the MAC loop needs no branch. */
export interface ProgrammedMatrix {
  readonly rows: number
  readonly cols: number
  readonly positive: Int8Array
  readonly negative: Int8Array
}

/** Programs a row-major rows × cols matrix of weight codes (already range-checked). */
export function programMatrix(rows: number, cols: number, weights: Int8Array): ProgrammedMatrix {
  if (weights.length !== rows * cols) throw new Error(`A ${rows} × ${cols} matrix needs ${rows * cols} weight codes, got ${weights.length}.`)
  const positive = new Int8Array(rows * cols)
  const negative = new Int8Array(rows * cols)
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      const w = weights[i * cols + j]!
      if (w > 0) positive[j * rows + i] = w
      else negative[j * rows + i] = w
    }
  return { rows, cols, positive, negative }
}

export class AnalogArray {
  readonly hidden: HiddenParameters
  private readonly noise: Random
  private readonly values = new Float64Array(ARRAY_COLS)

  constructor(seed: number) {
    this.hidden = hiddenParameters(seed)
    // A separate stream: the device's parameters do not depend on how much noise was drawn.
    this.noise = new Random(seed ^ 0x5bd1e995)
  }

  /**
   * The analog value of every column for one input vector (length matrix.rows), before noise and the ADC:
   * blocks of `orderBlockRows` rows in natural order, each integrating its positive then its negative contributions,
   * the integrator clipping at ±saturation; then the column offset. Written into `values`.
   */
  private integrate(matrix: ProgrammedMatrix, inputs: Uint8Array, at: number, gain: number): Float64Array {
    const { rows, cols, positive, negative } = matrix
    const { columnGain, columnOffset, saturation, orderBlockRows } = this.hidden
    const scale = gain * this.hidden.globalGain * NOMINAL_SCALE
    const values = this.values
    // The reads below stay in range by these sizes and the loop bounds; checked once here, not per element.
    if (cols > values.length || positive.length !== rows * cols || negative.length !== rows * cols || inputs.length < at + rows)
      throw new Error(`A ${rows} × ${cols} matrix with inputs from ${at} of ${inputs.length} does not fit the ${ARRAY_ROWS} × ${ARRAY_COLS} array.`)
    for (let j = 0; j < cols; j++) {
      const k = scale * columnGain[j]!
      const base = j * rows
      let v = 0
      for (let start = 0; start < rows; start += orderBlockRows) {
        const end = Math.min(rows, start + orderBlockRows)
        let up = 0
        let down = 0
        for (let i = start; i < end; i++) {
          const x = inputs[at + i]!
          up += x * positive[base + i]!
          down += x * negative[base + i]!
        }
        // Within one phase the integrator moves one way only, so clipping at its end equals clipping throughout.
        v += k * up
        if (v > saturation) v = saturation
        v += k * down
        if (v < -saturation) v = -saturation
      }
      values[j] = v + columnOffset[j]!
    }
    return values
  }

  private digitize(value: number): number {
    const code = Math.round(value + this.hidden.noiseStd * this.noise.normal())
    return code < ADC_MIN ? ADC_MIN : code > ADC_MAX ? ADC_MAX : code
  }

  /** ADC codes for `count` vectors × `repeats` conversions × matrix.cols columns (inputs vector-major, already range-checked). */
  run(matrix: ProgrammedMatrix, inputs: Uint8Array, count: number, repeats: number, gain: number): Int8Array {
    const cols = matrix.cols
    const codes = new Int8Array(count * repeats * cols)
    for (let v = 0; v < count; v++) {
      const values = this.integrate(matrix, inputs, v * matrix.rows, gain)
      for (let r = 0; r < repeats; r++) {
        const base = (v * repeats + r) * cols
        // integrate() checked cols ≤ values.length.
        for (let j = 0; j < cols; j++) codes[base + j] = this.digitize(values[j]!)
      }
    }
    return codes
  }

  /** Mean and standard deviation of `repeats` conversions of one input vector, per column. */
  statistics(matrix: ProgrammedMatrix, inputs: Uint8Array, repeats: number, gain: number): { mean: Float32Array; std: Float32Array } {
    const cols = matrix.cols
    const values = this.integrate(matrix, inputs, 0, gain)
    const sum = new Float64Array(cols)
    const squares = new Float64Array(cols)
    // integrate() checked cols ≤ values.length; sum and squares have cols elements.
    for (let r = 0; r < repeats; r++)
      for (let j = 0; j < cols; j++) {
        const code = this.digitize(values[j]!)
        sum[j]! += code
        squares[j]! += code * code
      }
    const mean = new Float32Array(cols)
    const std = new Float32Array(cols)
    for (let j = 0; j < cols; j++) {
      const m = sum[j]! / repeats
      mean[j] = m
      std[j] = Math.sqrt(Math.max(0, squares[j]! / repeats - m * m))
    }
    return { mean, std }
  }
}

/** The built-in calibration patterns (docs/analog-board-protocol.md, CALIBRATE): all array columns, one input vector. */
export function probePattern(probe: 'offset' | 'reference'): { matrix: ProgrammedMatrix; inputs: Uint8Array } {
  const weights = new Int8Array(ARRAY_ROWS * ARRAY_COLS)
  if (probe === 'reference') weights.fill(32, 0, 64 * ARRAY_COLS)
  const inputs = new Uint8Array(ARRAY_ROWS).fill(probe === 'reference' ? 16 : 0)
  return { matrix: programMatrix(ARRAY_ROWS, ARRAY_COLS, weights), inputs }
}
