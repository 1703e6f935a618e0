// The emulated board's firmware: answers protocol frames (docs/analog-board-protocol.md) against the analog array.
// Pure of I/O so the process entry only moves bytes.
import {
  MAX_PAYLOAD,
  PROTOCOL_VERSION,
  encodeFrame,
  type DeviceErrorCode,
  type DeviceInfo,
  type Decoded,
  type Frame,
  type Message,
} from '../analog-protocol/index.ts'
import {
  ADC_BITS,
  ARRAY_COLS,
  ARRAY_ROWS,
  AnalogArray,
  INPUT_BITS,
  MAX_INPUT,
  MAX_WEIGHT,
  WEIGHT_BITS,
  probePattern,
  programMatrix,
  type ProgrammedMatrix,
} from './analog-array.ts'

export const EMULATOR_FIRMWARE = 'emulator-1.0'
const SLOTS = 64
const MAX_BATCH = 256
/** The most repeats one CALIBRATE may ask: the firmware must answer within 1 s (protocol §5) or refuse. */
const MAX_CALIBRATION_REPEATS = 4096
const HISTORY = 8
const UNREADABLE_SEQ = 0xffff
const DEFAULT_GAIN = 1
const MIN_GAIN = 1 / 64
const MAX_GAIN = 256

export function emulatorDeviceId(seed: number): string {
  return `EMU-${(seed >>> 0).toString(16).toUpperCase().padStart(8, '0')}`
}

interface Slot {
  rows: number
  cols: number
  weights: Int8Array
  received: number
  programmed: ProgrammedMatrix | null
}

/** A request the device refuses; becomes an ERROR answer. */
class Refusal extends Error {
  constructor(
    readonly code: DeviceErrorCode,
    message: string,
  ) {
    super(message)
  }
}

function refuse(code: DeviceErrorCode, message: string): never {
  throw new Refusal(code, message)
}

type Answer = Exclude<Message, { type: 'hello' | 'loadWeights' | 'run' | 'set' | 'calibrate' | 'reset' }>

export class EmulatedDevice {
  readonly info: DeviceInfo
  private readonly array: AnalogArray
  private slots: (Slot | null)[] = []
  private gain = DEFAULT_GAIN
  private defaultRepeats = 1
  /** The last executed requests (their canonical frame bytes) and the answer frames sent for them. */
  private history: { request: Uint8Array; answer: Uint8Array }[] = []

  constructor(seed: number, deviceId = emulatorDeviceId(seed)) {
    this.array = new AnalogArray(seed)
    this.info = {
      protocolVersion: PROTOCOL_VERSION,
      deviceId,
      firmware: EMULATOR_FIRMWARE,
      rows: ARRAY_ROWS,
      cols: ARRAY_COLS,
      inputBits: INPUT_BITS,
      weightBits: WEIGHT_BITS,
      adcBits: ADC_BITS,
      maxBatch: MAX_BATCH,
      slots: SLOTS,
      maxPayload: MAX_PAYLOAD,
      // The integration order is physics here, not a setting.
      features: { ordering: false, repeats: true, calibration: true },
    }
    this.resetState()
  }

  /** The frame bytes to send back for one entry of a FrameDecoder. */
  handle(decoded: Decoded): Uint8Array {
    if (!decoded.ok) {
      const { reason, message } = decoded.error
      const seq = decoded.seq ?? UNREADABLE_SEQ
      if (reason === 'version') return errorFrame(seq, 'UNSUPPORTED_VERSION', `This device speaks protocol version ${PROTOCOL_VERSION}.`)
      if (reason === 'unknown-type') return errorFrame(seq, 'UNKNOWN_TYPE', message)
      if (reason === 'malformed') return errorFrame(seq, 'MALFORMED', message)
      return errorFrame(seq, 'BAD_CRC', `The frame arrived broken (${reason}); send it again.`)
    }
    const { frame } = decoded
    // Re-encoding gives the request's canonical bytes: equal bytes mean equal seq and CRC, i.e. a resend.
    const request = canonical(frame)
    const earlier = request && this.history.find((entry) => sameBytes(entry.request, request))
    if (earlier) return earlier.answer
    let answer: Uint8Array
    try {
      answer = encodeFrame({ seq: frame.seq, message: this.execute(frame) })
    } catch (error) {
      if (!(error instanceof Refusal)) throw error
      answer = errorFrame(frame.seq, error.code, error.message)
    }
    if (request) {
      this.history.push({ request, answer })
      if (this.history.length > HISTORY) this.history.shift()
    }
    return answer
  }

  private resetState(): void {
    this.slots = new Array<Slot | null>(SLOTS).fill(null)
    this.gain = DEFAULT_GAIN
    this.defaultRepeats = 1
  }

  private execute(frame: Frame): Answer {
    const message = frame.message
    switch (message.type) {
      case 'hello':
        this.history = []
        return { type: 'info', ...this.info }
      case 'reset':
        this.resetState()
        return { type: 'resetDone' }
      case 'loadWeights':
        return this.load(message)
      case 'run':
        return this.run(message)
      case 'set':
        return this.set(message)
      case 'calibrate':
        return this.calibrate(message)
      default:
        return refuse('UNKNOWN_TYPE', `'${message.type}' is an answer, not a request.`)
    }
  }

  private slotIndex(slot: number): number {
    if (slot >= SLOTS) refuse('BAD_SLOT', `Slot ${slot} does not exist; this device has slots 0 to ${SLOTS - 1}.`)
    return slot
  }

  private load(message: Extract<Message, { type: 'loadWeights' }>): Answer {
    const { slot, rows, cols, offset, weights } = message
    this.slotIndex(slot)
    if (rows < 1 || rows > ARRAY_ROWS || cols < 1 || cols > ARRAY_COLS)
      refuse('BAD_SHAPE', `A ${rows} × ${cols} matrix does not fit the ${ARRAY_ROWS} × ${ARRAY_COLS} array.`)
    if (offset + weights.length > rows * cols)
      refuse('BAD_SHAPE', `Elements ${offset} to ${offset + weights.length - 1} are past the end of a ${rows} × ${cols} matrix.`)
    const current = this.slots[slot]
    if (offset !== 0) {
      if (!current || current.received === 0) refuse('OUT_OF_RANGE', `Slot ${slot} has no matrix being loaded; start with offset 0.`)
      if (current.rows !== rows || current.cols !== cols)
        refuse('BAD_SHAPE', `Slot ${slot} is loading a ${current.rows} × ${current.cols} matrix, not ${rows} × ${cols}.`)
      if (offset !== current.received) refuse('OUT_OF_RANGE', `Slot ${slot} expects offset ${current.received}, got ${offset}.`)
    }
    for (let i = 0; i < weights.length; i++) {
      const weight = weights[i]!
      if (weight > MAX_WEIGHT || weight < -MAX_WEIGHT) refuse('OUT_OF_RANGE', `Weight code ${weight} at element ${offset + i} is outside ±${MAX_WEIGHT}.`)
    }
    const target = offset === 0 ? { rows, cols, weights: new Int8Array(rows * cols), received: 0, programmed: null } : (current as Slot)
    target.weights.set(weights, offset)
    target.received = offset + weights.length
    const complete = target.received === rows * cols
    target.programmed = complete ? programMatrix(rows, cols, target.weights) : null
    this.slots[slot] = target
    return { type: 'loaded', slot, received: target.received, complete }
  }

  private run(message: Extract<Message, { type: 'run' }>): Answer {
    const { slot, count, rows, inputs } = message
    const matrix = this.slots[this.slotIndex(slot)]?.programmed
    if (!matrix) refuse('NOT_LOADED', `Slot ${slot} holds no complete matrix; load its weights first.`)
    if (rows !== matrix.rows) refuse('BAD_SHAPE', `The inputs have ${rows} rows; the matrix in slot ${slot} has ${matrix.rows}.`)
    if (count === 0) refuse('BAD_SHAPE', 'A RUN needs at least one input vector.')
    if (count > MAX_BATCH) refuse('TOO_LARGE', `${count} vectors exceed maxBatch ${MAX_BATCH}.`)
    const repeats = message.repeats === 0 ? this.defaultRepeats : message.repeats
    const answerBytes = 6 + count * repeats * matrix.cols
    if (answerBytes > this.info.maxPayload) refuse('TOO_LARGE', `The result would be ${answerBytes} bytes; maxPayload is ${this.info.maxPayload}.`)
    for (let i = 0; i < inputs.length; i++) {
      const code = inputs[i]!
      if (code > MAX_INPUT) refuse('OUT_OF_RANGE', `Input code ${code} at vector ${Math.floor(i / rows)}, row ${i % rows} is above ${MAX_INPUT}.`)
    }
    const codes = this.array.run(matrix, inputs, count, repeats, this.gain)
    return { type: 'result', slot, count, repeats, cols: matrix.cols, codes }
  }

  private set(message: Extract<Message, { type: 'set' }>): Answer {
    const { key, value } = message
    if (key === 'order') refuse('UNSUPPORTED', 'The integration order of this device is fixed.')
    if (key === 'gain') {
      if (!(value >= MIN_GAIN && value <= MAX_GAIN)) refuse('OUT_OF_RANGE', `Gain ${value} is outside 1/64 to 256.`)
      this.gain = Math.fround(value)
      return { type: 'setDone', key, value: this.gain }
    }
    if (!(Number.isInteger(value) && value >= 1 && value <= 255)) refuse('OUT_OF_RANGE', `Default repeats must be an integer from 1 to 255, got ${value}.`)
    this.defaultRepeats = value
    return { type: 'setDone', key, value }
  }

  private calibrate(message: Extract<Message, { type: 'calibrate' }>): Answer {
    const { probe, repeats } = message
    if (repeats === 0) refuse('OUT_OF_RANGE', 'A calibration needs at least one repeat.')
    if (repeats > MAX_CALIBRATION_REPEATS)
      refuse('TOO_LARGE', `${repeats} repeats would take longer than 1 s; ask at most ${MAX_CALIBRATION_REPEATS} per CALIBRATE.`)
    const { matrix, inputs } = probePattern(probe)
    const { mean, std } = this.array.statistics(matrix, inputs, repeats, this.gain)
    return { type: 'calibration', probe, repeats, cols: matrix.cols, mean, std }
  }
}

/** The frame's bytes as this side encodes them; null for values the encoder refuses (a SET of NaN), which are refused anyway. */
function canonical(frame: Frame): Uint8Array | null {
  try {
    return encodeFrame(frame)
  } catch {
    return null
  }
}

function errorFrame(seq: number, code: DeviceErrorCode, message: string): Uint8Array {
  return encodeFrame({ seq, message: { type: 'error', code, message: short(message) } })
}

/** Error texts travel in a 255-byte field. */
function short(message: string): string {
  const characters = Array.from(message)
  while (Buffer.byteLength(characters.join('')) > 255) characters.pop()
  return characters.join('')
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
