// The Benchside API: every method and event, declared once. Renderer, preload, transports and CLI all use these types.
import type { z } from 'zod'
import { appEvents, appMethods } from './app.ts'
import { jobEvents, jobMethods } from './jobs.ts'
import { modelMethods } from './models.ts'
import { boardMethods } from './boards.ts'
import { quantizationMethods } from './quantization.ts'
import { analogEvents, analogMethods } from './analog.ts'
import { robustnessMethods } from './robustness.ts'
import { runEvents, runMethods } from './runs.ts'
import { resultMethods } from './results.ts'
import { compareMethods } from './compare.ts'
import { compressionMethods } from './compression.ts'
import { clusterMethods } from './clusters.ts'

export const methods = {
  ...appMethods,
  ...runMethods,
  ...jobMethods,
  ...modelMethods,
  ...boardMethods,
  ...robustnessMethods,
  ...quantizationMethods,
  ...analogMethods,
  ...resultMethods,
  ...compareMethods,
  ...compressionMethods,
  ...clusterMethods,
}
export const events = { ...appEvents, ...runEvents, ...jobEvents, ...analogEvents }

export type Methods = typeof methods
export type MethodName = keyof Methods
export type ArgsOf<M extends MethodName> = z.input<Methods[M]['args']>
/** Arguments after validation and defaults, as handlers see them. */
export type ParsedArgsOf<M extends MethodName> = z.output<Methods[M]['args']>
export type ResultOf<M extends MethodName> = z.output<Methods[M]['result']>

export type Events = typeof events
export type EventName = keyof Events
export type EventOf<E extends EventName> = z.output<Events[E]>

/** Any event as it travels: its name and its payload, narrowed together. */
export type ContractEvent = { [E in EventName]: { event: E; payload: EventOf<E> } }[EventName]

export type Unsubscribe = () => void

/** The typed API as the renderer sees it, in either host. */
export type BenchsideApi = { [M in MethodName]: (args: ArgsOf<M>) => Promise<ResultOf<M>> } & {
  on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): Unsubscribe
}

export const methodNames = Object.keys(methods) as MethodName[]
export const eventNames = Object.keys(events) as EventName[]

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(methods, name)
}
