// Electron entry: one secure window over the core. Everything else lives in the rooms; keep this file thin.
import { app, BrowserWindow, dialog, net, protocol, session, shell } from 'electron'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createCore, type Core } from './core.ts'
import { wireDialogs } from './desktop/dialogs.ts'
import { wireIpc } from './desktop/ipc.ts'
import { APP_SCHEME, APP_URL, appFilePath, isAllowedExternalUrl, isAllowedNavigation, secureWindowOptions } from './desktop/security.ts'
import { CONTENT_SECURITY_POLICY } from './security/csp.ts'
import { utilityJobLauncher } from './desktop/utility-launcher.ts'
import { defaultDataDir } from './store/data-dir.ts'

const here = fileURLToPath(new URL('.', import.meta.url))
let core: Core | null = null

function openCore(): Core {
  // The CLI's folder, not app.getPath('userData'): Electron names that after package.json's lower-case name, so the app
  // and the CLI would keep two histories.
  const dataDir = defaultDataDir()
  return createCore({
    dataDir,
    host: 'desktop',
    // The Electron-ABI build of better-sqlite3, made by `npm start` (scripts/start.js); npm's own build is for Node.
    nativeBinding: process.env.BENCHSIDE_SQLITE_BINDING,
    launch: utilityJobLauncher(join(here, 'job-host.js'), { ...process.env, BENCHSIDE_HOME: dataDir }),
  })
}

// Before ready: app:// is a standard, secure scheme, so the page has a real origin and 'self' in the CSP means it.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }])

function serveRenderer(): void {
  const rendererDir = join(here, '../renderer')
  protocol.handle(APP_SCHEME, (request) => {
    const file = appFilePath(request.url, rendererDir)
    return file ? net.fetch(pathToFileURL(file).href) : new Response('Not found', { status: 404 })
  })
}

async function createWindow(): Promise<void> {
  const window = new BrowserWindow(secureWindowOptions(join(here, '../preload/index.cjs')))
  const appUrl = process.env.ELECTRON_RENDERER_URL ?? APP_URL
  const stopIpc = wireIpc(core!, window, appUrl)
  const stopDialogs = wireDialogs(window, appUrl)
  window.on('closed', () => (stopIpc(), stopDialogs()))
  window.once('ready-to-show', () => window.show())
  // No new windows, no navigation away: links to the documentation hosts open in the system browser, others nowhere.
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternalUrl(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
  const stayOnPage = (event: { preventDefault(): void; url: string }) => {
    if (!isAllowedNavigation(event.url, appUrl)) event.preventDefault()
  }
  window.webContents.on('will-navigate', stayOnPage)
  window.webContents.on('will-redirect', stayOnPage)
  window.webContents.on('will-frame-navigate', stayOnPage)
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
    serveRenderer()
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
