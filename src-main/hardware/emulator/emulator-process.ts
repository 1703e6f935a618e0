// The emulated analog board as its own process: serves a PTY device file through a full-duplex Uart, prints "READY <id>".
// Usage: emulator-process.ts --device <pty path> --seed N [--baud B] [--id ID]
import { closeSync, constants, fstatSync, openSync, write } from 'node:fs'
import { ReadStream } from 'node:tty'
import { parseArgs, promisify } from 'node:util'
import { EmulatedDevice, emulatorDeviceId } from './device.ts'
import { Uart } from './uart.ts'

const writeFd = promisify(write)

function fail(message: string): never {
  process.stderr.write(`emulator: ${message}\n`)
  process.exit(2)
}

const { values } = parseArgs({
  options: { device: { type: 'string' }, seed: { type: 'string' }, baud: { type: 'string' }, id: { type: 'string' } },
  strict: true,
})
if (!values.device) fail('--device <pty path> is required')
const seed = Number(values.seed ?? '1')
if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) fail(`--seed must be an integer from 0 to 4294967295, got ${values.seed}`)
const baud = values.baud === undefined ? null : Number(values.baud)
if (baud !== null && !(Number.isFinite(baud) && baud > 0)) fail(`--baud must be a positive number, got ${values.baud}`)

const device = new EmulatedDevice(seed, values.id ?? emulatorDeviceId(seed))

// Separate descriptors: the tty ReadStream puts its own in non-blocking mode, writes go through plain fs.write.
const readFd = openSync(values.device, constants.O_RDONLY | constants.O_NOCTTY)
const writeFdNumber = openSync(values.device, constants.O_WRONLY | constants.O_NOCTTY)
const reader = new ReadStream(readFd)

const uart = new Uart({
  baud,
  answer: (decoded) => device.handle(decoded),
  write: async (bytes) => {
    for (let at = 0; at < bytes.length;) at += (await writeFd(writeFdNumber, bytes, at, bytes.length - at)).bytesWritten
  },
  fail: (error) => fail(`could not answer: ${String(error)}`),
})
// A full receive buffer leaves further bytes in the PTY, as a UART's flow control would.
uart.onRoom = () => reader.resume()
reader.on('data', (chunk: Buffer) => {
  if (!uart.receive(chunk)) reader.pause()
})
reader.on('error', (error) => fail(`the device ${values.device} failed: ${error.message}`))

function exit(): void {
  reader.destroy()
  try {
    closeSync(writeFdNumber)
  } catch {
    // already closed
  }
  process.exit(0)
}
process.on('SIGTERM', exit)
process.on('SIGINT', exit)
// Started by a launcher through a pipe: when the launcher is gone, so is the emulator.
if (fstatSync(0).isFIFO()) {
  process.stdin.on('end', exit)
  process.stdin.resume()
}

process.stdout.write(`READY ${device.info.deviceId}\n`)
