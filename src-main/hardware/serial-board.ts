// The serial analog board driver (docs/serial-boards.md): the board's public surface, opening it (link + HELLO),
// loads, pipelined batched runs, and reconnect after an unplug or a crash. The parts live next to it:
// serial-link.ts (bytes over serialport), serial-requests.ts (seq, timeouts, resends, requests in flight),
// serial-batches.ts (batch sizing), serial-errors.ts (failures as BoardErrors).
import { createHash } from 'node:crypto'
import { MAX_PAYLOAD, PROTOCOL_VERSION, type CalibrationProbe, type DeviceInfo, type Message, type SetKey } from './analog-protocol/index.ts'
import { BoardError, type BoardBase } from './board.ts'
import { LARGEST_HEADER, MAX_REPEATS, payloadLimit, runBatchVectors, runPayloadBytes, weightChunkElements } from './serial-batches.ts'
import { deviceError, seconds, versionError, wrongAnswer } from './serial-errors.ts'
import { openSerialLink, type Link, type LinkOpener } from './serial-link.ts'
import { Exchange, sequenceNumbers, type RequestOptions } from './serial-requests.ts'

export { openSerialLink, type Link, type LinkOpener, type LinkOpenOptions } from './serial-link.ts'
export { runBatchVectors, runPayloadBytes, weightChunkElements } from './serial-batches.ts'

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
export interface AnalogBoard extends BoardBase<DeviceInfo, AnalogCapabilities> {
  readonly kind: 'serial'
  readonly state: AnalogBoardState
  readonly loadedSlots: ReadonlyMap<number, LoadedSlot>
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
  if (device.maxPayload <= LARGEST_HEADER || device.maxPayload > MAX_PAYLOAD) {
    throw wrongAnswer(label, 'hello', `an INFO that gives maxPayload = ${device.maxPayload} (the protocol allows up to ${MAX_PAYLOAD})`)
  }
  // The limits must leave room for the messages the protocol needs: one input vector per RUN, one result vector per
  // RESULT, a calibration answer per CALIBRATE. An INFO that breaks them is not a board this driver can use.
  const fits: [boolean, string][] = [
    [device.rows + LARGEST_HEADER <= device.maxPayload, `rows = ${device.rows}, more than one RUN of maxPayload = ${device.maxPayload} can carry`],
    [device.cols + LARGEST_HEADER <= device.maxPayload, `cols = ${device.cols}, more than one RESULT of maxPayload = ${device.maxPayload} can carry`],
    [!device.features.calibration || 5 + 8 * device.cols <= device.maxPayload, `cols = ${device.cols}, too many for a CALIBRATION answer`],
    [device.inputBits >= 1 && device.inputBits <= 8, `inputBits = ${device.inputBits} (1 to 8)`],
    [device.weightBits >= 1 && device.weightBits <= 7, `weightBits = ${device.weightBits} (1 to 7, the sign is extra)`],
    [device.adcBits >= 1 && device.adcBits <= 8, `adcBits = ${device.adcBits} (1 to 8)`],
  ]
  for (const [ok, what] of fits) if (!ok) throw wrongAnswer(label, 'hello', `an INFO that gives ${what}`)
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
    const nextSeq = sequenceNumbers()
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
      throw new BoardError(
        'AGENT',
        `Weight (${Math.floor(bad / cols)}, ${bad % cols}) is ${weights[bad]}, outside the board's ${d.weightBits}-bit range −${limit} … ${limit}. Quantize the weights to that range first.`,
      )
    }
    this.slots.delete(slot)
    const chunk = weightChunkElements(d)
    // One chunk at a time: offset 0 starts a new matrix, so a resent first chunk must never overtake later ones.
    for (let offset = 0; offset < weights.length; offset += chunk) {
      if (options.signal?.aborted)
        throw new BoardError('CANCELLED', `Loading weights into slot ${slot} on ${this.path} was cancelled; the slot holds an incomplete matrix.`)
      const part = weights.subarray(offset, Math.min(weights.length, offset + chunk))
      const answer = await this.ask({ type: 'loadWeights', slot, rows, cols, offset, weights: part }, 'loaded', { signal: options.signal })
      if (answer.type !== 'loaded') throw wrongAnswer(this.path, 'loadWeights', `'${answer.type}'`)
      const received = offset + part.length
      const last = received === weights.length
      if (answer.slot !== slot || answer.received !== received || answer.complete !== last) {
        throw wrongAnswer(
          this.path,
          'loadWeights',
          `slot ${answer.slot}, ${answer.received} weights received, complete = ${answer.complete} (expected slot ${slot}, ${received}, ${last})`,
        )
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
      throw new BoardError(
        'AGENT',
        `Input code ${inputs[high]} at vector ${Math.floor(high / rows)}, row ${high % rows} is above the board's ${d.inputBits}-bit maximum ${top}. Quantize the inputs to 0 … ${top} first.`,
      )
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
          throw wrongAnswer(
            this.path,
            'run',
            `slot ${answer.slot}, ${answer.count} vectors × ${answer.repeats} repeats × ${answer.cols} columns (expected slot ${slot}, ${count} × ${repeats} × ${cols ?? 'any'})`,
          )
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
    if (answer.type !== 'setDone' || answer.key !== key)
      throw wrongAnswer(this.path, 'set', answer.type === 'setDone' ? `the setting '${answer.key}'` : `'${answer.type}'`)
    return answer.value
  }

  async calibrate(probe: CalibrationProbe, repeats: number, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Calibration> {
    checkInt('repeats', repeats, 1, 0xffff)
    const answerPayload = 5 + 8 * this.device.cols
    const answer = await this.ask({ type: 'calibrate', probe, repeats }, 'calibration', { ...options, answerPayload })
    if (answer.type !== 'calibration' || answer.probe !== probe)
      throw wrongAnswer(this.path, 'calibrate', answer.type === 'calibration' ? `the probe '${answer.probe}'` : `'${answer.type}'`)
    // The answer must describe this board: a column count other than INFO's would be read as the wrong columns.
    if (answer.cols !== this.device.cols || answer.mean.length !== answer.cols || answer.std.length !== answer.cols || answer.repeats !== repeats) {
      throw wrongAnswer(
        this.path,
        'calibrate',
        `a calibration of ${answer.cols} columns and ${answer.repeats} repeats (INFO gives ${this.device.cols} columns; ${repeats} were asked)`,
      )
    }
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
    throw new BoardError(
      'UNREACHABLE',
      `The board on ${this.path} did not answer again within ${seconds(timeoutMs)} s (last attempt: ${last.replace(/\.$/, '')}). Check that it is plugged in and powered, then try again.`,
    )
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
