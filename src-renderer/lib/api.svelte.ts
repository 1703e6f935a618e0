// The one API object the views use. In Electron the preload provides it; in a browser it runs over the WebSocket.
import { createClient, type BenchsideApi } from '../../src-main/contract/index.ts'
import { pageToken, webSocketTransport } from './ws-transport.ts'

export const connection = $state({ connected: window.benchside !== undefined, host: window.benchside ? 'desktop' : 'web', missingToken: false })

function browserApi(): BenchsideApi {
  const token = pageToken()
  if (!token) connection.missingToken = true
  return createClient(webSocketTransport(token ?? '', (connected) => (connection.connected = connected)))
}

export const api: BenchsideApi = window.benchside ?? browserApi()

/** A message fit for the user from whatever a call threw. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
