// The one API object the views use. In Electron the preload provides it; in a browser it runs over the WebSocket.
import { createClient, type BenchsideApi, type Unsubscribe } from '../../src-main/contract/index.ts'
import { pageToken, webSocketTransport } from './ws-transport.ts'

/**
 * The link to Benchside in web mode: `connecting` before the first connection, then `connected`; after a drop,
 * `reconnecting` while the server still answers, `stopped` when nothing answers at this address, `new-token` when the
 * server answers but refuses this page's token (it restarted with a new one: only its new address gets in).
 */
export type LinkState = 'connecting' | 'connected' | 'reconnecting' | 'stopped' | 'new-token'

export const connection = $state({
  connected: window.benchside !== undefined,
  host: window.benchside ? 'desktop' : 'web',
  missingToken: false,
  link: (window.benchside ? 'connected' : 'connecting') as LinkState,
})

// eslint-disable-next-line svelte/prefer-svelte-reactivity -- listeners to call, not state anything renders from
const reconnectListeners = new Set<() => void>()
let everConnected = false
let probing = false

/** Why the link is down: asks the server over plain HTTP whether it is there and still takes this page's token. */
async function probe(token: string): Promise<void> {
  if (probing) return
  probing = true
  try {
    const reply = await fetch('/api/appInfo', { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: '{}' })
    if (!connection.connected) connection.link = reply.status === 401 ? 'new-token' : 'reconnecting'
  } catch {
    if (!connection.connected) connection.link = 'stopped'
  } finally {
    probing = false
  }
}

function browserApi(): BenchsideApi {
  const token = pageToken()
  if (!token) connection.missingToken = true
  return createClient(
    webSocketTransport(token ?? '', (connected) => {
      connection.connected = connected
      if (!connected) {
        if (connection.link === 'connected') connection.link = 'reconnecting'
        void probe(token ?? '')
        return
      }
      connection.link = 'connected'
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
