// Reading a file the user named: only a regular file (a symbolic link counts when it leads to one), only up to a size
// limit checked before anything is allocated. A FIFO would block the reader until someone writes to it, a device such
// as /dev/zero never ends, a socket cannot be read at all; each is refused with a sentence instead.
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs'
import { DataFileError } from './errors.ts'
import { bytesText, MAX_FILE_BYTES } from './limits.ts'

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message
}

/** What a non-regular file is, in words. */
export function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder'
  if (stats.isFIFO()) return 'a FIFO (named pipe)'
  if (stats.isSocket()) return 'a socket'
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device'
  return 'not a regular file'
}

function refuseUnlessRegular(path: string, stats: Stats, maxBytes: number): void {
  if (!stats.isFile()) throw new DataFileError(path, `is ${fileKind(stats)}, not a regular file; only regular files are read.`)
  if (stats.size > maxBytes) throw new DataFileError(path, `is ${bytesText(stats.size)}; files over ${bytesText(maxBytes)} are not read here.`)
}

/** The whole file, after checking that it is a regular file of at most maxBytes. */
export function readRegularFile(path: string, maxBytes = MAX_FILE_BYTES): Buffer {
  let stats: Stats
  try {
    stats = statSync(path)
  } catch (error) {
    throw new DataFileError(path, `cannot be read (${errorCode(error)}).`)
  }
  refuseUnlessRegular(path, stats, maxBytes)
  let fd: number
  try {
    // Non-blocking, so that a file swapped for a FIFO since the check above cannot make open() wait for a writer.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
  } catch (error) {
    throw new DataFileError(path, `cannot be read (${errorCode(error)}).`)
  }
  try {
    // The open file is what is read: check it again, whatever the path pointed at a moment ago.
    const opened = fstatSync(fd)
    refuseUnlessRegular(path, opened, maxBytes)
    const bytes = Buffer.allocUnsafe(opened.size)
    let filled = 0
    while (filled < bytes.length) {
      const read = readSync(fd, bytes, filled, bytes.length - filled, filled)
      if (read === 0) break
      filled += read
    }
    if (filled < bytes.length) throw new DataFileError(path, 'became shorter while it was read.')
    return bytes
  } catch (error) {
    if (error instanceof DataFileError) throw error
    throw new DataFileError(path, `cannot be read (${errorCode(error)}).`)
  } finally {
    closeSync(fd)
  }
}

/** Whether a path is a folder (following links); false for anything missing, looping or unreadable. */
export function isFolder(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false
  } catch {
    return false
  }
}
