// Serial link benchmark: MVM vectors per second through a real PTY to the unthrottled emulator, and the payload
// fraction of a 115200-baud link per direction, pipelined against stop-and-wait. Prints one JSON object.
// Run: node --import tsx bench/serial-link.ts
// The emulator process is full duplex (it receives while it transmits, each direction paced to baud/10 bytes/s), so
// the pipelined driver can keep the host → board direction busy.
import { startEmulator } from '../src-main/hardware/emulator/emulator.ts'
import { runBatchVectors, runPayloadBytes, SerialAnalogBoard } from '../src-main/hardware/serial-board.ts'

const ROWS = 128
const COLS = 120
const FAST_VECTORS = 20_000
const SLOW_VECTORS = 2000
const SLOW_BAUD = 115_200
const WINDOW = 3
const SEED = 5

const round = (x: number, digits = 4) => Number(x.toPrecision(digits))

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

  const slow = await startEmulator({ seed: SEED, baud: SLOW_BAUD })
  let throttled
  try {
    throttled = {
      baud: SLOW_BAUD,
      bytes_per_second: SLOW_BAUD / 10,
      vectors: SLOW_VECTORS,
      emulator_process: {
        [`pipelined_window_${WINDOW}`]: await linkFigures(slow.path, WINDOW),
        stop_and_wait: await linkFigures(slow.path, 1),
      },
    }
  } finally {
    await slow.stop()
  }

  console.log(
    JSON.stringify(
      {
        unthrottled,
        throttled,
        notes: [
          'Payload fraction = payload bytes carried in one direction / (elapsed s × baud/10). payload_fraction counts the input/ADC codes only; with_payload_headers adds the 6-byte RUN/RESULT headers. Frame headers, CRC, COBS and delimiters are overhead.',
          'emulator_process: startEmulator({ baud }); full duplex like a UART with DMA: it receives and executes requests while earlier answers go out, each direction paced to baud/10 bytes/s.',
          `Pipelined keeps ${WINDOW} RUN requests in flight; stop-and-wait (window 1) waits for each RESULT before sending the next RUN.`,
        ],
      },
      null,
      2,
    ),
  )
}

await main()
