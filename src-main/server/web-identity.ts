// Web mode's token and last port, kept per data folder, so a tab left open reconnects by itself after `benchside web`
// restarts. Keeping the token is safe: the file is readable by its owner only (0600) and sits in the data folder beside
// the database and artifacts the token guards, so whoever can read it could read all of that already. A file that is
// not private (another owner, group or world bits, a symlink) is never trusted: a new token replaces it.
import { randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, lstatSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'

export interface WebIdentity {
  token: string
  /** The port web mode last listened on for this folder, tried first next time. */
  port: number | null
}

const FILE = 'web-server.json'
const TOKEN_PATTERN = /^[\w-]{32,128}$/

export const webIdentityPath = (dataDir: string): string => join(dataDir, FILE)

/** The folder's identity if its file is private and well-formed, else null. */
function readPrivate(path: string): WebIdentity | null {
  try {
    const stat = lstatSync(path)
    if (!stat.isFile()) return null
    // Windows has no POSIX owner or mode bits; there the user's profile folder is what keeps it private.
    if (process.platform !== 'win32' && ((stat.mode & 0o077) !== 0 || (process.getuid && stat.uid !== process.getuid()))) return null
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'))
    if (typeof value !== 'object' || value === null) return null
    const { token, port } = value as { token?: unknown; port?: unknown }
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return null
    const validPort = typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 ? port : null
    return { token, port: validPort }
  } catch {
    return null
  }
}

/** Writes the identity as a new 0600 file, then renames it over the old one (never writes through a link). */
function writePrivate(path: string, identity: WebIdentity): void {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const fd = openSync(temp, 'wx', 0o600)
  try {
    writeSync(fd, JSON.stringify(identity) + '\n')
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    renameSync(temp, path)
  } catch (error) {
    rmSync(temp, { force: true })
    throw error
  }
}

/** The token and last port for this data folder; a new token when there is none, it is not private, or `rotate`. */
export function loadWebIdentity(dataDir: string, rotate = false): WebIdentity {
  const path = webIdentityPath(dataDir)
  const existing = rotate ? null : readPrivate(path)
  if (existing) return existing
  const identity = { token: randomBytes(24).toString('base64url'), port: null }
  writePrivate(path, identity)
  return identity
}

/** Remembers the port web mode listens on, so the next start takes it again when it is free. */
export function rememberWebPort(dataDir: string, identity: WebIdentity, port: number): void {
  if (identity.port === port) return
  writePrivate(webIdentityPath(dataDir), { ...identity, port })
}
