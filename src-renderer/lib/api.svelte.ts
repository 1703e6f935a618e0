// The one API object the views use. In Electron the preload provides it; in a browser it runs over the WebSocket.
import { createClient, type BenchsideApi, type Unsubscribe } from '../../src-main/contract/index.ts'
import { pageToken, webSocketTransport } from './ws-transport.ts'

export const connection = $state({ connected: window.benchside !== undefined, host: window.benchside ? 'desktop' : 'web', missingToken: false })

// eslint-disable-next-line svelte/prefer-svelte-reactivity -- listeners to call, not state anything renders from
const reconnectListeners = new Set<() => void>()
let everConnected = false

function browserApi(): BenchsideApi {
  const token = pageToken()
  if (!token) connection.missingToken = true
  return createClient(
    webSocketTransport(token ?? '', (connected) => {
      connection.connected = connected
      if (!connected) return
      if (everConnected) for (const listener of reconnectListeners) listener()
      everConnected = true
    }),
  )
}

export const api: BenchsideApi = window.benchside ?? browserApi()

/** Web mode (a browser, no preload): files reach the server as uploads and leave it as downloads (lib/upload.ts). */
export const webMode = window.benchside === undefined

/** Calls `listener` each time the link to Benchside comes back after a drop (events may have been missed meanwhile). */
export function onReconnect(listener: () => void): Unsubscribe {
  reconnectListeners.add(listener)
  return () => reconnectListeners.delete(listener)
}

/** A message fit for the user from whatever a call threw. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
