import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { SerialPort } from 'serialport'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requires } from '../../helpers/components.ts'
import { FrameDecoder, cobsDecode, cobsEncode, crc16, encodeFrame, type Decoded, type Message } from '../../../src-main/hardware/analog-protocol/index.ts'
import { startEmulator, type RunningEmulator } from '../../../src-main/hardware/emulator/emulator.ts'

const WAIT_MS = 5_000

/** A minimal host over a real serial port: sends frames, waits for the answer carrying a given seq. */
class TestHost {
  private readonly decoder = new FrameDecoder()
  private readonly waiting = new Map<number, (entry: Decoded) => void>()
  private nextSeq = 0
  /** The seq of every frame received, in arrival order. */
  readonly arrived: (number | null)[] = []

  private constructor(private readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      for (const entry of this.decoder.push(chunk)) {
        const seq = entry.ok ? entry.frame.seq : entry.seq
        this.arrived.push(seq)
        // Answers nobody waits for (late answers to requests sent to a dead emulator) are dropped.
        if (seq !== null) this.waiting.get(seq)?.(entry)
      }
    })
  }

  static async open(path: string): Promise<TestHost> {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false })
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())))
    const host = new TestHost(port)
    await host.sendRaw(new Uint8Array([0]))
    return host
  }

  seq(): number {
    this.nextSeq = (this.nextSeq + 1) % 0xffff
    return this.nextSeq
  }

  sendRaw(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.port.write(Buffer.from(bytes), (error) => (error ? reject(error) : resolve())))
  }

  /** The next frame with this seq, within `timeoutMs`. */
  answer(seq: number, timeoutMs = WAIT_MS): Promise<Decoded> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq)
        reject(new Error(`no answer to seq ${seq} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiting.set(seq, (entry) => {
        clearTimeout(timer)
        this.waiting.delete(seq)
        resolve(entry)
      })
    })
  }

  /** Sends a request and resolves with the decoded answer message. */
  async request(message: Message, seq = this.seq(), timeoutMs = WAIT_MS): Promise<Message> {
    const answer = this.answer(seq, timeoutMs)
    await this.sendRaw(encodeFrame({ seq, message }))
    const entry = await answer
    if (!entry.ok) throw new Error(`a broken answer: ${entry.error.message}`)
    return entry.frame.message
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.port.close(() => resolve()))
  }
}

function expectType<T extends Message['type']>(message: Message, type: T): Extract<Message, { type: T }> {
  expect(message.type, message.type === 'error' ? `${message.code}: ${message.message}` : '').toBe(type)
  return message as Extract<Message, { type: T }>
}

/** Loads a row-major matrix into a slot in chunks of at most 8000 weights. */
async function load(host: TestHost, slot: number, rows: number, cols: number, weights: Int8Array): Promise<void> {
  for (let offset = 0; offset < weights.length; offset += 8000) {
    const chunk = weights.subarray(offset, Math.min(weights.length, offset + 8000))
    const loaded = expectType(await host.request({ type: 'loadWeights', slot, rows, cols, offset, weights: chunk }), 'loaded')
    expect(loaded).toEqual({ type: 'loaded', slot, received: offset + chunk.length, complete: offset + chunk.length === rows * cols })
  }
}

async function run(host: TestHost, slot: number, rows: number, inputs: Uint8Array, repeats = 1) {
  const count = inputs.length / rows
  return expectType(await host.request({ type: 'run', slot, count, rows, repeats, inputs }), 'result')
}

function mean(values: ArrayLike<number>): number {
  let sum = 0
  for (const value of Array.from(values)) sum += value
  return sum / values.length
}

/** The i-th element, or a failure saying how many there were. */
function element<T>(items: ArrayLike<T>, i: number): T {
  const item = items[i]
  if (item === undefined) throw new Error(`Expected an element ${i}; there are ${items.length}.`)
  return item
}

/** A deterministic pseudo-random integer stream for test patterns. */
function integers(seed: number): (low: number, high: number) => number {
  let state = seed
  return (low, high) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return low + (state % (high - low + 1))
  }
}

describe('analog board emulator', requires('pty'), () => {
  let emulator: RunningEmulator
  let host: TestHost

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 1 })
    host = await TestHost.open(emulator.path)
  })

  afterAll(async () => {
    await host?.close()
    await emulator?.stop()
  })

  it('answers HELLO with its INFO', async () => {
    expect(emulator.deviceId).toBe('EMU-00000001')
    const info = expectType(await host.request({ type: 'hello' }), 'info')
    expect(info).toEqual({
      type: 'info',
      protocolVersion: 1,
      deviceId: 'EMU-00000001',
      firmware: 'emulator-1.0',
      rows: 128,
      cols: 256,
      inputBits: 5,
      weightBits: 6,
      adcBits: 8,
      maxBatch: 256,
      slots: 64,
      maxPayload: 8192,
      features: { ordering: false, repeats: true, calibration: true },
    })
  })

  it('loads a matrix in chunks and runs it: the right shape, codes that follow the nominal transfer', async () => {
    const rows = 128
    const cols = 100
    const next = integers(7)
    const weights = Int8Array.from({ length: rows * cols }, () => next(-20, 20))
    await load(host, 5, rows, cols, weights)
    const count = 40
    const inputs = Uint8Array.from({ length: count * rows }, () => next(0, 31))
    expectType(await host.request({ type: 'set', key: 'gain', value: 4 }), 'setDone')
    const result = await run(host, 5, rows, inputs)
    expect(result).toMatchObject({ slot: 5, count, repeats: 1, cols })
    expect(result.codes).toHaveLength(count * cols)
    // Nominal codes are gain · Σ x·w / 1024; the device's gain, offsets and noise blur but do not hide them.
    const nominal: number[] = []
    const measured: number[] = []
    for (let v = 0; v < count; v++)
      for (let j = 0; j < cols; j++) {
        let sum = 0
        for (let i = 0; i < rows; i++) sum += element(inputs, v * rows + i) * element(weights, i * cols + j)
        nominal.push((4 * sum) / 1024)
        measured.push(element(result.codes, v * cols + j))
      }
    const mn = mean(nominal)
    const mm = mean(measured)
    let cov = 0
    let vn = 0
    let vm = 0
    for (const [k, n] of nominal.entries()) {
      const m = element(measured, k)
      cov += (n - mn) * (m - mm)
      vn += (n - mn) ** 2
      vm += (m - mm) ** 2
    }
    expect(cov / Math.sqrt(vn * vm)).toBeGreaterThan(0.95)
    const slope = cov / vn
    expect(slope).toBeGreaterThan(0.75)
    expect(slope).toBeLessThan(1)
    expectType(await host.request({ type: 'set', key: 'gain', value: 1 }), 'setDone')
  })

  it('draws new noise for every repeat', async () => {
    await load(host, 6, 16, 8, new Int8Array(16 * 8).fill(10))
    const result = await run(host, 6, 16, new Uint8Array(16).fill(20), 50)
    expect(result.repeats).toBe(50)
    expect(result.codes).toHaveLength(50 * 8)
    for (let j = 0; j < 8; j++) {
      const column = Array.from({ length: 50 }, (_, r) => element(result.codes, r * 8 + j))
      const m = mean(column)
      const std = Math.sqrt(mean(column.map((c) => (c - m) ** 2)))
      expect(new Set(column).size).toBeGreaterThan(1)
      expect(std).toBeGreaterThan(0.3)
      expect(std).toBeLessThan(2)
    }
  })

  it('saturates below the ADC full scale', async () => {
    await load(host, 7, 128, 4, new Int8Array(128 * 4).fill(63))
    const codesAt = async (gain: number) => {
      expectType(await host.request({ type: 'set', key: 'gain', value: gain }), 'setDone')
      return mean((await run(host, 7, 128, new Uint8Array(128).fill(31), 20)).codes)
    }
    // Nominal codes would be 244 and 488: the ADC would clip at 127, the integrator stops lower.
    const at1 = await codesAt(1)
    const at2 = await codesAt(2)
    expect(at1).toBeLessThan(124)
    expect(at1).toBeGreaterThan(90)
    expect(Math.abs(at2 - at1)).toBeLessThan(3)
    expectType(await host.request({ type: 'set', key: 'gain', value: 1 }), 'setDone')
  })

  it('integrates in an order: + rows then − rows differs from − then +, though the sums are equal', async () => {
    const rows = 128
    const weights = new Int8Array(rows * 2)
    for (let i = 0; i < rows; i++) {
      weights[i * 2] = i < 64 ? 40 : -40
      weights[i * 2 + 1] = i < 64 ? -40 : 40
    }
    await load(host, 8, rows, 2, weights)
    expectType(await host.request({ type: 'set', key: 'gain', value: 3 }), 'setDone')
    const result = await run(host, 8, rows, new Uint8Array(rows).fill(31), 10)
    const plusFirst = mean(result.codes.filter((_, k) => k % 2 === 0))
    const minusFirst = mean(result.codes.filter((_, k) => k % 2 === 1))
    // Both sums are 0; the integrator clips on the way up (or down) and ends on the other side.
    expect(plusFirst).toBeLessThan(-40)
    expect(minusFirst).toBeGreaterThan(40)
    expectType(await host.request({ type: 'set', key: 'gain', value: 1 }), 'setDone')
  })

  it('answers calibration probes for every column', async () => {
    const offset = expectType(await host.request({ type: 'calibrate', probe: 'offset', repeats: 200 }), 'calibration')
    expect(offset).toMatchObject({ probe: 'offset', repeats: 200, cols: 256 })
    expect(Math.max(...offset.mean.map(Math.abs))).toBeLessThan(10)
    expect(mean(offset.std)).toBeGreaterThan(0.3)
    const reference = expectType(await host.request({ type: 'calibrate', probe: 'reference', repeats: 200 }), 'calibration')
    // Nominal 32 codes at gain 1, less the device's gain error.
    expect(mean(reference.mean)).toBeGreaterThan(20)
    expect(mean(reference.mean)).toBeLessThan(32)
  })

  it('answers a frame with a bad CRC with BAD_CRC and its seq', async () => {
    const seq = host.seq()
    const bytes = encodeFrame({ seq, message: { type: 'hello' } })
    const raw = cobsDecode(bytes.subarray(0, bytes.length - 1))
    const last = raw.length - 1
    raw[last] = element(raw, last) ^ 0x40
    const answer = host.answer(seq)
    await host.sendRaw(new Uint8Array([...cobsEncode(raw), 0]))
    const entry = await answer
    expect(entry.ok && entry.frame.message).toMatchObject({ type: 'error', code: 'BAD_CRC' })
    // Bytes that are not even COBS carry no readable seq: the answer uses 0xFFFF.
    const unreadable = host.answer(0xffff)
    await host.sendRaw(Uint8Array.of(0x05, 0x11, 0x00))
    const garbage = await unreadable
    expect(garbage.ok && garbage.frame.message).toMatchObject({ type: 'error', code: 'BAD_CRC' })
  })

  it('answers a repeated seq with the same answer without running again', async () => {
    await load(host, 9, 32, 16, new Int8Array(32 * 16).fill(-12))
    const request: Message = { type: 'run', slot: 9, count: 1, rows: 32, repeats: 30, inputs: new Uint8Array(32).fill(25) }
    const seq = host.seq()
    const first = expectType(await host.request(request, seq), 'result')
    const again = expectType(await host.request(request, seq), 'result')
    expect(Array.from(again.codes)).toEqual(Array.from(first.codes))
    // The same request under a new seq is executed: new noise.
    const fresh = expectType(await host.request(request), 'result')
    expect(Array.from(fresh.codes)).not.toEqual(Array.from(first.codes))
    // A resent chunk is not loaded twice: the same LOADED, and the next chunk still fits.
    const chunkSeq = host.seq()
    const chunk: Message = { type: 'loadWeights', slot: 10, rows: 4, cols: 4, offset: 0, weights: new Int8Array(8).fill(1) }
    expect(await host.request(chunk, chunkSeq)).toEqual({ type: 'loaded', slot: 10, received: 8, complete: false })
    expect(await host.request(chunk, chunkSeq)).toEqual({ type: 'loaded', slot: 10, received: 8, complete: false })
    expect(await host.request({ ...chunk, offset: 8 })).toEqual({ type: 'loaded', slot: 10, received: 16, complete: true })
  })

  it('refuses what it cannot do with the documented error codes', async () => {
    const codeOf = async (message: Message) => {
      const answer = await host.request(message)
      return answer.type === 'error' ? answer.code : answer.type
    }
    const inputs = (count: number, rows: number, value = 1) => new Uint8Array(count * rows).fill(value)
    // Frames only a broken or foreign host sends (another version, an unknown type, a NaN), with a valid CRC.
    const reframed = async (edit: (raw: Uint8Array) => void, message: Message = { type: 'hello' }) => {
      const seq = host.seq()
      const bytes = encodeFrame({ seq, message })
      const raw = cobsDecode(bytes.subarray(0, bytes.length - 1))
      edit(raw)
      new DataView(raw.buffer).setUint16(raw.length - 2, crc16(raw.subarray(0, raw.length - 2)), true)
      const answer = host.answer(seq)
      await host.sendRaw(new Uint8Array([...cobsEncode(raw), 0]))
      const entry = await answer
      return entry.ok && entry.frame.message.type === 'error' ? entry.frame.message.code : 'no error'
    }
    expect(await codeOf({ type: 'loadWeights', slot: 64, rows: 2, cols: 2, offset: 0, weights: new Int8Array(4) })).toBe('BAD_SLOT')
    expect(await codeOf({ type: 'run', slot: 200, count: 1, rows: 2, repeats: 1, inputs: inputs(1, 2) })).toBe('BAD_SLOT')
    expect(await codeOf({ type: 'run', slot: 63, count: 1, rows: 2, repeats: 1, inputs: inputs(1, 2) })).toBe('NOT_LOADED')
    expect(await codeOf({ type: 'loadWeights', slot: 1, rows: 129, cols: 2, offset: 0, weights: new Int8Array(4) })).toBe('BAD_SHAPE')
    expect(await codeOf({ type: 'loadWeights', slot: 1, rows: 2, cols: 2, offset: 0, weights: new Int8Array(5) })).toBe('BAD_SHAPE')
    expect(await codeOf({ type: 'loadWeights', slot: 1, rows: 2, cols: 2, offset: 0, weights: Int8Array.of(1, 64, 0, 0) })).toBe('OUT_OF_RANGE')
    expect(await codeOf({ type: 'loadWeights', slot: 1, rows: 2, cols: 2, offset: 0, weights: Int8Array.of(1, -63, 63, 0) })).toBe('loaded')
    expect(await codeOf({ type: 'run', slot: 1, count: 1, rows: 3, repeats: 1, inputs: inputs(1, 3) })).toBe('BAD_SHAPE')
    expect(await codeOf({ type: 'run', slot: 1, count: 1, rows: 2, repeats: 1, inputs: Uint8Array.of(3, 32) })).toBe('OUT_OF_RANGE')
    expect(await codeOf({ type: 'run', slot: 1, count: 257, rows: 2, repeats: 1, inputs: inputs(257, 2) })).toBe('TOO_LARGE')
    expect(await codeOf({ type: 'run', slot: 1, count: 256, rows: 2, repeats: 20, inputs: inputs(256, 2) })).toBe('TOO_LARGE')
    expect(await codeOf({ type: 'run', slot: 1, count: 0, rows: 2, repeats: 1, inputs: inputs(0, 2) })).toBe('BAD_SHAPE')
    expect(await codeOf({ type: 'set', key: 'order', value: 1 })).toBe('UNSUPPORTED')
    expect(await codeOf({ type: 'set', key: 'gain', value: 1000 })).toBe('OUT_OF_RANGE')
    expect(await codeOf({ type: 'set', key: 'repeats', value: 2.5 })).toBe('OUT_OF_RANGE')
    expect(await codeOf({ type: 'calibrate', probe: 'offset', repeats: 0 })).toBe('OUT_OF_RANGE')
    // More than it can convert within the protocol's 1 s: refused at once, not answered late.
    const asked = Date.now()
    expect(await codeOf({ type: 'calibrate', probe: 'offset', repeats: 65_535 })).toBe('TOO_LARGE')
    expect(Date.now() - asked).toBeLessThan(1000)
    expect(await reframed((raw) => new DataView(raw.buffer).setFloat32(7, Number.NaN, true), { type: 'set', key: 'gain', value: 1 })).toBe('OUT_OF_RANGE')
    expect(await reframed((raw) => (raw[6] = 9), { type: 'set', key: 'gain', value: 1 })).toBe('MALFORMED')
    expect(await codeOf({ type: 'loadWeights', slot: 2, rows: 4, cols: 4, offset: 0, weights: new Int8Array(4) })).toBe('loaded')
    expect(await codeOf({ type: 'loadWeights', slot: 2, rows: 4, cols: 4, offset: 8, weights: new Int8Array(4) })).toBe('OUT_OF_RANGE')
    expect(await codeOf({ type: 'loadWeights', slot: 2, rows: 2, cols: 8, offset: 4, weights: new Int8Array(4) })).toBe('BAD_SHAPE')
    expect(
      await codeOf({
        type: 'info',
        ...{ protocolVersion: 1, deviceId: '', firmware: '', rows: 0, cols: 0, inputBits: 0, weightBits: 0, adcBits: 0, maxBatch: 0, slots: 0, maxPayload: 0 },
        features: { ordering: false, repeats: false, calibration: false },
      }),
    ).toBe('UNKNOWN_TYPE')

    expect(await reframed((raw) => (raw[0] = 2))).toBe('UNSUPPORTED_VERSION')
    expect(await reframed((raw) => (raw[1] = 0x42))).toBe('UNKNOWN_TYPE')
  })

  it('uses the default repeats when a RUN asks for 0, and RESET restores the defaults and clears the slots', async () => {
    await load(host, 11, 2, 3, new Int8Array(6).fill(5))
    expect(await host.request({ type: 'set', key: 'repeats', value: 4 })).toEqual({ type: 'setDone', key: 'repeats', value: 4 })
    expect(await run(host, 11, 2, Uint8Array.of(1, 2), 0)).toMatchObject({ repeats: 4, cols: 3 })
    expect(await host.request({ type: 'reset' })).toEqual({ type: 'resetDone' })
    expect(await host.request({ type: 'run', slot: 11, count: 1, rows: 2, repeats: 0, inputs: Uint8Array.of(1, 2) })).toMatchObject({
      type: 'error',
      code: 'NOT_LOADED',
    })
    await load(host, 11, 2, 3, new Int8Array(6).fill(5))
    expect(await run(host, 11, 2, Uint8Array.of(1, 2), 0)).toMatchObject({ repeats: 1 })
  })

  it('is another device under another seed', async () => {
    const other = await startEmulator({ seed: 2 })
    const otherHost = await TestHost.open(other.path)
    try {
      expect(other.deviceId).toBe('EMU-00000002')
      const probe: Message = { type: 'calibrate', probe: 'offset', repeats: 400 }
      const mine = expectType(await host.request(probe), 'calibration')
      const theirs = expectType(await otherHost.request(probe), 'calibration')
      const differences = Array.from(mine.mean, (m, j) => Math.abs(m - element(theirs.mean, j)))
      expect(mean(differences)).toBeGreaterThan(0.5)
    } finally {
      await otherHost.close()
      await other.stop()
    }
  })

  it('survives kill() and restart() on the same open port, as a rebooted board', async () => {
    await load(host, 12, 2, 2, new Int8Array(4).fill(1))
    emulator.kill('SIGKILL')
    await expect(host.request({ type: 'hello' }, host.seq(), 500)).rejects.toThrow(/no answer/)
    await emulator.restart()
    await host.sendRaw(new Uint8Array([0]))
    expect(expectType(await host.request({ type: 'hello' }), 'info').deviceId).toBe('EMU-00000001')
    // A reboot loses the slots.
    expect(await host.request({ type: 'run', slot: 12, count: 1, rows: 2, repeats: 1, inputs: Uint8Array.of(1, 1) })).toMatchObject({
      type: 'error',
      code: 'NOT_LOADED',
    })
  })
})

describe('emulator lifecycle', requires('pty'), () => {
  it('paces a throttled link and removes its PTY links and processes on stop()', async () => {
    const emulator = await startEmulator({ seed: 3, baud: 38_400 })
    const host = await TestHost.open(emulator.path)
    try {
      const started = performance.now()
      const calibration = expectType(await host.request({ type: 'calibrate', probe: 'offset', repeats: 1 }), 'calibration')
      // 2053 payload bytes are at least 2061 bytes on the line: 0.54 s at 3840 bytes per second.
      expect(calibration.cols).toBe(256)
      expect(performance.now() - started).toBeGreaterThan(500)
    } finally {
      await host.close()
      await emulator.stop()
    }
    expect(existsSync(emulator.path)).toBe(false)
    expect(existsSync(dirname(emulator.path))).toBe(false)
  })

  // Full duplex shows as time (bench/serial-link.ts measures it); timings are not asserted here, order and pacing are.
  it('takes pipelined requests while earlier answers go out, and answers in request order', async () => {
    const emulator = await startEmulator({ seed: 3, baud: 115_200 })
    const host = await TestHost.open(emulator.path)
    try {
      // Four calibrations answer 4 × 2061 bytes (0.72 s at 11 520 bytes/s); one LOAD_WEIGHTS of 8064 weights is 8.1 kB
      // the other way (0.70 s). Taking turns, the two would need 1.4 s; both directions at once, about 0.75 s.
      const calibrations = Array.from({ length: 4 }, () => host.seq())
      const loadSeq = host.seq()
      const answers = [...calibrations, loadSeq].map((seq) => host.answer(seq))
      const started = performance.now()
      for (const seq of calibrations) await host.sendRaw(encodeFrame({ seq, message: { type: 'calibrate', probe: 'offset', repeats: 1 } }))
      const weights = new Int8Array(128 * 63).fill(3)
      await host.sendRaw(encodeFrame({ seq: loadSeq, message: { type: 'loadWeights', slot: 0, rows: 128, cols: 63, offset: 0, weights } }))
      const entries = await Promise.all(answers)
      const elapsed = performance.now() - started
      expect(entries.map((entry) => entry.ok && entry.frame.message.type)).toEqual(['calibration', 'calibration', 'calibration', 'calibration', 'loaded'])
      expect(host.arrived).toEqual([...calibrations, loadSeq])
      // The pacer holds each direction to the line rate: the answers alone need 0.72 s.
      expect(elapsed).toBeGreaterThan(650)
    } finally {
      await host.close()
      await emulator.stop()
    }
  })

  it('puts the PTY links where it is told', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dir = mkdtempSync(join(tmpdir(), 'benchside-emulator-test-'))
    const emulator = await startEmulator({ seed: 4, dir })
    try {
      expect(emulator.path).toBe(join(dir, 'host'))
      const host = await TestHost.open(emulator.path)
      expect(expectType(await host.request({ type: 'hello' }), 'info').deviceId).toBe('EMU-00000004')
      await host.close()
    } finally {
      await emulator.stop()
    }
    expect(existsSync(join(dir, 'host'))).toBe(false)
    expect(existsSync(dir)).toBe(true)
    rmSync(dir, { recursive: true })
  })
})
