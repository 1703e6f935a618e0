// The web-mode transport: the contract over one WebSocket to `benchside web`, with the token from the page URL.
// Reconnects by itself; calls made while disconnected wait, calls in flight when the link drops fail with UNAVAILABLE.
import type { ReplyMessage, Transport, Unsubscribe } from '../../src-main/contract/index.ts'

export type ConnectionListener = (connected: boolean) => void

export function pageToken(): string | null {
  const fromUrl = new URLSearchParams(location.search).get('token')
  if (fromUrl) sessionStorage.setItem('benchside-token', fromUrl)
  return fromUrl ?? sessionStorage.getItem('benchside-token')
}

export function webSocketTransport(token: string, onConnection: ConnectionListener): Transport {
  const pending = new Map<number, (reply: ReplyMessage) => void>()
  const outbox: string[] = []
  const listeners = new Set<(event: string, payload: unknown) => void>()
  let socket: WebSocket | null = null
  let nextId = 1
  let retryMs = 250
  let everConnected = false

  function connect(): void {
    const protocol = location.protocol === 'https:' ? 'wss' : 'ws'
    socket = new WebSocket(`${protocol}://${location.host}/ws?token=${encodeURIComponent(token)}`)
    socket.onopen = () => {
      retryMs = 250
      onConnection(true)
      for (const message of outbox.splice(0)) socket!.send(message)
      // After a reconnect, views refetch: events may have been missed while the link was down.
      if (everConnected) for (const l of listeners) l('runsChanged', { runUuids: [] })
      everConnected = true
    }
    socket.onmessage = (message) => {
      const data: unknown = JSON.parse(String(message.data))
      if (typeof data !== 'object' || data === null) return
      if ('event' in data && typeof data.event === 'string') {
        const payload = 'payload' in data ? data.payload : undefined
        for (const l of listeners) l(data.event, payload)
      } else if ('id' in data && typeof data.id === 'number') {
        // The server answers every call with a ReplyMessage; the client reads `ok` before anything else.
        pending.get(data.id)?.(data as ReplyMessage)
        pending.delete(data.id)
      }
    }
    socket.onclose = () => {
      onConnection(false)
      for (const [id, resolve] of pending) {
        resolve({ id, ok: false, error: { code: 'UNAVAILABLE', message: 'Lost the connection to Benchside; reconnecting…' } })
      }
      pending.clear()
      setTimeout(connect, retryMs)
      retryMs = Math.min(retryMs * 2, 5000)
    }
  }
  connect()

  return {
    call(method: string, args: unknown): Promise<ReplyMessage> {
      return new Promise((resolve) => {
        const id = nextId++
        pending.set(id, resolve)
        const message = JSON.stringify({ id, method, args })
        if (socket?.readyState === WebSocket.OPEN) socket.send(message)
        else outbox.push(message)
      })
    },
    subscribe(listener): Unsubscribe {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
