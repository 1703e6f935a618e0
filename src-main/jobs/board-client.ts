// The job's side of the board RPC (board-rpc.ts): sessions on analog boards whose connections live in the main
// process, and a board object whose methods become board-call messages. Inline jobs use it over a direct channel.
import { BenchsideError, type AnalogCalibration } from '../contract/index.ts'
import type { CalibrationProbe, DeviceInfo, SetKey } from '../hardware/analog-protocol/index.ts'
import { BoardError } from '../hardware/board.ts'
import type { AnalogBoardState, AnalogCapabilities, AnalogRunOptions, Calibration, LoadedSlot, LoadWeightsOptions } from '../hardware/serial-board.ts'
import {
  isBoardReply,
  type BoardErrorPayload,
  type BoardMethod,
  type BoardMethods,
  type BoardRequest,
  type BoardSnapshot,
  type SessionBoard,
  type SessionOpened,
} from './board-rpc.ts'
import type { ToJob } from './protocol.ts'

/** A board held for this job: other jobs on it wait until it is closed (or the job ends). */
export interface BoardSession {
  readonly board: SessionBoard
  readonly port: string
  readonly info: DeviceInfo
  /** The device's newest calibration when the session opened; null when it was never calibrated. */
  readonly calibration: AnalogCalibration | null
  /** Stores a calibration for this session's device, as made by this run. */
  saveCalibration(model: AnalogCalibration['model'], quality: AnalogCalibration['quality']): Promise<void>
  close(): Promise<void>
}

export interface BoardSessions {
  /** Waits for the board on a port (earlier sessions on it go first), connecting it when needed. */
  open(port: string, options?: { signal?: AbortSignal }): Promise<BoardSession>
  /** Opens a session, runs fn, and closes the session however fn ends. */
  using<T>(port: string, fn: (session: BoardSession) => Promise<T>, options?: { signal?: AbortSignal }): Promise<T>
}

/** The error the job sees: the class the driver threw, so callers' checks and partial results keep working. */
async function errorFromPayload(payload: BoardErrorPayload): Promise<Error> {
  if (payload.partial && (payload.reason === 'TIMEOUT' || payload.reason === 'UNREACHABLE')) {
    // Loaded only for this rare case: the serial driver (and serialport) costs every job process a second to import.
    const { SerialRunError } = await import('../hardware/serial-board.ts')
    const { codes, completed, total } = payload.partial
    return new SerialRunError(payload.reason, payload.message, codes, completed, total)
  }
  if (payload.reason) return new BoardError(payload.reason, payload.message)
  return new BenchsideError({ code: payload.code, message: payload.message })
}

interface Pending {
  resolve(value: unknown): void
  reject(error: Error): void
  onProgress?: (done: number, total: number) => void
  board?: RemoteBoard
}

interface RequestOptions {
  signal?: AbortSignal
  onProgress?: (done: number, total: number) => void
  board?: RemoteBoard
}

type Send = (message: BoardRequest) => void

export class BoardClient implements BoardSessions {
  private next = 1
  private readonly pending = new Map<number, Pending>()

  constructor(private readonly send: Send) {}

  /** Takes a message from the parent; false when it is not for the board client. */
  receive(message: ToJob): boolean {
    if (!isBoardReply(message)) return false
    const pending = this.pending.get(message.call)
    if (!pending) return true
    if (message.type === 'board-progress') {
      pending.onProgress?.(message.done, message.total)
      return true
    }
    this.pending.delete(message.call)
    if (message.board) pending.board?.mirror(message.board)
    if (message.ok) pending.resolve(message.value)
    else void errorFromPayload(message.error).then((error) => pending.reject(error))
    return true
  }

  request<T>(what: string, build: (call: number) => BoardRequest, options: RequestOptions = {}): Promise<T> {
    const { signal } = options
    if (signal?.aborted) return Promise.reject(new BoardError('CANCELLED', `${what} was cancelled before it was sent to the board.`))
    const call = this.next++
    return new Promise<T>((resolve, reject) => {
      // The parent aborts the driver call and answers CANCELLED, so the reply still settles this promise.
      const onAbort = () => this.send({ type: 'board-abort', call })
      const settle = () => signal?.removeEventListener('abort', onAbort)
      this.pending.set(call, {
        resolve: (value) => (settle(), resolve(value as T)),
        reject: (error) => (settle(), reject(error)),
        onProgress: options.onProgress,
        board: options.board,
      })
      signal?.addEventListener('abort', onAbort, { once: true })
      this.send(build(call))
    })
  }

  async open(port: string, options: { signal?: AbortSignal } = {}): Promise<BoardSession> {
    const opened = await this.request<SessionOpened>(`Opening the board on ${port}`, (call) => ({ type: 'board-open', call, port }), options)
    return new RemoteSession(this, opened)
  }

  async using<T>(port: string, fn: (session: BoardSession) => Promise<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
    const session = await this.open(port, options)
    try {
      return await fn(session)
    } finally {
      // A close that fails (the parent is gone) must not hide fn's own error; the parent frees the board on exit anyway.
      await session.close().catch(() => {})
    }
  }
}

class RemoteSession implements BoardSession {
  readonly board: RemoteBoard
  readonly port: string
  readonly info: DeviceInfo
  readonly calibration: AnalogCalibration | null
  private readonly id: number

  constructor(
    private readonly client: BoardClient,
    opened: SessionOpened,
  ) {
    this.id = opened.session
    this.port = opened.port
    this.info = opened.info
    this.calibration = opened.calibration
    this.board = new RemoteBoard(client, opened.session, opened.info)
  }

  saveCalibration(model: AnalogCalibration['model'], quality: AnalogCalibration['quality']): Promise<void> {
    return this.client.request('Saving the calibration', (call) => ({ type: 'board-save-calibration', call, session: this.id, model, quality }))
  }

  close(): Promise<void> {
    return this.client.request('Closing the board session', (call) => ({ type: 'board-close', call, session: this.id }))
  }
}

/** An analog board in the parent, seen from the job: its state and slots mirror the parent's after every call. */
class RemoteBoard implements SessionBoard {
  readonly kind = 'serial' as const
  readonly id: string
  private current: AnalogBoardState = 'connected'
  private readonly slots = new Map<number, LoadedSlot>()

  constructor(
    private readonly client: BoardClient,
    private readonly session: number,
    private readonly device: DeviceInfo,
  ) {
    this.id = device.deviceId
  }

  get state(): AnalogBoardState {
    return this.current
  }

  get loadedSlots(): ReadonlyMap<number, LoadedSlot> {
    return this.slots
  }

  mirror(snapshot: BoardSnapshot): void {
    this.current = snapshot.state
    this.slots.clear()
    for (const slot of snapshot.slots) this.slots.set(slot.slot, slot)
  }

  private call<M extends BoardMethod>(
    method: M,
    args: BoardMethods[M]['args'],
    options: Omit<RequestOptions, 'board'> = {},
  ): Promise<BoardMethods[M]['result']> {
    return this.client.request(`The board call '${method}'`, (call) => ({ type: 'board-call', call, session: this.session, method, args }) as BoardRequest, {
      ...options,
      board: this,
    })
  }

  async info(): Promise<DeviceInfo> {
    return this.device
  }

  capabilities(): Promise<AnalogCapabilities> {
    return this.call('capabilities', [])
  }

  loadWeights(slot: number, weights: Int8Array, rows: number, cols: number, options: LoadWeightsOptions = {}): Promise<LoadedSlot> {
    return this.call('loadWeights', [slot, weights, rows, cols, { progress: options.onProgress !== undefined }], options)
  }

  run(slot: number, inputs: Uint8Array, rows: number, options: AnalogRunOptions = {}): Promise<Int8Array> {
    const { repeats, signal, onProgress } = options
    return this.call('run', [slot, inputs, rows, { repeats, progress: onProgress !== undefined }], { signal, onProgress })
  }

  set(key: SetKey, value: number): Promise<number> {
    return this.call('set', [key, value])
  }

  calibrate(probe: CalibrationProbe, repeats: number, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Calibration> {
    return this.call('calibrate', [probe, repeats, { timeoutMs: options.timeoutMs }], { signal: options.signal })
  }

  reset(): Promise<void> {
    return this.call('reset', [])
  }
}
