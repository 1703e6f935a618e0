// Fan-out of contract events to whoever listens: the Electron window, WebSocket clients, the CLI.
import type { EventName, EventOf, Unsubscribe } from './contract/index.ts'

export type EventListener = (event: EventName, payload: unknown) => void

export class EventHub {
  private readonly listeners = new Set<EventListener>()

  on(listener: EventListener): Unsubscribe {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit<E extends EventName>(event: E, payload: EventOf<E>): void {
    for (const listener of this.listeners) listener(event, payload)
  }
}
