// Web mode: serves the built renderer on 127.0.0.1 and bridges the contract over a WebSocket (and POST /api/<method>).
// Every API call needs the per-start token; requests from other origins or hosts are refused. Files come in as uploads
// and go out as downloads of recorded artifacts (file-transfer.ts).
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import sirv from 'sirv'
import { WebSocketServer, type WebSocket } from 'ws'
import { CallMessage, type EventMessage } from '../contract/index.ts'
import type { Core } from '../core.ts'
import { CONTENT_SECURITY_POLICY } from '../security/csp.ts'
import { MAX_UPLOAD_BYTES, receiveUpload, sendArtifact, sendModelExport, sweepOldUploads, uploadsRoot, type ExportModel } from './file-transfer.ts'

export interface WebServerOptions {
  core: Core
  rendererDir: string
  host?: string
  port?: number
  token?: string
  /** The largest upload accepted (2 GiB); tests lower it. */
  maxUploadBytes?: number
}

export interface WebServer {
  url: string
  port: number
  token: string
  close(): Promise<void>
}

const MAX_BODY_BYTES = 16 * 1024 * 1024

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const { core } = options
  const bindHost = options.host ?? '127.0.0.1'
  const token = options.token ?? randomBytes(24).toString('base64url')
  let port = options.port ?? 0

  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`, `${bindHost}:${port}`, `[::1]:${port}`])
  const allowedOrigins = () => new Set([...allowedHosts()].map((h) => `http://${h}`))
  const hostOk = (req: IncomingMessage) => allowedHosts().has(req.headers.host ?? '')
  // Browsers always send Origin on WebSocket upgrades and cross-origin POSTs; tools like curl send none.
  const originOk = (req: IncomingMessage, required: boolean) => (req.headers.origin === undefined ? !required : allowedOrigins().has(req.headers.origin))
  const tokenOk = (given: string | null | undefined) => {
    if (!given) return false
    const a = Buffer.from(given)
    const b = Buffer.from(token)
    return a.length === b.length && timingSafeEqual(a, b)
  }

  const headerToken = (req: IncomingMessage) =>
    req.headers.authorization?.replace(/^Bearer\s+/i, '') ?? (req.headers['x-benchside-token'] as string | undefined)
  const uploads = uploadsRoot(core.store.dataDir)
  sweepOldUploads(uploads)

  const uiBuilt = existsSync(`${options.rendererDir}/index.html`)
  // Files are looked up at each request, not listed once at start: a rebuild (another `npm start`, `npm run build`)
  // replaces the hashed assets, and a file listed at start but gone since made sirv's read stream throw unhandled,
  // ending web mode for every open tab.
  const serveStatic = uiBuilt ? sirv(options.rendererDir, { etag: true, dev: true }) : null

  const server = createServer((req, res) => {
    const url = parseTarget(req)
    if (!url) return deny(res, 400, 'The request target is not a valid URL path.')
    if (!hostOk(req)) return deny(res, 403, 'This host name is not allowed; open Benchside at 127.0.0.1.')
    if (url.pathname.startsWith('/api/')) return void handleApiCall(req, res, url)
    if (url.pathname === '/upload') {
      if (!originOk(req, false)) return deny(res, 403, 'Requests from other origins are refused.')
      if (!tokenOk(headerToken(req))) return deny(res, 401, 'Missing or wrong token: use the token printed when web mode started.')
      return void receiveUpload(req, res, url, uploads, options.maxUploadBytes ?? MAX_UPLOAD_BYTES, deny)
    }
    if (url.pathname.startsWith('/download/')) {
      if (!originOk(req, false)) return deny(res, 403, 'Requests from other origins are refused.')
      // A link the browser follows cannot carry a header: the token comes in the query.
      if (!tokenOk(url.searchParams.get('token') ?? headerToken(req)))
        return deny(res, 401, 'Missing or wrong token: use the token printed when web mode started.')
      return sendArtifact(req, res, url, core.store, deny)
    }
    if (url.pathname.startsWith('/export-model/')) {
      if (!originOk(req, false)) return deny(res, 403, 'Requests from other origins are refused.')
      if (!tokenOk(url.searchParams.get('token') ?? headerToken(req)))
        return deny(res, 401, 'Missing or wrong token: use the token printed when web mode started.')
      const exportNpz: ExportModel = (model, file) => core.router.handle('exportModel', { model, format: 'npz', path: file, overwrite: true })
      return void sendModelExport(req, res, url, uploads, exportNpz, deny)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'Method not allowed.')
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY)
    res.setHeader('X-Content-Type-Options', 'nosniff')
    // The token travels in the page URL: never send it on to another site.
    res.setHeader('Referrer-Policy', 'no-referrer')
    if (!serveStatic) return deny(res, 503, 'The Benchside UI is not built yet. Run `npm run build`, then start web mode again.')
    serveStatic(req, res, () => deny(res, 404, 'Not found.'))
  })

  async function handleApiCall(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!originOk(req, false)) return deny(res, 403, 'Requests from other origins are refused.')
    if (!tokenOk(headerToken(req))) {
      return deny(res, 401, 'Missing or wrong token: use the token printed when web mode started.')
    }
    if (req.method !== 'POST') return deny(res, 405, 'API calls are POST requests with a JSON body.')
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return tooLarge(req, res)
    let body: string
    try {
      body = await readBody(req)
    } catch (error) {
      if (error instanceof BodyTooLarge) return tooLarge(req, res)
      return deny(res, 400, `The request body could not be read: ${(error as Error).message}`)
    }
    let args: unknown
    try {
      args = body.length ? JSON.parse(body) : {}
    } catch (error) {
      return deny(res, 400, `The request body is not valid JSON: ${(error as Error).message}`)
    }
    let method: string
    try {
      method = decodeURIComponent(url.pathname.slice('/api/'.length))
    } catch {
      return deny(res, 400, 'The method name in the path is not valid percent-encoding.')
    }
    const reply = await core.router.handle(method, args)
    res.writeHead(reply.ok ? 200 : reply.error.code === 'INTERNAL' ? 500 : 400, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify(reply))
  }

  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = parseTarget(req)
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }
    if (!url) return refuse(400, 'Bad Request')
    if (url.pathname !== '/ws') return refuse(404, 'Not Found')
    if (!hostOk(req) || !originOk(req, true)) return refuse(403, 'Forbidden')
    if (!tokenOk(url.searchParams.get('token'))) return refuse(401, 'Unauthorized')
    sockets.handleUpgrade(req, socket, head, (ws) => serveSocket(ws))
  })

  function serveSocket(ws: WebSocket): void {
    const stop = core.events.on(({ event, payload }) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload } satisfies EventMessage))
    })
    ws.on('close', stop)
    // A protocol error (oversized message, reserved bits, unmasked frame, invalid UTF-8): ws has already closed this
    // socket with the right code; without a listener the 'error' event would end the whole process.
    ws.on('error', () => ws.terminate())
    ws.on('message', (data) => void answer(ws, data))
  }

  async function answer(ws: WebSocket, data: WebSocket.RawData): Promise<void> {
    let call: CallMessage
    try {
      call = CallMessage.parse(JSON.parse(String(data)))
    } catch (error) {
      ws.send(JSON.stringify({ id: -1, ok: false, error: { code: 'INVALID_ARGS', message: `Unreadable call: ${(error as Error).message}` } }))
      return
    }
    const reply = await core.router.handle(call.method, call.args)
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: call.id, ...reply }))
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, bindHost, () => resolve())
  })
  port = (server.address() as AddressInfo).port
  const shownHost = bindHost.includes(':') ? `[${bindHost}]` : bindHost
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets.clients) ws.terminate()
        sockets.close()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** The request's path and query, or null when the target does not parse (never throw on what a client sends). */
function parseTarget(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://localhost')
  } catch {
    return null
  }
}

function deny(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' })
  res.end(message + '\n')
}

class BodyTooLarge extends Error {}

/** 413 for a body over the limit; the connection closes once the answer is out, so the rest is never read. */
function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close')
  res.once('finish', () => req.destroy())
  deny(res, 413, `The request body is larger than ${MAX_BODY_BYTES / (1024 * 1024)} MiB.`)
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      if (size > MAX_BODY_BYTES) return
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        chunks.length = 0
        req.pause()
        reject(new BodyTooLarge())
      } else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}
