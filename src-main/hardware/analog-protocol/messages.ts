// The protocol's messages as typed values and their payload layouts (little-endian; docs/analog-board-protocol.md).
import { DEVICE_ERROR_CODES, ProtocolError, deviceErrorCodeOf, type DeviceErrorCode } from './errors.ts'

export const PROTOCOL_VERSION = 1
/** The largest payload any device may accept; a device advertises its own maxPayload at most this. */
export const MAX_PAYLOAD = 8192

export type SetKey = 'gain' | 'repeats' | 'order'
export type CalibrationProbe = 'offset' | 'reference'

export interface DeviceInfo {
  protocolVersion: number
  deviceId: string
  firmware: string
  rows: number
  cols: number
  inputBits: number
  /** Magnitude bits; the sign is extra. */
  weightBits: number
  adcBits: number
  maxBatch: number
  slots: number
  maxPayload: number
  features: { ordering: boolean; repeats: boolean; calibration: boolean }
}

export type Message =
  | { type: 'hello' }
  | ({ type: 'info' } & DeviceInfo)
  | { type: 'loadWeights'; slot: number; rows: number; cols: number; offset: number; weights: Int8Array }
  | { type: 'loaded'; slot: number; received: number; complete: boolean }
  | { type: 'run'; slot: number; count: number; rows: number; repeats: number; inputs: Uint8Array }
  | { type: 'result'; slot: number; count: number; repeats: number; cols: number; codes: Int8Array }
  | { type: 'set'; key: SetKey; value: number }
  | { type: 'setDone'; key: SetKey; value: number }
  | { type: 'calibrate'; probe: CalibrationProbe; repeats: number }
  | { type: 'calibration'; probe: CalibrationProbe; repeats: number; cols: number; mean: Float32Array; std: Float32Array }
  | { type: 'reset' }
  | { type: 'resetDone' }
  | { type: 'error'; code: DeviceErrorCode; message: string }

export type MessageType = Message['type']

/** The type byte of each message: requests 0x01–0x06, their responses with bit 7 set, ERROR 0x7F. */
export const MESSAGE_TYPES: Readonly<Record<MessageType, number>> = {
  hello: 0x01,
  loadWeights: 0x02,
  run: 0x03,
  set: 0x04,
  calibrate: 0x05,
  reset: 0x06,
  info: 0x81,
  loaded: 0x82,
  result: 0x83,
  setDone: 0x84,
  calibration: 0x85,
  resetDone: 0x86,
  error: 0x7f,
}

const TYPE_BY_CODE = new Map<number, MessageType>(Object.entries(MESSAGE_TYPES).map(([type, code]) => [code, type as MessageType]))

export function messageTypeOf(code: number): MessageType | null {
  return TYPE_BY_CODE.get(code) ?? null
}

export const SET_KEYS: Readonly<Record<SetKey, number>> = { gain: 1, repeats: 2, order: 3 }
export const CALIBRATION_PROBES: Readonly<Record<CalibrationProbe, number>> = { offset: 0, reference: 1 }
const FEATURE_ORDERING = 0x01
const FEATURE_REPEATS = 0x02
const FEATURE_CALIBRATION = 0x04

function keyOf<K extends string>(table: Readonly<Record<K, number>>, value: number, what: string): K {
  for (const [key, code] of Object.entries(table) as [K, number][]) if (code === value) return key
  throw new ProtocolError('malformed', `Unknown ${what} ${value}.`)
}

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })
const LONE_SURROGATE = /\p{Cs}/u

function malformed(message: string): never {
  throw new ProtocolError('malformed', message)
}

function checkInt(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) malformed(`${name} must be an integer from 0 to ${max}, got ${value}.`)
}

function textBytes(name: string, text: string): Uint8Array {
  if (LONE_SURROGATE.test(text)) malformed(`${name} is not valid Unicode text.`)
  const bytes = utf8.encode(text)
  if (bytes.length > 255) malformed(`${name} is ${bytes.length} bytes of UTF-8; at most 255 fit.`)
  return bytes
}

/** Writes little-endian fields into a payload of known size. */
class Writer {
  readonly bytes: Uint8Array
  private readonly view: DataView
  private at = 0
  constructor(size: number) {
    if (size > MAX_PAYLOAD) throw new ProtocolError('oversized', `A payload of ${size} bytes exceeds the protocol's ${MAX_PAYLOAD}.`)
    this.bytes = new Uint8Array(size)
    this.view = new DataView(this.bytes.buffer)
  }
  u8(value: number): this {
    this.view.setUint8(this.at, value)
    this.at += 1
    return this
  }
  u16(value: number): this {
    this.view.setUint16(this.at, value, true)
    this.at += 2
    return this
  }
  u32(value: number): this {
    this.view.setUint32(this.at, value, true)
    this.at += 4
    return this
  }
  f32(value: number): this {
    this.view.setFloat32(this.at, value, true)
    this.at += 4
    return this
  }
  raw(bytes: Uint8Array): this {
    this.bytes.set(bytes, this.at)
    this.at += bytes.length
    return this
  }
  text(bytes: Uint8Array): this {
    return this.u8(bytes.length).raw(bytes)
  }
}

/** Reads little-endian fields; running past the end or leaving bytes over is 'malformed'. */
class Reader {
  private readonly view: DataView
  private at = 0
  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }
  private need(length: number): number {
    if (this.at + length > this.bytes.length) malformed(`The ${this.what} payload ends early (${this.bytes.length} bytes).`)
    const at = this.at
    this.at += length
    return at
  }
  get left(): number {
    return this.bytes.length - this.at
  }
  u8(): number {
    return this.view.getUint8(this.need(1))
  }
  u16(): number {
    return this.view.getUint16(this.need(2), true)
  }
  u32(): number {
    return this.view.getUint32(this.need(4), true)
  }
  f32(): number {
    return this.view.getFloat32(this.need(4), true)
  }
  raw(length: number): Uint8Array {
    const at = this.need(length)
    return this.bytes.slice(at, at + length)
  }
  text(): string {
    const bytes = this.raw(this.u8())
    try {
      return strictUtf8.decode(bytes)
    } catch {
      return malformed(`The ${this.what} payload holds text that is not UTF-8.`)
    }
  }
  end(): void {
    if (this.at !== this.bytes.length) malformed(`The ${this.what} payload has ${this.bytes.length - this.at} bytes too many.`)
  }
}

function checkFinite(name: string, value: number): void {
  if (!Number.isFinite(value)) malformed(`${name} must be a finite number, got ${value}.`)
}

function checkLength(name: string, actual: number, expected: number): void {
  if (actual !== expected) malformed(`${name} holds ${actual} values; the header fields say ${expected}.`)
}

/** The payload bytes of a message; throws ProtocolError('malformed') for a value its field cannot hold, 'oversized' past MAX_PAYLOAD. */
export function encodeMessage(message: Message): Uint8Array {
  switch (message.type) {
    case 'hello':
    case 'reset':
    case 'resetDone':
      return new Uint8Array(0)
    case 'info': {
      const id = textBytes('deviceId', message.deviceId)
      const firmware = textBytes('firmware', message.firmware)
      for (const [name, max] of [
        ['protocolVersion', 0xff],
        ['rows', 0xffff],
        ['cols', 0xffff],
        ['inputBits', 0xff],
        ['weightBits', 0xff],
        ['adcBits', 0xff],
        ['maxBatch', 0xffff],
        ['slots', 0xff],
        ['maxPayload', 0xffff],
      ] as const)
        checkInt(name, message[name], max)
      const { ordering, repeats, calibration } = message.features
      const features = (ordering ? FEATURE_ORDERING : 0) | (repeats ? FEATURE_REPEATS : 0) | (calibration ? FEATURE_CALIBRATION : 0)
      return new Writer(16 + id.length + firmware.length)
        .u8(message.protocolVersion)
        .text(id)
        .text(firmware)
        .u16(message.rows)
        .u16(message.cols)
        .u8(message.inputBits)
        .u8(message.weightBits)
        .u8(message.adcBits)
        .u16(message.maxBatch)
        .u8(message.slots)
        .u16(message.maxPayload)
        .u8(features).bytes
    }
    case 'loadWeights':
      checkInt('slot', message.slot, 0xff)
      checkInt('rows', message.rows, 0xffff)
      checkInt('cols', message.cols, 0xffff)
      checkInt('offset', message.offset, 0xffffffff)
      checkInt('weight count', message.weights.length, 0xffff)
      return new Writer(11 + message.weights.length)
        .u8(message.slot)
        .u16(message.rows)
        .u16(message.cols)
        .u32(message.offset)
        .u16(message.weights.length)
        .raw(new Uint8Array(message.weights.buffer, message.weights.byteOffset, message.weights.length)).bytes
    case 'loaded':
      checkInt('slot', message.slot, 0xff)
      checkInt('received', message.received, 0xffffffff)
      return new Writer(6)
        .u8(message.slot)
        .u32(message.received)
        .u8(message.complete ? 1 : 0).bytes
    case 'run':
      checkInt('slot', message.slot, 0xff)
      checkInt('count', message.count, 0xffff)
      checkInt('rows', message.rows, 0xffff)
      checkInt('repeats', message.repeats, 0xff)
      checkLength('inputs', message.inputs.length, message.count * message.rows)
      return new Writer(6 + message.inputs.length).u8(message.slot).u16(message.count).u16(message.rows).u8(message.repeats).raw(message.inputs).bytes
    case 'result':
      checkInt('slot', message.slot, 0xff)
      checkInt('count', message.count, 0xffff)
      checkInt('repeats', message.repeats, 0xff)
      checkInt('cols', message.cols, 0xffff)
      checkLength('codes', message.codes.length, message.count * message.repeats * message.cols)
      return new Writer(6 + message.codes.length)
        .u8(message.slot)
        .u16(message.count)
        .u8(message.repeats)
        .u16(message.cols)
        .raw(new Uint8Array(message.codes.buffer, message.codes.byteOffset, message.codes.length)).bytes
    case 'set':
    case 'setDone':
      checkFinite('value as a 32-bit float', Math.fround(message.value))
      return new Writer(5).u8(SET_KEYS[message.key] ?? malformed(`Unknown setting '${String(message.key)}'.`)).f32(message.value).bytes
    case 'calibrate':
      checkInt('repeats', message.repeats, 0xffff)
      return new Writer(3).u8(probeCode(message.probe)).u16(message.repeats).bytes
    case 'calibration': {
      checkInt('repeats', message.repeats, 0xffff)
      checkInt('cols', message.cols, 0xffff)
      checkLength('mean', message.mean.length, message.cols)
      checkLength('std', message.std.length, message.cols)
      const writer = new Writer(5 + 8 * message.cols).u8(probeCode(message.probe)).u16(message.repeats).u16(message.cols)
      for (let j = 0; j < message.cols; j++) writer.f32(message.mean[j]!).f32(message.std[j]!)
      return writer.bytes
    }
    case 'error': {
      const text = textBytes('error message', message.message)
      const code = DEVICE_ERROR_CODES[message.code] ?? malformed(`Unknown device error code '${String(message.code)}'.`)
      return new Writer(2 + text.length).u8(code).text(text).bytes
    }
    default:
      return malformed(`Unknown message type '${String((message as { type: unknown }).type)}'.`)
  }
}

function probeCode(probe: CalibrationProbe): number {
  return CALIBRATION_PROBES[probe] ?? malformed(`Unknown calibration probe '${String(probe)}'.`)
}

/** The message a payload of this type byte holds; throws ProtocolError('unknown-type' | 'malformed' | 'oversized'). */
export function decodeMessage(type: number, payload: Uint8Array): Message {
  const name = messageTypeOf(type)
  if (name === null) throw new ProtocolError('unknown-type', `Unknown message type 0x${type.toString(16).padStart(2, '0')}.`)
  if (payload.length > MAX_PAYLOAD) throw new ProtocolError('oversized', `A payload of ${payload.length} bytes exceeds the protocol's ${MAX_PAYLOAD}.`)
  const read = new Reader(payload, name)
  const message = readMessage(name, read)
  read.end()
  return message
}

function readMessage(type: MessageType, read: Reader): Message {
  switch (type) {
    case 'hello':
    case 'reset':
    case 'resetDone':
      return { type }
    case 'info': {
      const protocolVersion = read.u8()
      const deviceId = read.text()
      const firmware = read.text()
      const rows = read.u16()
      const cols = read.u16()
      const inputBits = read.u8()
      const weightBits = read.u8()
      const adcBits = read.u8()
      const maxBatch = read.u16()
      const slots = read.u8()
      const maxPayload = read.u16()
      const bits = read.u8()
      // Reserved feature bits are ignored so later firmware can add features.
      const features = { ordering: (bits & FEATURE_ORDERING) !== 0, repeats: (bits & FEATURE_REPEATS) !== 0, calibration: (bits & FEATURE_CALIBRATION) !== 0 }
      return { type, protocolVersion, deviceId, firmware, rows, cols, inputBits, weightBits, adcBits, maxBatch, slots, maxPayload, features }
    }
    case 'loadWeights': {
      const slot = read.u8()
      const rows = read.u16()
      const cols = read.u16()
      const offset = read.u32()
      const count = read.u16()
      checkLength('weights', read.left, count)
      const bytes = read.raw(count)
      return { type, slot, rows, cols, offset, weights: new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length) }
    }
    case 'loaded': {
      const slot = read.u8()
      const received = read.u32()
      const complete = read.u8()
      if (complete > 1) malformed(`The 'complete' flag must be 0 or 1, got ${complete}.`)
      return { type, slot, received, complete: complete === 1 }
    }
    case 'run': {
      const slot = read.u8()
      const count = read.u16()
      const rows = read.u16()
      const repeats = read.u8()
      checkLength('inputs', read.left, count * rows)
      return { type, slot, count, rows, repeats, inputs: read.raw(count * rows) }
    }
    case 'result': {
      const slot = read.u8()
      const count = read.u16()
      const repeats = read.u8()
      const cols = read.u16()
      checkLength('codes', read.left, count * repeats * cols)
      const bytes = read.raw(count * repeats * cols)
      return { type, slot, count, repeats, cols, codes: new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length) }
    }
    case 'set':
    case 'setDone':
      return { type, key: keyOf(SET_KEYS, read.u8(), 'setting'), value: read.f32() }
    case 'calibrate':
      return { type, probe: keyOf(CALIBRATION_PROBES, read.u8(), 'calibration probe'), repeats: read.u16() }
    case 'calibration': {
      const probe = keyOf(CALIBRATION_PROBES, read.u8(), 'calibration probe')
      const repeats = read.u16()
      const cols = read.u16()
      checkLength('mean and std', read.left, 8 * cols)
      const mean = new Float32Array(cols)
      const std = new Float32Array(cols)
      for (let j = 0; j < cols; j++) {
        mean[j] = read.f32()
        std[j] = read.f32()
      }
      return { type, probe, repeats, cols, mean, std }
    }
    case 'error': {
      const value = read.u8()
      const code = deviceErrorCodeOf(value) ?? malformed(`Unknown device error code ${value}.`)
      return { type, code, message: read.text() }
    }
  }
}
