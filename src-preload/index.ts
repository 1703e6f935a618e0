// The only bridge between the sandboxed page and the main process: window.benchside, the typed API over IPC, and
// window.benchsideDialogs, the native save/open dialogs for exports and imports.
import { contextBridge, ipcRenderer } from 'electron'
import { createClient } from '../src-main/contract/client.ts'
import type { EventMessage, ReplyMessage } from '../src-main/contract/define.ts'
import type { BenchsideDialogs, FileDialogReply } from '../src-main/contract/file-dialogs.ts'
import { CALL_CHANNEL, DIALOG_CHANNEL, EVENT_CHANNEL } from '../src-main/desktop/channels.ts'

const api = createClient({
  call: (method, args) => ipcRenderer.invoke(CALL_CHANNEL, method, args) as Promise<ReplyMessage>,
  subscribe: (listener) => {
    const forward = (_event: unknown, message: EventMessage) => listener(message.event, message.payload)
    ipcRenderer.on(EVENT_CHANNEL, forward)
    return () => void ipcRenderer.off(EVENT_CHANNEL, forward)
  },
})

contextBridge.exposeInMainWorld('benchside', api)

const dialogs: BenchsideDialogs = {
  choose: async (request) => ((await ipcRenderer.invoke(DIALOG_CHANNEL, request)) as FileDialogReply).path,
}
contextBridge.exposeInMainWorld('benchsideDialogs', dialogs)
