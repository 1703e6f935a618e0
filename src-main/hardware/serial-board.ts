// The serial analog board driver (docs/serial-boards.md): protocol frames over a Link with seq numbers, per-request
// timeouts, resends on timeout or corruption, pipelined batched runs, and reconnect after an unplug or a crash.
import { createHash, randomInt } from 'node:crypto'
import { SerialPort } from 'serialport'
import {
  encodeFrame,
  encodeMessage,
  FrameDecoder,
  frameBytes,
  MAX_PAYLOAD,
  PROTOCOL_VERSION,
  type CalibrationProbe,
  type DeviceErrorCode,
  type DeviceInfo,
  type Message,
  type ProtocolError,
  type SetKey,
} from './analog-protocol/index.ts'
import { BoardError } from './board.ts'

// ---------------------------------------------------------------------------------------------------------------
// Link: the byte pipe under the protocol. The serialport link is the real one; tests may put another in between.

export interface Link {
  /** Resolves once the bytes are handed to the OS; rejects when the port is gone. */
  write(bytes: Uint8Array): Promise<void>
  onData(listener: (chunk: Uint8Array) => void): void
  /** Called once when the link closes by itself (unplug, hang-up, I/O error), never after close(). */
  onClose(listener: (error: Error | null) => void): void
  close(): Promise<void>
}

export interface LinkOpenOptions {
  baudRate: number
  timeoutMs: number
  signal?: AbortSignal
}

export type LinkOpener = (path: string, options: LinkOpenOptions) => Promise<Link>

function openError(path: string, error: Error): BoardError {
  const text = error.message
  if (/ENOENT|No such file/i.test(text)) return new BoardError('UNREACHABLE', `There is no serial port at ${path}. Check that the board is plugged in and that the path is right.`)
  if (/EACCES|Permission denied/i.test(text)) return new BoardError('UNREACHABLE', `Benchside may not open ${path} (permission denied). Add your user to the dialout group (uucp on some systems) and log in again.`)
  if (/lock|EBUSY|busy/i.test(text)) return new BoardError('BUSY', `The serial port ${path} is in use by another program. Close it (a serial monitor?) and try again.`)
  return new BoardError('UNREACHABLE', `The serial port ${path} could not be opened (${text}). Check the cable and the path.`)
}

/** Opens a serial port (exclusively) as a Link; a port that has not opened within timeoutMs is given up and closed. */
export const openSerialLink: LinkOpener = async (path, { baudRate, timeoutMs, signal }) => {
  const port = new SerialPort({ path, baudRate, autoOpen: false })
  let closing = false
  let onData: (chunk: Uint8Array) => void = () => {}
  let onClose: (error: Error | null) => void = () => {}
  // Failures reach us through write callbacks and 'close'; an 'error' event without a listener would crash the process.
  port.on('error', () => {})
  port.on('data', (chunk: Buffer) => onData(chunk))
  port.on('close', (error: Error | null) => {
    if (!closing) onClose(error ?? null)
  })
  await new Promise<void>((resolve, reject) => {
    let settled = false
    const finish = (error: BoardError | null) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      if (error) reject(error)
      else resolve()
    }
    const giveUp = (error: BoardError) => {
      closing = true
      port.once('open', () => port.close(() => {}))
      finish(error)
    }
    const onAbort = () => giveUp(new BoardError('CANCELLED', `Opening the serial port ${path} was cancelled.`))
    const timer = setTimeout(
      () => giveUp(new BoardError('TIMEOUT', `The serial port ${path} did not open within ${seconds(timeoutMs)} s. Check that no other program holds it and that the board is plugged in.`)),
      timeoutMs,
    )
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    port.open((error) => finish(error ? openError(path, error) : null))
  })
  // Bytes left in the OS buffers belong to an earlier session.
  await new Promise<void>((resolve) => port.flush(() => resolve()))
  return {
    write: (bytes) =>
      new Promise<void>((resolve, reject) => {
        if (!port.isOpen) return reject(new Error('the port is not open'))
        port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (error) => (error ? reject(error) : resolve()))
      }),
    onData: (listener) => (onData = listener),
    onClose: (listener) => (onClose = listener),
    close: async () => {
      closing = true
      if (!port.isOpen) return
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000)
        port.close(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Sizes: payload headers measured from the codec itself, so batch sizing follows the protocol if a header changes.

const RUN_HEADER = encodeMessage({ type: 'run', slot: 0, count: 0, rows: 0, repeats: 0, inputs: new Uint8Array(0) }).length
const RESULT_HEADER = encodeMessage({ type: 'result', slot: 0, count: 0, repeats: 0, cols: 0, codes: new Int8Array(0) }).length
const LOAD_HEADER = encodeMessage({ type: 'loadWeights', slot: 0, rows: 0, cols: 0, offset: 0, weights: new Int8Array(0) }).length
const MAX_REPEATS = 255
const MAX_WEIGHT_CHUNK = 0xffff

/** The payload bytes a device accepts and sends: its own limit, never above the codec's. */
function payloadLimit(info: Pick<DeviceInfo, 'maxPayload'>): number {
  return Math.min(info.maxPayload, MAX_PAYLOAD)
}

/** Vectors per RUN so that the request and its RESULT both fit the device's payload limit and its maxBatch. */
export function runBatchVectors(info: Pick<DeviceInfo, 'maxBatch' | 'maxPayload'>, rows: number, cols: number, repeats: number): number {
  const limit = payloadLimit(info)
  return Math.max(0, Math.min(info.maxBatch, Math.floor((limit - RUN_HEADER) / rows), Math.floor((limit - RESULT_HEADER) / (repeats * cols))))
}

/** Weights per LOAD_WEIGHTS chunk. */
export function weightChunkElements(info: Pick<DeviceInfo, 'maxPayload'>): number {
  return Math.min(MAX_WEIGHT_CHUNK, payloadLimit(info) - LOAD_HEADER)
}

/** The payload bytes of a RUN of `count` vectors and of its RESULT (what the link carries beside framing). */
export function runPayloadBytes(count: number, rows: number, cols: number, repeats: number): { request: number; answer: number } {
  return { request: RUN_HEADER + count * rows, answer: RESULT_HEADER + count * repeats * cols }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1)
}

// ---------------------------------------------------------------------------------------------------------------
// Exchange: requests and answers on one open link (docs/analog-board-protocol.md, section 5). The board answers in
// the order requests reach it, so the map below is kept in that order (a resent request moves to its end) and a
// broken answer or a BAD_CRC always concerns the first entry. Up to `window` requests may be in flight; the board's
// answer history (8 entries) makes every resend safe.

interface ExchangeSettings {
  label: string
  baudRate: number
  timeoutMs: number
  retries: number
}

interface RequestOptions {
  signal?: AbortSignal
  timeoutMs?: number
  /** The answer's payload size, so the wait allows for its time on the wire. */
  answerPayload?: number
}

interface Pending {
  seq: number
  message: Message
  expect: Message['type']
  bytes: Uint8Array
  answerBytes: number
  timeoutMs: number
  sends: number
  busyAnswers: number
  settle(answer: Message | BoardError): void
}

// Corruption on the line (a flipped bit, a lost byte or delimiter); the other reasons mean the two sides disagree.
const LINE_NOISE: ReadonlySet<ProtocolError['reason']> = new Set(['crc', 'cobs', 'truncated', 'oversized'])
const DEFAULT_ANSWER_PAYLOAD = 64
const BUSY_WAIT_MS = 20
const BUSY_TRIES = 50
/** A lone delimiter ends any half-received frame at the board. */
const FLUSH = Uint8Array.of(0)

class Exchange {
  private readonly decoder = new FrameDecoder()
  private readonly pending = new Map<number, Pending>()
  private watchdog: NodeJS.Timeout | null = null
  private lost: BoardError | null = null
  /** Told once when the link closed or the board stopped answering; every waiting request has failed by then. */
  onLost: (error: BoardError) => void = () => {}

  constructor(
    private readonly link: Link,
    private readonly settings: ExchangeSettings,
    private readonly nextSeq: () => number,
  ) {
    link.onData((chunk) => this.receive(chunk))
    link.onClose((error) =>
      this.lose(new BoardError('UNREACHABLE', `The serial port ${settings.label} closed${error ? ` (${error.message})` : ''}. Check the cable, then reconnect.`)),
    )
    this.write(FLUSH)
  }

  request(message: Message, expect: Message['type'], options: RequestOptions = {}): Promise<Message> {
    if (this.lost) return Promise.reject(this.lost)
    const { signal } = options
    return new Promise<Message>((resolve, reject) => {
      const cancelled = () => new BoardError('CANCELLED', `The '${message.type}' request to the board on ${this.settings.label} was cancelled.`)
      if (signal?.aborted) return reject(cancelled())
      const seq = this.nextSeq()
      const onAbort = () => {
        if (this.pending.get(pending.seq) === pending) this.pending.delete(pending.seq)
        pending.settle(cancelled())
      }
      const pending: Pending = {
        seq,
        message,
        expect,
        bytes: encodeFrame({ seq, message }),
        answerBytes: frameBytes(options.answerPayload ?? DEFAULT_ANSWER_PAYLOAD),
        timeoutMs: options.timeoutMs ?? this.settings.timeoutMs,
        sends: 0,
        busyAnswers: 0,
        settle: (answer) => {
          signal?.removeEventListener('abort', onAbort)
          if (answer instanceof BoardError) reject(answer)
          else resolve(answer)
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.send(pending)
    })
  }

  /** Fails every waiting request with `error` and stops listening; the board decides what to do with the link. */
  lose(error: BoardError): void {
    if (this.lost) return
    this.lost = error
    this.stopWatchdog()
    const waiting = [...this.pending.values()]
    this.pending.clear()
    this.decoder.reset()
    for (const pending of waiting) pending.settle(error)
    this.onLost(error)
  }

  private write(bytes: Uint8Array): void {
    this.link.write(bytes).catch((error: Error) =>
      this.lose(new BoardError('UNREACHABLE', `Writing to the serial port ${this.settings.label} failed (${error.message}). Check the cable, then reconnect.`)),
    )
  }

  /** (Re)sends under the same seq; the request moves to the end of the board's queue. */
  private send(pending: Pending, counts = true): void {
    if (this.lost) return
    if (counts) pending.sends++
    this.pending.delete(pending.seq)
    this.pending.set(pending.seq, pending)
    if (!this.watchdog) this.armWatchdog()
    this.write(pending.bytes)
  }

  private settle(pending: Pending, answer: Message | BoardError): void {
    this.pending.delete(pending.seq)
    pending.settle(answer)
    this.armWatchdog()
  }

  private oldest(): Pending | undefined {
    return this.pending.values().next().value
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog)
    this.watchdog = null
  }

  /** (Re)starts the wait for the oldest request: its timeout plus 1.5× the wire time of everything in flight. */
  private armWatchdog(): void {
    this.stopWatchdog()
    const oldest = this.oldest()
    if (!oldest || this.lost) return
    let bytes = 0
    for (const pending of this.pending.values()) bytes += pending.bytes.length + pending.answerBytes
    const wireMs = (1.5 * bytes * 10 * 1000) / this.settings.baudRate
    this.watchdog = setTimeout(() => this.expire(), oldest.timeoutMs + wireMs)
  }

  private expire(): void {
    this.watchdog = null
    const oldest = this.oldest()
    if (!oldest) return
    if (oldest.sends > this.settings.retries) {
      this.lose(
        new BoardError(
          'TIMEOUT',
          `The board on ${this.settings.label} did not answer '${oldest.message.type}' (sent ${oldest.sends} times, ${seconds(oldest.timeoutMs)} s each). ` +
            'Check the cable and that the board is powered, then reconnect.',
        ),
      )
      return
    }
    // Everything in flight goes again, in order, same seqs: what the board did execute it answers from its history.
    this.write(FLUSH)
    for (const pending of [...this.pending.values()]) this.send(pending)
    this.armWatchdog()
  }

  private receive(chunk: Uint8Array): void {
    for (const decoded of this.decoder.push(chunk)) {
      if (this.lost) return
      if (decoded.ok) this.answer(decoded.frame.seq, decoded.frame.message)
      else this.unreadable(decoded.error, decoded.seq)
    }
  }

  private answer(seq: number, message: Message): void {
    // Any intact frame shows the board is alive, so the oldest request gets a fresh wait.
    this.armWatchdog()
    if (message.type === 'error' && message.code === 'BAD_CRC') {
      // Its seq may be corrupted or 0xFFFF; the broken request is the first the board has not answered.
      const oldest = this.oldest()
      if (oldest) this.retry(oldest, 'reached the board corrupted')
      return
    }
    const pending = this.pending.get(seq)
    // A late answer to an earlier try, or the answer to a cancelled request.
    if (!pending) return
    if (message.type === 'error' && message.code === 'BUSY') return this.busy(pending)
    if (message.type !== 'error' && message.type !== pending.expect) {
      return this.settle(pending, wrongAnswer(this.settings.label, pending.message.type, `'${message.type}'`))
    }
    this.settle(pending, message)
  }

  private busy(pending: Pending): void {
    if (++pending.busyAnswers > BUSY_TRIES) {
      return this.settle(pending, deviceError(this.settings.label, pending.message.type, 'BUSY', `busy ${BUSY_TRIES} times in a row`, null))
    }
    // BUSY answers are not remembered by the board, so the resend is executed afresh.
    setTimeout(() => {
      if (this.pending.get(pending.seq) === pending) this.send(pending, false)
    }, BUSY_WAIT_MS)
  }

  private unreadable(error: ProtocolError, seq: number | null): void {
    const oldest = this.oldest()
    if (LINE_NOISE.has(error.reason)) {
      if (oldest) this.retry(oldest, `was answered with a corrupted frame (${error.message})`)
      return
    }
    // An intact frame Benchside cannot understand: the two sides disagree, resending will not help.
    const pending = (seq !== null ? this.pending.get(seq) : undefined) ?? oldest
    if (!pending) return
    this.settle(
      pending,
      error.reason === 'version'
        ? versionError(this.settings.label, null, error.message)
        : new BoardError(
            'PROTOCOL',
            `The board on ${this.settings.label} answered '${pending.message.type}' with a frame Benchside cannot read (${error.message}). Benchside and the board's firmware may not match; update one of them.`,
          ),
    )
  }

  private retry(pending: Pending, what: string): void {
    if (pending.sends <= this.settings.retries) return this.send(pending)
    this.settle(
      pending,
      new BoardError(
        'PROTOCOL',
        `The '${pending.message.type}' request to the board on ${this.settings.label} ${what}, ${pending.sends} times in a row. ` +
          'The link corrupts data: check the cable, its shielding and that both sides use the same baud rate.',
      ),
    )
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Device answers turned into BoardErrors.

// Codes that mean the request was wrong for this board (the caller can fix it); the rest mean the two sides disagree.
const REQUEST_CODES: ReadonlySet<DeviceErrorCode> = new Set(['BAD_SLOT', 'BAD_SHAPE', 'OUT_OF_RANGE', 'TOO_LARGE', 'NOT_LOADED', 'UNSUPPORTED'])

function hintFor(code: DeviceErrorCode, info: DeviceInfo | null): string {
  switch (code) {
    case 'BAD_SLOT':
      return info ? `Use a slot from 0 to ${info.slots - 1}.` : 'Use a slot the board has.'
    case 'BAD_SHAPE':
      return info ? `Check the rows and columns against the board's ${info.rows}×${info.cols} array.` : 'Check the rows and columns.'
    case 'OUT_OF_RANGE':
      return "Check the value against the board's limits."
    case 'TOO_LARGE':
      return 'Send smaller requests.'
    case 'NOT_LOADED':
      return 'Load the weights into this slot first; a board that restarted (after an unplug or a crash) has lost them.'
    case 'UNSUPPORTED':
      return "This board's firmware does not support it."
    case 'BUSY':
      return 'Wait until the board has finished and try again.'
    case 'BAD_CRC':
      return 'The link corrupts data: check the cable and the baud rate.'
    default:
      return "Benchside and the board's firmware may not match; update one of them."
  }
}

function deviceError(label: string, request: string, code: DeviceErrorCode, message: string, info: DeviceInfo | null): BoardError {
  const reason = REQUEST_CODES.has(code) ? 'AGENT' : code === 'BUSY' ? 'BUSY' : 'PROTOCOL'
  const said = message.trim() ? `: ${message.trim().replace(/\.$/, '')}` : ''
  return new BoardError(reason, `The board on ${label} refused '${request}' (${code})${said}. ${hintFor(code, info)}`)
}

function versionError(label: string, version: number | null, detail?: string): BoardError {
  const speaks = version === null ? 'another protocol version' : `protocol version ${version}`
  return new BoardError(
    'PROTOCOL',
    `The board on ${label} speaks ${speaks}${detail ? ` (${detail})` : ''}; this Benchside speaks version ${PROTOCOL_VERSION}. ` +
      "Update the board's firmware or Benchside so that they match.",
  )
}

function wrongAnswer(label: string, request: string, detail: string): BoardError {
  return new BoardError('WRONG_ANSWER', `The board on ${label} answered '${request}' with ${detail}. The firmware may be faulty; reset the board and try again.`)
}

// ---------------------------------------------------------------------------------------------------------------
// The board.

export type AnalogBoardState = 'connected' | 'disconnected' | 'closed'

export interface AnalogCapabilities {
  rows: number
  cols: number
  inputBits: number
  weightBits: number
  adcBits: number
  slots: number
  maxBatch: number
  /** Payload bytes per frame, the device's limit capped at the protocol's. */
  maxPayload: number
  ordering: boolean
  repeats: boolean
  calibration: boolean
}

/** What this driver loaded into a slot; `confirmed` turns false after a reconnect, when the board may have restarted. */
export interface LoadedSlot {
  slot: number
  rows: number
  cols: number
  /** sha256 of the shape and the weights, so callers can tell whether a slot holds what they mean to run. */
  sha256: string
  loadedAt: number
  confirmed: boolean
}

export interface Calibration {
  probe: CalibrationProbe
  repeats: number
  cols: number
  mean: Float32Array
  std: Float32Array
}

export interface AnalogRunOptions {
  /** ADC reads per vector; the result holds count × repeats × cols codes. Default 1. */
  repeats?: number
  signal?: AbortSignal
  /** Vectors finished in order so far, and the total. */
  onProgress?: (done: number, total: number) => void
}

export interface LoadWeightsOptions {
  signal?: AbortSignal
  onProgress?: (sentWeights: number, totalWeights: number) => void
}

export interface ReconnectOptions {
  /** How long to keep trying the path until the board answers HELLO again. Default 10 s. */
  timeoutMs?: number
  signal?: AbortSignal
}

/** The public surface of an analog processor board; jobs are written against this. */
export interface AnalogBoard {
  readonly id: string
  readonly kind: 'serial'
  readonly state: AnalogBoardState
  readonly loadedSlots: ReadonlyMap<number, LoadedSlot>
  info(): Promise<DeviceInfo>
  capabilities(): Promise<AnalogCapabilities>
  loadWeights(slot: number, weights: Int8Array, rows: number, cols: number, options?: LoadWeightsOptions): Promise<LoadedSlot>
  /** inputs: count × rows codes; the answer: count × repeats × cols ADC codes, in input order. */
  run(slot: number, inputs: Uint8Array, rows: number, options?: AnalogRunOptions): Promise<Int8Array>
  /** Changes a device setting; answers the value the device applied. */
  set(key: SetKey, value: number): Promise<number>
  calibrate(probe: CalibrationProbe, repeats: number, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Calibration>
  reset(): Promise<void>
  /** Returns a function that removes the listener. */
  onStateChange(listener: (state: AnalogBoardState) => void): () => void
  reconnect(options?: ReconnectOptions): Promise<DeviceInfo>
  close(): Promise<void>
}

export interface SerialBoardOptions {
  baudRate?: number
  /** The wait for each answer, on top of the time its bytes need on the wire at baudRate. */
  timeoutMs?: number
  /** Resends of one request (same seq) after a timeout or a corrupted frame. */
  retries?: number
  signal?: AbortSignal
  /** RUN requests kept in flight (1 … 8), so the link does not idle during the board's turnaround. Default 3; 1 is stop-and-wait. */
  window?: number
  /** Another byte transport (a test relay, a TCP bridge); the serial port by default. */
  openLink?: LinkOpener
}

/** A run that lost the board part-way: the vectors completed before, in order, are kept. */
export class SerialRunError extends BoardError {
  readonly partial: Int8Array
  readonly completedVectors: number
  readonly totalVectors: number
  constructor(reason: 'UNREACHABLE' | 'TIMEOUT', message: string, partial: Int8Array, completedVectors: number, totalVectors: number) {
    super(reason, message)
    this.name = 'SerialRunError'
    this.partial = partial
    this.completedVectors = completedVectors
    this.totalVectors = totalVectors
  }
}

interface Settings {
  baudRate: number
  timeoutMs: number
  retries: number
  window: number
  openLink: LinkOpener
}

interface Connection {
  link: Link
  exchange: Exchange
  device: DeviceInfo
}

function checkedInfo(label: string, answer: Message): DeviceInfo {
  if (answer.type !== 'info') throw wrongAnswer(label, 'hello', `'${answer.type}'`)
  const { type: _type, ...device } = answer
  if (device.protocolVersion !== PROTOCOL_VERSION) throw versionError(label, device.protocolVersion)
  for (const key of ['rows', 'cols', 'maxBatch', 'slots'] as const) {
    if (device[key] < 1) throw wrongAnswer(label, 'hello', `an INFO that gives ${key} = ${device[key]}`)
  }
  if (device.maxPayload <= Math.max(RUN_HEADER, RESULT_HEADER, LOAD_HEADER)) throw wrongAnswer(label, 'hello', `an INFO that gives maxPayload = ${device.maxPayload}`)
  return device
}

/** Opens the link and says HELLO; the link is closed again when that fails. */
async function connect(path: string, settings: Settings, nextSeq: () => number, timeoutMs: number, signal?: AbortSignal): Promise<Connection> {
  const link = await settings.openLink(path, { baudRate: settings.baudRate, timeoutMs, signal })
  const exchange = new Exchange(link, { label: path, baudRate: settings.baudRate, timeoutMs: settings.timeoutMs, retries: settings.retries }, nextSeq)
  try {
    const answer = await exchange.request({ type: 'hello' }, 'info', { signal, timeoutMs, answerPayload: 16 + 2 * 255 })
    if (answer.type === 'error') {
      throw answer.code === 'UNSUPPORTED_VERSION' ? versionError(path, null, answer.message) : deviceError(path, 'hello', answer.code, answer.message, null)
    }
    return { link, exchange, device: checkedInfo(path, answer) }
  } catch (error) {
    exchange.lose(new BoardError('UNREACHABLE', `The connection to ${path} was given up.`))
    await link.close()
    throw error
  }
}

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new BoardError('AGENT', `${name} must be a whole number from ${min} to ${max}, got ${value}.`)
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

export class SerialAnalogBoard implements AnalogBoard {
  readonly kind = 'serial' as const
  readonly id: string
  readonly path: string
  private device: DeviceInfo
  private connection: Connection | null = null
  private current: AnalogBoardState = 'connected'
  private readonly listeners = new Set<(state: AnalogBoardState) => void>()
  private readonly slots = new Map<number, LoadedSlot>()
  private reconnecting: Promise<DeviceInfo> | null = null
  /** The lost link's close, awaited before the path is opened again (the port is opened exclusively). */
  private closing: Promise<void> = Promise.resolve()

  private constructor(
    path: string,
    private readonly settings: Settings,
    private readonly nextSeq: () => number,
    connection: Connection,
  ) {
    this.path = path
    this.id = connection.device.deviceId
    this.device = connection.device
    this.install(connection)
  }

  /** Opens the port, says HELLO and checks the protocol version; rejects with a BoardError that says what to check. */
  static async open(path: string, options: SerialBoardOptions = {}): Promise<SerialAnalogBoard> {
    const settings: Settings = {
      baudRate: options.baudRate ?? 921_600,
      timeoutMs: options.timeoutMs ?? 2000,
      retries: options.retries ?? 3,
      // At most the 8 answers the board remembers, so a resend is always answered from its history.
      window: Math.min(8, Math.max(1, options.window ?? 3)),
      openLink: options.openLink ?? openSerialLink,
    }
    // A random start, kept across reconnects, so a board that still remembers an earlier session's frames (same seq,
    // same bytes) does not answer a new request from its history.
    let seq = randomInt(0, 0xffff)
    // 0xFFFF is reserved for the board's errors about frames whose seq it could not read.
    const nextSeq = () => (seq = (seq + 1) % 0xffff)
    const connection = await connect(path, settings, nextSeq, settings.timeoutMs, options.signal)
    return new SerialAnalogBoard(path, settings, nextSeq, connection)
  }

  get state(): AnalogBoardState {
    return this.current
  }

  get loadedSlots(): ReadonlyMap<number, LoadedSlot> {
    return this.slots
  }

  onStateChange(listener: (state: AnalogBoardState) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async info(): Promise<DeviceInfo> {
    return this.device
  }

  async capabilities(): Promise<AnalogCapabilities> {
    const d = this.device
    return {
      rows: d.rows,
      cols: d.cols,
      inputBits: d.inputBits,
      weightBits: d.weightBits,
      adcBits: d.adcBits,
      slots: d.slots,
      maxBatch: d.maxBatch,
      maxPayload: payloadLimit(d),
      ...d.features,
    }
  }

  // A method, so checks after an await are not narrowed away by the type checker.
  private closed(): boolean {
    return this.current === 'closed'
  }

  private setState(state: AnalogBoardState): void {
    if (this.current === state) return
    this.current = state
    for (const listener of [...this.listeners]) listener(state)
  }

  private install(connection: Connection): void {
    this.connection = connection
    connection.exchange.onLost = () => {
      if (this.connection !== connection) return
      this.connection = null
      this.closing = connection.link.close().catch(() => {})
      this.setState('disconnected')
    }
  }

  private live(): Exchange {
    if (this.connection) return this.connection.exchange
    if (this.current === 'closed') throw new BoardError('UNREACHABLE', `The board on ${this.path} was closed. Open it again to use it.`)
    throw new BoardError('UNREACHABLE', `The board on ${this.path} is disconnected. Check the cable and call reconnect() once it is back.`)
  }

  /** One request; a device ERROR becomes a BoardError. */
  private async ask(message: Message, expect: Message['type'], options: RequestOptions = {}): Promise<Message> {
    const answer = await this.live().request(message, expect, options)
    if (answer.type === 'error') {
      if (answer.code === 'NOT_LOADED' && 'slot' in message) this.slots.delete(message.slot)
      throw deviceError(this.path, message.type, answer.code, answer.message, this.device)
    }
    return answer
  }

  async loadWeights(slot: number, weights: Int8Array, rows: number, cols: number, options: LoadWeightsOptions = {}): Promise<LoadedSlot> {
    const d = this.device
    // The slot range is the board's to check (BAD_SLOT); the shape and codes are checked here to name the element.
    checkInt('slot', slot, 0, 0xff)
    checkInt('rows', rows, 1, d.rows)
    checkInt('cols', cols, 1, d.cols)
    if (weights.length !== rows * cols) {
      throw new BoardError('AGENT', `A ${rows}×${cols} weight matrix has ${rows * cols} values, but ${weights.length} were given.`)
    }
    const limit = 2 ** d.weightBits - 1
    const bad = weights.findIndex((w) => w > limit || w < -limit)
    if (bad >= 0) {
      throw new BoardError('AGENT', `Weight (${Math.floor(bad / cols)}, ${bad % cols}) is ${weights[bad]}, outside the board's ${d.weightBits}-bit range −${limit} … ${limit}. Quantize the weights to that range first.`)
    }
    this.slots.delete(slot)
    const chunk = weightChunkElements(d)
    // One chunk at a time: offset 0 starts a new matrix, so a resent first chunk must never overtake later ones.
    for (let offset = 0; offset < weights.length; offset += chunk) {
      if (options.signal?.aborted) throw new BoardError('CANCELLED', `Loading weights into slot ${slot} on ${this.path} was cancelled; the slot holds an incomplete matrix.`)
      const part = weights.subarray(offset, Math.min(weights.length, offset + chunk))
      const answer = await this.ask({ type: 'loadWeights', slot, rows, cols, offset, weights: part }, 'loaded', { signal: options.signal })
      if (answer.type !== 'loaded') throw wrongAnswer(this.path, 'loadWeights', `'${answer.type}'`)
      const received = offset + part.length
      const last = received === weights.length
      if (answer.slot !== slot || answer.received !== received || answer.complete !== last) {
        throw wrongAnswer(this.path, 'loadWeights', `slot ${answer.slot}, ${answer.received} weights received, complete = ${answer.complete} (expected slot ${slot}, ${received}, ${last})`)
      }
      options.onProgress?.(received, weights.length)
    }
    const sha256 = createHash('sha256').update(`${rows}x${cols}:`).update(weights).digest('hex')
    const record: LoadedSlot = { slot, rows, cols, sha256, loadedAt: Date.now(), confirmed: true }
    this.slots.set(slot, record)
    return record
  }

  async run(slot: number, inputs: Uint8Array, rows: number, options: AnalogRunOptions = {}): Promise<Int8Array> {
    const d = this.device
    const repeats = options.repeats ?? 1
    checkInt('slot', slot, 0, 0xff)
    checkInt('rows', rows, 1, d.rows)
    checkInt('repeats', repeats, 1, MAX_REPEATS)
    if (inputs.length % rows !== 0) throw new BoardError('AGENT', `The inputs hold ${inputs.length} codes, which is not a whole number of ${rows}-row vectors.`)
    const top = 2 ** d.inputBits - 1
    const high = inputs.findIndex((x) => x > top)
    if (high >= 0) {
      throw new BoardError('AGENT', `Input code ${inputs[high]} at vector ${Math.floor(high / rows)}, row ${high % rows} is above the board's ${d.inputBits}-bit maximum ${top}. Quantize the inputs to 0 … ${top} first.`)
    }
    const total = inputs.length / rows
    const cancelled = (done: number) => new BoardError('CANCELLED', `The run on ${this.path} was cancelled after ${done} of ${total} vectors.`)
    if (options.signal?.aborted) throw cancelled(0)
    const exchange = this.live()
    const loaded = this.slots.get(slot)
    if (loaded && loaded.rows !== rows) {
      throw new BoardError('AGENT', `Slot ${slot} holds a ${loaded.rows}×${loaded.cols} matrix, but the inputs have ${rows} rows per vector.`)
    }
    // Unknown columns (a slot loaded by an earlier session): size batches for the widest matrix and learn them from the first RESULT.
    let cols = loaded?.cols ?? null
    const batch = runBatchVectors(d, rows, cols ?? d.cols, repeats)
    if (batch < 1) {
      throw new BoardError('AGENT', `One vector with ${repeats} repeats does not fit the board's ${payloadLimit(d)}-byte frames; use fewer repeats.`)
    }
    if (total === 0) return new Int8Array(0)

    const batches = Math.ceil(total / batch)
    const finished = new Uint8Array(batches)
    let output: Int8Array | null = cols === null ? null : new Int8Array(total * repeats * cols)
    let inOrder = 0
    let completed = 0
    const stop = new AbortController()
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal

    return new Promise<Int8Array>((resolve, reject) => {
      let next = 0
      let failed = false
      const end = (error: unknown) => {
        if (failed) return
        failed = true
        stop.abort()
        options.signal?.removeEventListener('abort', onAbort)
        if (error !== null) reject(this.runFailure(error, output, completed, total, repeats, cols))
      }
      const onAbort = () => end(cancelled(completed))
      options.signal?.addEventListener('abort', onAbort, { once: true })

      const accept = (index: number, first: number, count: number, answer: Message) => {
        if (answer.type === 'error') {
          if (answer.code === 'NOT_LOADED') this.slots.delete(slot)
          throw deviceError(this.path, 'run', answer.code, answer.message, d)
        }
        if (answer.type !== 'result') throw wrongAnswer(this.path, 'run', `'${answer.type}'`)
        if (answer.slot !== slot || answer.count !== count || answer.repeats !== repeats || (cols !== null && answer.cols !== cols)) {
          throw wrongAnswer(this.path, 'run', `slot ${answer.slot}, ${answer.count} vectors × ${answer.repeats} repeats × ${answer.cols} columns (expected slot ${slot}, ${count} × ${repeats} × ${cols ?? 'any'})`)
        }
        if (output === null) {
          cols = answer.cols
          output = new Int8Array(total * repeats * cols)
        }
        output.set(answer.codes, first * repeats * answer.cols)
        finished[index] = 1
        const before = completed
        while (inOrder < batches && finished[inOrder]) {
          completed += Math.min(batch, total - inOrder * batch)
          inOrder++
        }
        if (completed !== before) options.onProgress?.(completed, total)
      }

      const pump = () => {
        while (!failed && next < batches && next - inOrder < this.settings.window) {
          const index = next++
          const first = index * batch
          const count = Math.min(batch, total - first)
          const message: Message = { type: 'run', slot, count, rows, repeats, inputs: inputs.subarray(first * rows, (first + count) * rows) }
          const answerPayload = runPayloadBytes(count, rows, cols ?? d.cols, repeats).answer
          exchange.request(message, 'result', { signal, answerPayload }).then(
            (answer) => {
              if (failed) return
              try {
                accept(index, first, count, answer)
              } catch (error) {
                return end(error)
              }
              if (completed === total) {
                end(null)
                resolve(output!)
              } else pump()
            },
            (error: unknown) => end(error),
          )
        }
      }
      pump()
    })
  }

  private runFailure(error: unknown, output: Int8Array | null, completed: number, total: number, repeats: number, cols: number | null): unknown {
    if (!(error instanceof BoardError) || (error.reason !== 'TIMEOUT' && error.reason !== 'UNREACHABLE')) return error
    const partial = output && cols !== null ? output.slice(0, completed * repeats * cols) : new Int8Array(0)
    const what = error.reason === 'TIMEOUT' ? 'The board stopped answering' : 'The serial port closed'
    return new SerialRunError(
      error.reason,
      `${what} after ${completed} of ${total} vectors (port ${this.path}); the results so far are kept. Check the cable and reconnect.`,
      partial,
      completed,
      total,
    )
  }

  async set(key: SetKey, value: number): Promise<number> {
    if (!Number.isFinite(value)) throw new BoardError('AGENT', `The value for '${key}' must be a finite number, got ${value}.`)
    const answer = await this.ask({ type: 'set', key, value }, 'setDone')
    if (answer.type !== 'setDone' || answer.key !== key) throw wrongAnswer(this.path, 'set', answer.type === 'setDone' ? `the setting '${answer.key}'` : `'${answer.type}'`)
    return answer.value
  }

  async calibrate(probe: CalibrationProbe, repeats: number, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Calibration> {
    checkInt('repeats', repeats, 1, 0xffff)
    const answerPayload = 5 + 8 * this.device.cols
    const answer = await this.ask({ type: 'calibrate', probe, repeats }, 'calibration', { ...options, answerPayload })
    if (answer.type !== 'calibration' || answer.probe !== probe) throw wrongAnswer(this.path, 'calibrate', answer.type === 'calibration' ? `the probe '${answer.probe}'` : `'${answer.type}'`)
    return { probe: answer.probe, repeats: answer.repeats, cols: answer.cols, mean: answer.mean, std: answer.std }
  }

  /** Resets the device to its power-on state: settings and every weight slot. */
  async reset(): Promise<void> {
    await this.ask({ type: 'reset' }, 'resetDone')
    this.slots.clear()
  }

  /**
   * Re-opens the same path, trying until the board answers HELLO again or timeoutMs passes. The slots this driver
   * loaded stay listed but unconfirmed: a restarted board has lost them, and reloading is the caller's decision.
   */
  reconnect(options: ReconnectOptions = {}): Promise<DeviceInfo> {
    this.reconnecting ??= this.reopen(options.timeoutMs ?? 10_000, options.signal).finally(() => {
      this.reconnecting = null
    })
    return this.reconnecting
  }

  private async reopen(timeoutMs: number, signal?: AbortSignal): Promise<DeviceInfo> {
    if (this.current === 'closed') throw new BoardError('UNREACHABLE', `The board on ${this.path} was closed. Open it again instead of reconnecting.`)
    const old = this.connection
    if (old) {
      this.connection = null
      old.exchange.lose(new BoardError('UNREACHABLE', `The connection to ${this.path} was re-opened while a request was waiting.`))
      await old.link.close()
    }
    await this.closing
    this.setState('disconnected')
    const deadline = Date.now() + timeoutMs
    let last = 'no attempt was made'
    while (Date.now() < deadline) {
      if (signal?.aborted) throw new BoardError('CANCELLED', `Reconnecting to the board on ${this.path} was cancelled.`)
      if (this.closed()) throw new BoardError('UNREACHABLE', `The board on ${this.path} was closed while reconnecting.`)
      const attemptMs = Math.max(100, Math.min(this.settings.timeoutMs, deadline - Date.now()))
      let connection: Connection
      try {
        connection = await connect(this.path, this.settings, this.nextSeq, attemptMs, signal)
      } catch (error) {
        if (!(error instanceof BoardError)) throw error
        // A board that answers in another protocol version, or a cancel, will not change by trying again.
        if (error.reason === 'CANCELLED' || (error.reason === 'PROTOCOL' && /protocol version/.test(error.message))) throw error
        last = error.message
        await sleep(Math.min(250, Math.max(0, deadline - Date.now())), signal)
        continue
      }
      if (this.closed()) {
        connection.exchange.lose(new BoardError('UNREACHABLE', `The board on ${this.path} was closed.`))
        await connection.link.close()
        throw new BoardError('UNREACHABLE', `The board on ${this.path} was closed while reconnecting.`)
      }
      if (connection.device.deviceId !== this.id) {
        connection.exchange.lose(new BoardError('UNREACHABLE', `Another board answers on ${this.path}.`))
        await connection.link.close()
        throw new BoardError(
          'WRONG_ANSWER',
          `Another board (${connection.device.deviceId}) now answers on ${this.path} instead of ${this.id}. Open it as a new board, or plug ${this.id} back in.`,
        )
      }
      this.device = connection.device
      for (const record of this.slots.values()) record.confirmed = false
      this.install(connection)
      this.setState('connected')
      return this.device
    }
    throw new BoardError('UNREACHABLE', `The board on ${this.path} did not answer again within ${seconds(timeoutMs)} s (last attempt: ${last.replace(/\.$/, '')}). Check that it is plugged in and powered, then try again.`)
  }

  async close(): Promise<void> {
    if (this.current === 'closed') return
    const connection = this.connection
    this.connection = null
    this.setState('closed')
    if (connection) {
      connection.exchange.lose(new BoardError('UNREACHABLE', `The board on ${this.path} was closed while a request was waiting.`))
      await connection.link.close()
    }
  }
}
