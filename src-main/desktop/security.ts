// The security settings of the app window and its pages, kept free of Electron imports so tests can check them in Node.
import { resolve, sep } from 'node:path'

// The CSP is in security/csp.ts, where web mode can import it without importing the desktop host.
export { CONTENT_SECURITY_POLICY } from '../security/csp.ts'

export interface SecureWindowOptions {
  width: number
  height: number
  minWidth: number
  minHeight: number
  title: string
  show: boolean
  backgroundColor: string
  webPreferences: {
    preload: string
    contextIsolation: true
    sandbox: true
    nodeIntegration: false
    nodeIntegrationInWorker: false
    nodeIntegrationInSubFrames: false
    webSecurity: true
    allowRunningInsecureContent: false
    webviewTag: false
    spellcheck: false
  }
}

export function secureWindowOptions(preloadPath: string): SecureWindowOptions {
  return {
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    title: 'Benchside',
    show: false,
    backgroundColor: '#0f1419',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  }
}

/**
 * The app's pages are served from this custom scheme, not file://: a file: page could read any local file it can
 * name, an app: page only what the protocol handler serves (the renderer folder).
 */
export const APP_SCHEME = 'app'
export const APP_URL = 'app://benchside/index.html'

/** The file an app:// request may read: inside the renderer folder, or null (wrong host, traversal, not a path). */
export function appFilePath(requestUrl: string, rendererDir: string): string | null {
  let url: URL
  try {
    url = new URL(requestUrl)
  } catch {
    return null
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== 'benchside') return null
  let path: string
  try {
    path = decodeURIComponent(url.pathname)
  } catch {
    return null
  }
  if (path.includes('\0')) return null
  const root = resolve(rendererDir)
  const file = resolve(root, '.' + (path === '/' ? '/index.html' : path))
  return file.startsWith(root + sep) ? file : null
}

/** Same page, ignoring the hash (the renderer routes by hash): the only navigation the window may make. */
function samePage(url: string, appUrl: string): boolean {
  try {
    const a = new URL(url)
    const b = new URL(appUrl)
    return a.protocol === b.protocol && a.host === b.host && a.pathname === b.pathname && a.search === b.search
  } catch {
    return false
  }
}

/** will-navigate, will-redirect and will-frame-navigate: anything but the app's own page is refused. */
export function isAllowedNavigation(url: string, appUrl: string): boolean {
  return samePage(url, appUrl)
}

/** Hosts whose pages a link in the app may open in the system browser; anything else stays closed. */
export const EXTERNAL_HOSTS: readonly string[] = ['github.com', 'www.tensorflow.org', 'js.tensorflow.org', 'plotly.com', 'nodejs.org', 'www.electronjs.org']

export function isAllowedExternalUrl(url: string): boolean {
  try {
    const { protocol, hostname, username, password } = new URL(url)
    return protocol === 'https:' && !username && !password && EXTERNAL_HOSTS.includes(hostname)
  } catch {
    return false
  }
}

/** Only the app's own page may call the API: the top frame of our window, loaded from app:// or the dev-server URL. */
export function isTrustedSender(frameUrl: string | undefined, appUrl: string): boolean {
  if (!frameUrl) return false
  try {
    const frame = new URL(frameUrl)
    const app = new URL(appUrl)
    // A custom scheme's origin is opaque ("null") to the URL parser: compare scheme, host and page instead.
    if (app.protocol === `${APP_SCHEME}:`) return frame.protocol === app.protocol && frame.host === app.host && frame.pathname === app.pathname
    if (app.protocol === 'file:') return frame.protocol === 'file:' && frame.pathname === app.pathname
    return frame.origin === app.origin
  } catch {
    return false
  }
}
