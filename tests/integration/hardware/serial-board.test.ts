import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requires } from '../../helpers/components.ts'
import { encodeFrame, FrameDecoder, type Frame, type Message } from '../../../src-main/hardware/analog-protocol/index.ts'
import { BoardError } from '../../../src-main/hardware/board.ts'
import { startEmulator, type RunningEmulator } from '../../../src-main/hardware/emulator/emulator.ts'
import {
  openSerialLink,
  runBatchVectors,
  SerialAnalogBoard,
  SerialRunError,
  type AnalogBoardState,
  type LinkOpener,
} from '../../../src-main/hardware/serial-board.ts'

async function caught<E extends Error = BoardError>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise
  } catch (error) {
    if (error instanceof BoardError) return error as unknown as E
    throw error
  }
  throw new Error('expected the promise to reject')
}

/** Vector v has every input at level(v), so its codes grow with that level: results out of order would show. */
const level = (v: number) => (v * 7) % 32

function levelInputs(count: number, rows: number): Uint8Array {
  const inputs = new Uint8Array(count * rows)
  for (let v = 0; v < count; v++) inputs.fill(level(v), v * rows, (v + 1) * rows)
  return inputs
}

function meanCodes(codes: Int8Array, vectors: number, cols: number): number[] {
  const means: number[] = []
  for (let v = 0; v < vectors; v++) {
    let sum = 0
    for (let j = 0; j < cols; j++) sum += element(codes, v * cols + j)
    means.push(sum / cols)
  }
  return means
}

/** The i-th element, or a failure saying how many there were. */
function element<T>(items: ArrayLike<T>, i: number): T {
  const item = items[i]
  if (item === undefined) throw new Error(`Expected an element ${i}; there are ${items.length}.`)
  return item
}

function correlation(a: number[], b: number[]): number {
  const mean = (x: number[]) => x.reduce((s, y) => s + y, 0) / x.length
  const ma = mean(a)
  const mb = mean(b)
  let ab = 0
  let aa = 0
  let bb = 0
  for (const [i, x] of a.entries()) {
    const y = element(b, i)
    ab += (x - ma) * (y - mb)
    aa += (x - ma) ** 2
    bb += (y - mb) ** 2
  }
  return ab / Math.sqrt(aa * bb)
}

/** Flips one data byte (never a COBS code byte, never to 0x00) in the middle of an encoded frame: the CRC breaks, the framing holds. */
function corruptOneByte(frame: Uint8Array): Uint8Array {
  const out = frame.slice()
  const codes = new Set<number>()
  for (let at = 0; at < out.length - 1; at += element(out, at)) codes.add(at)
  let at = Math.floor((out.length - 1) / 2)
  while (codes.has(at)) at++
  const byte = element(out, at)
  out[at] = byte === 0x40 ? 0x41 : byte ^ 0x40
  return out
}

/** A relay between the driver and the real serial port that records frames and may rewrite one on its way. */
interface Tap {
  sent: Frame[]
  received: Frame[]
  /** Returns the bytes to send instead, or null to pass the frame on. */
  request?: (frame: Frame, bytes: Uint8Array) => Uint8Array | null
  answer?: (frame: Frame, bytes: Uint8Array) => Uint8Array | null
  /** Bytes the relay hands to the driver on its own, every `everyMs`, as a board that talks out of turn would. */
  chatter?: { bytes: Uint8Array; everyMs: number }
}

function tapped(tap: Tap): LinkOpener {
  return async (path, options) => {
    const inner = await openSerialLink(path, options)
    const outgoing = new FrameDecoder()
    const incoming = new FrameDecoder()
    let deliver: (chunk: Uint8Array) => void = () => {}
    let partial: number[] = []
    inner.onData((chunk) => {
      // Re-cut the stream into whole frames so one can be swapped before the driver sees it.
      for (const byte of chunk) {
        partial.push(byte)
        if (byte !== 0) continue
        let bytes: Uint8Array = Uint8Array.from(partial)
        partial = []
        for (const decoded of incoming.push(bytes)) {
          if (!decoded.ok) continue
          tap.received.push(decoded.frame)
          bytes = tap.answer?.(decoded.frame, bytes) ?? bytes
        }
        deliver(bytes)
      }
    })
    const chatter = tap.chatter && setInterval(() => deliver(tap.chatter!.bytes), tap.chatter.everyMs)
    return {
      write: (bytes) => {
        let out = bytes
        for (const decoded of outgoing.push(bytes)) {
          if (!decoded.ok) continue
          tap.sent.push(decoded.frame)
          out = tap.request?.(decoded.frame, bytes) ?? out
        }
        return inner.write(out)
      },
      onData: (listener) => (deliver = listener),
      onClose: (listener) => inner.onClose(listener),
      close: () => {
        clearInterval(chatter)
        return inner.close()
      },
    }
  }
}

function once<T>(pick: (frame: Frame, bytes: Uint8Array) => T | null): (frame: Frame, bytes: Uint8Array) => T | null {
  let done = false
  return (frame, bytes) => {
    if (done) return null
    const out = pick(frame, bytes)
    if (out !== null) done = true
    return out
  }
}

const ROWS = 128
const COLS = 120

describe('serial analog board over a real PTY with the emulator', requires('pty'), () => {
  let emulator: RunningEmulator
  let board: SerialAnalogBoard

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 11 })
    board = await SerialAnalogBoard.open(emulator.path, { timeoutMs: 1000, retries: 2 })
  })

  afterAll(async () => {
    await board?.close()
    await emulator?.stop()
  })

  it('opens the port, says HELLO and reads INFO', async () => {
    const info = await board.info()
    expect(board).toMatchObject({ kind: 'serial', id: emulator.deviceId, state: 'connected', path: emulator.path })
    expect(info).toMatchObject({ protocolVersion: 1, deviceId: emulator.deviceId })
    expect(info.rows).toBeGreaterThanOrEqual(ROWS)
    expect(info.cols).toBeGreaterThanOrEqual(COLS)
    const capabilities = await board.capabilities()
    expect(capabilities).toMatchObject({
      rows: info.rows,
      cols: info.cols,
      slots: info.slots,
      maxBatch: info.maxBatch,
      maxPayload: Math.min(8192, info.maxPayload),
    })
  })

  it('sizes batches so that a RUN and its RESULT fit the board’s frames', () => {
    const board = { maxBatch: 256, maxPayload: 8192 }
    expect(runBatchVectors(board, 128, 256, 1)).toBe(31)
    expect(runBatchVectors(board, 128, 120, 1)).toBe(63)
    expect(runBatchVectors(board, 128, 120, 4)).toBe(17)
    expect(runBatchVectors({ maxBatch: 16, maxPayload: 8192 }, 8, 8, 1)).toBe(16)
    expect(runBatchVectors(board, 128, 256, 40)).toBe(0)
  })

  it('refuses a port that does not exist, saying what to check', async () => {
    const error = await caught(SerialAnalogBoard.open('/dev/benchside-no-such-port', { timeoutMs: 1000 }))
    expect(error.reason).toBe('UNREACHABLE')
    expect(error.message).toMatch(/no serial port at \/dev\/benchside-no-such-port.*plugged in/)
  })

  it('loads zero weights and runs more than maxBatch vectors: codes sit at the calibrated column offsets', async () => {
    const info = await board.info()
    const loaded = await board.loadWeights(0, new Int8Array(ROWS * COLS), ROWS, COLS)
    expect(loaded).toMatchObject({ slot: 0, rows: ROWS, cols: COLS, confirmed: true })
    expect(loaded.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(board.loadedSlots.get(0)).toEqual(loaded)
    const offset = await board.calibrate('offset', 200)
    expect(offset.cols).toBe(info.cols)

    const count = info.maxBatch + 345
    const progress: number[] = []
    const codes = await board.run(0, levelInputs(count, ROWS), ROWS, { onProgress: (done, total) => progress.push(done / total) })
    expect(codes).toBeInstanceOf(Int8Array)
    expect(codes.length).toBe(count * COLS)
    expect(progress.at(-1)).toBe(1)
    expect(progress).toEqual([...progress].sort((a, b) => a - b))
    expect(progress.length).toBeGreaterThanOrEqual(Math.ceil(count / info.maxBatch))
    // Zero weights: every product is 0, so each column reads its offset plus read noise.
    for (let j = 0; j < COLS; j++) {
      let sum = 0
      for (let v = 0; v < count; v++) sum += element(codes, v * COLS + j)
      expect(Math.abs(sum / count - element(offset.mean, j))).toBeLessThan(0.5)
    }
  })

  it('keeps the vectors in order across pipelined batches', async () => {
    const info = await board.info()
    await board.loadWeights(1, new Int8Array(ROWS * COLS).fill(8), ROWS, COLS)
    const count = 3 * runBatchVectors(info, ROWS, COLS, 1) + 17
    const codes = await board.run(1, levelInputs(count, ROWS), ROWS)
    // Nominal code = Σ x·w / 1024 = level · 8 · 128 / 1024 = level; the board adds its gain error, offsets and noise.
    const means = meanCodes(codes, count, COLS)
    const levels = Array.from({ length: count }, (_, v) => level(v))
    expect(correlation(means, levels)).toBeGreaterThan(0.99)
    for (const [v, m] of means.entries()) expect(Math.abs(m - 0.9 * element(levels, v))).toBeLessThan(5)
  })

  it('answers count × repeats × cols codes for repeats, each repeat a fresh conversion', async () => {
    const count = 150
    const repeats = 4
    const codes = await board.run(1, levelInputs(count, ROWS), ROWS, { repeats })
    expect(codes.length).toBe(count * repeats * COLS)
    let differing = 0
    for (let v = 0; v < count; v++) {
      const first = codes.subarray(v * repeats * COLS, (v * repeats + 1) * COLS)
      const last = codes.subarray((v * repeats + repeats - 1) * COLS, (v * repeats + repeats) * COLS)
      let diff = 0
      for (let j = 0; j < COLS; j++) {
        const a = element(first, j)
        const b = element(last, j)
        diff += Math.abs(a - b)
        if (a !== b) differing++
      }
      // Same inputs: repeats differ by read noise only.
      expect(diff / COLS).toBeLessThan(3)
    }
    expect(differing).toBeGreaterThan(0)
  })

  it('surfaces a device error (bad slot) as a BoardError with the device’s message', async () => {
    const error = await caught(board.run(200, new Uint8Array(ROWS), ROWS))
    expect(error.reason).toBe('AGENT')
    expect(error.message).toMatch(/refused 'run' \(BAD_SLOT\): Slot 200 does not exist/)
    const notLoaded = await caught(board.run(9, new Uint8Array(ROWS), ROWS))
    expect(notLoaded.reason).toBe('AGENT')
    expect(notLoaded.message).toMatch(/NOT_LOADED.*Load the weights into this slot first/)
    const input = await caught(board.run(1, new Uint8Array(2 * ROWS).fill(40), ROWS))
    expect(input.message).toMatch(/Input code 40 at vector 0, row 0 is above the board's 5-bit maximum 31/)
    // The board is still fine afterwards.
    expect((await board.run(1, levelInputs(3, ROWS), ROWS)).length).toBe(3 * COLS)
  })

  it('cancels a long run at once with CANCELLED, and the board keeps working', async () => {
    const count = 40_000
    const controller = new AbortController()
    let abortedAt = 0
    let progressAfterAbort = 0
    const started = board.run(1, levelInputs(count, ROWS), ROWS, {
      signal: controller.signal,
      onProgress: (done) => {
        if (abortedAt) progressAfterAbort++
        else if (done > 0) {
          abortedAt = performance.now()
          controller.abort()
        }
      },
    })
    const error = await caught(started)
    const waited = performance.now() - abortedAt
    expect(error.reason).toBe('CANCELLED')
    expect(error.message).toMatch(/cancelled after \d+ of 40000 vectors/)
    expect(progressAfterAbort).toBe(0)
    expect(waited).toBeLessThan(1000)
    expect((await board.run(1, levelInputs(5, ROWS), ROWS)).length).toBe(5 * COLS)
  })
})

describe('serial analog board through a relay that corrupts or rewrites frames', requires('pty'), () => {
  // One reader per PTY: every test opens its own board on this emulator and closes it.
  let emulator: RunningEmulator

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 17 })
    const board = await SerialAnalogBoard.open(emulator.path, { timeoutMs: 1000 })
    await board.loadWeights(1, new Int8Array(ROWS * COLS).fill(8), ROWS, COLS)
    await board.close()
  })

  afterAll(async () => {
    await emulator?.stop()
  })

  it('refuses a board that speaks another protocol version, with a clear message', async () => {
    // The relay rewrites the INFO answer's protocolVersion field; the frame itself stays valid.
    const tap: Tap = {
      sent: [],
      received: [],
      answer: (frame) => (frame.message.type === 'info' ? encodeFrame({ seq: frame.seq, message: { ...frame.message, protocolVersion: 2 } }) : null),
    }
    const error = await caught(SerialAnalogBoard.open(emulator.path, { openLink: tapped(tap), timeoutMs: 1000 }))
    expect(error.reason).toBe('PROTOCOL')
    expect(error.message).toMatch(/speaks protocol version 2; this Benchside speaks version 1\. Update the board's firmware or Benchside/)
  })

  it('resends a request whose answer arrived corrupted, and the board answers from its history without running it again', async () => {
    const tap: Tap = { sent: [], received: [], answer: once((frame, bytes) => (frame.message.type === 'result' ? corruptOneByte(bytes) : null)) }
    const relayed = await SerialAnalogBoard.open(emulator.path, { openLink: tapped(tap), timeoutMs: 1000 })
    try {
      const codes = await relayed.run(1, levelInputs(10, ROWS), ROWS)
      const runs = tap.sent.filter((f) => f.message.type === 'run')
      const seq = element(runs, 0).seq
      expect(runs.map((f) => f.seq)).toEqual([seq, seq])
      const results = tap.received.filter((f) => f.message.type === 'result')
      expect(results.map((f) => f.seq)).toEqual([seq, seq])
      // Byte-identical codes: a second execution would have drawn new read noise.
      const codesOf = (f: Frame) => (f.message as Extract<Message, { type: 'result' }>).codes
      const first = codesOf(element(results, 0))
      const second = codesOf(element(results, 1))
      expect(Array.from(second)).toEqual(Array.from(first))
      expect(Array.from(codes)).toEqual(Array.from(first))
    } finally {
      await relayed.close()
    }
  })

  it('refuses an INFO whose limits the protocol cannot carry (65,535 × 65,535), naming the field', async () => {
    const tap: Tap = {
      sent: [],
      received: [],
      answer: (frame) => (frame.message.type === 'info' ? encodeFrame({ seq: frame.seq, message: { ...frame.message, rows: 65_535, cols: 65_535 } }) : null),
    }
    const error = await caught(SerialAnalogBoard.open(emulator.path, { openLink: tapped(tap), timeoutMs: 1000 }))
    expect(error.reason).toBe('WRONG_ANSWER')
    expect(error.message).toMatch(/answered 'hello' with an INFO that gives rows = 65535, more than one RUN of maxPayload = \d+ can carry/)
  })

  it('refuses a calibration answer that contradicts INFO (a column short)', async () => {
    const tap: Tap = {
      sent: [],
      received: [],
      answer: (frame) => {
        const m = frame.message
        if (m.type !== 'calibration') return null
        return encodeFrame({ seq: frame.seq, message: { ...m, cols: m.cols - 1, mean: m.mean.slice(1), std: m.std.slice(1) } })
      },
    }
    const relayed = await SerialAnalogBoard.open(emulator.path, { openLink: tapped(tap), timeoutMs: 1000 })
    try {
      const { cols } = await relayed.info()
      const error = await caught(relayed.calibrate('offset', 4))
      expect(error.reason).toBe('WRONG_ANSWER')
      expect(error.message).toMatch(new RegExp(`a calibration of ${cols - 1} columns and 4 repeats \\(INFO gives ${cols} columns; 4 were asked\\)`))
    } finally {
      await relayed.close()
    }
  })

  it('gives up on an unanswered request at its deadline although the board keeps sending frames nobody asked for', async () => {
    // The relay swallows SET requests, and every 100 ms hands the driver an intact frame that answers nothing.
    const tap: Tap = {
      sent: [],
      received: [],
      request: (frame) => (frame.message.type === 'set' ? new Uint8Array(0) : null),
      chatter: { bytes: encodeFrame({ seq: 0xfff0, message: { type: 'resetDone' } }), everyMs: 100 },
    }
    const relayed = await SerialAnalogBoard.open(emulator.path, { openLink: tapped(tap), timeoutMs: 300, retries: 2 })
    try {
      const started = Date.now()
      const error = await caught(relayed.set('gain', 1))
      const waited = Date.now() - started
      expect(error.reason).toBe('TIMEOUT')
      expect(error.message).toMatch(/did not answer 'set' \(sent 3 times, 0\.3 s each\)\. Meanwhile it sent \d+ frame\(s\) that answered nothing asked/)
      // Three tries of 0.3 s plus wire time; before, every chatter frame restarted the wait and this never ended.
      expect(waited).toBeLessThan(5_000)
      expect(tap.sent.filter((f) => f.message.type === 'set')).toHaveLength(3)
    } finally {
      await relayed.close()
    }
  })

  it('resends a request that reached the board corrupted (BAD_CRC), under the same seq', async () => {
    const tap: Tap = { sent: [], received: [], request: once((frame, bytes) => (frame.message.type === 'run' ? corruptOneByte(bytes) : null)) }
    const relayed = await SerialAnalogBoard.open(emulator.path, { openLink: tapped(tap), timeoutMs: 1000 })
    try {
      const codes = await relayed.run(1, levelInputs(10, ROWS), ROWS)
      expect(codes.length).toBe(10 * COLS)
      const runs = tap.sent.filter((f) => f.message.type === 'run')
      const seq = element(runs, 0).seq
      expect(runs.map((f) => f.seq)).toEqual([seq, seq])
      expect(tap.received.some((f) => f.message.type === 'error' && f.message.code === 'BAD_CRC')).toBe(true)
      expect(tap.received.filter((f) => f.message.type === 'result').map((f) => f.seq)).toEqual([seq])
    } finally {
      await relayed.close()
    }
  })
})

describe('serial analog board when the port closes mid-run', requires('pty'), () => {
  let emulator: RunningEmulator

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 29 })
  })

  afterAll(async () => {
    await emulator?.stop()
  })

  it('keeps the finished vectors in a SerialRunError with reason UNREACHABLE', async () => {
    // A link that reports a hang-up (what serialport does on an unplug) once the first RESULT has arrived.
    let hangUp: (error: Error | null) => void = () => {}
    let results = 0
    const opener: LinkOpener = async (path, options) => {
      const inner = await openSerialLink(path, options)
      const incoming = new FrameDecoder()
      return {
        write: (bytes) => inner.write(bytes),
        onData: (listener) =>
          inner.onData((chunk) => {
            listener(chunk)
            for (const decoded of incoming.push(chunk))
              if (decoded.ok && decoded.frame.message.type === 'result' && ++results === 2) setImmediate(() => hangUp(new Error('device disconnected')))
          }),
        onClose: (listener) => (hangUp = listener),
        close: () => inner.close(),
      }
    }
    const board = await SerialAnalogBoard.open(emulator.path, { openLink: opener, timeoutMs: 1000 })
    try {
      await board.loadWeights(0, new Int8Array(ROWS * COLS).fill(8), ROWS, COLS)
      const states: AnalogBoardState[] = []
      board.onStateChange((state) => states.push(state))
      const total = 5000
      const error = await caught<SerialRunError>(board.run(0, levelInputs(total, ROWS), ROWS))
      expect(error).toBeInstanceOf(SerialRunError)
      expect(error.reason).toBe('UNREACHABLE')
      expect(error.completedVectors).toBeGreaterThanOrEqual(2 * runBatchVectors(await board.info(), ROWS, COLS, 1))
      expect(error.completedVectors).toBeLessThan(total)
      expect(error.partial.length).toBe(error.completedVectors * COLS)
      expect(error.message).toMatch(/^The serial port closed after \d+ of 5000 vectors .*the results so far are kept\. Check the cable and reconnect\.$/)
      expect(states).toEqual(['disconnected'])
    } finally {
      await board.close()
    }
  })
})

describe('serial analog board when the board dies mid-run', requires('pty'), () => {
  let emulator: RunningEmulator
  let board: SerialAnalogBoard

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 23 })
    board = await SerialAnalogBoard.open(emulator.path, { timeoutMs: 500, retries: 1 })
  })

  afterAll(async () => {
    await board?.close()
    await emulator?.stop()
  })

  it('keeps the finished vectors in a SerialRunError, then reconnects to the restarted board', async () => {
    const states: AnalogBoardState[] = []
    board.onStateChange((state) => states.push(state))
    const weights = new Int8Array(ROWS * COLS).fill(8)
    const loaded = await board.loadWeights(0, weights, ROWS, COLS)
    const total = 20_000
    const inputs = levelInputs(total, ROWS)
    let killedAt = 0
    const error = await caught<SerialRunError>(
      board.run(0, inputs, ROWS, {
        onProgress: (done) => {
          if (!killedAt && done > 0) {
            killedAt = performance.now()
            emulator.kill('SIGKILL')
          }
        },
      }),
    )
    const waited = performance.now() - killedAt
    expect(error).toBeInstanceOf(SerialRunError)
    expect(['TIMEOUT', 'UNREACHABLE']).toContain(error.reason)
    expect(error.completedVectors).toBeGreaterThan(0)
    expect(error.completedVectors).toBeLessThan(total)
    expect(error.totalVectors).toBe(total)
    expect(error.partial.length).toBe(error.completedVectors * COLS)
    expect(error.message).toMatch(
      new RegExp(
        `after ${error.completedVectors} of ${total} vectors \\(port ${emulator.path}\\); the results so far are kept\\. Check the cable and reconnect\\.`,
      ),
    )
    // The kept vectors are real results, in order.
    const levels = Array.from({ length: error.completedVectors }, (_, v) => level(v))
    expect(correlation(meanCodes(error.partial, error.completedVectors, COLS), levels)).toBeGreaterThan(0.99)
    expect(waited).toBeLessThan(10_000)
    expect(board.state).toBe('disconnected')
    expect(states).toEqual(['disconnected'])
    expect((await caught(board.run(0, inputs.subarray(0, ROWS), ROWS))).message).toMatch(/is disconnected.*reconnect\(\)/)

    await emulator.restart()
    const info = await board.reconnect({ timeoutMs: 10_000 })
    expect(info.deviceId).toBe(board.id)
    expect(board.state).toBe('connected')
    expect(states).toEqual(['disconnected', 'connected'])
    // The restarted firmware lost its slots: the record says so, and running says what to do.
    expect(board.loadedSlots.get(0)).toMatchObject({ sha256: loaded.sha256, confirmed: false })
    const lost = await caught(board.run(0, inputs.subarray(0, ROWS), ROWS))
    expect(lost.reason).toBe('AGENT')
    expect(lost.message).toMatch(/NOT_LOADED.*Load the weights into this slot first; a board that restarted/)
    expect(board.loadedSlots.has(0)).toBe(false)

    await board.loadWeights(0, weights, ROWS, COLS)
    const codes = await board.run(0, inputs.subarray(0, 500 * ROWS), ROWS)
    expect(codes.length).toBe(500 * COLS)
    expect(
      correlation(
        meanCodes(codes, 500, COLS),
        Array.from({ length: 500 }, (_, v) => level(v)),
      ),
    ).toBeGreaterThan(0.99)
  })

  it('gives up reconnecting after the timeout when nothing answers, and can be closed', async () => {
    emulator.kill('SIGKILL')
    const started = performance.now()
    const error = await caught(board.reconnect({ timeoutMs: 1500 }))
    expect(error.reason).toBe('UNREACHABLE')
    expect(error.message).toMatch(/did not answer again within 1\.5 s.*plugged in and powered/)
    expect(performance.now() - started).toBeLessThan(5000)
    await board.close()
    expect(board.state).toBe('closed')
    expect((await caught(board.reconnect())).message).toMatch(/was closed/)
  })
})
