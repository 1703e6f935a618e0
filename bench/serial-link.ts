// Serial link benchmark: MVM vectors per second through a real PTY to the unthrottled emulator, and the payload
// fraction of a 115200-baud link per direction, pipelined against stop-and-wait. Prints one JSON object.
// Run: node --import tsx bench/serial-link.ts
// The emulator process answers one request completely before it reads on (half duplex); a real UART with DMA receives
// while it transmits. So the 115200 figures are also taken against a full-duplex loop around the same EmulatedDevice,
// run by this file as a child process (--full-duplex-device) on its own socat PTY pair.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, constants, mkdtempSync, openSync, rmSync, write } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ReadStream } from 'node:tty'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { FrameDecoder } from '../src-main/hardware/analog-protocol/index.ts'
import { EmulatedDevice } from '../src-main/hardware/emulator/device.ts'
import { startEmulator } from '../src-main/hardware/emulator/emulator.ts'
import { Pacer } from '../src-main/hardware/emulator/pacer.ts'
import { runBatchVectors, runPayloadBytes, SerialAnalogBoard } from '../src-main/hardware/serial-board.ts'

const ROWS = 128
const COLS = 120
const FAST_VECTORS = 20_000
const SLOW_VECTORS = 2000
const SLOW_BAUD = 115_200
const WINDOW = 3
const SEED = 5

const round = (x: number, digits = 4) => Number(x.toPrecision(digits))

interface Device {
  path: string
  stop(): Promise<void>
}

function inputs(count: number): Uint8Array {
  const codes = new Uint8Array(count * ROWS)
  for (let i = 0; i < codes.length; i++) codes[i] = (i * 7 + (i >>> 7)) % 32
  return codes
}

function weights(): Int8Array {
  const codes = new Int8Array(ROWS * COLS)
  for (let i = 0; i < codes.length; i++) codes[i] = ((i * 13) % 17) - 8
  return codes
}

async function timedRun(board: SerialAnalogBoard, count: number): Promise<number> {
  const started = performance.now()
  const codes = await board.run(0, inputs(count), ROWS)
  const seconds = (performance.now() - started) / 1000
  if (codes.length !== count * COLS) throw new Error(`expected ${count * COLS} codes, got ${codes.length}`)
  return seconds
}

async function withBoard<T>(path: string, baudRate: number, window: number, work: (board: SerialAnalogBoard) => Promise<T>): Promise<T> {
  const board = await SerialAnalogBoard.open(path, { baudRate, window, timeoutMs: 3000 })
  try {
    await board.loadWeights(0, weights(), ROWS, COLS)
    return await work(board)
  } finally {
    await board.close()
  }
}

/** One timed run of SLOW_VECTORS at SLOW_BAUD: payload per direction over what the link could carry in that time. */
async function linkFigures(path: string, window: number) {
  return withBoard(path, SLOW_BAUD, window, async (board) => {
    const batch = runBatchVectors(await board.info(), ROWS, COLS, 1)
    const seconds = await timedRun(board, SLOW_VECTORS)
    const capacity = (seconds * SLOW_BAUD) / 10
    let request = 0
    let answer = 0
    for (let first = 0; first < SLOW_VECTORS; first += batch) {
      const bytes = runPayloadBytes(Math.min(batch, SLOW_VECTORS - first), ROWS, COLS, 1)
      request += bytes.request
      answer += bytes.answer
    }
    const direction = (data: number, withHeaders: number) => ({
      payload_bytes: data,
      payload_fraction: round(data / capacity, 3),
      with_payload_headers: round(withHeaders / capacity, 3),
    })
    return {
      seconds: round(seconds),
      vectors_per_second: round(SLOW_VECTORS / seconds),
      host_to_board: direction(SLOW_VECTORS * ROWS, request),
      board_to_host: direction(SLOW_VECTORS * COLS, answer),
    }
  })
}

/** Resolves with the first line of `stream` matching `pattern`, or rejects after 20 s. */
function lineMatching(stream: NodeJS.ReadableStream, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = ''
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within 20 s: ${text}`)), 20_000)
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      if (pattern.test(text)) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
}

/** A socat PTY pair with this file's full-duplex device loop on one end. */
async function startFullDuplexDevice(baud: number): Promise<Device> {
  const dir = mkdtempSync(join(tmpdir(), 'benchside-bench-serial-'))
  const host = join(dir, 'host')
  const device = join(dir, 'device')
  const children: ChildProcess[] = []
  const stop = async () => {
    await Promise.all(
      children.map((child) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM'))))),
    )
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${host}`, `pty,raw,echo=0,link=${device}`], { stdio: ['ignore', 'ignore', 'pipe'] })
    children.push(socat)
    await lineMatching(socat.stderr, /starting data transfer loop/)
    const loop = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--full-duplex-device', device, String(baud)], { stdio: ['pipe', 'pipe', 'inherit'] })
    children.push(loop)
    await lineMatching(loop.stdout, /^READY/m)
    return { path: host, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** The device end: receives (paced) while it transmits (paced), each at baud/10 bytes per second. */
function serveFullDuplex(path: string, baud: number): void {
  const writeFd = promisify(write)
  const device = new EmulatedDevice(SEED)
  const decoder = new FrameDecoder()
  const receive = new Pacer(baud)
  const transmit = new Pacer(baud)
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NOCTTY)
  const outFd = openSync(path, constants.O_WRONLY | constants.O_NOCTTY)
  const reader = new ReadStream(readFd)
  const inbox: Buffer[] = []
  const outbox: Uint8Array[] = []
  let receiving = false
  let sending = false
  const send = async () => {
    if (sending) return
    sending = true
    for (let bytes = outbox.shift(); bytes; bytes = outbox.shift()) {
      for (let at = 0; at < bytes.length; ) {
        const end = Math.min(bytes.length, at + transmit.slice)
        await transmit.take(end - at)
        while (at < end) at += (await writeFd(outFd, bytes, at, end - at)).bytesWritten
      }
    }
    sending = false
  }
  const take = async () => {
    if (receiving) return
    receiving = true
    for (let chunk = inbox.shift(); chunk; chunk = inbox.shift()) {
      for (let at = 0; at < chunk.length; at += receive.slice) {
        const slice = chunk.subarray(at, Math.min(chunk.length, at + receive.slice))
        await receive.take(slice.length)
        for (const decoded of decoder.push(slice)) outbox.push(device.handle(decoded))
        void send()
      }
    }
    receiving = false
    reader.resume()
  }
  reader.on('data', (chunk: Buffer) => {
    inbox.push(chunk)
    reader.pause()
    void take()
  })
  const exit = () => {
    reader.destroy()
    closeSync(outFd)
    process.exit(0)
  }
  process.on('SIGTERM', exit)
  process.stdin.on('end', exit)
  process.stdin.resume()
  process.stdout.write('READY\n')
}

async function main(): Promise<void> {
  const fast = await startEmulator({ seed: SEED })
  let unthrottled
  try {
    const info = await withBoard(fast.path, 921_600, WINDOW, (board) => board.info())
    const batch = runBatchVectors(info, ROWS, COLS, 1)
    const perSecond = async (window: number) =>
      withBoard(fast.path, 921_600, window, async (board) => {
        await timedRun(board, 2 * batch)
        return round(FAST_VECTORS / (await timedRun(board, FAST_VECTORS)))
      })
    unthrottled = {
      device: { id: info.deviceId, firmware: info.firmware, max_batch: info.maxBatch, max_payload: info.maxPayload },
      rows: ROWS,
      cols: COLS,
      vectors: FAST_VECTORS,
      batch_vectors: batch,
      vectors_per_second: await perSecond(WINDOW),
      vectors_per_second_stop_and_wait: await perSecond(1),
    }
  } finally {
    await fast.stop()
  }

  const figures = async (device: Device) => {
    try {
      return { [`pipelined_window_${WINDOW}`]: await linkFigures(device.path, WINDOW), stop_and_wait: await linkFigures(device.path, 1) }
    } finally {
      await device.stop()
    }
  }
  const throttled = {
    baud: SLOW_BAUD,
    bytes_per_second: SLOW_BAUD / 10,
    vectors: SLOW_VECTORS,
    emulator_process: await figures(await startEmulator({ seed: SEED, baud: SLOW_BAUD })),
    full_duplex_device: await figures(await startFullDuplexDevice(SLOW_BAUD)),
  }

  console.log(
    JSON.stringify(
      {
        unthrottled,
        throttled,
        notes: [
          'Payload fraction = payload bytes carried in one direction / (elapsed s × baud/10). payload_fraction counts the input/ADC codes only; with_payload_headers adds the 6-byte RUN/RESULT headers. Frame headers, CRC, COBS and delimiters are overhead.',
          'emulator_process: startEmulator({ baud }); it reads and answers one request at a time, so its two directions take turns and each direction is capped near its share of the traffic.',
          'full_duplex_device: the same EmulatedDevice behind pacers that receive while transmitting, like a UART with DMA.',
          `Pipelined keeps ${WINDOW} RUN requests in flight; stop-and-wait (window 1) waits for each RESULT before sending the next RUN.`,
        ],
      },
      null,
      2,
    ),
  )
}

if (process.argv[2] === '--full-duplex-device') serveFullDuplex(process.argv[3], Number(process.argv[4]))
else await main()
