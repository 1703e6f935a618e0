// Electron IPC over the router: one allow-listed channel for calls, one for events, and a sender check on every call.
import { ipcMain, type BrowserWindow } from 'electron'
import type { EventMessage, ReplyMessage } from '../contract/index.ts'
import type { Core } from '../core.ts'
import { CALL_CHANNEL, EVENT_CHANNEL } from './channels.ts'
import { isTrustedSender } from './security.ts'

export function wireIpc(core: Core, window: BrowserWindow, appUrl: string): () => void {
  ipcMain.handle(CALL_CHANNEL, async (event, method: unknown, args: unknown): Promise<ReplyMessage> => {
    if (event.sender !== window.webContents || !isTrustedSender(event.senderFrame?.url, appUrl)) {
      return { id: 0, ok: false, error: { code: 'UNAUTHORIZED', message: 'Only the Benchside window may call the Benchside API.' } }
    }
    return { id: 0, ...(await core.router.handle(method, args)) }
  })
  const stopEvents = core.events.on(({ event, payload }) => {
    if (!window.isDestroyed()) window.webContents.send(EVENT_CHANNEL, { event, payload } satisfies EventMessage)
  })
  return () => {
    stopEvents()
    ipcMain.removeHandler(CALL_CHANNEL)
  }
}
