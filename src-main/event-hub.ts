// Typed fan-out of contract events to whoever listens: the Electron window, WebSocket clients, the CLI.
import type { ContractEvent, EventName, EventOf, Unsubscribe } from './contract/index.ts'

export type EventListener = (event: ContractEvent) => void

export class EventHub {
  private readonly listeners = new Set<EventListener>()

  on(listener: EventListener): Unsubscribe {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit<E extends EventName>(event: E, payload: EventOf<E>): void {
    const message = { event, payload } as ContractEvent
    for (const listener of this.listeners) {
      // One listener's failure (a closed socket, a bug in a view) must not stop the others or the emitter.
      try {
        listener(message)
      } catch (error) {
        console.error(`[benchside] a listener of ${event} failed: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
  }
}
