// The board RPC over the job channel: a job process opens a session on an analog board (the parent queues it in the
// board's FIFO), calls board methods by name, and gets results or errors back. Shared by board-client and board-server.
import { z } from 'zod'
import { AnalogDeviceModelSchema, CalibrationQuality, type AnalogCalibration, type ErrorCode } from '../contract/index.ts'
import type { CalibrationProbe, DeviceInfo, SetKey } from '../hardware/analog-protocol/index.ts'
import type { BoardErrorReason } from '../hardware/board.ts'
// Types only: every job process loads this file, and the serial driver (with serialport) has no business there.
import type { AnalogBoard, AnalogBoardState, AnalogCapabilities, Calibration, LoadedSlot } from '../hardware/serial-board.ts'

/** The part of an analog board the calibration and HIL code uses; a serial board and a remote session board both fit. */
export type SessionBoard = Pick<
  AnalogBoard,
  'id' | 'kind' | 'state' | 'loadedSlots' | 'info' | 'capabilities' | 'loadWeights' | 'run' | 'set' | 'calibrate' | 'reset'
>

/** Board methods a job may call, with their arguments as they cross the channel (signals and callbacks stay behind). */
export interface BoardMethods {
  info: { args: []; result: DeviceInfo }
  capabilities: { args: []; result: AnalogCapabilities }
  /** progress: the parent relays the driver's onProgress as board-progress messages. */
  loadWeights: { args: [slot: number, weights: Int8Array, rows: number, cols: number, options: { progress?: boolean }]; result: LoadedSlot }
  run: { args: [slot: number, inputs: Uint8Array, rows: number, options: { repeats?: number; progress?: boolean }]; result: Int8Array }
  set: { args: [key: SetKey, value: number]; result: number }
  calibrate: { args: [probe: CalibrationProbe, repeats: number, options: { timeoutMs?: number }]; result: Calibration }
  reset: { args: []; result: void }
}
export type BoardMethod = keyof BoardMethods

const count = z.number().int().min(0)
const methodArgs: { [M in BoardMethod]: z.ZodType<BoardMethods[M]['args']> } = {
  info: z.tuple([]),
  capabilities: z.tuple([]),
  loadWeights: z.tuple([count, z.instanceof(Int8Array), count, count, z.object({ progress: z.boolean().optional() })]),
  run: z.tuple([count, z.instanceof(Uint8Array), count, z.object({ repeats: count.optional(), progress: z.boolean().optional() })]),
  set: z.tuple([z.enum(['gain', 'repeats', 'order']), z.number()]),
  calibrate: z.tuple([z.enum(['offset', 'reference']), count, z.object({ timeoutMs: z.number().positive().optional() })]),
  reset: z.tuple([]),
}

export const BOARD_METHODS = Object.keys(methodArgs) as BoardMethod[]

export function isBoardMethod(name: unknown): name is BoardMethod {
  return typeof name === 'string' && Object.hasOwn(methodArgs, name)
}

/** Checks a call's arguments; the error names the argument and says what it should be. */
export function parseBoardArgs<M extends BoardMethod>(method: M, args: unknown): { ok: true; args: BoardMethods[M]['args'] } | { ok: false; message: string } {
  const parsed = methodArgs[method].safeParse(args)
  if (parsed.success) return { ok: true, args: parsed.data }
  const issue = parsed.error.issues[0]
  const where = issue?.path.length ? ` (argument ${issue.path.join('.')})` : ''
  return {
    ok: false,
    message: `The arguments of board method '${method}' are wrong${where}: ${issue?.message ?? 'invalid'}. This is a bug in Benchside; please report it.`,
  }
}

export const calibrationToSave = z.object({ model: AnalogDeviceModelSchema, quality: CalibrationQuality })

/** The board's state and slots after a request: the session board in the job mirrors them. */
export interface BoardSnapshot {
  state: AnalogBoardState
  slots: LoadedSlot[]
}

export interface SessionOpened {
  session: number
  port: string
  info: DeviceInfo
  /** The device's newest calibration, read by the parent; null when it has none. */
  calibration: AnalogCalibration | null
}

/** A failure as it crosses the channel; rebuilt as a BoardError (or SerialRunError) in the job. */
export interface BoardErrorPayload {
  message: string
  code: ErrorCode
  reason: BoardErrorReason | null
  partial: { codes: Int8Array; completed: number; total: number } | null
}

/** Child → parent. `call` numbers a request; its reply carries the same number. */
export type BoardRequest =
  | { type: 'board-open'; call: number; port: string }
  | { [M in BoardMethod]: { type: 'board-call'; call: number; session: number; method: M; args: BoardMethods[M]['args'] } }[BoardMethod]
  | { type: 'board-save-calibration'; call: number; session: number; model: AnalogCalibration['model']; quality: AnalogCalibration['quality'] }
  | { type: 'board-close'; call: number; session: number }
  /** The job's signal fired: abort that call (or stop waiting for the board, for an open). */
  | { type: 'board-abort'; call: number }

/** Parent → child. */
export type BoardReply =
  | { type: 'board-reply'; call: number; ok: true; value: unknown; board: BoardSnapshot | null }
  | { type: 'board-reply'; call: number; ok: false; error: BoardErrorPayload; board: BoardSnapshot | null }
  | { type: 'board-progress'; call: number; done: number; total: number }

export const BOARD_REQUEST_TYPES: ReadonlySet<string> = new Set(['board-open', 'board-call', 'board-save-calibration', 'board-close', 'board-abort'])

export function isBoardRequest(message: { type: string }): message is BoardRequest {
  return BOARD_REQUEST_TYPES.has(message.type)
}

export function isBoardReply(message: { type: string }): message is BoardReply {
  return message.type === 'board-reply' || message.type === 'board-progress'
}
