// One router under every transport: validates arguments against the contract, dispatches, and turns failures into
// error replies. Transports authenticate the caller (sender check, token, origin) before they hand a call in here.
import type { z } from 'zod'
import { BenchsideError, isMethodName, methods, type ErrorPayload } from './contract/index.ts'
import type { Handlers } from './services/index.ts'

export type Reply = { ok: true; result: unknown } | { ok: false; error: ErrorPayload }

export class Router {
  constructor(
    private readonly handlers: Handlers,
    private readonly log: (message: string) => void = (message) => console.error(message),
  ) {}

  async handle(method: unknown, args: unknown): Promise<Reply> {
    if (!isMethodName(method)) {
      return fail({ code: 'UNKNOWN_METHOD', message: `Benchside has no method '${String(method)}'.` })
    }
    const shapeProblem = unstorableInput(args)
    if (shapeProblem) return fail(shapeProblem)
    const parsed = methods[method].args.safeParse(args ?? {})
    if (!parsed.success) return fail(validationError(parsed.error))
    try {
      const handler = this.handlers[method] as (args: unknown) => unknown
      return { ok: true, result: await handler(parsed.data) }
    } catch (error) {
      if (error instanceof BenchsideError) return fail(error.toPayload())
      this.log(`[benchside] ${method} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
      const detail = error instanceof Error ? error.message : String(error)
      return fail({ code: 'INTERNAL', message: `Benchside could not complete ${method}: ${detail}` })
    }
  }
}

function fail(error: ErrorPayload): Reply {
  return { ok: false, error }
}

/** Names the first offending field, e.g. "Invalid argument 'limit': expected number, received string". */
export function validationError(error: z.ZodError): ErrorPayload {
  const issue = error.issues[0]
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(arguments)'
  const message = issue ? issue.message.replace(/^Invalid input: /, '') : 'invalid arguments'
  return { code: 'INVALID_ARGS', field, message: `Invalid argument '${field}': ${message}` }
}

/** No argument of any method nests deeper than this; deeper input is an attack or a bug, refused before zod walks it. */
const MAX_DEPTH = 32

/**
 * What no method can take, whatever its schema: nesting deeper than MAX_DEPTH, and text with a lone UTF-16 surrogate
 * (SQLite would store it as invalid UTF-8 that can never be matched again, e.g. a tag that cannot be removed).
 * Iterative, so hostile nesting cannot overflow the stack.
 */
export function unstorableInput(args: unknown): ErrorPayload | null {
  const stack: { value: unknown; path: string[] }[] = [{ value: args, path: [] }]
  while (stack.length > 0) {
    const { value, path } = stack.pop()!
    const field = path.length > 0 ? path.join('.') : '(arguments)'
    if (typeof value === 'string') {
      if (/\p{Cs}/u.test(value)) {
        return {
          code: 'INVALID_ARGS',
          field,
          message: `Invalid argument '${field}': the text holds a lone UTF-16 surrogate (broken Unicode), which cannot be stored.`,
        }
      }
    } else if (value !== null && typeof value === 'object') {
      if (path.length >= MAX_DEPTH) return { code: 'INVALID_ARGS', field, message: `Invalid argument '${field}': nested more than ${MAX_DEPTH} levels deep.` }
      for (const [key, item] of Object.entries(value)) stack.push({ value: item, path: [...path, key] })
    }
  }
  return null
}
