// The parent's side of the board RPC (board-rpc.ts): wraps a job process, answers its board-* messages from the analog
// board registry, and holds each session's place in the board's FIFO until the job closes it, ends, is cancelled or dies.
import { BenchsideError, type AnalogCalibration } from '../contract/index.ts'
import type { AnalogConnection, AnalogDeviceRegistry } from '../hardware/analog-devices.ts'
import type { DeviceInfo } from '../hardware/analog-protocol/index.ts'
import { BoardError } from '../hardware/board.ts'
import { SerialRunError, type AnalogBoard } from '../hardware/serial-board.ts'
import {
  calibrationToSave,
  isBoardMethod,
  isBoardRequest,
  parseBoardArgs,
  type BoardErrorPayload,
  type BoardMethod,
  type BoardMethods,
  type BoardReply,
  type BoardRequest,
  type BoardSnapshot,
  type SessionOpened,
} from './board-rpc.ts'
import type { FromJob, JobProcess, ToJob } from './protocol.ts'

/** What the parent resolves for board sessions: the connections, and the store's view of the devices. */
export interface BoardServerDeps {
  registry: AnalogDeviceRegistry
  latestCalibration(deviceId: string): AnalogCalibration | null
  saveCalibration(deviceId: string, runUuid: string, model: AnalogCalibration['model'], quality: AnalogCalibration['quality']): void
  /** Records that a device answered on a port. */
  seen(info: DeviceInfo, port: string): void
}

type Progress = (done: number, total: number) => void
const PROGRESS_INTERVAL_MS = 200
type Invoke = {
  [M in BoardMethod]: (
    board: AnalogBoard,
    args: BoardMethods[M]['args'],
    signal: AbortSignal,
    onProgress: Progress | undefined,
  ) => Promise<BoardMethods[M]['result']>
}

// Signals go to every driver method that takes one; set and reset are single short requests.
const invoke: Invoke = {
  info: (board) => board.info(),
  capabilities: (board) => board.capabilities(),
  loadWeights: (board, [slot, weights, rows, cols], signal, onProgress) => board.loadWeights(slot, weights, rows, cols, { signal, onProgress }),
  run: (board, [slot, inputs, rows, { repeats }], signal, onProgress) => board.run(slot, inputs, rows, { repeats, signal, onProgress }),
  set: (board, [key, value]) => board.set(key, value),
  calibrate: (board, [probe, repeats, { timeoutMs }], signal) => board.calibrate(probe, repeats, { timeoutMs, signal }),
  reset: (board) => board.reset(),
}

function callMethod<M extends BoardMethod>(
  board: AnalogBoard,
  method: M,
  args: BoardMethods[M]['args'],
  signal: AbortSignal,
  onProgress: Progress | undefined,
): Promise<BoardMethods[M]['result']> {
  return (invoke[method] as Invoke[M])(board, args, signal, onProgress)
}

interface Session {
  id: number
  port: string
  connection: AnalogConnection
  info: DeviceInfo
  calls: Map<number, { controller: AbortController; done: Promise<void> }>
  closing: Promise<void> | null
  release: () => void
}

/** An open waiting in the board's FIFO; abandoned when the job cancels it or ends first. */
interface Opening {
  abandoned: boolean
}

function snapshot(board: AnalogBoard): BoardSnapshot {
  return { state: board.state, slots: [...board.loadedSlots.values()].map((slot) => ({ ...slot })) }
}

/** A failure as the job gets it: code, the board's reason, and what a run measured before it lost the board. */
function errorPayload(error: unknown): BoardErrorPayload {
  if (error instanceof SerialRunError) {
    return {
      message: error.message,
      code: error.code,
      reason: error.reason,
      partial: { codes: error.partial, completed: error.completedVectors, total: error.totalVectors },
    }
  }
  if (error instanceof BoardError) return { message: error.message, code: error.code, reason: error.reason, partial: null }
  if (error instanceof BenchsideError) return { message: error.message, code: error.code, reason: null, partial: null }
  return { message: error instanceof Error ? error.message : String(error), code: 'INTERNAL', reason: null, partial: null }
}

function rpcError(message: string, code: BoardErrorPayload['code'] = 'INVALID_ARGS'): BoardErrorPayload {
  return { message, code, reason: null, partial: null }
}

const isCallId = (value: unknown): value is number => Number.isSafeInteger(value)

class BoardServer {
  private nextSession = 1
  private readonly sessions = new Map<number, Session>()
  private readonly openings = new Map<number, Opening>()
  private ended = false
  runUuid: string | null = null

  constructor(
    private readonly child: JobProcess,
    private readonly deps: BoardServerDeps,
  ) {}

  handle(message: BoardRequest): void {
    // Whatever a job sends, the host answers with an error at worst; it never throws here.
    try {
      const raw = message as { call?: unknown }
      if (!isCallId(raw.call)) return
      if (this.ended) return this.fail(message.call, rpcError('The job has ended, so its board sessions are closed.', 'CONFLICT'))
      switch (message.type) {
        case 'board-open':
          return this.open(message.call, message.port)
        case 'board-call':
          return this.call(message)
        case 'board-save-calibration':
          return this.saveCalibration(message)
        case 'board-close':
          return this.close(message.call, message.session)
        case 'board-abort':
          return this.abort(message.call)
      }
    } catch (error) {
      const call = (message as { call?: unknown }).call
      if (isCallId(call)) this.fail(call, errorPayload(error))
    }
  }

  private reply(message: BoardReply): void {
    if (this.ended && message.type === 'board-progress') return
    // A process that died a moment ago cannot take the answer; its exit frees the board.
    try {
      this.child.send(message)
    } catch {
      /* the exit handler cleans up */
    }
  }

  private fail(call: number, error: BoardErrorPayload, board: BoardSnapshot | null = null): void {
    this.reply({ type: 'board-reply', call, ok: false, error, board })
  }

  private session(id: unknown, call: number): Session | null {
    const session = typeof id === 'number' ? this.sessions.get(id) : undefined
    if (session && !session.closing) return session
    this.fail(call, rpcError(`Board session ${String(id)} is not open: it was closed, or never opened. Open a session before calling the board.`, 'CONFLICT'))
    return null
  }

  private open(call: number, port: unknown): void {
    if (typeof port !== 'string' || port.trim() === '') return this.fail(call, rpcError('A board session needs a port: a serial port path, or demo.'))
    const opening: Opening = { abandoned: false }
    this.openings.set(call, opening)
    const gone = () => this.ended || opening.abandoned
    this.deps.registry
      .withBoard(port, async (connection) => {
        if (gone()) return
        const info = await connection.board.info()
        if (gone()) return
        this.deps.seen(info, port)
        const calibration = this.deps.latestCalibration(info.deviceId)
        const held = new Promise<void>((release) => {
          const session: Session = { id: this.nextSession++, port, connection, info, calls: new Map(), closing: null, release }
          this.sessions.set(session.id, session)
          this.openings.delete(call)
          const opened: SessionOpened = { session: session.id, port, info, calibration }
          this.reply({ type: 'board-reply', call, ok: true, value: opened, board: snapshot(connection.board) })
        })
        // The FIFO place is held until the session ends: closed by the job, or by the job's end.
        await held
      })
      .catch((error: unknown) => {
        this.openings.delete(call)
        if (!gone()) this.fail(call, errorPayload(error))
      })
  }

  private call(message: Extract<BoardRequest, { type: 'board-call' }>): void {
    const { call } = message
    const session = this.session(message.session, call)
    if (!session) return
    const method: unknown = message.method
    if (!isBoardMethod(method))
      return this.fail(
        call,
        rpcError(`'${String(method)}' is not a board method a job may call. This is a bug in Benchside; please report it.`, 'UNKNOWN_METHOD'),
      )
    const parsed = parseBoardArgs(method, message.args)
    if (!parsed.ok) return this.fail(call, rpcError(parsed.message))
    if (session.calls.has(call)) return this.fail(call, rpcError(`Call number ${call} is already in flight.`, 'CONFLICT'))
    const controller = new AbortController()
    const board = session.connection.board
    const options =
      method === 'run'
        ? (parsed.args as BoardMethods['run']['args'])[3]
        : method === 'loadWeights'
          ? (parsed.args as BoardMethods['loadWeights']['args'])[4]
          : null
    let reported = 0
    const onProgress: Progress | undefined = options?.progress
      ? (done, total) => {
          // A message per batch would keep both processes busy for a progress bar; a few per second are enough.
          if (done < total && Date.now() - reported < PROGRESS_INTERVAL_MS) return
          reported = Date.now()
          this.reply({ type: 'board-progress', call, done, total })
        }
      : undefined
    const done = Promise.resolve()
      .then(() => callMethod(board, method, parsed.args, controller.signal, onProgress))
      .then(
        (value) => this.reply({ type: 'board-reply', call, ok: true, value, board: snapshot(board) }),
        (error: unknown) => this.fail(call, errorPayload(error), snapshot(board)),
      )
      .finally(() => session.calls.delete(call))
    session.calls.set(call, { controller, done })
  }

  private saveCalibration(message: Extract<BoardRequest, { type: 'board-save-calibration' }>): void {
    const session = this.session(message.session, message.call)
    if (!session) return
    const parsed = calibrationToSave.safeParse({ model: message.model, quality: message.quality })
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      return this.fail(
        message.call,
        rpcError(
          `The calibration to save is malformed at '${issue?.path.join('.') ?? ''}': ${issue?.message ?? 'invalid'}. This is a bug in Benchside; please report it.`,
        ),
      )
    }
    if (!this.runUuid) return this.fail(message.call, rpcError('A calibration can only be saved by a running job.', 'CONFLICT'))
    this.deps.saveCalibration(session.info.deviceId, this.runUuid, parsed.data.model, parsed.data.quality)
    this.reply({ type: 'board-reply', call: message.call, ok: true, value: null, board: null })
  }

  private close(call: number, id: unknown): void {
    const session = this.session(id, call)
    if (!session) return
    void this.endSession(session).then(() => this.reply({ type: 'board-reply', call, ok: true, value: null, board: null }))
  }

  private abort(call: number): void {
    const opening = this.openings.get(call)
    if (opening) {
      opening.abandoned = true
      this.openings.delete(call)
      return this.fail(call, errorPayload(new BoardError('CANCELLED', 'Cancelled while waiting for the board.')))
    }
    for (const session of this.sessions.values()) session.calls.get(call)?.controller.abort(new BoardError('CANCELLED', 'The board call was cancelled.'))
  }

  /** Cancels the session's calls in flight, waits for them to stop, then frees the board for the next session. */
  private endSession(session: Session): Promise<void> {
    session.closing ??= (async () => {
      const calls = [...session.calls.values()]
      for (const { controller } of calls) controller.abort(new BoardError('CANCELLED', 'The job ended while this board call ran.'))
      await Promise.allSettled(calls.map((c) => c.done))
      this.sessions.delete(session.id)
      session.release()
    })()
    return session.closing
  }

  /** The job ended (exit, cancel, kill): every session and every open still waiting lets go of its board. */
  end(): void {
    if (this.ended) return
    this.ended = true
    for (const opening of this.openings.values()) opening.abandoned = true
    this.openings.clear()
    for (const session of [...this.sessions.values()]) void this.endSession(session)
  }
}

/** The job process as the manager sees it, with board-* messages answered here and never passed on. */
export function serveBoards(child: JobProcess, deps: BoardServerDeps): JobProcess {
  const server = new BoardServer(child, deps)
  child.onMessage((message) => {
    if (isBoardRequestMessage(message)) server.handle(message)
  })
  child.onExit(() => server.end())
  return {
    get pid() {
      return child.pid
    },
    send(message: ToJob) {
      if (message.type === 'start') server.runUuid = message.runUuid
      child.send(message)
    },
    onMessage: (listener) =>
      child.onMessage((message) => {
        if (!isBoardRequestMessage(message)) listener(message)
      }),
    onExit: (listener) => child.onExit(listener),
    kill(signal) {
      server.end()
      child.kill(signal)
    },
  }
}

function isBoardRequestMessage(message: FromJob): message is Extract<FromJob, BoardRequest> {
  return typeof message === 'object' && message !== null && typeof message.type === 'string' && isBoardRequest(message)
}
