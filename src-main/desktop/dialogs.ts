// The native save/open dialogs behind window.benchsideDialogs: exports choose where to write, imports what to read,
// without a typed path. Only our own page may ask; the request is checked with the contract's schema.
import { dialog, ipcMain, type BrowserWindow } from 'electron'
import { FileDialogRequest, type FileDialogReply } from '../contract/index.ts'
import { DIALOG_CHANNEL } from './channels.ts'
import { isTrustedSender } from './security.ts'

export function wireDialogs(window: BrowserWindow, appUrl: string): () => void {
  ipcMain.handle(DIALOG_CHANNEL, async (event, raw: unknown): Promise<FileDialogReply> => {
    if (event.sender !== window.webContents || !isTrustedSender(event.senderFrame?.url, appUrl)) return { path: null }
    const request = FileDialogRequest.safeParse(raw)
    if (!request.success) return { path: null }
    const r = request.data
    if (r.mode === 'save') {
      const answer = await dialog.showSaveDialog(window, {
        title: r.title,
        defaultPath: r.defaultName,
        filters: r.filters,
        properties: ['createDirectory', 'showOverwriteConfirmation'],
      })
      return { path: answer.canceled || !answer.filePath ? null : answer.filePath }
    }
    const answer = await dialog.showOpenDialog(window, {
      title: r.title,
      filters: r.folder ? [] : r.filters,
      properties: r.folder ? ['openDirectory', 'createDirectory'] : ['openFile'],
    })
    return { path: answer.canceled ? null : (answer.filePaths[0] ?? null) }
  })
  return () => ipcMain.removeHandler(DIALOG_CHANNEL)
}
