// Building blocks of the contract: a method is an argument schema, a result schema and one line of documentation.
import { z } from 'zod'

export interface MethodSpec<A extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  args: A
  result: R
  summary: string
}

export function method<A extends z.ZodType, R extends z.ZodType>(args: A, result: R, summary: string): MethodSpec<A, R> {
  return { args, result, summary }
}

/** Error codes every transport carries unchanged from the router to the caller. */
export type ErrorCode = 'INVALID_ARGS' | 'UNKNOWN_METHOD' | 'NOT_FOUND' | 'CONFLICT' | 'UNAUTHORIZED' | 'UNAVAILABLE' | 'INTERNAL'

export interface ErrorPayload {
  code: ErrorCode
  message: string
  /** Dotted path of the offending argument, for INVALID_ARGS. */
  field?: string
}

/** The error a client throws; transports rebuild it from an ErrorPayload. */
export class BenchsideError extends Error {
  readonly code: ErrorCode
  readonly field?: string
  constructor(payload: ErrorPayload) {
    super(payload.message)
    this.name = 'BenchsideError'
    this.code = payload.code
    if (payload.field !== undefined) this.field = payload.field
  }
  toPayload(): ErrorPayload {
    return this.field === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, field: this.field }
  }
}

/** What travels over IPC and the WebSocket: a call, its reply, or an event. */
export const CallMessage = z.object({ id: z.number(), method: z.string(), args: z.unknown() })
export type CallMessage = z.infer<typeof CallMessage>
export type ReplyMessage = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: ErrorPayload }
export interface EventMessage {
  event: string
  payload: unknown
}

/** Worker threads sharing each training batch on wasm (default: BENCHSIDE_TRAIN_WORKERS, else min(2, cores) when the training is big enough); 1: one. */
export const TrainWorkers = z.number().int().min(1).max(64).optional()

/** A random seed as every job takes it: a non-negative 31-bit integer. */
export const Seed = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1)
