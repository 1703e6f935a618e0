// Electron entry: one secure window over the core. Everything else lives in the rooms; keep this file thin.
import { app, BrowserWindow, dialog, session, shell } from 'electron'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createCore, type Core } from './core.ts'
import { wireIpc } from './desktop/ipc.ts'
import { secureWindowOptions } from './desktop/security.ts'
import { CONTENT_SECURITY_POLICY } from './security/csp.ts'
import { utilityJobLauncher } from './desktop/utility-launcher.ts'
import { defaultDataDir } from './store/data-dir.ts'

const here = fileURLToPath(new URL('.', import.meta.url))
let core: Core | null = null

function openCore(): Core {
  const dataDir = process.env.BENCHSIDE_HOME ?? app.getPath('userData')
  return createCore({
    dataDir,
    host: 'desktop',
    // The Electron-ABI build of better-sqlite3, made by `npm start` (scripts/start.js); npm's own build is for Node.
    nativeBinding: process.env.BENCHSIDE_SQLITE_BINDING,
    launch: utilityJobLauncher(join(here, 'job-host.js'), { ...process.env, BENCHSIDE_HOME: dataDir }),
  })
}

async function createWindow(): Promise<void> {
  const window = new BrowserWindow(secureWindowOptions(join(here, '../preload/index.cjs')))
  const devUrl = process.env.ELECTRON_RENDERER_URL
  const appUrl = devUrl ?? pathToFileURL(join(here, '../renderer/index.html')).href
  const stopIpc = wireIpc(core!, window, appUrl)
  window.on('closed', stopIpc)
  window.once('ready-to-show', () => window.show())
  // No new windows, no navigation away: links to the web open in the system browser.
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https:')) void shell.openExternal(url)
    return { action: 'deny' }
  })
  window.webContents.on('will-navigate', (event, url) => {
    if (url !== appUrl) event.preventDefault()
  })
  await window.loadURL(appUrl)
}

app
  .whenReady()
  .then(async () => {
    try {
      core = openCore()
    } catch (error) {
      dialog.showErrorBox(
        'Benchside could not open its data folder',
        `${error instanceof Error ? error.message : String(error)}\n\nStart Benchside with "npm start" (it prepares the database driver for Electron). Data folder: ${defaultDataDir()}`,
      )
      app.exit(1)
      return
    }
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } })
    })
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
    await createWindow()
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) void createWindow()
    })
  })
  .catch((error: unknown) => {
    dialog.showErrorBox('Benchside could not open its window', error instanceof Error ? error.message : String(error))
    app.exit(1)
  })

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})

app.on('will-quit', () => core?.close())
