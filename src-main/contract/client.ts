// Builds the typed BenchsideApi over any transport that can send a call and deliver events (IPC, WebSocket, in-process).
import type { BenchsideApi, EventName, EventOf, MethodName, Unsubscribe } from './api.ts'
import { methodNames } from './api.ts'
import { BenchsideError, type ReplyMessage } from './define.ts'

export interface Transport {
  /** Sends one call; resolves with the reply envelope. */
  call(method: string, args: unknown): Promise<ReplyMessage>
  /** Delivers every event; returns a function that stops delivery. */
  subscribe(listener: (event: string, payload: unknown) => void): Unsubscribe
}

export function createClient(transport: Transport): BenchsideApi {
  const listeners = new Map<string, Set<(payload: never) => void>>()
  let unsubscribeTransport: Unsubscribe | null = null
  const api: Record<string, unknown> = {}
  for (const name of methodNames) {
    api[name] = async (args: unknown) => {
      const reply = await transport.call(name, args ?? {})
      if (!reply.ok) throw new BenchsideError(reply.error)
      return reply.result
    }
  }
  api.on = <E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): Unsubscribe => {
    unsubscribeTransport ??= transport.subscribe((name, payload) => {
      for (const l of listeners.get(name) ?? []) (l as (p: unknown) => void)(payload)
    })
    const set = listeners.get(event) ?? new Set()
    set.add(listener as (payload: never) => void)
    listeners.set(event, set)
    return () => set.delete(listener as (payload: never) => void)
  }
  return api as BenchsideApi
}

export type { MethodName }
