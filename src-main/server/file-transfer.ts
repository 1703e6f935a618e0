// Web mode's file access: uploads into a fresh folder under <data>/uploads (the import then gets that server path),
// and downloads of a run's recorded artifacts. The browser never names a server path of its own choosing.
import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { basename, join, relative, resolve, sep } from 'node:path'
import type { Store } from '../store/store.ts'

export const MAX_UPLOAD_BYTES = 2 * 1024 ** 3
/** Upload folders older than this are removed at server start: an upload is only a step before an import. */
export const UPLOAD_MAX_AGE_MS = 24 * 60 * 60 * 1000
const FOLDER_ID = /^[A-Za-z0-9_-]{22}$/

export function uploadsRoot(dataDir: string): string {
  return join(dataDir, 'uploads')
}

/** Removes upload folders last changed more than `maxAgeMs` ago; never throws (a start must not fail on it). */
export function sweepOldUploads(root: string, now = Date.now(), maxAgeMs = UPLOAD_MAX_AGE_MS): void {
  let entries: string[]
  try {
    entries = readdirSync(root)
  } catch {
    return
  }
  for (const entry of entries) {
    try {
      const folder = join(root, entry)
      if (now - statSync(folder).mtimeMs > maxAgeMs) rmSync(folder, { recursive: true, force: true })
    } catch {
      // Gone meanwhile or unreadable: the next start tries again.
    }
  }
}

/**
 * The segments of an uploaded file's name: `file` or `class/file` (a WAV folder's class subfolder), or null for
 * anything that could leave the upload folder or name something odd (absolute, `..`, `.`, empty parts, `\`, NUL).
 */
export function uploadName(name: string | null): string[] | null {
  if (!name || name.length > 1024 || name.includes('\0') || name.includes('\\')) return null
  const parts = name.split('/')
  if (parts.length > 2) return null
  for (const part of parts) if (part === '' || part === '.' || part === '..' || part.length > 255) return null
  return parts
}

type Deny = (res: ServerResponse, status: number, message: string) => void

/**
 * POST /upload?name=…[&folder=…]: streams the body to <uploads>/<folder>/<name> and answers
 * `{ path, folder, folderPath }`. The caller has already checked host, origin and token.
 */
export async function receiveUpload(req: IncomingMessage, res: ServerResponse, url: URL, root: string, limit: number, deny: Deny): Promise<void> {
  if (req.method !== 'POST') return deny(res, 405, 'Uploads are POST requests with the file as the body.')
  const parts = uploadName(url.searchParams.get('name'))
  if (!parts) return deny(res, 400, "The file name must be 'file' or 'folder/file', without '..', '\\' or a leading '/'.")
  if (Number(req.headers['content-length'] ?? 0) > limit) return tooLarge(req, res, limit, deny)

  const given = url.searchParams.get('folder')
  let folder: string
  let fresh = false
  if (given !== null) {
    if (!FOLDER_ID.test(given)) return deny(res, 400, 'The upload folder id is not one this server gave out.')
    folder = join(root, given)
    if (!isFolder(folder)) return deny(res, 404, 'No such upload folder (uploads are removed after a day).')
  } else {
    mkdirSync(root, { recursive: true, mode: 0o700 })
    folder = join(root, randomBytes(16).toString('base64url'))
    mkdirSync(folder, { mode: 0o700 })
    fresh = true
  }
  const file = resolve(folder, ...parts)
  // Belt and braces: the name check above already keeps it inside.
  if (relative(folder, file).startsWith('..') || !file.startsWith(folder + sep)) return deny(res, 400, 'The file name leaves the upload folder.')
  if (parts.length === 2) mkdirSync(join(folder, parts[0]!), { recursive: true, mode: 0o700 })

  const failed = (status: number, message: string) => {
    out.destroy()
    // 409: the file there is an earlier upload's, not ours to remove.
    if (status !== 409) rmSync(fresh ? folder : file, { recursive: true, force: true })
    if (status === 413) return tooLarge(req, res, limit, deny)
    deny(res, status, message)
  }
  // 'wx': a second upload of the same name into one folder is refused, never overwrites the first.
  const out = createWriteStream(file, { flags: 'wx', mode: 0o600 })
  const written = await new Promise<{ status: number; message: string } | null>((done) => {
    let size = 0
    let over = false
    out.on('error', (error: NodeJS.ErrnoException) =>
      done(
        error.code === 'EEXIST'
          ? { status: 409, message: 'A file of this name is already in this upload folder.' }
          : { status: 500, message: 'The upload could not be written.' },
      ),
    )
    out.on('finish', () => done(over ? { status: 413, message: '' } : null))
    // Piped first, so the chunk that crosses the limit is written before the pipe is cut (never a write after end).
    req.pipe(out)
    req.on('data', (chunk: Buffer) => {
      if (over) return
      size += chunk.length
      if (size > limit) {
        over = true
        req.unpipe(out)
        out.end()
      }
    })
    req.on('aborted', () => done({ status: 400, message: 'The upload was interrupted.' }))
    req.on('error', () => done({ status: 400, message: 'The upload was interrupted.' }))
  })
  if (written) return failed(written.status, written.message)
  const id = basename(folder)
  res.writeHead(200, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify({ path: file, folder: id, folderPath: folder }))
}

/**
 * GET /download/<run>/<artifact path>: streams an artifact the store recorded for that run, as an attachment.
 * The caller has already checked host, origin and token.
 */
export function sendArtifact(req: IncomingMessage, res: ServerResponse, url: URL, store: Store, deny: Deny): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'Downloads are GET requests.')
  let target: string
  try {
    target = decodeURIComponent(url.pathname.slice('/download/'.length))
  } catch {
    return deny(res, 400, 'The download path is not valid percent-encoding.')
  }
  const slash = target.indexOf('/')
  const run = slash > 0 ? target.slice(0, slash) : ''
  const path = slash > 0 ? target.slice(slash + 1) : ''
  const notFound = () => deny(res, 404, 'No such artifact for this run.')
  if (!run || !path || target.includes('\0')) return notFound()
  // Only a recorded artifact, looked up by the exact run id and path: the store decides, never the request's path.
  const artifact = store.runs.recordedArtifact(run, path)
  if (!artifact) return notFound()
  let file: string
  try {
    file = store.runs.artifactPath(run, artifact.path)
    if (!statSync(file).isFile()) return notFound()
  } catch {
    return notFound()
  }
  const name = basename(artifact.path)
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_')
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(statSync(file).size),
    'Content-Disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
  })
  if (req.method === 'HEAD') return void res.end()
  const stream = createReadStream(file)
  stream.on('error', () => res.destroy())
  stream.pipe(res)
}

/** Exports a model into `file` (an absolute path in a fresh folder): the router's exportModel, answering its reply. */
export type ExportModel = (model: string, file: string) => Promise<{ ok: true } | { ok: false; error: { code: string; message: string } }>

/**
 * GET /export-model/<model>/weights.npz[?name=…]: the model's weights as NPZ, written by exportModel into a fresh folder
 * under the uploads root, sent as an attachment named after `name`, then removed. The caller has already checked host,
 * origin and token.
 */
export async function sendModelExport(req: IncomingMessage, res: ServerResponse, url: URL, root: string, exportModel: ExportModel, deny: Deny): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'Downloads are GET requests.')
  const match = /^\/export-model\/([^/]+)\/weights\.npz$/.exec(url.pathname)
  let model: string
  try {
    model = match ? decodeURIComponent(match[1]!) : ''
  } catch {
    return deny(res, 400, 'The model id is not valid percent-encoding.')
  }
  if (!model || model.includes('\0')) return deny(res, 404, 'Ask for /export-model/<model>/weights.npz.')
  mkdirSync(root, { recursive: true, mode: 0o700 })
  const folder = join(root, `.export-${randomBytes(12).toString('base64url')}`)
  mkdirSync(folder, { mode: 0o700 })
  const remove = () => rmSync(folder, { recursive: true, force: true })
  const file = join(folder, 'weights.npz')
  const reply = await exportModel(model, file).catch((error: unknown) => ({ ok: false as const, error: { code: 'INTERNAL', message: String(error) } }))
  if (!reply.ok) {
    remove()
    return deny(res, reply.error.code === 'NOT_FOUND' ? 404 : reply.error.code === 'INVALID_ARGS' ? 400 : 500, reply.error.message)
  }
  const wanted = (url.searchParams.get('name') ?? '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 80)
  const name = `${wanted || `model-${model.slice(0, 8)}`}.npz`
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(statSync(file).size),
    'Content-Disposition': `attachment; filename="${name}"`,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
  })
  if (req.method === 'HEAD') {
    remove()
    return void res.end()
  }
  const stream = createReadStream(file)
  stream.on('error', () => res.destroy())
  res.on('close', remove)
  stream.pipe(res)
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/** 413; the connection closes once the answer is out, so the rest of the body is never read. */
function tooLarge(req: IncomingMessage, res: ServerResponse, limit: number, deny: Deny): void {
  res.setHeader('Connection', 'close')
  res.once('finish', () => req.destroy())
  deny(res, 413, `The upload is larger than ${(limit / 1024 ** 3).toLocaleString('en-US', { maximumFractionDigits: 3 })} GiB.`)
}
