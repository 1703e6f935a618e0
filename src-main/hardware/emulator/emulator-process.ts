// The emulated analog board as its own process: reads frames from a PTY device file, answers them, prints "READY <id>".
// Usage: emulator-process.ts --device <pty path> --seed N [--baud B] [--id ID]
import { closeSync, constants, fstatSync, openSync, write } from 'node:fs'
import { ReadStream } from 'node:tty'
import { parseArgs, promisify } from 'node:util'
import { FrameDecoder } from '../analog-protocol/index.ts'
import { EmulatedDevice, emulatorDeviceId } from './device.ts'
import { Pacer } from './pacer.ts'

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
const decoder = new FrameDecoder()
const receive = baud === null ? null : new Pacer(baud)
const transmit = baud === null ? null : new Pacer(baud)

// Separate descriptors: the tty ReadStream puts its own in non-blocking mode, writes go through plain fs.write.
const readFd = openSync(values.device, constants.O_RDONLY | constants.O_NOCTTY)
const writeFdNumber = openSync(values.device, constants.O_WRONLY | constants.O_NOCTTY)
const reader = new ReadStream(readFd)

async function send(bytes: Uint8Array): Promise<void> {
  if (!transmit) {
    for (let at = 0; at < bytes.length; ) at += (await writeFd(writeFdNumber, bytes, at, bytes.length - at)).bytesWritten
    return
  }
  for (let at = 0; at < bytes.length; ) {
    const end = Math.min(bytes.length, at + transmit.slice)
    await transmit.take(end - at)
    for (let from = at; from < end; ) from += (await writeFd(writeFdNumber, bytes, from, end - from)).bytesWritten
    at = end
  }
}

// One chunk at a time, in order: a request is answered completely before the next bytes are looked at.
const inbox: Buffer[] = []
let pumping = false
async function pump(): Promise<void> {
  if (pumping) return
  pumping = true
  try {
    for (let chunk = inbox.shift(); chunk; chunk = inbox.shift()) {
      if (receive) await receive.take(chunk.length)
      for (const decoded of decoder.push(chunk)) await send(device.handle(decoded))
    }
  } finally {
    pumping = false
    reader.resume()
  }
}

reader.on('data', (chunk: Buffer) => {
  inbox.push(chunk)
  // Leave further bytes in the PTY while busy, as a UART's flow control would.
  reader.pause()
  pump().catch((error: unknown) => fail(`could not answer: ${String(error)}`))
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
