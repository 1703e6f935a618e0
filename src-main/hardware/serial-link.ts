// The byte link under the serial board protocol: the Link interface and the serialport implementation of it.
// Tests may put another Link in between (a relay that records or corrupts frames).
import { BoardError } from './board.ts'
import { seconds } from './serial-errors.ts'

export interface Link {
  /** Resolves once the bytes are handed to the OS; rejects when the port is gone. */
  write(bytes: Uint8Array): Promise<void>
  onData(listener: (chunk: Uint8Array) => void): void
  /** Called once when the link closes by itself (unplug, hang-up, I/O error), never after close(). */
  onClose(listener: (error: Error | null) => void): void
  close(): Promise<void>
}

export interface LinkOpenOptions {
  baudRate: number
  timeoutMs: number
  signal?: AbortSignal
}

export type LinkOpener = (path: string, options: LinkOpenOptions) => Promise<Link>

function openError(path: string, error: Error): BoardError {
  const text = error.message
  if (/ENOENT|No such file/i.test(text))
    return new BoardError('UNREACHABLE', `There is no serial port at ${path}. Check that the board is plugged in and that the path is right.`)
  if (/EACCES|Permission denied/i.test(text))
    return new BoardError(
      'UNREACHABLE',
      `Benchside may not open ${path} (permission denied). Add your user to the dialout group (uucp on some systems) and log in again.`,
    )
  if (/lock|EBUSY|busy/i.test(text))
    return new BoardError('BUSY', `The serial port ${path} is in use by another program. Close it (a serial monitor?) and try again.`)
  return new BoardError('UNREACHABLE', `The serial port ${path} could not be opened (${text}). Check the cable and the path.`)
}

/** Opens a serial port (exclusively) as a Link; a port that has not opened within timeoutMs is given up and closed. */
export const openSerialLink: LinkOpener = async (path, { baudRate, timeoutMs, signal }) => {
  // Loaded on first use: every host process imports this module, few of them open a port.
  const { SerialPort } = await import('serialport')
  const port = new SerialPort({ path, baudRate, autoOpen: false })
  let closing = false
  let onData: (chunk: Uint8Array) => void = () => {}
  let onClose: (error: Error | null) => void = () => {}
  // Failures reach us through write callbacks and 'close'; an 'error' event without a listener would crash the process.
  port.on('error', () => {})
  port.on('data', (chunk: Buffer) => onData(chunk))
  port.on('close', (error: Error | null) => {
    if (!closing) onClose(error ?? null)
  })
  await new Promise<void>((resolve, reject) => {
    let settled = false
    const finish = (error: BoardError | null) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      if (error) reject(error)
      else resolve()
    }
    const giveUp = (error: BoardError) => {
      closing = true
      port.once('open', () => port.close(() => {}))
      finish(error)
    }
    const onAbort = () => giveUp(new BoardError('CANCELLED', `Opening the serial port ${path} was cancelled.`))
    const timer = setTimeout(
      () =>
        giveUp(
          new BoardError(
            'TIMEOUT',
            `The serial port ${path} did not open within ${seconds(timeoutMs)} s. Check that no other program holds it and that the board is plugged in.`,
          ),
        ),
      timeoutMs,
    )
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    port.open((error) => finish(error ? openError(path, error) : null))
  })
  // Bytes left in the OS buffers belong to an earlier session.
  await new Promise<void>((resolve) => port.flush(() => resolve()))
  return {
    write: (bytes) =>
      new Promise<void>((resolve, reject) => {
        if (!port.isOpen) return reject(new Error('the port is not open'))
        port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (error) => (error ? reject(error) : resolve()))
      }),
    onData: (listener) => (onData = listener),
    onClose: (listener) => (onClose = listener),
    close: async () => {
      closing = true
      if (!port.isOpen) return
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000)
        port.close(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    },
  }
}
