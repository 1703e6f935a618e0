// How CLI commands meet the contract: they get the typed API only, their help shows the schema's defaults, and the
// values they build are checked against the schema, so no default or allowed value is written down twice.
import { z } from 'zod'
import { BenchsideError, methods, type BenchsideApi } from '../contract/index.ts'
import { validationError } from '../router.ts'
import { plainIssue } from './plain-errors.ts'

/** Opens the core on first use (so `--help` never touches the data folder) and hands out its typed API. */
export type OpenApi = () => Promise<BenchsideApi>

/** Numbers as a person reads them in help text: 0.01, 100, 1e10. */
function shown(value: unknown): string {
  if (typeof value === 'number')
    return value !== 0 && (Math.abs(value) >= 1e5 || Math.abs(value) < 1e-3) ? value.toExponential().replace('e+', 'e') : String(value)
  if (Array.isArray(value)) return value.map(shown).join(',')
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)
}

/** The help text plus "(default: …)" read from the contract's field, or the text alone when the field has none. */
export function withDefault<T>(text: string, field: z.ZodType<T>, show: (value: NonNullable<T>) => string = shown): string {
  const parsed = field.safeParse(undefined)
  return parsed.success && parsed.data !== undefined && parsed.data !== null ? `${text} (default: ${show(parsed.data)})` : text
}

/**
 * Checks what a command built against the contract's schema and returns it typed, defaults filled in. A failure is one
 * plain sentence naming the option as it was typed (exit 2), e.g. "--epochs must be a whole number, got 1.5."
 */
export function checked<S extends z.ZodType>(schema: S, value: unknown, under?: string): z.output<S> {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const issues = under === undefined ? parsed.error.issues : parsed.error.issues.map((issue) => ({ ...issue, path: [under, ...issue.path] }))
  const input = under === undefined ? value : { [under]: value }
  const { field } = validationError(new z.ZodError(issues))
  throw new BenchsideError({ code: 'INVALID_ARGS', field, message: plainIssue(issues[0]!, input, under) })
}

/**
 * The typed API with every call's arguments checked first in the CLI's words, so a value no option check caught (a
 * limit of 0, a run id of the wrong shape) reads as plainly as the rest. What is sent is the call's own arguments.
 */
export function plainApi(api: BenchsideApi): BenchsideApi {
  return new Proxy(api, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver)
      if (typeof property !== 'string' || typeof value !== 'function' || !Object.hasOwn(methods, property)) return value
      const schema = methods[property as keyof typeof methods].args
      return (args: unknown) => {
        checked(schema, args)
        return (value as (args: unknown) => unknown).call(target, args)
      }
    },
  })
}

/** "a,b,c" as a list, "" as none, nothing as undefined (the contract's default). */
export function listOption(value: string | undefined): string[] | undefined {
  return value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
}

/** A comma-separated list of numbers; the schema says whether each one fits. */
export function numberList(value: string | undefined): number[] | undefined {
  return listOption(value)?.map(Number)
}

/** A `--no-x` switch: false when given, else undefined so the contract's default applies. */
export function unlessNegated(value: boolean | undefined): false | undefined {
  return value === false ? false : undefined
}

/** A keyword the contract takes as it is (dense, all, global), else a comma-separated list of point ids. */
export function keywordOrList(value: string | undefined, keywords: readonly string[]): string | string[] | undefined {
  return value === undefined || keywords.includes(value) ? value : listOption(value)
}

/** A log-spaced σ grid as the options write it: from:to:count. */
export function gridText(grid: { from: number; to: number; count: number }): string {
  return `${shown(grid.from)}:${shown(grid.to)}:${grid.count}`
}

/** Reads from:to:count; nothing given leaves the contract's grid. */
export function gridOption(value: string | undefined): { from?: number; to?: number; count?: number } {
  if (value === undefined) return {}
  const parts = value.split(':')
  if (parts.length !== 3)
    throw new BenchsideError({ code: 'INVALID_ARGS', field: 'sigmas', message: `Write the σ grid as from:to:count, e.g. 1e-2:1e2:17, not '${value}'.` })
  const [from, to, count] = parts.map(Number)
  return { from, to, count }
}
